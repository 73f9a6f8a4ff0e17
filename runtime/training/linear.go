package training

import (
	"context"
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Layer is a fully connected layer, y = x·W + Bias for x of length In, as
// runtime/onnx's Layer takes it.
type Layer struct {
	In, Out int
	// Weights is W, In×Out in row-major order: Weights[i*Out+j] weighs
	// input i in output j.
	Weights []float64
	Bias    []float64
}

// apply computes the layer's outputs for n rows of x (row-major n×In)
// into out (n×Out).
func (l Layer) apply(x []float64, n int, out []float64) {
	for i := range n {
		row, o := x[i*l.In:(i+1)*l.In], out[i*l.Out:(i+1)*l.Out]
		copy(o, l.Bias)
		for a, v := range row {
			if v == 0 {
				continue
			}
			w := l.Weights[a*l.Out : (a+1)*l.Out]
			for j := range o {
				o[j] += v * w[j]
			}
		}
	}
}

// Linear is a trained linear or logistic regression over encoded
// features. A regressor (Classes nil) predicts x·W + Bias; a classifier
// with one output is binary, P(Classes[1]) = σ(x·W + Bias), and one with
// an output per class is multinomial, softmax(x·W + Bias).
type Linear struct {
	Encoding Encoding
	Layer    Layer
	Classes  []int64
}

// Predict scores f's rows.
func (m *Linear) Predict(ctx context.Context, f *Frame) (*Predictions, error) {
	x, err := m.Encoding.Matrix(f)
	if err != nil {
		return nil, err
	}
	n := f.Rows()
	z := make([]float64, n*m.Layer.Out)
	m.Layer.apply(x, n, z)
	if m.Classes == nil {
		return &Predictions{Values: z}, nil
	}
	return classifierOutputs(m.Classes, logitsToProbabilities(z, n, m.Layer.Out)), nil
}

// trainLinearRegression fits ordinary least squares, or ridge regression
// with L2 penalty alpha·‖w‖² (intercept unpenalised), on standardised
// features. Collinear features (a one-hot column beside the intercept)
// get the minimum-norm solution, as scikit-learn's LinearRegression.
func trainLinearRegression(ctx context.Context, req *TrainRequest, p *params) (*Result, error) {
	alpha := p.Float("alpha", 0, 0, math.Inf(1), false)
	if err := p.Err(); err != nil {
		return nil, err
	}
	enc := fitEncoding(req.Train, true)
	x, err := enc.Matrix(req.Train)
	if err != nil {
		return nil, err
	}
	y := req.Train.Column(req.Train.Label).Floats
	n, d := len(y), enc.Width()
	xMean := columnMeans(x, n, d)
	yMean, _ := meanStd(y)
	gram, xty := centredGram(x, y, xMean, yMean, n, d, req.Threads)
	for j := range d {
		gram.SetSym(j, j, gram.At(j, j)+alpha)
	}
	w, err := solvePSD(gram, xty)
	if err != nil {
		return nil, fmt.Errorf("linear_regression: %w", err)
	}
	bias := yMean
	for j := range d {
		bias -= xMean[j] * w[j]
	}
	model := &Linear{Encoding: enc, Layer: Layer{In: d, Out: 1, Weights: w, Bias: []float64{bias}}}
	return &Result{Model: model, Params: p.Effective}, ctx.Err()
}

func columnMeans(x []float64, n, d int) []float64 {
	mean := make([]float64, d)
	for i := range n {
		for j, v := range x[i*d : (i+1)*d] {
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	return mean
}

// centredGram returns Xcᵀ·Xc and Xcᵀ·yc for the centred data, summed
// chunk by chunk so the result does not depend on the thread count.
func centredGram(x, y, xMean []float64, yMean float64, n, d, threads int) (*mat.SymDense, []float64) {
	parts := make([][]float64, chunks(n))
	forChunks(n, threads, func(c, lo, hi int) {
		part := make([]float64, d*d+d)
		row := make([]float64, d)
		for i := lo; i < hi; i++ {
			for j := range d {
				row[j] = x[i*d+j] - xMean[j]
			}
			yc := y[i] - yMean
			for a := range d {
				ra := row[a]
				if ra == 0 {
					continue
				}
				g := part[a*d : a*d+d]
				for b := a; b < d; b++ {
					g[b] += ra * row[b]
				}
				part[d*d+a] += ra * yc
			}
		}
		parts[c] = part
	})
	sum := make([]float64, d*d+d)
	for _, part := range parts {
		for k, v := range part {
			sum[k] += v
		}
	}
	gram := mat.NewSymDense(d, nil)
	for a := range d {
		for b := a; b < d; b++ {
			gram.SetSym(a, b, sum[a*d+b])
		}
	}
	return gram, sum[d*d:]
}

// solvePSD returns the minimum-norm w with g·w = r for a symmetric
// positive semi-definite g, dropping eigenvalues too small to trust.
func solvePSD(g *mat.SymDense, r []float64) ([]float64, error) {
	var eig mat.EigenSym
	if !eig.Factorize(g, true) {
		return nil, errors.New("eigendecomposition of the normal equations did not converge")
	}
	values := eig.Values(nil)
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	d := len(r)
	largest := 0.0
	for _, v := range values {
		largest = math.Max(largest, v)
	}
	cutoff := largest * float64(d) * 1e-13
	w := make([]float64, d)
	for k, lambda := range values {
		if lambda <= cutoff {
			continue
		}
		var proj float64
		for j := range d {
			proj += vecs.At(j, k) * r[j]
		}
		proj /= lambda
		for j := range d {
			w[j] += proj * vecs.At(j, k)
		}
	}
	return w, nil
}
