package drift

import (
	"math"
)

// stdFloor is the smallest reference standard deviation Wasserstein is
// normed by, as Evidently's wasserstein_distance_norm (max(std, 0.001)), so
// a constant reference feature does not divide by zero.
const stdFloor = 0.001

// Wasserstein is the 1-D first Wasserstein (earth mover's) distance between
// two sorted samples: the area between their empirical CDFs, as
// scipy.stats.wasserstein_distance.
func Wasserstein(a, b []float64) float64 {
	if len(a) == 0 || len(b) == 0 {
		return math.NaN()
	}
	na, nb := float64(len(a)), float64(len(b))
	var i, j int
	var dist float64
	// Walk the pooled values in order; between consecutive pooled values
	// both CDFs are constant.
	prev := math.Min(a[0], b[0])
	for i < len(a) || j < len(b) {
		var v float64
		if j >= len(b) || (i < len(a) && a[i] <= b[j]) {
			v = a[i]
		} else {
			v = b[j]
		}
		dist += math.Abs(float64(i)/na-float64(j)/nb) * (v - prev)
		prev = v
		for i < len(a) && a[i] <= v {
			i++
		}
		for j < len(b) && b[j] <= v {
			j++
		}
	}
	return dist
}

// Std is the population standard deviation (numpy.std, ddof 0).
func Std(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	mean := 0.0
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	ss := 0.0
	for _, x := range xs {
		d := x - mean
		ss += d * d
	}
	return math.Sqrt(ss / float64(len(xs)))
}

// WassersteinNormed divides the distance by the reference's standard
// deviation (at least 0.001), Evidently's default numerical statistic for
// references of more than 1,000 rows.
func WassersteinNormed(dist, refStd float64) float64 {
	return dist / math.Max(refStd, stdFloor)
}

// JensenShannon is the Jensen–Shannon distance between two count vectors
// over the same bins or categories, as scipy.spatial.distance.jensenshannon:
// both are normalised, and the divergence is taken in the given log base
// (0 means base e), then its square root.
func JensenShannon(p, q []float64, base float64) float64 {
	var sp, sq float64
	for i := range p {
		sp += p[i]
		sq += q[i]
	}
	if sp == 0 || sq == 0 {
		return math.NaN()
	}
	js := 0.0
	for i := range p {
		pi, qi := p[i]/sp, q[i]/sq
		m := (pi + qi) / 2
		js += relEntr(pi, m) + relEntr(qi, m)
	}
	if base > 0 {
		js /= math.Log(base)
	}
	return math.Sqrt(js / 2)
}

// relEntr is scipy.special.rel_entr.
func relEntr(x, y float64) float64 {
	switch {
	case x > 0 && y > 0:
		return x * math.Log(x/y)
	case x == 0 && y >= 0:
		return 0
	}
	return math.Inf(1)
}
