package engine

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"sluice/internal/ortlib"
	"sluice/runtime/training"
)

func TestMain(m *testing.M) { os.Exit(ortlib.Run(m)) }

// syntheticFrame is a small mixed frame: two numeric columns, a string
// column, and a label that depends on all three (a class or a value).
func syntheticFrame(n int, task string) *training.Frame {
	r := rand.New(rand.NewPCG(7, 11))
	x1, x2 := make([]float64, n), make([]float64, n)
	cat, y := make([]string, n), make([]float64, n)
	for i := range n {
		x1[i], x2[i] = r.NormFloat64()*3+10, r.NormFloat64()
		cat[i] = []string{"a", "b", "c"}[r.IntN(3)]
		v := 0.5*(x1[i]-10) - x2[i] + map[string]float64{"a": -1, "b": 0, "c": 1.5}[cat[i]] + 0.3*r.NormFloat64()
		if task == training.TaskClassification {
			v = math.Round(1 / (1 + math.Exp(-v)))
		}
		y[i] = v
	}
	return &training.Frame{Label: "y", Columns: []training.Column{
		{Name: "x1", Floats: x1}, {Name: "x2", Floats: x2}, {Name: "cat", Strings: cat}, {Name: "y", Floats: y}}}
}

func TestExportedModelsScoreAsTheGoModelInOnnxRuntime(t *testing.T) {
	ortlib.Need(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name, builtin, task string
		params              map[string]any
	}{
		{"logistic", training.LogisticRegression, training.TaskClassification, nil},
		{"linear", training.LinearRegression, training.TaskRegression, nil},
		{"mlp_classifier", training.MLPTrainer, training.TaskClassification,
			map[string]any{"hidden_layer_sizes": int64(6), "max_iter": int64(30)}},
		{"mlp_regressor", training.MLPTrainer, training.TaskRegression,
			map[string]any{"hidden_layer_sizes": int64(6), "max_iter": int64(30)}},
		{"forest_classifier", training.RandomForest, training.TaskClassification,
			map[string]any{"n_estimators": int64(8), "max_depth": int64(4)}},
		{"forest_regressor", training.RandomForest, training.TaskRegression,
			map[string]any{"n_estimators": int64(8), "max_depth": int64(4)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := syntheticFrame(300, tc.task)
			res, err := training.Train(ctx, training.TrainRequest{Builtin: tc.builtin, Task: tc.task,
				Params: tc.params, Seed: 3, Train: f, Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			b, err := exportBytes(res.Model)
			if err != nil {
				t.Fatal(err)
			}
			var classes []int64
			switch m := res.Model.(type) {
			case *training.Linear:
				classes = m.Classes
			case *training.MLP:
				classes = m.Classes
			case *training.Forest:
				classes = m.Classes
			}
			s, err := training.NewSession(b, training.SessionOptions{Task: tc.task, Classes: classes})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := training.Parity(ctx, res.Model, s, f, 1e-5); err != nil {
				t.Fatalf("onnx runtime disagrees with the go model: %v", err)
			}
		})
	}
}

func TestExportRefusesAModelItCannotWrite(t *testing.T) {
	if _, err := exportBytes(nil); err == nil {
		t.Fatal("exported a nil model")
	}
}
