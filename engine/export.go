package engine

import (
	"fmt"

	"sluice/runtime/onnx"
	"sluice/runtime/training"
)

// exportModel converts a built-in trainer's model to ONNX. The runtime
// packages may not import each other (DESIGN.md), so the engine carries
// the weights, trees and encoding from training's values to onnx's.
func exportModel(m training.Predictor) (*onnx.Model, error) {
	switch m := m.(type) {
	case *training.Linear:
		if m.Classes == nil {
			return onnx.LinearRegression(onnxFeatures(m.Encoding), onnxLayer(m.Layer))
		}
		return onnx.LogisticRegression(onnxFeatures(m.Encoding), onnxLayer(m.Layer), m.Classes)
	case *training.MLP:
		layers := make([]onnx.Layer, len(m.Layers))
		for i, l := range m.Layers {
			layers[i] = onnxLayer(l)
		}
		if m.Classes == nil {
			return onnx.MLPRegressor(onnxFeatures(m.Encoding), layers)
		}
		return onnx.MLPClassifier(onnxFeatures(m.Encoding), layers, m.Classes)
	case *training.Forest:
		trees := make([]onnx.Tree, len(m.Trees))
		for i, t := range m.Trees {
			nodes := make([]onnx.TreeNode, len(t.Nodes))
			for j, n := range t.Nodes {
				nodes[j] = onnx.TreeNode{Feature: n.Feature, Threshold: n.Threshold,
					True: n.True, False: n.False, Leaf: n.Leaf, Value: float32s(n.Value)}
			}
			trees[i].Nodes = nodes
		}
		if m.Classes == nil {
			return onnx.ForestRegressor(onnxFeatures(m.Encoding), trees)
		}
		return onnx.ForestClassifier(onnxFeatures(m.Encoding), trees, m.Classes)
	}
	return nil, fmt.Errorf("export model: no ONNX export for %T", m)
}

// exportBytes is exportModel serialized, the bytes written as model.onnx.
func exportBytes(m training.Predictor) ([]byte, error) {
	om, err := exportModel(m)
	if err != nil {
		return nil, err
	}
	b, err := om.Marshal()
	if err != nil {
		return nil, fmt.Errorf("export model: %w", err)
	}
	return b, nil
}

// onnxFeatures is the graph's input encoding: numeric columns standardised,
// string columns one-hot, so the served model takes the raw features.
func onnxFeatures(e training.Encoding) onnx.Features {
	var f onnx.Features
	for _, c := range e.Columns {
		if c.Categorical {
			f.Columns = append(f.Columns, onnx.Column{Name: c.Name, Kind: onnx.Categorical, Categories: c.Categories})
		} else {
			f.Columns = append(f.Columns, onnx.Column{Name: c.Name, Kind: onnx.Numeric,
				Mean: float32(c.Mean), Std: float32(c.Std)})
		}
	}
	return f
}

func onnxLayer(l training.Layer) onnx.Layer {
	return onnx.Layer{In: l.In, Out: l.Out, Weights: float32s(l.Weights), Bias: float32s(l.Bias)}
}

func float32s(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}
