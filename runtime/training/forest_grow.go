package training

import (
	"math/rand/v2"
)

// forestData is what every tree of a forest is grown from.
type forestData struct {
	x     *binned
	k     int       // classes; 0 for a regressor
	class []int     // class index per row (classifier)
	y     []float64 // target per row (regressor)
	// classWeight multiplies a row's weight by its class's (classifier).
	classWeight []float64
	cfg         forestConfig
	mtry        int
}

// grower grows one tree. rows, w, class and y are the tree's sample,
// permuted together so that each node's rows are a contiguous range.
type grower struct {
	data       *forestData
	rng        *rand.Rand
	rows       []int32
	w          []float64
	class      []int32
	y          []float64
	nodes      []TreeNode
	importance []float64
	// scratch
	hist    []float64 // per bin: class weights, or weight, Σwy
	count   []int32   // per bin: rows
	feature []int
}

// nodeStats are a node's weighted totals.
type nodeStats struct {
	rows   int
	weight float64
	sums   []float64 // class weights, or Σwy and Σwy²
}

// impurity is the node's Gini impurity or the variance of its targets.
func (g *grower) impurity(s nodeStats) float64 {
	if s.weight == 0 {
		return 0
	}
	if g.data.k > 0 {
		var sq float64
		for _, c := range s.sums {
			sq += c * c
		}
		return 1 - sq/(s.weight*s.weight)
	}
	mean := s.sums[0] / s.weight
	return s.sums[1]/s.weight - mean*mean
}

func (g *grower) stats(lo, hi int) nodeStats {
	s := nodeStats{rows: hi - lo}
	if g.data.k > 0 {
		s.sums = make([]float64, g.data.k)
		for i := lo; i < hi; i++ {
			s.sums[g.class[i]] += g.w[i]
			s.weight += g.w[i]
		}
		return s
	}
	s.sums = make([]float64, 2)
	for i := lo; i < hi; i++ {
		wy := g.w[i] * g.y[i]
		s.weight += g.w[i]
		s.sums[0] += wy
		s.sums[1] += wy * g.y[i]
	}
	return s
}

// grow adds the subtree of rows [lo, hi) at depth and returns its root.
func (g *grower) grow(lo, hi, depth int) int {
	s := g.stats(lo, hi)
	id := len(g.nodes)
	g.nodes = append(g.nodes, TreeNode{})
	cfg := g.data.cfg
	imp := g.impurity(s)
	var sp split
	if !(cfg.maxDepth > 0 && depth >= cfg.maxDepth) && s.rows >= cfg.minSamplesSplit &&
		s.rows >= 2*cfg.minSamplesLeaf && imp > 1e-12 {
		sp = g.bestSplit(lo, hi, s)
	}
	if !sp.ok {
		g.nodes[id] = g.leaf(s)
		return id
	}
	mid := g.partition(lo, hi, sp)
	left, right := g.stats(lo, mid), g.stats(mid, hi)
	g.importance[sp.feature] += s.weight*imp - left.weight*g.impurity(left) - right.weight*g.impurity(right)
	t := g.grow(lo, mid, depth+1)
	f := g.grow(mid, hi, depth+1)
	g.nodes[id] = TreeNode{Feature: sp.feature, Threshold: g.data.x.edges[sp.feature][sp.bin], True: t, False: f}
	return id
}

func (g *grower) leaf(s nodeStats) TreeNode {
	if g.data.k > 0 {
		v := make([]float64, g.data.k)
		for c, w := range s.sums {
			v[c] = w / s.weight
		}
		return TreeNode{Leaf: true, Value: v}
	}
	return TreeNode{Leaf: true, Value: []float64{s.sums[0] / s.weight}}
}

// split is a candidate split: rows whose bin of feature is <= bin go left.
type split struct {
	ok      bool
	feature int
	bin     int
	score   float64
}

// bestSplit draws features at random until mtry of them vary within the
// node (or none are left), as scikit-learn does, and returns the split of
// the highest impurity decrease among them that leaves min_samples_leaf
// rows on each side.
func (g *grower) bestSplit(lo, hi int, s nodeStats) split {
	var best split
	d := g.data.x.d
	for j := range g.feature {
		g.feature[j] = j
	}
	tried := 0
	for left := d; left > 0 && tried < g.data.mtry; left-- {
		// A partial Fisher-Yates shuffle draws without replacement.
		pick := g.rng.IntN(left)
		f := g.feature[pick]
		g.feature[pick], g.feature[left-1] = g.feature[left-1], f
		sp, varies := g.scan(lo, hi, s, f)
		if !varies {
			continue
		}
		tried++
		if sp.ok && (!best.ok || sp.score > best.score) {
			best = sp
		}
	}
	return best
}

// scan builds feature f's histogram over the node's rows and finds its
// best threshold. varies is false when every row is in one bin.
func (g *grower) scan(lo, hi int, s nodeStats, f int) (best split, varies bool) {
	width := g.data.k
	if width == 0 {
		width = 2
	}
	nb := len(g.data.x.edges[f]) + 1
	hist, count := g.hist[:nb*width], g.count[:nb]
	clear(hist)
	clear(count)
	bins := g.data.x.bins[f]
	for i := lo; i < hi; i++ {
		b := int(bins[g.rows[i]])
		count[b]++
		if g.data.k > 0 {
			hist[b*width+int(g.class[i])] += g.w[i]
		} else {
			hist[b*width] += g.w[i]
			hist[b*width+1] += g.w[i] * g.y[i]
		}
	}
	first, last := -1, -1
	for b := range nb {
		if count[b] > 0 {
			if first < 0 {
				first = b
			}
			last = b
		}
	}
	if first == last {
		return split{}, false
	}
	minLeaf := int32(g.data.cfg.minSamplesLeaf)
	left := make([]float64, width)
	var leftRows int32
	for b := first; b < last; b++ {
		leftRows += count[b]
		for c := range width {
			left[c] += hist[b*width+c]
		}
		if count[b] == 0 || leftRows < minLeaf || int32(s.rows)-leftRows < minLeaf {
			continue
		}
		score, ok := g.proxy(left, s)
		if ok && (!best.ok || score > best.score) {
			best = split{ok: true, feature: f, bin: b, score: score}
		}
	}
	return best, true
}

// proxy is a split's impurity decrease up to terms that are the same for
// every split of the node: Σ left²/W_left + Σ right²/W_right over the
// class weights (Gini) or the weighted target sums (squared error).
func (g *grower) proxy(left []float64, s nodeStats) (float64, bool) {
	var wl float64
	if g.data.k > 0 {
		for _, v := range left {
			wl += v
		}
	} else {
		wl = left[0]
	}
	wr := s.weight - wl
	if wl <= 0 || wr <= 0 {
		return 0, false
	}
	if g.data.k == 0 {
		sl, sr := left[1], s.sums[0]-left[1]
		return sl*sl/wl + sr*sr/wr, true
	}
	var l2, r2 float64
	for c, v := range left {
		r := s.sums[c] - v
		l2 += v * v
		r2 += r * r
	}
	return l2/wl + r2/wr, true
}

// partition moves the rows going left to the front of [lo, hi) and
// returns where the right ones start.
func (g *grower) partition(lo, hi int, sp split) int {
	bins := g.data.x.bins[sp.feature]
	limit := uint8(sp.bin)
	i, j := lo, hi-1
	for i <= j {
		if bins[g.rows[i]] <= limit {
			i++
			continue
		}
		g.rows[i], g.rows[j] = g.rows[j], g.rows[i]
		g.w[i], g.w[j] = g.w[j], g.w[i]
		if g.class != nil {
			g.class[i], g.class[j] = g.class[j], g.class[i]
		} else {
			g.y[i], g.y[j] = g.y[j], g.y[i]
		}
		j--
	}
	return i
}
