package training

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// rings returns n rows of two numeric features and a string one, with
// label 1 inside a ring around the origin (not linearly separable) and a
// regression target that is a smooth nonlinear function of the features.
func rings(n int, seed uint64) (classes, values *Frame) {
	rng := rand.New(rand.NewPCG(seed, 1))
	a, b := make([]float64, n), make([]float64, n)
	s := make([]string, n)
	y, v := make([]float64, n), make([]float64, n)
	for i := range n {
		a[i], b[i] = rng.Float64()*4-2, rng.Float64()*4-2
		s[i] = []string{"red", "blue"}[rng.IntN(2)]
		r := math.Hypot(a[i], b[i])
		if r > 0.8 && r < 1.6 {
			y[i] = 1
		}
		v[i] = 5000 + 800*math.Sin(2*a[i]) + 300*b[i]*b[i]
		if s[i] == "red" {
			v[i] += 400
		}
	}
	cols := []Column{{Name: "a", Floats: a}, {Name: "b", Floats: b}, {Name: "colour", Strings: s}}
	classes = &Frame{Label: "y", Columns: append(slices.Clone(cols), Column{Name: "y", Floats: y})}
	values = &Frame{Label: "v", Columns: append(slices.Clone(cols), Column{Name: "v", Floats: v})}
	return classes, values
}

func trainAndScore(t *testing.T, builtin, task string, params map[string]any, train, test *Frame) (*Result, map[string]float64) {
	t.Helper()
	res, err := Train(context.Background(), TrainRequest{Builtin: builtin, Task: task, Params: params, Seed: 3, Train: train, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	pred, err := res.Model.Predict(context.Background(), test)
	if err != nil {
		t.Fatal(err)
	}
	label := test.Column(test.Label).Floats
	if task == TaskRegression {
		m, err := RegressorMetrics(label, pred.Values)
		if err != nil {
			t.Fatal(err)
		}
		return res, m
	}
	y := make([]int64, len(label))
	for i, v := range label {
		y[i] = int64(v)
	}
	m, err := ClassifierMetrics(y, pred)
	if err != nil {
		t.Fatal(err)
	}
	return res, m
}

func TestMLPClassifierLearnsABoundaryALinearModelCannot(t *testing.T) {
	train, _ := rings(1500, 1)
	test, _ := rings(500, 2)
	_, linear := trainAndScore(t, LogisticRegression, TaskClassification, nil, train, test)
	res, m := trainAndScore(t, MLPTrainer, TaskClassification, map[string]any{"hidden_layer_sizes": []any{int64(32), int64(16)}, "learning_rate_init": 0.01}, train, test)
	if m["roc_auc"] < 0.97 || linear["roc_auc"] > 0.7 {
		t.Errorf("ring AUC: mlp %.3f (want >= 0.97), logistic regression %.3f (want <= 0.7)", m["roc_auc"], linear["roc_auc"])
	}
	loss := res.Series["loss"]
	if len(loss) < 2 || loss[len(loss)-1] >= loss[0] {
		t.Errorf("loss series %v does not fall", loss)
	}
	if int(res.Metrics["n_iter"]) != len(loss) {
		t.Errorf("n_iter %v, loss series of %d epochs", res.Metrics["n_iter"], len(loss))
	}
}

func TestMLPRegressorLearnsOnTheTargetsScale(t *testing.T) {
	_, train := rings(1500, 3)
	_, test := rings(400, 4)
	_, m := trainAndScore(t, MLPTrainer, TaskRegression, map[string]any{"hidden_layer_sizes": int64(32), "learning_rate_init": 0.01}, train, test)
	if m["r2"] < 0.95 {
		t.Errorf("r2 %.3f, want >= 0.95", m["r2"])
	}
}

func TestMLPClassifierSeparatesThreeClasses(t *testing.T) {
	var fx modelFixture
	readFixture(t, "logistic_multiclass", &fx)
	_, linear := trainAndScore(t, LogisticRegression, TaskClassification, nil, fx.Train.frame(), fx.Test.frame())
	_, m := trainAndScore(t, MLPTrainer, TaskClassification, map[string]any{"hidden_layer_sizes": int64(16)}, fx.Train.frame(), fx.Test.frame())
	// The classes are linear in the features: the MLP should come close
	// to logistic regression, and both well above chance (1/3).
	if m["accuracy"] < linear["accuracy"]-0.1 || m["roc_auc"] < 0.8 {
		t.Errorf("three-class accuracy %.3f (logistic regression %.3f), AUC %.3f", m["accuracy"], linear["accuracy"], m["roc_auc"])
	}
	t.Logf("accuracy mlp %.3f lr %.3f auc %.3f %.3f", m["accuracy"], linear["accuracy"], m["roc_auc"], linear["roc_auc"])
}

func TestMLPIsDeterministicForASeed(t *testing.T) {
	train, _ := rings(300, 5)
	fit := func(seed int64) []Layer {
		res, err := Train(context.Background(), TrainRequest{Builtin: MLPTrainer, Task: TaskClassification, Seed: seed, Train: train,
			Params: map[string]any{"hidden_layer_sizes": int64(8), "max_iter": int64(20)}})
		if err != nil {
			t.Fatal(err)
		}
		return res.Model.(*MLP).Layers
	}
	a, b, c := fit(1), fit(1), fit(2)
	if !slices.Equal(a[0].Weights, b[0].Weights) || !slices.Equal(a[1].Bias, b[1].Bias) {
		t.Error("the same seed trained different weights")
	}
	if slices.Equal(a[0].Weights, c[0].Weights) {
		t.Error("seeds 1 and 2 trained the same weights")
	}
}

func TestMLPEarlyStoppingRecordsValidationScoresAndStops(t *testing.T) {
	train, _ := rings(600, 6)
	res, err := Train(context.Background(), TrainRequest{Builtin: MLPTrainer, Task: TaskClassification, Seed: 1, Train: train,
		Params: map[string]any{"hidden_layer_sizes": int64(16), "early_stopping": true, "n_iter_no_change": int64(3), "max_iter": int64(500), "learning_rate_init": 0.05}})
	if err != nil {
		t.Fatal(err)
	}
	loss, val := res.Series["loss"], res.Series["validation_score"]
	if len(val) != len(loss) || len(loss) >= 500 {
		t.Fatalf("%d loss and %d validation values; want equal, fewer than max_iter", len(loss), len(val))
	}
	best := int(res.Metrics["best_epoch"])
	if slices.Max(val) != val[best-1] {
		t.Errorf("best epoch %d scored %v, the best score is %v", best, val[best-1], slices.Max(val))
	}
	if len(val)-best < 3 {
		t.Errorf("stopped %d epochs after the best, want at least n_iter_no_change", len(val)-best)
	}
}

func TestMLPRefusesBadParamsNamingEach(t *testing.T) {
	train, _ := rings(50, 7)
	_, err := Train(context.Background(), TrainRequest{Builtin: MLPTrainer, Task: TaskClassification, Train: train,
		Params: map[string]any{"hidden_layer_sizes": []any{int64(10), int64(0)}, "activation": "tanh", "beta_2": 1.0, "batch_size": "big"}})
	for _, want := range []string{
		"param hidden_layer_sizes[1]: 0, want an integer >= 1",
		`param activation: "tanh", want one of "relu"`,
		"param beta_2: 1, want a number >= 0 and < 1",
		`param batch_size: "big", want an integer >= 1`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v\ndoes not say %q", err, want)
		}
	}
}

func TestMLPEarlyStoppingKeepsTheBestEpochsWeights(t *testing.T) {
	train, _ := rings(800, 8)
	p := newParams(MLPTrainer, map[string]any{"hidden_layer_sizes": int64(16), "early_stopping": true,
		"n_iter_no_change": int64(5), "learning_rate_init": 0.05, "max_iter": int64(300)})
	cfg := readMLPConfig(&TrainRequest{Seed: 4}, p)
	enc := fitEncoding(train, true)
	x, _ := enc.Matrix(train)
	label := train.Column("y")
	target := &mlpTarget{n: label.Len(), classes: []int64{0, 1}, index: classIndices(label, []int64{0, 1})}
	fit, err := fitMLP(context.Background(), cfg, x, enc.Width(), target, 1)
	if err != nil {
		t.Fatal(err)
	}
	// Score the returned weights on the held-back rows as early stopping
	// did: they must score what the best epoch scored, not the last.
	d := enc.Width()
	right := 0
	for _, r := range fit.valRows {
		a := x[r*d : (r+1)*d]
		for i, l := range fit.layers {
			out := make([]float64, l.Out)
			l.apply(a, 1, out)
			if i < len(fit.layers)-1 {
				for j := range out {
					out[j] = math.Max(out[j], 0)
				}
			}
			a = out
		}
		if (sigmoid(a[0]) > 0.5) == (target.index[r] == 1) {
			right++
		}
	}
	best, last := fit.validation[fit.bestEpoch-1], fit.validation[len(fit.validation)-1]
	if got := float64(right) / float64(len(fit.valRows)); got != best {
		t.Errorf("kept weights score %v on the validation rows; the best epoch (%d) scored %v, the last %v", got, fit.bestEpoch, best, last)
	}
	if best == last {
		t.Log("the last epoch was also the best; the test shows less than it could")
	}
}
