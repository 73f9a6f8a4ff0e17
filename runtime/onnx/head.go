package onnx

import "fmt"

// checkClasses returns the class labels of a classifier with c classes:
// classes itself, or 0..c-1 when it is nil.
func checkClasses(classes []int64, c int) ([]int64, error) {
	if classes == nil {
		classes = make([]int64, c)
		for i := range classes {
			classes[i] = int64(i)
		}
		return classes, nil
	}
	if len(classes) != c {
		return nil, fmt.Errorf("classes: %d labels for %d classes", len(classes), c)
	}
	seen := map[int64]bool{}
	for _, l := range classes {
		if seen[l] {
			return nil, fmt.Errorf("classes: label %d listed twice", l)
		}
		seen[l] = true
	}
	return classes, nil
}

// plainIndices reports whether classes are 0..len-1, which the label output
// can give without a lookup.
func plainIndices(classes []int64) bool {
	for i, l := range classes {
		if l != int64(i) {
			return false
		}
	}
	return true
}

// classify turns logits into the classifier outputs. A single logit is a
// binary classifier, probabilities [1-σ(z), σ(z)]; several go through
// Softmax.
func classify(b *builder, logits string, k int, classes []int64) {
	if k == 1 {
		p1 := b.op("Sigmoid", "", []string{logits})
		one := b.constant("one", FloatTensor("", []float32{1}, 1))
		p0 := b.op("Sub", "", []string{one, p1})
		b.op("Concat", OutputProbabilities, []string{p0, p1}, IntAttr("axis", 1))
	} else {
		b.op("Softmax", OutputProbabilities, []string{logits}, IntAttr("axis", -1))
	}
	predict(b, classes)
}

// predict adds OutputLabel, the class of the highest probability in
// OutputProbabilities, and declares both outputs. ArgMax keeps the first of
// tied classes, so an even binary split predicts the first class, as
// scikit-learn does.
func predict(b *builder, classes []int64) {
	argmax := []Attribute{IntAttr("axis", 1), IntAttr("keepdims", 0)}
	if plainIndices(classes) {
		b.op("ArgMax", OutputLabel, []string{OutputProbabilities}, argmax...)
	} else {
		index := b.op("ArgMax", "", []string{OutputProbabilities}, argmax...)
		labels := b.constant("classes", Int64Tensor("", classes, int64(len(classes))))
		b.op("Gather", OutputLabel, []string{labels, index}, IntAttr("axis", 0))
	}
	b.output(TensorInfo(OutputLabel, Int64, Batch))
	b.output(TensorInfo(OutputProbabilities, Float, Batch, Fixed(len(classes))))
}

// classCount is the number of classes k scores stand for: a single logit
// is a binary classifier.
func classCount(k int) int {
	if k == 1 {
		return 2
	}
	return k
}
