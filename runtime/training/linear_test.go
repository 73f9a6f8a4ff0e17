package training

import (
	"context"
	"math"
	"strings"
	"testing"
)

// trainFixture trains builtin on the fixture's training rows and predicts
// its test rows.
func trainFixture(t *testing.T, name, builtin, task string, params map[string]any) (*modelFixture, *Result, *Predictions) {
	t.Helper()
	var fx modelFixture
	readFixture(t, name, &fx)
	res, err := Train(context.Background(), TrainRequest{Builtin: builtin, Task: task, Params: params, Seed: 1, Train: fx.Train.frame(), Threads: 2})
	if err != nil {
		t.Fatalf("train %s: %v", name, err)
	}
	pred, err := res.Model.Predict(context.Background(), fx.Test.frame())
	if err != nil {
		t.Fatalf("predict %s: %v", name, err)
	}
	return &fx, res, pred
}

func assertClose(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	worst, at := 0.0, 0
	for i := range got {
		if d := math.Abs(got[i] - want[i]); d > worst || math.IsNaN(d) {
			worst, at = d, i
		}
	}
	if !(worst <= tol) {
		t.Errorf("%s: value %d is %v, scikit-learn's %v (off by %.3g, tolerance %g)", what, at, got[at], want[at], worst, tol)
	}
}

func TestLogisticRegressionMatchesScikitLearn(t *testing.T) {
	for _, tc := range []struct {
		fixture string
		params  map[string]any
	}{
		{"logistic_binary", nil},
		{"logistic_binary", map[string]any{"solver": "newton"}},
		{"logistic_binary_c01_balanced", map[string]any{"C": 0.1, "class_weight": "balanced"}},
		{"logistic_multiclass", nil},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			params := map[string]any{"tol": 1e-8, "max_iter": int64(1000)}
			for k, v := range tc.params {
				params[k] = v
			}
			fx, _, pred := trainFixture(t, tc.fixture, LogisticRegression, TaskClassification, params)
			assertClose(t, "probabilities", pred.Probabilities, fx.Probabilities, 1e-6)
		})
	}
}

func TestLinearRegressionMatchesScikitLearn(t *testing.T) {
	for _, tc := range []struct {
		fixture string
		params  map[string]any
	}{
		{"linear_regression", nil},
		{"ridge", map[string]any{"alpha": 10.0}},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			fx, _, pred := trainFixture(t, tc.fixture, LinearRegression, TaskRegression, tc.params)
			assertClose(t, "predictions", pred.Values, fx.Values, 1e-8)
		})
	}
}

func TestLogisticRegressionRefusesBadParamsNamingEach(t *testing.T) {
	_, err := Train(context.Background(), TrainRequest{
		Builtin: LogisticRegression, Task: TaskClassification, Train: numbered(20),
		Params: map[string]any{"C": -1.0, "max_iter": 2.5, "solver": "sgd", "penalty": "l1"},
	})
	if err == nil {
		t.Fatal("bad params trained a model")
	}
	for _, want := range []string{
		"param C: -1, want a number > 0",
		"param max_iter: 2.5, want an integer >= 1",
		`param solver: "sgd", want one of "lbfgs", "newton"`,
		"param penalty: unknown to logistic_regression (known: C, class_weight, max_iter, solver, tol)",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q\ndoes not say %q", err, want)
		}
	}
}

func TestTrainRefusesATaskTheTrainerDoesNotDo(t *testing.T) {
	_, err := Train(context.Background(), TrainRequest{Builtin: LinearRegression, Task: TaskClassification, Train: numbered(20)})
	if err == nil || !strings.Contains(err.Error(), "linear_regression does not do classification (it does regression)") {
		t.Fatalf("error %v", err)
	}
	_, err = Train(context.Background(), TrainRequest{Builtin: "xgboost", Task: TaskClassification, Train: numbered(20)})
	if err == nil || !strings.Contains(err.Error(), `unknown built-in trainer "xgboost" (known: linear_regression, logistic_regression, mlp, random_forest)`) {
		t.Fatalf("error %v", err)
	}
}
