package onnx

import (
	"errors"
	"fmt"
	"math"
)

// Tree is one decision tree. Nodes[0] is the root, and a branch's children
// come after it, as in scikit-learn's depth-first layout.
type Tree struct {
	Nodes []TreeNode
}

// TreeNode is a branch or a leaf of a Tree.
type TreeNode struct {
	// A branch sends x to node True when x[Feature] <= Threshold and to
	// node False otherwise, NaN included.
	Feature     int
	Threshold   float32
	True, False int
	// Leaf marks a leaf, whose Value is its prediction: the class
	// probabilities of a classifier or the target values of a regressor.
	Leaf  bool
	Value []float32
}

// ForestClassifier returns a random forest classifier with outputs
// OutputLabel and OutputProbabilities, where the probabilities are the
// average over trees of each tree's leaf class probabilities. classes are
// the labels OutputLabel reports, nil for 0..C-1 with C the length of the
// leaves' Value.
func ForestClassifier(f Features, trees []Tree, classes []int64) (*Model, error) {
	c := len(classes)
	if classes == nil {
		c = leafWidth(trees)
	}
	err := errors.Join(f.check(), checkTrees(trees, f.Width(), c))
	if err == nil && c < 2 {
		err = fmt.Errorf("%d classes, want at least 2", c)
	}
	if err == nil {
		classes, err = checkClasses(classes, c)
	}
	if err != nil {
		return nil, within("forest classifier", err)
	}
	b := newBuilder("forest_classifier", OutputLabel, OutputProbabilities)
	x, err := f.build(b)
	if err != nil {
		return nil, within("forest classifier", err)
	}
	// TreeEnsembleClassifier sums the votes, so each leaf votes its class
	// probabilities divided by the number of trees. Every leaf votes for
	// every class, zeros included: given votes for class 1 only, ONNX
	// Runtime 1.30 reports 0 as the probability of class 0. With two
	// classes its own label output is class 1 whenever class 1 scores
	// above 0, even at 0.2, so it is left unused and predict takes the
	// argmax of the probabilities instead.
	a := flatten(trees, float32(len(trees)))
	attrs := append(a.nodes(),
		IntsAttr("class_treeids", a.leafTree), IntsAttr("class_nodeids", a.leafNode),
		IntsAttr("class_ids", a.leafTarget), FloatsAttr("class_weights", a.leafWeight),
		IntsAttr("classlabels_int64s", classes), StringAttr("post_transform", "NONE"))
	b.node("TreeEnsembleClassifier", MLDomain, []string{x},
		[]string{b.fresh("ensemble_label"), OutputProbabilities}, attrs...)
	predict(b, classes)
	return b.model("random forest classifier"), nil
}

// ForestRegressor returns a random forest regressor predicting
// OutputVariable, FLOAT [N,K], the average over trees of each tree's leaf
// Value (of length K).
func ForestRegressor(f Features, trees []Tree) (*Model, error) {
	k := leafWidth(trees)
	if err := errors.Join(f.check(), checkTrees(trees, f.Width(), k)); err != nil {
		return nil, within("forest regressor", err)
	}
	b := newBuilder("forest_regressor", OutputVariable)
	x, err := f.build(b)
	if err != nil {
		return nil, within("forest regressor", err)
	}
	a := flatten(trees, 1)
	attrs := append(a.nodes(),
		IntsAttr("target_treeids", a.leafTree), IntsAttr("target_nodeids", a.leafNode),
		IntsAttr("target_ids", a.leafTarget), FloatsAttr("target_weights", a.leafWeight),
		IntAttr("n_targets", int64(k)), StringAttr("aggregate_function", "AVERAGE"),
		StringAttr("post_transform", "NONE"))
	b.node("TreeEnsembleRegressor", MLDomain, []string{x}, []string{OutputVariable}, attrs...)
	b.output(TensorInfo(OutputVariable, Float, Batch, Fixed(k)))
	return b.model("random forest regressor"), nil
}

// leafWidth is the length of the first leaf's Value, 0 without leaves.
func leafWidth(trees []Tree) int {
	for _, t := range trees {
		for _, n := range t.Nodes {
			if n.Leaf {
				return len(n.Value)
			}
		}
	}
	return 0
}

// checkTrees reports trees that are not trees over width features with
// leaves of k values.
func checkTrees(trees []Tree, width, k int) error {
	if len(trees) == 0 {
		return errors.New("no trees")
	}
	if k == 0 {
		return errors.New("leaves have no values")
	}
	var errs []error
	for ti, t := range trees {
		if len(t.Nodes) == 0 {
			errs = append(errs, fmt.Errorf("tree %d: no nodes", ti))
			continue
		}
		parents := make([]int, len(t.Nodes))
		broken := false
		for i, n := range t.Nodes {
			if err := n.check(i, len(t.Nodes), width, k); err != nil {
				errs = append(errs, fmt.Errorf("tree %d: node %d: %w", ti, i, err))
				broken = true
				continue
			}
			if !n.Leaf {
				parents[n.True]++
				parents[n.False]++
			}
		}
		// A broken branch leaves its children orphaned; say it once.
		for i := 1; i < len(parents) && !broken; i++ {
			if parents[i] != 1 {
				errs = append(errs, fmt.Errorf("tree %d: node %d has %d parents, want 1", ti, i, parents[i]))
			}
		}
	}
	return errors.Join(errs...)
}

func (n TreeNode) check(i, count, width, k int) error {
	if n.Leaf {
		if len(n.Value) != k {
			return fmt.Errorf("leaf has %d values, want %d", len(n.Value), k)
		}
		for j, v := range n.Value {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("leaf value %d is %v", j, v)
			}
		}
		return nil
	}
	switch {
	case n.Feature < 0 || n.Feature >= width:
		return fmt.Errorf("feature %d is outside the %d features", n.Feature, width)
	case math.IsNaN(float64(n.Threshold)):
		return errors.New("threshold is NaN")
	case n.True <= i || n.True >= count || n.False <= i || n.False >= count:
		return fmt.Errorf("children %d and %d must come after the node and before %d", n.True, n.False, count)
	case n.True == n.False:
		return fmt.Errorf("both children are node %d", n.True)
	}
	return nil
}

// ensemble holds the tree-ensemble operators' attributes: one entry per
// node in the nodes_ lists, one per leaf and value in the leaf lists.
type ensemble struct {
	treeIDs, nodeIDs, featureIDs, trueIDs, falseIDs []int64
	modes                                           []string
	values                                          []float32
	leafTree, leafNode, leafTarget                  []int64
	leafWeight                                      []float32
}

// flatten lists the trees' nodes, dividing every leaf value by divisor.
func flatten(trees []Tree, divisor float32) ensemble {
	var a ensemble
	for ti, t := range trees {
		for i, n := range t.Nodes {
			a.treeIDs = append(a.treeIDs, int64(ti))
			a.nodeIDs = append(a.nodeIDs, int64(i))
			if n.Leaf {
				a.featureIDs = append(a.featureIDs, 0)
				a.modes = append(a.modes, "LEAF")
				a.values = append(a.values, 0)
				a.trueIDs, a.falseIDs = append(a.trueIDs, 0), append(a.falseIDs, 0)
				for j, v := range n.Value {
					a.leafTree = append(a.leafTree, int64(ti))
					a.leafNode = append(a.leafNode, int64(i))
					a.leafTarget = append(a.leafTarget, int64(j))
					a.leafWeight = append(a.leafWeight, v/divisor)
				}
				continue
			}
			a.featureIDs = append(a.featureIDs, int64(n.Feature))
			a.modes = append(a.modes, "BRANCH_LEQ")
			a.values = append(a.values, n.Threshold)
			a.trueIDs, a.falseIDs = append(a.trueIDs, int64(n.True)), append(a.falseIDs, int64(n.False))
		}
	}
	return a
}

// nodes returns the nodes_ attributes both tree-ensemble operators take.
func (a ensemble) nodes() []Attribute {
	return []Attribute{
		IntsAttr("nodes_treeids", a.treeIDs), IntsAttr("nodes_nodeids", a.nodeIDs),
		IntsAttr("nodes_featureids", a.featureIDs), StringsAttr("nodes_modes", a.modes),
		FloatsAttr("nodes_values", a.values),
		IntsAttr("nodes_truenodeids", a.trueIDs), IntsAttr("nodes_falsenodeids", a.falseIDs),
	}
}
