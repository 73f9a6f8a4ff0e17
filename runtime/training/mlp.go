package training

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// MLP is a trained multi-layer perceptron over encoded features: every
// layer but the last is followed by ReLU. A regressor (Classes nil)
// predicts the last layer's single output; a classifier's last layer
// gives one logit (binary, P(Classes[1]) = σ) or one per class (softmax).
type MLP struct {
	Encoding Encoding
	Layers   []Layer
	Classes  []int64
}

// Predict scores f's rows.
func (m *MLP) Predict(ctx context.Context, f *Frame) (*Predictions, error) {
	x, err := m.Encoding.Matrix(f)
	if err != nil {
		return nil, err
	}
	n := f.Rows()
	for i, l := range m.Layers {
		out := make([]float64, n*l.Out)
		l.apply(x, n, out)
		if i < len(m.Layers)-1 {
			for j, v := range out {
				out[j] = math.Max(v, 0)
			}
		}
		x = out
	}
	if m.Classes == nil {
		return &Predictions{Values: x}, nil
	}
	return classifierOutputs(m.Classes, logitsToProbabilities(x, n, m.Layers[len(m.Layers)-1].Out)), nil
}

// mlpConfig holds the mlp trainer's hyperparameters, named and defaulted
// as scikit-learn's MLPClassifier and MLPRegressor name them.
type mlpConfig struct {
	hidden             []int
	alpha              float64
	batchSize          int // 0 means min(200, rows)
	learningRate       float64
	maxIter            int
	tol                float64
	noChange           int
	earlyStopping      bool
	validationFraction float64
	beta1, beta2, eps  float64
	shuffle            bool
	seed               uint64
}

func readMLPConfig(req *TrainRequest, p *params) mlpConfig {
	c := mlpConfig{
		hidden:             hiddenSizes(p),
		alpha:              p.Float("alpha", 1e-4, 0, math.Inf(1), false),
		learningRate:       p.Float("learning_rate_init", 1e-3, 0, math.Inf(1), true),
		maxIter:            p.Int("max_iter", 200, 1, 1_000_000),
		tol:                p.Float("tol", 1e-4, 0, math.Inf(1), false),
		noChange:           p.Int("n_iter_no_change", 10, 1, 1_000_000),
		earlyStopping:      p.Bool("early_stopping", false),
		validationFraction: p.Float("validation_fraction", 0.1, 0, 1, true),
		beta1:              p.Float("beta_1", 0.9, 0, 1, false),
		beta2:              p.Float("beta_2", 0.999, 0, 1, false),
		eps:                p.Float("epsilon", 1e-8, 0, math.Inf(1), true),
		shuffle:            p.Bool("shuffle", true),
		seed:               seed(req, p),
	}
	p.Enum("activation", "relu", "relu")
	p.Enum("solver", "adam", "adam")
	if c.beta1 == 1 {
		p.failf("beta_1", "1, want a number >= 0 and < 1")
	}
	if c.beta2 == 1 {
		p.failf("beta_2", "1, want a number >= 0 and < 1")
	}
	if c.validationFraction == 1 {
		p.failf("validation_fraction", "1, want a number > 0 and < 1")
	}
	if v, ok := p.Raw("batch_size"); ok && v != "auto" {
		c.batchSize = p.toInt("batch_size", v, 0, 1, math.MaxInt32)
	}
	if c.batchSize == 0 {
		p.Effective["batch_size"] = "auto"
	} else {
		p.Effective["batch_size"] = strconv.Itoa(c.batchSize)
	}
	return c
}

// hiddenSizes reads hidden_layer_sizes: a list of layer widths or one
// width, default [100].
func hiddenSizes(p *params) []int {
	v, ok := p.Raw("hidden_layer_sizes")
	sizes := []int{100}
	if ok {
		list, isList := v.([]any)
		if !isList {
			list = []any{v}
		}
		sizes = sizes[:0]
		for i, item := range list {
			n := p.toInt(fmt.Sprintf("hidden_layer_sizes[%d]", i), item, 0, 1, 1<<20)
			if n > 0 {
				sizes = append(sizes, n)
			}
		}
		if len(list) == 0 {
			p.failf("hidden_layer_sizes", "[], want at least one layer width")
		}
	}
	text := make([]string, len(sizes))
	for i, n := range sizes {
		text[i] = strconv.Itoa(n)
	}
	p.Effective["hidden_layer_sizes"] = "[" + strings.Join(text, ", ") + "]"
	return sizes
}

// trainMLP fits an MLP classifier or regressor with Adam on minibatches,
// as scikit-learn does: log loss (or half the squared error) plus
// alpha/2·‖W‖² per batch, Glorot-uniform initial weights. Training stops
// after max_iter epochs, or when for n_iter_no_change epochs the training
// loss (or, with early_stopping, the validation score: accuracy or R² on
// validation_fraction of the rows held back) has not improved by tol; with
// early stopping the best epoch's weights are kept. A regressor learns the
// standardised target and folds the scale into its last layer.
func trainMLP(ctx context.Context, req *TrainRequest, p *params) (*Result, error) {
	cfg := readMLPConfig(req, p)
	if err := p.Err(); err != nil {
		return nil, err
	}
	enc := fitEncoding(req.Train, true)
	x, err := enc.Matrix(req.Train)
	if err != nil {
		return nil, err
	}
	label := req.Train.Column(req.Train.Label)
	t := &mlpTarget{n: len(label.Floats)}
	if req.Task == TaskClassification {
		if t.classes, err = ClassesOf(label); err != nil {
			return nil, err
		}
		t.index = classIndices(label, t.classes)
	} else {
		t.mean, t.std = meanStd(label.Floats)
		if t.std == 0 {
			t.std = 1
		}
		t.values = make([]float64, t.n)
		for i, v := range label.Floats {
			t.values[i] = (v - t.mean) / t.std
		}
	}
	fit, err := fitMLP(ctx, cfg, x, enc.Width(), t, req.Threads)
	if err != nil {
		return nil, fmt.Errorf("mlp: %w", err)
	}
	layers := fit.layers
	if t.classes == nil {
		last := &layers[len(layers)-1]
		for j := range last.Weights {
			last.Weights[j] *= t.std
		}
		last.Bias[0] = last.Bias[0]*t.std + t.mean
	}
	series := map[string][]float64{"loss": fit.loss}
	if cfg.earlyStopping {
		series["validation_score"] = fit.validation
	}
	return &Result{
		Model:   &MLP{Encoding: enc, Layers: layers, Classes: t.classes},
		Params:  p.Effective,
		Metrics: map[string]float64{"n_iter": float64(len(fit.loss)), "best_epoch": float64(fit.bestEpoch)},
		Series:  series,
	}, nil
}

// mlpTarget is what an MLP learns: class indices, or standardised values.
type mlpTarget struct {
	n         int
	classes   []int64
	index     []int
	values    []float64
	mean, std float64
}

// outputs is the width of the last layer.
func (t *mlpTarget) outputs() int {
	if t.classes == nil || len(t.classes) == 2 {
		return 1
	}
	return len(t.classes)
}
