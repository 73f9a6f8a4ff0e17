package training

import (
	"context"
	"math"
	"sort"
)

// Forest is a trained random forest over encoded features (numeric
// columns are not standardised: Encoding's Mean is 0 and Std 1). A
// classifier's prediction is the mean over trees of the leaves' class
// probabilities; a regressor's the mean of the leaves' values.
type Forest struct {
	Encoding Encoding
	Trees    []Tree
	// Classes are a classifier's labels, in the order of the leaves'
	// probabilities; nil for a regressor.
	Classes []int64
	// Importances are the mean decrease in impurity each encoded feature
	// brings (Encoding.Names order), summing to 1, as scikit-learn's
	// feature_importances_.
	Importances []float64
}

// Tree is one decision tree. Nodes[0] is the root and a branch's children
// come after it (depth-first), as runtime/onnx's Tree takes it.
type Tree struct {
	Nodes []TreeNode
}

// TreeNode is a branch or a leaf.
type TreeNode struct {
	// A branch sends a row to node True when its encoded feature Feature,
	// as a float32, is <= Threshold, and to node False otherwise.
	Feature     int
	Threshold   float32
	True, False int
	// Leaf marks a leaf; Value holds its class probabilities or its
	// regression value.
	Leaf  bool
	Value []float64
}

// leafOf returns the leaf x (one encoded row as float32) falls in.
func (t *Tree) leafOf(x []float32) *TreeNode {
	n := &t.Nodes[0]
	for !n.Leaf {
		if x[n.Feature] <= n.Threshold {
			n = &t.Nodes[n.True]
		} else {
			n = &t.Nodes[n.False]
		}
	}
	return n
}

// Predict scores f's rows.
func (m *Forest) Predict(ctx context.Context, f *Frame) (*Predictions, error) {
	x, err := m.Encoding.Matrix(f)
	if err != nil {
		return nil, err
	}
	n, d := f.Rows(), m.Encoding.Width()
	k := len(m.Classes)
	if k == 0 {
		k = 1
	}
	out := make([]float64, n*k)
	forChunks(n, 0, func(_, lo, hi int) {
		row := make([]float32, d)
		for i := lo; i < hi; i++ {
			for j := range d {
				row[j] = float32(x[i*d+j])
			}
			acc := out[i*k : (i+1)*k]
			for t := range m.Trees {
				for c, v := range m.Trees[t].leafOf(row).Value {
					acc[c] += v
				}
			}
			for c := range acc {
				acc[c] /= float64(len(m.Trees))
			}
		}
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if m.Classes == nil {
		return &Predictions{Values: out}, nil
	}
	return classifierOutputs(m.Classes, out), nil
}

// FeatureImportance is one row of a forest's feature-importance table.
type FeatureImportance struct {
	Feature    string  `json:"feature"`
	Importance float64 `json:"importance"`
}

// ImportanceTable lists the encoded features by importance, highest
// first, ties by name: the table a run records as an artifact.
func (m *Forest) ImportanceTable() []FeatureImportance {
	names := m.Encoding.Names()
	table := make([]FeatureImportance, len(names))
	for j, name := range names {
		table[j] = FeatureImportance{Feature: name, Importance: m.Importances[j]}
	}
	sort.SliceStable(table, func(a, b int) bool {
		if table[a].Importance != table[b].Importance {
			return table[a].Importance > table[b].Importance
		}
		return table[a].Feature < table[b].Feature
	})
	return table
}

// forestConfig holds the random_forest trainer's hyperparameters, named
// and defaulted as scikit-learn's RandomForestClassifier and
// RandomForestRegressor name them.
type forestConfig struct {
	trees           int
	maxDepth        int // 0: unlimited
	minSamplesSplit int
	minSamplesLeaf  int
	maxFeatures     func(d int) int
	bootstrap       bool
	classWeight     string
	seed            uint64
}

func readForestConfig(req *TrainRequest, p *params) forestConfig {
	c := forestConfig{
		trees:           p.Int("n_estimators", 100, 1, 100_000),
		maxDepth:        p.OptionalInt("max_depth", 0, 1, 10_000),
		minSamplesSplit: p.Int("min_samples_split", 2, 2, math.MaxInt32),
		minSamplesLeaf:  p.Int("min_samples_leaf", 1, 1, math.MaxInt32),
		bootstrap:       p.Bool("bootstrap", true),
		seed:            seed(req, p),
	}
	if req.Task == TaskClassification {
		p.Enum("criterion", "gini", "gini")
		c.classWeight = p.Enum("class_weight", "none", "none", "balanced", "balanced_subsample")
		c.maxFeatures = maxFeatures(p, "sqrt")
	} else {
		p.Enum("criterion", "squared_error", "squared_error")
		c.maxFeatures = maxFeatures(p, "1.0")
	}
	return c
}

// maxFeatures reads max_features: "sqrt", "log2", a count, a fraction of
// the features, or null for all of them.
func maxFeatures(p *params, def string) func(d int) int {
	v, ok := p.Raw("max_features")
	if !ok {
		if _, given := p.raw["max_features"]; given {
			v = 1.0 // null: all features
		} else if def == "sqrt" {
			v = def
		} else {
			v = 1.0
		}
	}
	p.Effective["max_features"] = show(v)
	if s, isStr := v.(string); isStr {
		p.Effective["max_features"] = s
		switch s {
		case "sqrt":
			return func(d int) int { return max(1, int(math.Sqrt(float64(d)))) }
		case "log2":
			return func(d int) int { return max(1, int(math.Log2(float64(d)))) }
		}
		p.failf("max_features", "%q, want \"sqrt\", \"log2\", an integer >= 1 or a fraction in (0, 1]", s)
		return func(d int) int { return d }
	}
	f, isNum := number(v)
	switch {
	case isNum && f == math.Trunc(f) && (f > 1 || (f == 1 && !isFloat(v))):
		return func(d int) int { return min(d, int(f)) }
	case isNum && f > 0 && f <= 1:
		return func(d int) int { return max(1, int(f*float64(d))) }
	}
	p.failf("max_features", "%s, want \"sqrt\", \"log2\", an integer >= 1 or a fraction in (0, 1]", show(v))
	return func(d int) int { return d }
}

// isFloat reports whether v was written as a float (1.0 is a fraction, 1
// a count).
func isFloat(v any) bool {
	_, ok := v.(float64)
	return ok
}
