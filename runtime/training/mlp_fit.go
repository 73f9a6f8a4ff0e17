package training

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// mlpFit is the outcome of fitting an MLP: its layers and per-epoch series.
type mlpFit struct {
	layers     []Layer
	loss       []float64
	validation []float64
	bestEpoch  int
	valRows    []int // the rows early stopping held back
}

// network is an MLP's weights as gonum matrices, with Adam's moments.
type network struct {
	w, b       []*mat.Dense // w[l] is in×out, b[l] is 1×out
	mw, vw     []*mat.Dense
	mb, vb     []*mat.Dense
	step       int
	acts       []*mat.Dense // activations of the last forward pass, input first
	gw, gb     []*mat.Dense
	classifier bool
}

// fitMLP trains on x (row-major, width d) for target t.
func fitMLP(ctx context.Context, cfg mlpConfig, x []float64, d int, t *mlpTarget, _ int) (*mlpFit, error) {
	rng := rand.New(rand.NewPCG(cfg.seed, 0x5eed_31f))
	rows := make([]int, t.n)
	for i := range rows {
		rows[i] = i
	}
	var val []int
	if cfg.earlyStopping {
		rng.Shuffle(len(rows), func(a, b int) { rows[a], rows[b] = rows[b], rows[a] })
		k := int(math.Ceil(cfg.validationFraction * float64(t.n)))
		if k >= t.n {
			return nil, fmt.Errorf("param validation_fraction: %v of %d rows leaves none to train on", cfg.validationFraction, t.n)
		}
		val, rows = rows[:k], rows[k:]
	}
	sizes := append(append([]int{d}, cfg.hidden...), t.outputs())
	net := newNetwork(sizes, rng, t.classes != nil)
	batch := cfg.batchSize
	if batch == 0 {
		batch = min(200, len(rows))
	}
	batch = min(batch, len(rows))
	fit := &mlpFit{valRows: val}
	best, bestScore, stale := math.Inf(1), math.Inf(-1), 0
	var bestNet []*mat.Dense
	for epoch := 1; epoch <= cfg.maxIter; epoch++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if cfg.shuffle {
			rng.Shuffle(len(rows), func(a, b int) { rows[a], rows[b] = rows[b], rows[a] })
		}
		var total float64
		for lo := 0; lo < len(rows); lo += batch {
			part := rows[lo:min(lo+batch, len(rows))]
			xb, yb := gather(x, d, part), targets(t, part, sizes[len(sizes)-1])
			total += net.trainBatch(xb, yb, cfg) * float64(len(part))
		}
		loss := total / float64(len(rows))
		fit.loss = append(fit.loss, loss)
		improved := false
		if cfg.earlyStopping {
			score := net.score(gather(x, d, val), t, val)
			fit.validation = append(fit.validation, score)
			improved = score >= bestScore+cfg.tol
			if score > bestScore {
				bestScore, fit.bestEpoch = score, epoch
				bestNet = net.snapshot()
			}
		} else {
			improved = loss <= best-cfg.tol
			if loss < best {
				best, fit.bestEpoch = loss, epoch
			}
		}
		if improved {
			stale = 0
		} else if stale++; stale > cfg.noChange {
			break
		}
	}
	if math.IsNaN(fit.loss[len(fit.loss)-1]) || math.IsInf(fit.loss[len(fit.loss)-1], 0) {
		return nil, fmt.Errorf("training diverged (loss %v); lower learning_rate_init", fit.loss[len(fit.loss)-1])
	}
	if bestNet != nil {
		net.restore(bestNet)
	}
	fit.layers = net.layers()
	return fit, nil
}

func newNetwork(sizes []int, rng *rand.Rand, classifier bool) *network {
	net := &network{classifier: classifier}
	for l := 0; l+1 < len(sizes); l++ {
		in, out := sizes[l], sizes[l+1]
		// Glorot uniform, as scikit-learn draws ReLU networks' weights.
		bound := math.Sqrt(6 / float64(in+out))
		draw := func(r, c int) *mat.Dense {
			m := mat.NewDense(r, c, nil)
			for i := range r {
				for j := range c {
					m.Set(i, j, (2*rng.Float64()-1)*bound)
				}
			}
			return m
		}
		net.w = append(net.w, draw(in, out))
		net.b = append(net.b, draw(1, out))
		for _, moments := range []*[]*mat.Dense{&net.mw, &net.vw, &net.gw} {
			*moments = append(*moments, mat.NewDense(in, out, nil))
		}
		for _, moments := range []*[]*mat.Dense{&net.mb, &net.vb, &net.gb} {
			*moments = append(*moments, mat.NewDense(1, out, nil))
		}
	}
	return net
}

// gather copies rows of x into a matrix.
func gather(x []float64, d int, rows []int) *mat.Dense {
	m := mat.NewDense(len(rows), d, nil)
	raw := m.RawMatrix().Data
	for i, r := range rows {
		copy(raw[i*d:(i+1)*d], x[r*d:(r+1)*d])
	}
	return m
}

// targets returns the rows' targets as the output layer's width: 0/1 for
// a binary classifier, one-hot for more classes, values for a regressor.
func targets(t *mlpTarget, rows []int, k int) *mat.Dense {
	y := mat.NewDense(len(rows), k, nil)
	for i, r := range rows {
		switch {
		case t.classes == nil:
			y.Set(i, 0, t.values[r])
		case k == 1:
			y.Set(i, 0, float64(t.index[r]))
		default:
			y.Set(i, t.index[r], 1)
		}
	}
	return y
}

// forward computes every layer's activations for x, leaving the output
// layer's after its output function (sigmoid, softmax or identity).
func (net *network) forward(x *mat.Dense) *mat.Dense {
	net.acts = append(net.acts[:0], x)
	a := x
	for l := range net.w {
		var z mat.Dense
		z.Mul(a, net.w[l])
		bias := net.b[l].RawRowView(0)
		r, c := z.Dims()
		raw := z.RawMatrix().Data
		last := l == len(net.w)-1
		for i := range r {
			row := raw[i*c : (i+1)*c]
			for j := range row {
				row[j] += bias[j]
				if !last {
					row[j] = math.Max(row[j], 0)
				}
			}
			if last && net.classifier {
				if c == 1 {
					row[0] = sigmoid(row[0])
				} else {
					softmaxInPlace(row)
				}
			}
		}
		net.acts = append(net.acts, &z)
		a = &z
	}
	return a
}
