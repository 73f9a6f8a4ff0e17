package onnx

import (
	"math/rand/v2"
	"testing"
)

// mixedColumns are raw columns as a feature view gives them: standardised
// numbers, a raw number and two string columns, one with an empty category.
var mixedColumns = Features{Columns: []Column{
	{Name: "age", Kind: Numeric, Mean: 41.5, Std: 12.25},
	{Name: "country", Kind: Categorical, Categories: []string{"DE", "FR", "US"}},
	{Name: "clicks", Kind: Numeric},
	{Name: "device", Kind: Categorical, Categories: []string{"android", "ios", "web", ""}},
	{Name: "spend", Kind: Numeric, Mean: -3, Std: 0.5},
}}

func TestColumnsWidthCountsOneHotPositions(t *testing.T) {
	if got := mixedColumns.Width(); got != 1+3+1+4+1 {
		t.Errorf("width %d, want 10", got)
	}
}

func TestColumnsOneHotAndStandardiseFeedLogisticRegression(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 1))
	l := randomLayer(rng, mixedColumns.Width(), 1)
	m, err := LogisticRegression(mixedColumns, l, nil)
	if err != nil {
		t.Fatal(err)
	}
	compareClassifier(t, m, mixedColumns, []int64{0, 1}, func(x []float64) []float64 {
		return refProbabilities(refLayer(l, x))
	})
}

func TestColumnsOneHotAndStandardiseFeedMLPRegressor(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 2))
	layers := []Layer{randomLayer(rng, mixedColumns.Width(), 8), randomLayer(rng, 8, 1)}
	m, err := MLPRegressor(mixedColumns, layers)
	if err != nil {
		t.Fatal(err)
	}
	compareRegressor(t, m, mixedColumns, 1, func(x []float64) []float64 { return refMLP(layers, x) })
}

func TestColumnsFeedForestOnOneHotFeatures(t *testing.T) {
	// Feature 3 is country == "US", feature 1 is country == "DE", feature
	// 0 is age standardised.
	trees := []Tree{
		{Nodes: []TreeNode{branch(3, 0.5, 1, 2), branch(0, 0, 3, 4), leaf(0.1, 0.9), leaf(0.6, 0.4), leaf(0.2, 0.8)}},
		{Nodes: []TreeNode{branch(1, 0.5, 1, 2), leaf(0.5, 0.5), leaf(1, 0)}},
	}
	m, err := ForestClassifier(mixedColumns, trees, nil)
	if err != nil {
		t.Fatal(err)
	}
	compareClassifier(t, m, mixedColumns, []int64{0, 1}, func(x []float64) []float64 {
		return refForest(trees, x)
	})
}

func TestUnknownCategoryEncodesAsAllZeros(t *testing.T) {
	f := Features{Columns: []Column{{Name: "colour", Kind: Categorical, Categories: []string{"red", "green"}}}}
	// Weights 1 and 2 make the output the encoded vector's dot (1, 2).
	m, err := LinearRegression(f, Layer{In: 2, Out: 1, Weights: []float32{1, 2}, Bias: []float32{0.5}})
	if err != nil {
		t.Fatal(err)
	}
	out := load(t, m).run(t, map[string]feed{"colour": {shape: []int64{4, 1}, strings: []string{"red", "green", "blue", ""}}})
	checkClose(t, "variable", out[OutputVariable].floats, []float64{1.5, 2.5, 0.5, 0.5})
}

func TestColumnNamedLikeAnEncodingStepStillServes(t *testing.T) {
	f := Features{Columns: []Column{
		{Name: "country", Kind: Categorical, Categories: []string{"DE", "US"}},
		{Name: "country_onehot", Mean: 1, Std: 2},
		{Name: "features"},
	}}
	m, err := LinearRegression(f, Layer{In: 4, Out: 1, Weights: []float32{1, 2, 3, 4}, Bias: []float32{0}})
	if err != nil {
		t.Fatal(err)
	}
	out := load(t, m).run(t, map[string]feed{
		"country":        {shape: []int64{1, 1}, strings: []string{"US"}},
		"country_onehot": {shape: []int64{1, 1}, floats: []float32{5}},
		"features":       {shape: []int64{1, 1}, floats: []float32{-1}},
	})
	checkClose(t, "variable", out[OutputVariable].floats, []float64{2 + 3*2 + 4*-1})
}
