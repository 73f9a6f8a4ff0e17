package training

import (
	"context"
	"fmt"
	"math"
)

// Predictor scores a frame's rows. ONNX Runtime sessions (Session) and the
// built-in Go models (*Linear, *MLP, *Forest) are Predictors, so the same
// evaluation and parity checks run on either.
type Predictor interface {
	Predict(ctx context.Context, f *Frame) (*Predictions, error)
}

// Predictions are a model's outputs for a frame's rows: a classifier's
// Labels and Probabilities, or a regressor's Values.
type Predictions struct {
	// Classes are the class labels in the order of the Probabilities'
	// columns; nil for a regressor.
	Classes []int64
	// Labels are the predicted classes, one per row.
	Labels []int64
	// Probabilities is row-major, rows × len(Classes).
	Probabilities []float64
	// Values are a regressor's predictions, one per row.
	Values []float64
}

// Rows returns the number of rows predicted.
func (p *Predictions) Rows() int {
	if p.Classes != nil {
		return len(p.Labels)
	}
	return len(p.Values)
}

// classifierOutputs turns class probabilities (row-major, len(classes)
// per row) into Predictions, labelling each row with the class of the
// highest probability (the first of tied classes, as ONNX's ArgMax and
// scikit-learn do).
func classifierOutputs(classes []int64, probs []float64) *Predictions {
	k := len(classes)
	n := len(probs) / k
	labels := make([]int64, n)
	for i := range n {
		best := 0
		for c := 1; c < k; c++ {
			if probs[i*k+c] > probs[i*k+best] {
				best = c
			}
		}
		labels[i] = classes[best]
	}
	return &Predictions{Classes: classes, Labels: labels, Probabilities: probs}
}

// sigmoid is the logistic function, stable for large |z|.
func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// softmaxInPlace replaces the logits in z by their softmax.
func softmaxInPlace(z []float64) {
	m := z[0]
	for _, v := range z[1:] {
		m = math.Max(m, v)
	}
	var s float64
	for j, v := range z {
		z[j] = math.Exp(v - m)
		s += z[j]
	}
	for j := range z {
		z[j] /= s
	}
}

// logitsToProbabilities turns n rows of k logits into class
// probabilities: a single logit is binary, [1-σ(z), σ(z)]; more go
// through softmax.
func logitsToProbabilities(z []float64, n, k int) []float64 {
	if k == 1 {
		probs := make([]float64, 2*n)
		for i := range n {
			p := sigmoid(z[i])
			probs[2*i], probs[2*i+1] = 1-p, p
		}
		return probs
	}
	for i := range n {
		softmaxInPlace(z[i*k : (i+1)*k])
	}
	return z
}

// Parity compares two predictors' outputs on f, as the check that an
// exported model computes what the Go model did: the same labels and
// probabilities or values within tol, relative to the larger magnitude
// when that exceeds 1. It returns the first row that differs.
func Parity(ctx context.Context, want, got Predictor, f *Frame, tol float64) error {
	a, err := want.Predict(ctx, f)
	if err != nil {
		return fmt.Errorf("parity: %w", err)
	}
	b, err := got.Predict(ctx, f)
	if err != nil {
		return fmt.Errorf("parity: %w", err)
	}
	if (a.Classes == nil) != (b.Classes == nil) || a.Rows() != b.Rows() {
		return fmt.Errorf("parity: %d %s against %d %s", a.Rows(), a.kind(), b.Rows(), b.kind())
	}
	if a.Classes == nil {
		return closeAll("value", a.Values, b.Values, 1, tol)
	}
	if len(a.Classes) != len(b.Classes) {
		return fmt.Errorf("parity: %d classes against %d", len(a.Classes), len(b.Classes))
	}
	if err := closeAll("probability", a.Probabilities, b.Probabilities, len(a.Classes), tol); err != nil {
		return err
	}
	for i := range a.Labels {
		if a.Labels[i] != b.Labels[i] && !tied(a.Probabilities[i*len(a.Classes):(i+1)*len(a.Classes)], tol) {
			return fmt.Errorf("parity: row %d: label %d against %d", i+1, a.Labels[i], b.Labels[i])
		}
	}
	return nil
}

func (p *Predictions) kind() string {
	if p.Classes != nil {
		return "class predictions"
	}
	return "values"
}

func closeAll(what string, a, b []float64, width int, tol float64) error {
	if len(a) != len(b) {
		return fmt.Errorf("parity: %d %ss against %d", len(a), what, len(b))
	}
	for i := range a {
		scale := math.Max(1, math.Max(math.Abs(a[i]), math.Abs(b[i])))
		if !(math.Abs(a[i]-b[i]) <= tol*scale) {
			return fmt.Errorf("parity: row %d: %s %d is %v, want %v (±%g)", i/width+1, what, i%width, b[i], a[i], tol*scale)
		}
	}
	return nil
}

// tied reports whether the two highest probabilities are within tol, when
// float32 and float64 may rightly pick different labels.
func tied(probs []float64, tol float64) bool {
	first, second := math.Inf(-1), math.Inf(-1)
	for _, p := range probs {
		if p > first {
			first, second = p, first
		} else if p > second {
			second = p
		}
	}
	return first-second <= 2*tol
}
