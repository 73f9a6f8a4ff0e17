package main

import (
	"fmt"

	"sluice/runtime/onnx"
)

// repeatedMLP is RandomMLP(seed, sizes...) whose last hidden layer is
// applied repeat times with the same weights: a model whose cost per row
// grows with repeat while its file does not, so that a test can give an
// endpoint a small capacity without a model file of hundreds of MiB. The
// layers' ±1/√fan-in weights make the repeated layer contract (the
// spectral radius of such a matrix is about 1/√3), so the activations
// settle near the size of its bias: no overflow, however many repeats.
func repeatedMLP(seed uint64, sizes []int, repeat int) (*onnx.Model, error) {
	if len(sizes) < 3 {
		return nil, fmt.Errorf("-repeat needs a hidden layer: -mlp has %d sizes, want at least 3", len(sizes))
	}
	if repeat < 1 {
		return nil, fmt.Errorf("-repeat %d, want at least 1", repeat)
	}
	layers, err := onnx.RandomLayers(seed, sizes...)
	if err != nil {
		return nil, err
	}
	g := onnx.Graph{
		Name:    "repeated_mlp",
		Inputs:  []onnx.ValueInfo{onnx.TensorInfo("input", onnx.Float, onnx.Batch, onnx.Fixed(sizes[0]))},
		Outputs: []onnx.ValueInfo{onnx.TensorInfo(onnx.OutputVariable, onnx.Float, onnx.Batch, onnx.Fixed(sizes[len(sizes)-1]))},
	}
	x := "input"
	gemm := func(l int, out string) {
		w, b := fmt.Sprintf("w%d", l), fmt.Sprintf("b%d", l)
		g.Nodes = append(g.Nodes, onnx.Node{Name: out, OpType: "Gemm", Inputs: []string{x, w, b}, Outputs: []string{out}})
		x = out
	}
	relu := func(out string) {
		g.Nodes = append(g.Nodes, onnx.Node{Name: out, OpType: "Relu", Inputs: []string{x}, Outputs: []string{out}})
		x = out
	}
	last := len(layers) - 1
	for l, layer := range layers {
		g.Initializers = append(g.Initializers,
			onnx.FloatTensor(fmt.Sprintf("w%d", l), layer.Weights, int64(layer.In), int64(layer.Out)),
			onnx.FloatTensor(fmt.Sprintf("b%d", l), layer.Bias, int64(layer.Out)))
		switch {
		case l == last:
			gemm(l, onnx.OutputVariable)
		case l == last-1:
			for r := range repeat {
				gemm(l, fmt.Sprintf("gemm%d_%d", l, r))
				relu(fmt.Sprintf("relu%d_%d", l, r))
			}
		default:
			gemm(l, fmt.Sprintf("gemm%d", l))
			relu(fmt.Sprintf("relu%d", l))
		}
	}
	return &onnx.Model{ProducerName: "sluice gen-testmodels", DocString: fmt.Sprintf("random MLP %v, last hidden layer applied %d times", sizes, repeat), Graph: g}, nil
}
