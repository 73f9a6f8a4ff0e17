package onnx

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The same computations the models do, in plain Go and float64, from the
// parameters the constructors were given rather than from the graph.

// tolerance is how far ONNX Runtime's float32 arithmetic may stray from the
// float64 reference, relative to values above 1.
const tolerance = 1e-5

// unknownCategory is fed to categorical columns now and then: it is in no
// column's categories and must encode as all zeros.
const unknownCategory = "never-seen"

// randomFeeds draws n rows of raw features for f.
func randomFeeds(rng *rand.Rand, f Features, n int) map[string]feed {
	feeds := map[string]feed{}
	if d := f.Dense; d != nil {
		x := make([]float32, n*d.Width)
		for i := range x {
			x[i] = float32(rng.NormFloat64() * 2)
			if d.Mean != nil {
				j := i % d.Width
				x[i] = d.Mean[j] + x[i]*d.Std[j]
			}
		}
		feeds[d.Name] = feed{shape: []int64{int64(n), int64(d.Width)}, floats: x}
		return feeds
	}
	for _, c := range f.Columns {
		shape := []int64{int64(n), 1}
		if c.Kind == Categorical {
			s := make([]string, n)
			for i := range s {
				if k := rng.IntN(len(c.Categories) + 1); k < len(c.Categories) {
					s[i] = c.Categories[k]
				} else {
					s[i] = unknownCategory
				}
			}
			feeds[c.Name] = feed{shape: shape, strings: s}
			continue
		}
		x := make([]float32, n)
		for i := range x {
			x[i] = c.Mean + float32(rng.NormFloat64()*2)*max(c.Std, 1)
		}
		feeds[c.Name] = feed{shape: shape, floats: x}
	}
	return feeds
}

// encode is the feature vector of row i, as f documents it.
func encode(f Features, feeds map[string]feed, i int) []float64 {
	var x []float64
	if d := f.Dense; d != nil {
		for j := range d.Width {
			v := float64(feeds[d.Name].floats[i*d.Width+j])
			if d.Mean != nil {
				v = scale(v, d.Mean[j], d.Std[j])
			}
			x = append(x, v)
		}
		return x
	}
	for _, c := range f.Columns {
		if c.Kind == Numeric {
			x = append(x, scale(float64(feeds[c.Name].floats[i]), c.Mean, c.Std))
			continue
		}
		for _, cat := range c.Categories {
			hot := 0.0
			if feeds[c.Name].strings[i] == cat {
				hot = 1
			}
			x = append(x, hot)
		}
	}
	return x
}

func scale(v float64, mean, std float32) float64 {
	if std == 0 {
		std = 1
	}
	return (v - float64(mean)) / float64(std)
}

func refLayer(l Layer, x []float64) []float64 {
	y := make([]float64, l.Out)
	for j := range y {
		y[j] = float64(l.Bias[j])
		for i, v := range x {
			y[j] += v * float64(l.Weights[i*l.Out+j])
		}
	}
	return y
}

func refMLP(layers []Layer, x []float64) []float64 {
	for i, l := range layers {
		x = refLayer(l, x)
		if i < len(layers)-1 {
			for j := range x {
				x[j] = max(x[j], 0)
			}
		}
	}
	return x
}

// refProbabilities is what classify makes of logits.
func refProbabilities(z []float64) []float64 {
	if len(z) == 1 {
		p := 1 / (1 + math.Exp(-z[0]))
		return []float64{1 - p, p}
	}
	top := z[0]
	for _, v := range z {
		top = max(top, v)
	}
	p := make([]float64, len(z))
	sum := 0.0
	for j, v := range z {
		p[j] = math.Exp(v - top)
		sum += p[j]
	}
	for j := range p {
		p[j] /= sum
	}
	return p
}

// refForest averages the leaf values the trees route x to.
func refForest(trees []Tree, x []float64) []float64 {
	var sum []float64
	for _, t := range trees {
		n := t.Nodes[0]
		for !n.Leaf {
			if x[n.Feature] <= float64(n.Threshold) {
				n = t.Nodes[n.True]
			} else {
				n = t.Nodes[n.False]
			}
		}
		if sum == nil {
			sum = make([]float64, len(n.Value))
		}
		for j, v := range n.Value {
			sum[j] += float64(v)
		}
	}
	for j := range sum {
		sum[j] /= float64(len(trees))
	}
	return sum
}

// randomLayer draws a layer with weights of about unit scale.
func randomLayer(rng *rand.Rand, in, out int) Layer {
	l := Layer{In: in, Out: out, Weights: make([]float32, in*out), Bias: make([]float32, out)}
	for i := range l.Weights {
		l.Weights[i] = float32(rng.NormFloat64() / math.Sqrt(float64(in)))
	}
	for j := range l.Bias {
		l.Bias[j] = float32(rng.NormFloat64() * 0.1)
	}
	return l
}

// checkClose fails t where got strays from want by more than tolerance.
func checkClose(t *testing.T, what string, got []float32, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(float64(got[i]) - want[i]); d > tolerance*max(1, math.Abs(want[i])) || math.IsNaN(d) {
			t.Errorf("%s[%d] = %v, want %v (off by %.2g)", what, i, got[i], want[i], d)
		}
	}
}

// checkLabel fails t when label is not the most probable of classes under
// the reference probabilities p; a near tie accepts either class.
func checkLabel(t *testing.T, what string, label int64, p []float64, classes []int64) {
	t.Helper()
	best := 0
	for j := range p {
		if p[j] > p[best] {
			best = j
		}
	}
	for j := range p {
		if classes[j] == label && p[best]-p[j] <= tolerance {
			return
		}
	}
	t.Errorf("%s = %d, want %d (probabilities %v)", what, label, classes[best], p)
}

// compareClassifier runs m on random batches of 1 and 7 rows and checks its
// outputs against probs, the reference probabilities of a feature vector.
func compareClassifier(t *testing.T, m *Model, f Features, classes []int64, probs func(x []float64) []float64) {
	t.Helper()
	s := load(t, m)
	rng := rand.New(rand.NewPCG(7, 11))
	for _, n := range []int{1, 7} {
		feeds := randomFeeds(rng, f, n)
		out := s.run(t, feeds)
		label, p := out[OutputLabel], out[OutputProbabilities]
		c := len(classes)
		if !equalShape(label.shape, n) || !equalShape(p.shape, n, c) {
			t.Fatalf("batch %d: label shape %v, probabilities shape %v, want [%d] and [%d %d]", n, label.shape, p.shape, n, n, c)
		}
		for i := range n {
			want := probs(encode(f, feeds, i))
			checkClose(t, "probabilities", p.floats[i*c:(i+1)*c], want)
			checkLabel(t, "label", label.ints[i], want, classes)
		}
	}
}

// compareRegressor runs m on random batches of 1 and 7 rows and checks
// OutputVariable against predict, the reference of a feature vector.
func compareRegressor(t *testing.T, m *Model, f Features, k int, predict func(x []float64) []float64) {
	t.Helper()
	s := load(t, m)
	rng := rand.New(rand.NewPCG(3, 5))
	for _, n := range []int{1, 7} {
		feeds := randomFeeds(rng, f, n)
		y := s.run(t, feeds)[OutputVariable]
		if !equalShape(y.shape, n, k) {
			t.Fatalf("batch %d: variable shape %v, want [%d %d]", n, y.shape, n, k)
		}
		for i := range n {
			checkClose(t, "variable", y.floats[i*k:(i+1)*k], predict(encode(f, feeds, i)))
		}
	}
}

func equalShape(shape []int64, dims ...int) bool {
	if len(shape) != len(dims) {
		return false
	}
	for i := range dims {
		if shape[i] != int64(dims[i]) {
			return false
		}
	}
	return true
}
