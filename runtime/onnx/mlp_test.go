package onnx

import (
	"math/rand/v2"
	"testing"
)

func TestMLPClassifierMatchesGo(t *testing.T) {
	for _, tc := range []struct {
		name    string
		sizes   []int
		classes []int64
	}{
		{"binary", []int{5, 8, 1}, []int64{0, 1}},
		{"three classes", []int{5, 16, 8, 3}, []int64{0, 1, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(4, uint64(len(tc.sizes))))
			f := denseFeatures(rng, tc.sizes[0])
			var layers []Layer
			for i := 1; i < len(tc.sizes); i++ {
				layers = append(layers, randomLayer(rng, tc.sizes[i-1], tc.sizes[i]))
			}
			m, err := MLPClassifier(f, layers, nil)
			if err != nil {
				t.Fatal(err)
			}
			compareClassifier(t, m, f, tc.classes, func(x []float64) []float64 {
				return refProbabilities(refMLP(layers, x))
			})
		})
	}
}

func TestMLPRegressorMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 9))
	f := denseFeatures(rng, 6)
	layers := []Layer{randomLayer(rng, 6, 12), randomLayer(rng, 12, 12), randomLayer(rng, 12, 2)}
	m, err := MLPRegressor(f, layers)
	if err != nil {
		t.Fatal(err)
	}
	compareRegressor(t, m, f, 2, func(x []float64) []float64 { return refMLP(layers, x) })
}
