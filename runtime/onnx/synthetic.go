package onnx

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// RandomLayers returns fully connected layers of the given sizes, sizes[0]
// inputs to sizes[len-1] outputs, with weights and biases drawn uniformly
// from ±1/√fan-in by a generator seeded with seed: the same arguments give
// the same layers on every machine. The scale keeps a ReLU network's
// outputs near the size of its inputs, however deep.
func RandomLayers(seed uint64, sizes ...int) ([]Layer, error) {
	if len(sizes) < 2 {
		return nil, fmt.Errorf("random layers: %d sizes, want at least 2 (inputs and outputs)", len(sizes))
	}
	for i, n := range sizes {
		if n <= 0 {
			return nil, fmt.Errorf("random layers: size %d is %d, want at least 1", i, n)
		}
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed_51a1ce))
	layers := make([]Layer, len(sizes)-1)
	for i := range layers {
		in, out := sizes[i], sizes[i+1]
		bound := float32(1 / math.Sqrt(float64(in)))
		draw := func(n int) []float32 {
			v := make([]float32, n)
			for j := range v {
				v[j] = (2*rng.Float32() - 1) * bound
			}
			return v
		}
		layers[i] = Layer{In: in, Out: out, Weights: draw(in * out), Bias: draw(out)}
	}
	return layers, nil
}

// RandomMLP returns an MLP regressor over RandomLayers(seed, sizes...),
// with one dense input "input", FLOAT [N, sizes[0]], and OutputVariable,
// FLOAT [N, sizes[len-1]]: a stand-in model for serving tests and
// benchmarks, such as RandomMLP(1, 20, 256, 256, 1).
func RandomMLP(seed uint64, sizes ...int) (*Model, error) {
	layers, err := RandomLayers(seed, sizes...)
	if err != nil {
		return nil, err
	}
	return MLPRegressor(Features{Dense: &Dense{Name: "input", Width: sizes[0]}}, layers)
}
