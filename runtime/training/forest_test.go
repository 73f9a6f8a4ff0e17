package training

import (
	"context"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestRandomForestClassifierScoresAsScikitLearnDoes(t *testing.T) {
	fx, res, pred := trainFixture(t, "forest_classifier", RandomForest, TaskClassification,
		map[string]any{"n_estimators": int64(100), "max_depth": int64(6), "class_weight": "balanced"})
	m, err := ClassifierMetrics(int64s(fx.Test.Label), pred)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("auc %.4f sklearn %.4f", m["roc_auc"], fx.ROCAUC)
	if math.Abs(m["roc_auc"]-fx.ROCAUC) > 0.01 {
		t.Errorf("holdout AUC %.4f, scikit-learn's %.4f", m["roc_auc"], fx.ROCAUC)
	}
	compareImportances(t, res.Model.(*Forest), fx.Importances)
}

func TestRandomForestRegressorScoresAsScikitLearnDoes(t *testing.T) {
	fx, res, pred := trainFixture(t, "forest_regressor", RandomForest, TaskRegression,
		map[string]any{"n_estimators": int64(100), "max_depth": int64(8)})
	m, err := RegressorMetrics(fx.Test.Label, pred.Values)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("r2 %.4f sklearn %.4f", m["r2"], fx.R2)
	if math.Abs(m["r2"]-fx.R2) > 0.02 {
		t.Errorf("holdout r2 %.4f, scikit-learn's %.4f", m["r2"], fx.R2)
	}
	compareImportances(t, res.Model.(*Forest), fx.Importances)
}

// compareImportances checks a forest's importances against scikit-learn's,
// whose names read "num__x1" and "cat__cat_DE" for x1 and cat=DE.
func compareImportances(t *testing.T, f *Forest, want map[string]float64) {
	t.Helper()
	sum := 0.0
	for j, name := range f.Encoding.Names() {
		sk := "num__" + name
		if col, cat, ok := strings.Cut(name, "="); ok {
			sk = "cat__" + col + "_" + cat
		}
		w, ok := want[sk]
		if !ok {
			t.Fatalf("scikit-learn has no feature %s", sk)
		}
		if math.Abs(f.Importances[j]-w) > 0.05 {
			t.Errorf("importance of %s %.3f, scikit-learn's %.3f", name, f.Importances[j], w)
		}
		sum += f.Importances[j]
	}
	if math.Abs(sum-1) > 1e-9 {
		t.Errorf("importances sum to %v, want 1", sum)
	}
	table := f.ImportanceTable()
	for i := 1; i < len(table); i++ {
		if table[i].Importance > table[i-1].Importance {
			t.Fatalf("importance table out of order: %v", table)
		}
	}
}

func int64s(v []float64) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}

func TestRandomForestIsTheSameOnOneThreadOrTwo(t *testing.T) {
	var fx modelFixture
	readFixture(t, "forest_classifier", &fx)
	grow := func(threads int) *Forest {
		res, err := Train(context.Background(), TrainRequest{Builtin: RandomForest, Task: TaskClassification, Seed: 9, Threads: threads,
			Train: fx.Train.frame(), Params: map[string]any{"n_estimators": int64(8), "max_depth": int64(5)}})
		if err != nil {
			t.Fatal(err)
		}
		return res.Model.(*Forest)
	}
	one, two := grow(1), grow(2)
	if !reflect.DeepEqual(one, two) {
		t.Error("one and two threads grew different forests")
	}
	res, err := Train(context.Background(), TrainRequest{Builtin: RandomForest, Task: TaskClassification, Seed: 10,
		Train: fx.Train.frame(), Params: map[string]any{"n_estimators": int64(8), "max_depth": int64(5)}})
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(one.Trees, res.Model.(*Forest).Trees) {
		t.Error("seeds 9 and 10 grew the same forest")
	}
}

func TestRandomForestTreesKeepDepthAndChildrenAfterParents(t *testing.T) {
	var fx modelFixture
	readFixture(t, "forest_regressor", &fx)
	res, err := Train(context.Background(), TrainRequest{Builtin: RandomForest, Task: TaskRegression, Seed: 1,
		Train: fx.Train.frame(), Params: map[string]any{"n_estimators": int64(5), "max_depth": int64(4), "min_samples_leaf": int64(20)}})
	if err != nil {
		t.Fatal(err)
	}
	for ti, tree := range res.Model.(*Forest).Trees {
		parents := make([]int, len(tree.Nodes))
		var depth func(i int) int
		depth = func(i int) int {
			n := tree.Nodes[i]
			if n.Leaf {
				return 0
			}
			if n.True <= i || n.False <= i {
				t.Fatalf("tree %d: node %d has children %d and %d before it", ti, i, n.True, n.False)
			}
			parents[n.True]++
			parents[n.False]++
			return 1 + max(depth(n.True), depth(n.False))
		}
		if d := depth(0); d > 4 || d < 2 {
			t.Errorf("tree %d is %d deep, want at most max_depth 4 (and some splits)", ti, d)
		}
		for i := 1; i < len(parents); i++ {
			if parents[i] != 1 {
				t.Errorf("tree %d: node %d has %d parents", ti, i, parents[i])
			}
		}
	}
}

func TestRandomForestRespectsMinSamplesLeaf(t *testing.T) {
	f := numbered(200)
	res, err := Train(context.Background(), TrainRequest{Builtin: RandomForest, Task: TaskClassification, Seed: 1, Train: f,
		Params: map[string]any{"n_estimators": int64(1), "bootstrap": false, "min_samples_leaf": int64(30), "max_features": nil}})
	if err != nil {
		t.Fatal(err)
	}
	// Without a bootstrap every training row reaches one leaf; no leaf
	// may hold fewer than 30.
	tree := res.Model.(*Forest).Trees[0]
	rows := map[*TreeNode]int{}
	row := make([]float32, 4)
	for i := range 200 {
		row[0] = float32(i)
		row[1], row[2], row[3] = 0, 0, 0
		row[1+i%3] = 1 // s = a, b, c one-hot; Encoding puts x first
		rows[tree.leafOf(row)]++
	}
	for leaf, n := range rows {
		if n < 30 {
			t.Errorf("a leaf %v holds %d rows, min_samples_leaf is 30", leaf.Value, n)
		}
	}
	if len(rows) < 3 {
		t.Errorf("%d leaves; the tree should split 200 rows into several", len(rows))
	}
}

func TestRandomForestRefusesBadParamsNamingEach(t *testing.T) {
	_, err := Train(context.Background(), TrainRequest{Builtin: RandomForest, Task: TaskRegression, Train: numbered(20),
		Params: map[string]any{"n_estimators": int64(0), "max_depth": int64(-1), "max_features": "auto", "class_weight": "balanced", "min_samples_split": int64(1)}})
	for _, want := range []string{
		"random_forest: param n_estimators: 0, want an integer >= 1",
		"param max_depth: -1, want an integer >= 1",
		`param max_features: "auto", want "sqrt", "log2", an integer >= 1 or a fraction in (0, 1]`,
		"param min_samples_split: 1, want an integer >= 2",
		"param class_weight: unknown to random_forest",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v\ndoes not say %q", err, want)
		}
	}
}
