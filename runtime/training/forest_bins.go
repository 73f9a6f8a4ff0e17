package training

import (
	"math"
	"slices"
	"sort"
)

// maxBins is how many distinct values of a feature the forest tells
// apart. A feature with at most this many distinct training values is
// split exactly where scikit-learn would (between neighbouring values);
// one with more is split only at maxBins-1 quantiles of its values, which
// makes training linear in the rows at a small cost in resolution.
const maxBins = 256

// quantileSample caps the values a feature's quantiles are taken from.
const quantileSample = 200_000

// binned is the training matrix as the trees see it: every feature's
// value replaced by the index of its bin, and the thresholds between
// bins. A value x falls in bin b when edges[b-1] < x <= edges[b], so
// "x <= edges[b]" and "bin <= b" send the same rows left.
type binned struct {
	n, d  int
	bins  [][]uint8   // bins[j][i] is row i's bin of feature j
	edges [][]float32 // edges[j] are feature j's thresholds, ascending
}

// binFeatures bins every column of x (row-major n×d, read as float32, the
// precision ONNX Runtime compares in) on up to threads goroutines.
func binFeatures(x []float64, n, d, threads int) *binned {
	b := &binned{n: n, d: d, bins: make([][]uint8, d), edges: make([][]float32, d)}
	forEach(d, threads, func(j int) {
		col := make([]float32, n)
		for i := range n {
			col[i] = float32(x[i*d+j])
		}
		b.edges[j] = edgesOf(col)
		bins := make([]uint8, n)
		edges := b.edges[j]
		for i, v := range col {
			bins[i] = uint8(sort.Search(len(edges), func(k int) bool { return edges[k] >= v }))
		}
		b.bins[j] = bins
	})
	return b
}

// edgesOf returns the thresholds between col's distinct values, or
// between maxBins quantiles of them when there are more.
func edgesOf(col []float32) []float32 {
	sample := col
	if len(col) > quantileSample {
		// An even stride over the rows: deterministic, and as good as a
		// random sample for rows in no particular order.
		sample = make([]float32, quantileSample)
		step := float64(len(col)) / quantileSample
		for i := range sample {
			sample[i] = col[int(float64(i)*step)]
		}
	} else {
		sample = slices.Clone(col)
	}
	slices.Sort(sample)
	distinct := slices.Compact(slices.Clone(sample))
	if len(distinct) <= maxBins {
		edges := make([]float32, 0, len(distinct)-1)
		for k := 1; k < len(distinct); k++ {
			edges = append(edges, midpoint(distinct[k-1], distinct[k]))
		}
		return edges
	}
	// Quantiles of the values, duplicates included; a quantile inside a
	// run of equal values is no boundary between bins.
	var edges []float32
	for q := 1; q < maxBins; q++ {
		k := q * len(sample) / maxBins
		if sample[k-1] == sample[k] {
			continue
		}
		e := midpoint(sample[k-1], sample[k])
		if len(edges) == 0 || e > edges[len(edges)-1] {
			edges = append(edges, e)
		}
	}
	return edges
}

// midpoint returns a threshold t with a <= t < b, halfway when float32
// can hold it, so a goes left and b goes right.
func midpoint(a, b float32) float32 {
	m := a + (b-a)/2
	if math.IsInf(float64(m), 0) {
		m = a/2 + b/2
	}
	if m >= b || m < a {
		return a
	}
	return m
}
