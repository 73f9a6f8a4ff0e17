package training

import (
	"context"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/optimize"
)

// trainLogistic fits L2-regularised logistic regression as scikit-learn's
// LogisticRegression does: it minimises
//
//	Σᵢ wᵢ·loss(xᵢ, yᵢ) + ‖W‖² / (2C)
//
// (the intercept unpenalised; binary for two classes, multinomial for
// more) over standardised features, with L-BFGS (the default) or Newton's
// method (two classes only), stopping when the gradient's largest entry
// of the mean loss falls under tol or after max_iter iterations.
func trainLogistic(ctx context.Context, req *TrainRequest, p *params) (*Result, error) {
	c := p.Float("C", 1, 0, math.Inf(1), true)
	maxIter := p.Int("max_iter", 100, 1, 1_000_000)
	tol := p.Float("tol", 1e-4, 0, math.Inf(1), true)
	solver := p.Enum("solver", "lbfgs", "lbfgs", "newton")
	classWeight := p.Enum("class_weight", "none", "none", "balanced")
	if err := p.Err(); err != nil {
		return nil, err
	}
	label := req.Train.Column(req.Train.Label)
	classes, err := ClassesOf(label)
	if err != nil {
		return nil, err
	}
	if solver == "newton" && len(classes) > 2 {
		return nil, fmt.Errorf("logistic_regression: param solver: \"newton\" fits two classes, the label has %d; use \"lbfgs\"", len(classes))
	}
	enc := fitEncoding(req.Train, true)
	x, err := enc.Matrix(req.Train)
	if err != nil {
		return nil, err
	}
	y := classIndices(label, classes)
	obj := newLogisticObjective(x, y, enc.Width(), len(classes), 1/c, req.Threads)
	if classWeight == "balanced" {
		obj.classWeight = balancedWeights(y, len(classes))
	}
	obj.ctx = ctx
	prob := optimize.Problem{Func: obj.value, Grad: obj.gradient, Status: obj.status}
	var method optimize.Method = &optimize.LBFGS{Store: 10}
	if solver == "newton" {
		prob.Hess = obj.hessian
		method = &optimize.Newton{}
	}
	settings := &optimize.Settings{
		GradientThreshold: tol,
		MajorIterations:   maxIter,
		// scipy's L-BFGS-B stops, as scikit-learn runs it, when an
		// iteration improves the loss by less than 64ε relatively.
		Converger: &optimize.FunctionConverge{Relative: 64 * 2.220446049250313e-16, Iterations: 1},
	}
	res, err := optimize.Minimize(prob, make([]float64, obj.dim()), settings, method)
	if err != nil && res == nil {
		return nil, fmt.Errorf("logistic_regression: %w", err)
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("logistic_regression: %w", ctx.Err())
	}
	k := obj.outputs()
	d := enc.Width()
	layer := Layer{In: d, Out: k, Weights: slices.Clone(res.X[:d*k]), Bias: slices.Clone(res.X[d*k:])}
	model := &Linear{Encoding: enc, Layer: layer, Classes: classes}
	return &Result{
		Model:   model,
		Params:  p.Effective,
		Metrics: map[string]float64{"n_iter": float64(res.Stats.MajorIterations), "train_loss": res.F, "evaluations": float64(obj.evals)},
	}, nil
}

// logisticObjective is the mean weighted log loss plus the L2 penalty,
// computed in one pass for value and gradient and cached by location,
// since the optimiser asks for both at the same point.
type logisticObjective struct {
	ctx         context.Context
	x           []float64
	y           []int
	n, d, k     int // rows, features, classes
	lambda      float64
	threads     int
	classWeight []float64

	evals int
	at    []float64
	loss  float64
	grad  []float64
	parts [][]float64
}

func newLogisticObjective(x []float64, y []int, d, classes int, lambda float64, threads int) *logisticObjective {
	return &logisticObjective{x: x, y: y, n: len(y), d: d, k: classes, lambda: lambda, threads: threads}
}

// outputs is the number of logits: one for two classes.
func (o *logisticObjective) outputs() int {
	if o.k == 2 {
		return 1
	}
	return o.k
}

func (o *logisticObjective) dim() int { return (o.d + 1) * o.outputs() }

func (o *logisticObjective) status() (optimize.Status, error) {
	if err := o.ctx.Err(); err != nil {
		return optimize.Failure, err
	}
	return optimize.NotTerminated, nil
}

func (o *logisticObjective) value(w []float64) float64 {
	o.evaluate(w)
	return o.loss
}

func (o *logisticObjective) gradient(grad, w []float64) {
	o.evaluate(w)
	copy(grad, o.grad)
}

// evaluate computes loss and gradient at w unless they are cached.
func (o *logisticObjective) evaluate(w []float64) {
	if o.at != nil && slices.Equal(o.at, w) {
		return
	}
	k, d, dim := o.outputs(), o.d, o.dim()
	o.evals++
	if len(o.parts) != chunks(o.n) {
		o.parts = make([][]float64, chunks(o.n))
	}
	forChunks(o.n, o.threads, func(c, lo, hi int) {
		part := o.parts[c]
		if part == nil {
			part = make([]float64, dim+1)
			o.parts[c] = part
		}
		clear(part)
		o.chunk(w, lo, hi, part)
	})
	o.loss = 0
	o.grad = make([]float64, dim)
	for _, part := range o.parts {
		o.loss += part[dim]
		for j, v := range part[:dim] {
			o.grad[j] += v
		}
	}
	scale := 1 / float64(o.n)
	o.loss *= scale
	for j := range o.grad {
		o.grad[j] *= scale
	}
	// The penalty ‖W‖²/(2C) on the summed loss is λ‖W‖²/(2n) on the mean.
	for j, v := range w[:d*k] {
		o.loss += 0.5 * o.lambda * scale * v * v
		o.grad[j] += o.lambda * scale * v
	}
	o.at = slices.Clone(w)
}

// chunk adds rows [lo, hi)'s loss (at part[dim]) and gradient into part.
func (o *logisticObjective) chunk(w []float64, lo, hi int, part []float64) {
	k, d, dim := o.outputs(), o.d, o.dim()
	if k == 1 {
		o.binaryChunk(w, lo, hi, part)
		return
	}
	weights, bias := w[:d*k], w[d*k:]
	gw, gb := part[:d*k], part[d*k:dim]
	z := make([]float64, k)
	for i := lo; i < hi; i++ {
		row := o.x[i*d : (i+1)*d]
		copy(z, bias)
		for a, v := range row {
			for j := range k {
				z[j] += v * weights[a*k+j]
			}
		}
		sw := 1.0
		if o.classWeight != nil {
			sw = o.classWeight[o.y[i]]
		}
		part[dim] += sw * o.rowLoss(z, o.y[i])
		for a, v := range row {
			for j := range k {
				gw[a*k+j] += sw * z[j] * v
			}
		}
		for j := range k {
			gb[j] += sw * z[j]
		}
	}
}

// binaryChunk is chunk for two classes, the common case, kept free of the
// inner loops over classes.
func (o *logisticObjective) binaryChunk(w []float64, lo, hi int, part []float64) {
	d := o.d
	weights, bias := w[:d], w[d]
	gw := part[:d]
	var loss, gb float64
	for i := lo; i < hi; i++ {
		row := o.x[i*d : (i+1)*d : (i+1)*d]
		z := bias
		for a, v := range row {
			z += v * weights[a]
		}
		t := float64(o.y[i])
		// log(1+e^z) - t·z and σ(z) - t from one exponential. Log(1+e)
		// is within 1.2e-16 of Log1p(e) for e in (0, 1], and faster.
		e := math.Exp(-math.Abs(z))
		l := math.Log(1+e) - t*z
		var p float64
		if z >= 0 {
			l += z
			p = 1 / (1 + e)
		} else {
			p = e / (1 + e)
		}
		g := p - t
		if o.classWeight != nil {
			sw := o.classWeight[o.y[i]]
			l, g = sw*l, sw*g
		}
		loss += l
		gb += g
		for a, v := range row {
			gw[a] += g * v
		}
	}
	part[d] += gb
	part[d+1] += loss
}

// rowLoss returns the log loss of logits z for class y and overwrites z
// with the loss's derivative by each logit (probability minus target).
func (o *logisticObjective) rowLoss(z []float64, y int) float64 {
	if len(z) == 1 {
		t := float64(y)
		// log(1+e^z) - t·z, without overflow.
		loss := math.Max(z[0], 0) + math.Log1p(math.Exp(-math.Abs(z[0]))) - t*z[0]
		z[0] = sigmoid(z[0]) - t
		return loss
	}
	m := slices.Max(z)
	var s float64
	for _, v := range z {
		s += math.Exp(v - m)
	}
	loss := m + math.Log(s) - z[y]
	for j, v := range z {
		z[j] = math.Exp(v-m) / s
	}
	z[y]--
	return loss
}
