package onnx

import (
	"math/rand/v2"
	"testing"
)

// denseFeatures is a standardised dense input of width d.
func denseFeatures(rng *rand.Rand, d int) Features {
	dense := &Dense{Name: "x", Width: d, Mean: make([]float32, d), Std: make([]float32, d)}
	for j := range d {
		dense.Mean[j] = float32(rng.NormFloat64() * 10)
		dense.Std[j] = float32(0.5 + rng.Float64()*5)
	}
	dense.Std[d-1] = 0 // a constant feature in training: divided by 1
	return Features{Dense: dense}
}

func TestLogisticRegressionBinaryMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	f := denseFeatures(rng, 5)
	l := randomLayer(rng, 5, 1)
	m, err := LogisticRegression(f, l, nil)
	if err != nil {
		t.Fatal(err)
	}
	compareClassifier(t, m, f, []int64{0, 1}, func(x []float64) []float64 {
		return refProbabilities(refLayer(l, x))
	})
}

func TestLogisticRegressionMultinomialReportsClassLabels(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	f := denseFeatures(rng, 4)
	l := randomLayer(rng, 4, 3)
	classes := []int64{10, -3, 7}
	m, err := LogisticRegression(f, l, classes)
	if err != nil {
		t.Fatal(err)
	}
	compareClassifier(t, m, f, classes, func(x []float64) []float64 {
		return refProbabilities(refLayer(l, x))
	})
}

func TestLinearRegressionMatchesGo(t *testing.T) {
	for _, k := range []int{1, 2} {
		rng := rand.New(rand.NewPCG(2, uint64(k)))
		f := denseFeatures(rng, 6)
		l := randomLayer(rng, 6, k)
		m, err := LinearRegression(f, l)
		if err != nil {
			t.Fatal(err)
		}
		compareRegressor(t, m, f, k, func(x []float64) []float64 { return refLayer(l, x) })
	}
}

func TestLinearRegressionWithoutStandardisationTakesRawInput(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 9))
	f := Features{Dense: &Dense{Name: "raw", Width: 3}}
	l := randomLayer(rng, 3, 1)
	m, err := LinearRegression(f, l)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range m.Graph.Nodes {
		if n.OpType == "Sub" || n.OpType == "Div" {
			t.Errorf("raw input is standardised by a %s node", n.OpType)
		}
	}
	compareRegressor(t, m, f, 1, func(x []float64) []float64 { return refLayer(l, x) })
}
