package drift

import (
	"math"
	"sort"
)

// DefaultBins is how many reference-quantile bins PSI and Jensen–Shannon
// use for a numerical feature: the seed article's calculate_psi default.
const DefaultBins = 10

// psiFloor is the proportion an empty bin is clipped to before taking
// logarithms, as the seed article's calculate_psi does (np.clip(p, 0.001)).
const psiFloor = 0.001

// QuantileEdges returns the bins-1 interior bin edges of a sorted sample at
// the quantiles k/bins, interpolated linearly exactly as numpy.quantile's
// default method. Bin i of a value x is the number of edges <= x, so the
// first and last bins are open: a current value outside the reference's
// range still lands in a bin instead of being dropped, as np.histogram
// would drop it.
func QuantileEdges(sorted []float64, bins int) []float64 {
	if len(sorted) == 0 || bins < 2 {
		return nil
	}
	edges := make([]float64, bins-1)
	for k := 1; k < bins; k++ {
		edges[k-1] = quantileLinear(sorted, float64(k)/float64(bins))
	}
	return edges
}

// quantileLinear is numpy's "linear" quantile of a sorted sample, with its
// exact arithmetic: virtual index (n-1)·q, and the interpolation taken from
// the nearer end when the weight is at least one half.
func quantileLinear(sorted []float64, q float64) float64 {
	n := len(sorted)
	vi := float64(n-1) * q
	if vi >= float64(n-1) {
		return sorted[n-1]
	}
	if vi < 0 {
		return sorted[0]
	}
	prev := math.Floor(vi)
	a, b := sorted[int(prev)], sorted[int(prev)+1]
	gamma := vi - prev
	diff := b - a
	if gamma >= 0.5 {
		return b - diff*(1-gamma)
	}
	return a + diff*gamma
}

// Bin is the bin of x among edges: the number of edges <= x
// (numpy.searchsorted(edges, x, side="right")).
func Bin(edges []float64, x float64) int {
	return sort.Search(len(edges), func(i int) bool { return edges[i] > x })
}

// Histogram counts a sample into the bins that edges make.
func Histogram(edges []float64, xs []float64) []int64 {
	counts := make([]int64, len(edges)+1)
	for _, x := range xs {
		counts[Bin(edges, x)]++
	}
	return counts
}

// histogramSorted counts a sorted sample into bins in one pass.
func histogramSorted(edges []float64, sorted []float64) []int64 {
	counts := make([]int64, len(edges)+1)
	b := 0
	for _, x := range sorted {
		for b < len(edges) && edges[b] <= x {
			b++
		}
		counts[b]++
	}
	return counts
}

// PSI is the population stability index of current against reference,
// both counted into the same bins: sum((a-e)·ln(a/e)) over the bin
// proportions, each clipped below at 0.001 as in the seed article.
func PSI(reference, current []int64) float64 {
	rn, cn := total(reference), total(current)
	if rn == 0 || cn == 0 {
		return math.NaN()
	}
	psi := 0.0
	for i := range reference {
		e := math.Max(float64(reference[i])/float64(rn), psiFloor)
		a := math.Max(float64(current[i])/float64(cn), psiFloor)
		psi += (a - e) * math.Log(a/e)
	}
	return psi
}

func total(counts []int64) int64 {
	var n int64
	for _, c := range counts {
		n += c
	}
	return n
}
