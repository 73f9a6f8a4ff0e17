package training

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// trainBatch runs one step of Adam on a batch and returns the batch's
// loss, L2 term included, as scikit-learn reports it.
func (net *network) trainBatch(x, y *mat.Dense, cfg mlpConfig) float64 {
	out := net.forward(x)
	n, _ := y.Dims()
	loss := batchLoss(out, y, net.classifier)
	var sq float64
	for _, w := range net.w {
		for _, v := range w.RawMatrix().Data {
			sq += v * v
		}
	}
	loss += 0.5 * cfg.alpha * sq / float64(n)

	// Every output function here pairs with its loss so that the
	// derivative by the pre-activation is output minus target.
	var delta mat.Dense
	delta.Sub(out, y)
	for l := len(net.w) - 1; l >= 0; l-- {
		gw, gb := net.gw[l], net.gb[l]
		gw.Mul(net.acts[l].T(), &delta)
		gw.Add(gw, scaled(cfg.alpha, net.w[l]))
		gw.Scale(1/float64(n), gw)
		bias := gb.RawRowView(0)
		clear(bias)
		r, c := delta.Dims()
		raw := delta.RawMatrix().Data
		for i := range r {
			for j := range c {
				bias[j] += raw[i*c+j]
			}
		}
		for j := range bias {
			bias[j] /= float64(n)
		}
		if l > 0 {
			var prev mat.Dense
			prev.Mul(&delta, net.w[l].T())
			act := net.acts[l].RawMatrix().Data
			pr := prev.RawMatrix().Data
			for i := range pr {
				if act[i] <= 0 {
					pr[i] = 0
				}
			}
			delta = prev
		}
	}
	net.adam(cfg)
	return loss
}

func scaled(f float64, m *mat.Dense) *mat.Dense {
	var s mat.Dense
	s.Scale(f, m)
	return &s
}

// batchLoss is the mean log loss (probabilities clipped to [ε, 1-ε]) of a
// classifier, or half the mean squared error of a regressor.
func batchLoss(out, y *mat.Dense, classifier bool) float64 {
	n, k := y.Dims()
	p, t := out.RawMatrix().Data, y.RawMatrix().Data
	const eps = 2.220446049250313e-16
	var s float64
	for i := range p {
		switch {
		case !classifier:
			s += (t[i] - p[i]) * (t[i] - p[i]) / 2
		case k == 1:
			q := math.Min(math.Max(p[i], eps), 1-eps)
			s -= t[i]*math.Log(q) + (1-t[i])*math.Log(1-q)
		case t[i] != 0:
			s -= t[i] * math.Log(math.Min(math.Max(p[i], eps), 1-eps))
		}
	}
	return s / float64(n)
}

// adam applies one Adam step with the gradients in gw and gb.
func (net *network) adam(cfg mlpConfig) {
	net.step++
	t := float64(net.step)
	lr := cfg.learningRate * math.Sqrt(1-math.Pow(cfg.beta2, t)) / (1 - math.Pow(cfg.beta1, t))
	update := func(param, grad, m, v *mat.Dense) {
		p, g := param.RawMatrix().Data, grad.RawMatrix().Data
		md, vd := m.RawMatrix().Data, v.RawMatrix().Data
		for i := range p {
			md[i] = cfg.beta1*md[i] + (1-cfg.beta1)*g[i]
			vd[i] = cfg.beta2*vd[i] + (1-cfg.beta2)*g[i]*g[i]
			p[i] -= lr * md[i] / (math.Sqrt(vd[i]) + cfg.eps)
		}
	}
	for l := range net.w {
		update(net.w[l], net.gw[l], net.mw[l], net.vw[l])
		update(net.b[l], net.gb[l], net.mb[l], net.vb[l])
	}
}

// score is the validation score early stopping watches: accuracy for a
// classifier, R² for a regressor.
func (net *network) score(x *mat.Dense, t *mlpTarget, rows []int) float64 {
	out := net.forward(x)
	_, k := out.Dims()
	p := out.RawMatrix().Data
	if t.classes != nil {
		right := 0
		for i, r := range rows {
			predicted := 0
			if k == 1 {
				if p[i] > 0.5 {
					predicted = 1
				}
			} else {
				predicted = argmax(p[i*k : (i+1)*k])
			}
			if predicted == t.index[r] {
				right++
			}
		}
		return float64(right) / float64(len(rows))
	}
	truth := make([]float64, len(rows))
	for i, r := range rows {
		truth[i] = t.values[r]
	}
	return r2(truth, p)
}

func argmax(v []float64) int {
	best := 0
	for j := range v {
		if v[j] > v[best] {
			best = j
		}
	}
	return best
}

// snapshot copies the weights and biases.
func (net *network) snapshot() []*mat.Dense {
	var s []*mat.Dense
	for l := range net.w {
		s = append(s, mat.DenseCopyOf(net.w[l]), mat.DenseCopyOf(net.b[l]))
	}
	return s
}

func (net *network) restore(s []*mat.Dense) {
	for l := range net.w {
		net.w[l], net.b[l] = s[2*l], s[2*l+1]
	}
}

// layers returns the weights as Layers.
func (net *network) layers() []Layer {
	out := make([]Layer, len(net.w))
	for l, w := range net.w {
		in, o := w.Dims()
		out[l] = Layer{In: in, Out: o, Weights: slices.Clone(w.RawMatrix().Data), Bias: slices.Clone(net.b[l].RawRowView(0))}
	}
	return out
}
