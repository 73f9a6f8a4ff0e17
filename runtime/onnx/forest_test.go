package onnx

import (
	"math/rand/v2"
	"testing"
)

// branch and leaf make hand-built trees read like the trees.
func branch(feature int, threshold float32, yes, no int) TreeNode {
	return TreeNode{Feature: feature, Threshold: threshold, True: yes, False: no}
}

func leaf(v ...float32) TreeNode { return TreeNode{Leaf: true, Value: v} }

// threeClassForest has a deep tree, a stump and a lone leaf over 3 features.
var threeClassForest = []Tree{
	{Nodes: []TreeNode{
		branch(0, 0, 1, 2),
		branch(1, 0.5, 3, 4),
		leaf(0.1, 0.2, 0.7),
		leaf(0.8, 0.1, 0.1),
		branch(2, -1, 5, 6),
		leaf(0.3, 0.3, 0.4),
		leaf(0, 1, 0),
	}},
	{Nodes: []TreeNode{branch(2, 0.25, 1, 2), leaf(0.5, 0.5, 0), leaf(0.2, 0.2, 0.6)}},
	{Nodes: []TreeNode{leaf(0.25, 0.25, 0.5)}},
}

// twoClassForest votes for both classes at every leaf, some leaves pure.
var twoClassForest = []Tree{
	{Nodes: []TreeNode{branch(1, -0.5, 1, 2), leaf(1, 0), branch(0, 1.5, 3, 4), leaf(0.4, 0.6), leaf(0, 1)}},
	{Nodes: []TreeNode{branch(2, 0, 1, 2), leaf(0.7, 0.3), leaf(0.1, 0.9)}},
}

func TestForestClassifierAveragesTreeProbabilities(t *testing.T) {
	f := Features{Dense: &Dense{Name: "x", Width: 3}}
	for _, tc := range []struct {
		name    string
		trees   []Tree
		classes []int64
		want    []int64
	}{
		{"three classes", threeClassForest, nil, []int64{0, 1, 2}},
		{"two classes", twoClassForest, nil, []int64{0, 1}},
		{"two classes with labels", twoClassForest, []int64{-1, 1}, []int64{-1, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ForestClassifier(f, tc.trees, tc.classes)
			if err != nil {
				t.Fatal(err)
			}
			compareClassifier(t, m, f, tc.want, func(x []float64) []float64 {
				return refForest(tc.trees, x)
			})
		})
	}
}

func TestForestRegressorAveragesTreeValues(t *testing.T) {
	f := Features{Dense: &Dense{Name: "x", Width: 3}}
	for _, tc := range []struct {
		name  string
		trees []Tree
		k     int
	}{
		{"one target", []Tree{
			{Nodes: []TreeNode{branch(0, 0.3, 1, 2), branch(2, -2, 3, 4), leaf(12.5), leaf(-3), leaf(0.25)}},
			{Nodes: []TreeNode{branch(1, 1, 1, 2), leaf(4), leaf(-8)}},
			{Nodes: []TreeNode{leaf(1.5)}},
		}, 1},
		{"two targets", []Tree{
			{Nodes: []TreeNode{branch(2, 0, 1, 2), leaf(1, -1), leaf(3, 0.5)}},
			{Nodes: []TreeNode{branch(0, -1, 1, 2), leaf(0, 2), branch(1, 0, 3, 4), leaf(-2, 2), leaf(5, 5)}},
		}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ForestRegressor(f, tc.trees)
			if err != nil {
				t.Fatal(err)
			}
			compareRegressor(t, m, f, tc.k, func(x []float64) []float64 { return refForest(tc.trees, x) })
		})
	}
}

func TestForestOverStandardisedFeaturesSplitsOnEncodedValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	f := denseFeatures(rng, 3)
	m, err := ForestClassifier(f, threeClassForest, nil)
	if err != nil {
		t.Fatal(err)
	}
	compareClassifier(t, m, f, []int64{0, 1, 2}, func(x []float64) []float64 {
		return refForest(threeClassForest, x)
	})
}

// ONNX Runtime's own two-class tree label says class 1 for any positive
// class-1 score; the model's label must follow the probabilities.
func TestForestClassifierTwoClassLabelFollowsProbabilities(t *testing.T) {
	f := Features{Dense: &Dense{Name: "x", Width: 1}}
	trees := []Tree{{Nodes: []TreeNode{branch(0, 0, 1, 2), leaf(0.8, 0.2), leaf(0.3, 0.7)}}}
	m, err := ForestClassifier(f, trees, []int64{4, 9})
	if err != nil {
		t.Fatal(err)
	}
	out := load(t, m).run(t, map[string]feed{"x": {shape: []int64{3, 1}, floats: []float32{-1, 1, 0}}})
	checkClose(t, "probabilities", out[OutputProbabilities].floats, []float64{0.8, 0.2, 0.3, 0.7, 0.8, 0.2})
	if got := out[OutputLabel].ints; len(got) != 3 || got[0] != 4 || got[1] != 9 || got[2] != 4 {
		t.Errorf("labels %v, want [4 9 4]", got)
	}
}
