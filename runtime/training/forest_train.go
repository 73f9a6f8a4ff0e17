package training

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
)

// trainForest grows a random forest as scikit-learn's
// RandomForestClassifier and RandomForestRegressor do (Gini impurity or
// squared error, bootstrap samples, max_features features drawn per
// split, class_weight "balanced" or "balanced_subsample"), its trees in
// parallel on Threads goroutines. Each tree draws from its own generator,
// seeded by the forest's seed and its index, so the forest is the same
// whatever the number of threads. Features are binned first (see maxBins).
func trainForest(ctx context.Context, req *TrainRequest, p *params) (*Result, error) {
	cfg := readForestConfig(req, p)
	if err := p.Err(); err != nil {
		return nil, err
	}
	enc := fitEncoding(req.Train, false)
	x, err := enc.Matrix(req.Train)
	if err != nil {
		return nil, err
	}
	n, d := req.Train.Rows(), enc.Width()
	data := &forestData{x: binFeatures(x, n, d, req.Threads), cfg: cfg, mtry: cfg.maxFeatures(d)}
	x = nil // the bins are all the trees need
	label := req.Train.Column(req.Train.Label)
	var classes []int64
	if req.Task == TaskClassification {
		if classes, err = ClassesOf(label); err != nil {
			return nil, err
		}
		data.k = len(classes)
		data.class = classIndices(label, classes)
		if cfg.classWeight == "balanced" {
			data.classWeight = balancedWeights(data.class, data.k)
		}
	} else {
		data.y = label.Floats
	}
	trees := make([]Tree, cfg.trees)
	importances := make([][]float64, cfg.trees)
	var cancelled atomic.Bool
	forEach(cfg.trees, req.Threads, func(t int) {
		if cancelled.Load() || ctx.Err() != nil {
			cancelled.Store(true)
			return
		}
		trees[t], importances[t] = data.growTree(t)
	})
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("random_forest: %w", err)
	}
	model := &Forest{Encoding: enc, Trees: trees, Classes: classes, Importances: meanImportance(importances, d)}
	leaves := 0
	for _, t := range trees {
		for _, node := range t.Nodes {
			if node.Leaf {
				leaves++
			}
		}
	}
	return &Result{
		Model:   model,
		Params:  p.Effective,
		Metrics: map[string]float64{"mean_leaves": float64(leaves) / float64(len(trees))},
	}, nil
}

// growTree grows tree t and returns it with its normalised importances.
func (data *forestData) growTree(t int) (Tree, []float64) {
	n := data.x.n
	rng := rand.New(rand.NewPCG(data.cfg.seed, uint64(t)))
	counts := make([]int32, n)
	if data.cfg.bootstrap {
		for range n {
			counts[rng.IntN(n)]++
		}
	} else {
		for i := range counts {
			counts[i] = 1
		}
	}
	g := &grower{data: data, rng: rng, importance: make([]float64, data.x.d), feature: make([]int, data.x.d)}
	width := max(data.k, 2)
	g.hist, g.count = make([]float64, maxBins*width), make([]int32, maxBins)
	g.binWeight = make([]float64, maxBins)
	weight := data.classWeight
	if data.cfg.classWeight == "balanced_subsample" {
		weight = subsampleWeights(data.class, counts, data.k)
	}
	for i, c := range counts {
		if c == 0 {
			continue
		}
		w := float64(c)
		if weight != nil {
			w *= weight[data.class[i]]
		}
		g.rows = append(g.rows, int32(i))
		g.w = append(g.w, w)
		if data.k > 0 {
			g.class = append(g.class, int32(data.class[i]))
		} else {
			g.y = append(g.y, data.y[i])
		}
	}
	g.grow(0, len(g.rows), 0, g.stats(0, len(g.rows)))
	var total float64
	for _, v := range g.importance {
		total += v
	}
	if total > 0 {
		for j := range g.importance {
			g.importance[j] /= total
		}
	}
	return Tree{Nodes: g.nodes}, g.importance
}

// subsampleWeights are "balanced" class weights computed on one bootstrap
// sample, counting each row as often as it was drawn.
func subsampleWeights(class []int, counts []int32, k int) []float64 {
	per := make([]float64, k)
	var n float64
	for i, c := range counts {
		per[class[i]] += float64(c)
		n += float64(c)
	}
	w := make([]float64, k)
	for c := range k {
		if per[c] > 0 {
			w[c] = n / (float64(k) * per[c])
		}
	}
	return w
}

// meanImportance averages the trees' importances over the trees that
// split at all and normalises the result to sum to 1.
func meanImportance(trees [][]float64, d int) []float64 {
	mean := make([]float64, d)
	var total float64
	for _, imp := range trees {
		for j, v := range imp {
			mean[j] += v
			total += v
		}
	}
	if total > 0 {
		for j := range mean {
			mean[j] /= total
		}
	}
	return mean
}
