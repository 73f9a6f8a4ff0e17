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
	hist      []float64 // per bin: class weights, or Σwy and Σwy²
	binWeight []float64 // per bin: weight
	count     []int32   // per bin: rows
	feature   []int
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

// grow adds the subtree of rows [lo, hi), whose totals are s, at depth
// and returns its root.
func (g *grower) grow(lo, hi, depth int, s nodeStats) int {
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
	left, right := sp.left, s.minus(sp.left)
	g.importance[sp.feature] += s.weight*imp - left.weight*g.impurity(left) - right.weight*g.impurity(right)
	t := g.grow(lo, mid, depth+1, left)
	f := g.grow(mid, hi, depth+1, right)
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

// minus returns the totals of s's rows that are not in part.
func (s nodeStats) minus(part nodeStats) nodeStats {
	r := nodeStats{rows: s.rows - part.rows, weight: s.weight - part.weight, sums: make([]float64, len(s.sums))}
	for c := range s.sums {
		r.sums[c] = s.sums[c] - part.sums[c]
	}
	return r
}

// split is a candidate split: rows whose bin of feature is <= bin go left.
type split struct {
	ok      bool
	feature int
	bin     int
	score   float64
	left    nodeStats
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
// best threshold. varies is false when every row is in one bin. Every
// row in a tree's sample weighs more than 0, so a bin's weight tells
// whether it holds rows; row counts are kept only for min_samples_leaf.
func (g *grower) scan(lo, hi int, s nodeStats, f int) (best split, varies bool) {
	k := g.data.k
	width := max(k, 2)
	nb := len(g.data.x.edges[f]) + 1
	hist, weight := g.hist[:nb*width], g.binWeight[:nb]
	clear(hist)
	clear(weight)
	counting := g.data.cfg.minSamplesLeaf > 1
	count := g.count[:nb]
	if counting {
		clear(count)
	}
	bins := g.data.x.bins[f]
	rows, w := g.rows[lo:hi], g.w[lo:hi]
	switch {
	case k > 0:
		class := g.class[lo:hi]
		for i, r := range rows {
			b := int(bins[r])
			hist[b*width+int(class[i])] += w[i]
			weight[b] += w[i]
		}
	default:
		y := g.y[lo:hi]
		for i, r := range rows {
			b := int(bins[r])
			wy := w[i] * y[i]
			hist[b*width] += wy
			hist[b*width+1] += wy * y[i]
			weight[b] += w[i]
		}
	}
	if counting {
		for _, r := range rows {
			count[bins[r]]++
		}
	}
	first, last := -1, -1
	for b := range nb {
		if weight[b] > 0 {
			if first < 0 {
				first = b
			}
			last = b
		}
	}
	if first == last {
		return split{}, false
	}
	minLeaf := g.data.cfg.minSamplesLeaf
	left := make([]float64, width)
	leftRows, leftWeight := 0, 0.0
	for b := first; b < last; b++ {
		if weight[b] == 0 {
			continue
		}
		leftWeight += weight[b]
		for c := range width {
			left[c] += hist[b*width+c]
		}
		if counting {
			leftRows += int(count[b])
			if leftRows < minLeaf || s.rows-leftRows < minLeaf {
				continue
			}
		}
		score, ok := g.proxy(left, leftWeight, s)
		if ok && (!best.ok || score > best.score) {
			best = split{ok: true, feature: f, bin: b, score: score}
			best.left = nodeStats{rows: leftRows, weight: leftWeight, sums: append([]float64(nil), left...)}
		}
	}
	if best.ok && !counting {
		// Rows are counted once, for the split kept.
		limit := uint8(best.bin)
		n := 0
		for _, r := range rows {
			if bins[r] <= limit {
				n++
			}
		}
		best.left.rows = n
	}
	return best, true
}

// proxy is a split's impurity decrease up to terms that are the same for
// every split of the node: Σ left²/W_left + Σ right²/W_right over the
// class weights (Gini) or of the weighted target sum (squared error).
// left holds the left side's sums as nodeStats.sums does, wl its weight.
func (g *grower) proxy(left []float64, wl float64, s nodeStats) (float64, bool) {
	wr := s.weight - wl
	if wl <= 0 || wr <= 0 {
		return 0, false
	}
	if g.data.k == 0 {
		sl, sr := left[0], s.sums[0]-left[0]
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
