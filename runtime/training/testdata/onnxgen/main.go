// Command onnxgen writes the ONNX models the training tests load into ONNX
// Runtime, with the Go models they were exported from. It trains built-in
// models on the scikit-learn fixtures and converts them with runtime/onnx
// as the engine does. runtime/training may not import runtime/onnx (see
// DESIGN.md), and testdata is outside the package graph, so this lives
// here. From the repository root:
//
//	go run ./runtime/training/testdata/onnxgen
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"sluice/runtime/onnx"
	"sluice/runtime/training"
)

const dir = "runtime/training/testdata"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "onnxgen:", err)
		os.Exit(1)
	}
}

func run() error {
	for _, m := range []struct {
		name, fixture, builtin, task string
		params                       map[string]any
		numericOnly                  bool
	}{
		{"logistic", "logistic_binary", training.LogisticRegression, training.TaskClassification, nil, false},
		{"forest", "forest_classifier", training.RandomForest, training.TaskClassification,
			map[string]any{"n_estimators": int64(10), "max_depth": int64(4)}, false},
		{"mlp_multiclass", "logistic_multiclass", training.MLPTrainer, training.TaskClassification,
			map[string]any{"hidden_layer_sizes": int64(8), "max_iter": int64(50)}, false},
		{"linear", "linear_regression", training.LinearRegression, training.TaskRegression, nil, false},
		{"forest_regressor", "forest_regressor", training.RandomForest, training.TaskRegression,
			map[string]any{"n_estimators": int64(10), "max_depth": int64(4)}, false},
	} {
		train, err := fixtureTrain(m.fixture)
		if err != nil {
			return err
		}
		res, err := training.Train(context.Background(), training.TrainRequest{
			Builtin: m.builtin, Task: m.task, Params: m.params, Seed: 1, Train: train})
		if err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
		model, err := export(res.Model)
		if err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
		if err := model.WriteFile(filepath.Join(dir, "models", m.name+".onnx")); err != nil {
			return err
		}
		js, err := json.MarshalIndent(res.Model, "", " ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "models", m.name+".json"), append(js, '\n'), 0o644); err != nil {
			return err
		}
	}
	// A model with one dense input [N,3] over x1, x2, x3.
	dense, err := onnx.LinearRegression(onnx.Features{Dense: &onnx.Dense{Name: "input", Width: 3}},
		onnx.Layer{In: 3, Out: 1, Weights: []float32{1, 10, 100}, Bias: []float32{0.5}})
	if err != nil {
		return err
	}
	return dense.WriteFile(filepath.Join(dir, "models", "dense.onnx"))
}

// export converts a built-in model to ONNX, as the engine does.
func export(m training.Predictor) (*onnx.Model, error) {
	switch m := m.(type) {
	case *training.Linear:
		if m.Classes == nil {
			return onnx.LinearRegression(features(m.Encoding), layer(m.Layer))
		}
		return onnx.LogisticRegression(features(m.Encoding), layer(m.Layer), m.Classes)
	case *training.MLP:
		layers := make([]onnx.Layer, len(m.Layers))
		for i, l := range m.Layers {
			layers[i] = layer(l)
		}
		if m.Classes == nil {
			return onnx.MLPRegressor(features(m.Encoding), layers)
		}
		return onnx.MLPClassifier(features(m.Encoding), layers, m.Classes)
	case *training.Forest:
		trees := make([]onnx.Tree, len(m.Trees))
		for i, t := range m.Trees {
			for _, n := range t.Nodes {
				trees[i].Nodes = append(trees[i].Nodes, onnx.TreeNode{
					Feature: n.Feature, Threshold: n.Threshold, True: n.True, False: n.False,
					Leaf: n.Leaf, Value: float32s(n.Value)})
			}
		}
		if m.Classes == nil {
			return onnx.ForestRegressor(features(m.Encoding), trees)
		}
		return onnx.ForestClassifier(features(m.Encoding), trees, m.Classes)
	}
	return nil, fmt.Errorf("no export for %T", m)
}

func features(e training.Encoding) onnx.Features {
	var f onnx.Features
	for _, c := range e.Columns {
		if c.Categorical {
			f.Columns = append(f.Columns, onnx.Column{Name: c.Name, Kind: onnx.Categorical, Categories: c.Categories})
		} else {
			f.Columns = append(f.Columns, onnx.Column{Name: c.Name, Kind: onnx.Numeric, Mean: float32(c.Mean), Std: float32(c.Std)})
		}
	}
	return f
}

func layer(l training.Layer) onnx.Layer {
	return onnx.Layer{In: l.In, Out: l.Out, Weights: float32s(l.Weights), Bias: float32s(l.Bias)}
}

func float32s(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// fixtureTrain reads a scikit-learn fixture's training rows.
func fixtureTrain(name string) (*training.Frame, error) {
	data, err := os.ReadFile(filepath.Join(dir, "sklearn", name+".json"))
	if err != nil {
		return nil, err
	}
	var fx struct {
		Train struct {
			Numeric map[string][]float64 `json:"numeric"`
			Strings map[string][]string  `json:"strings"`
			Label   []float64            `json:"label"`
		} `json:"train"`
	}
	if err := json.Unmarshal(data, &fx); err != nil {
		return nil, err
	}
	t := fx.Train
	return &training.Frame{Label: "y", Columns: []training.Column{
		{Name: "x1", Floats: t.Numeric["x1"]}, {Name: "x2", Floats: t.Numeric["x2"]},
		{Name: "x3", Floats: t.Numeric["x3"]}, {Name: "cat", Strings: t.Strings["cat"]},
		{Name: "y", Floats: t.Label},
	}}, nil
}
