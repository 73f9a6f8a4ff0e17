package drift

import (
	"math"
)

// ksExactMaxN is scipy's MAX_AUTO_N: ks_2samp's "auto" method computes the
// exact p-value when neither sample is larger, and Smirnov's asymptotic
// distribution above it. Sluice follows it so its p-values match scipy's.
const ksExactMaxN = 10000

// KSResult is a two-sample Kolmogorov–Smirnov test.
type KSResult struct {
	// Statistic is the largest distance between the two empirical CDFs.
	Statistic float64
	// PValue is the two-sided p-value, as scipy.stats.ks_2samp(method="auto").
	PValue float64
	// Exact says the p-value was computed exactly rather than asymptotically.
	Exact bool
}

// KS2Samp runs the two-sided two-sample Kolmogorov–Smirnov test on two
// samples sorted in ascending order and free of NaN. It returns the
// statistic and p-value scipy.stats.ks_2samp returns for the same data.
func KS2Samp(a, b []float64) KSResult {
	n1, n2 := len(a), len(b)
	if n1 == 0 || n2 == 0 {
		return KSResult{Statistic: math.NaN(), PValue: math.NaN()}
	}
	d := ksStatistic(a, b)
	if max(n1, n2) <= ksExactMaxN {
		if ed, p, ok := ksExact(n1, n2, d); ok {
			return KSResult{Statistic: ed, PValue: p, Exact: true}
		}
	}
	m, n := float64(max(n1, n2)), float64(min(n1, n2))
	en := m * n / (m + n)
	p := kolmogorovSF(int(math.RoundToEven(en)), d)
	return KSResult{Statistic: d, PValue: clamp01(p)}
}

// ksStatistic is sup |F1(x) - F2(x)| over the pooled values, each CDF
// evaluated as searchsorted(side=right)/n, as scipy does: the same float
// divisions give the same statistic to the last bit.
func ksStatistic(a, b []float64) float64 {
	n1, n2 := float64(len(a)), float64(len(b))
	var i, j int
	var maxS, minS float64
	for i < len(a) || j < len(b) {
		var v float64
		switch {
		case j >= len(b) || (i < len(a) && a[i] <= b[j]):
			v = a[i]
		default:
			v = b[j]
		}
		for i < len(a) && a[i] <= v {
			i++
		}
		for j < len(b) && b[j] <= v {
			j++
		}
		diff := float64(i)/n1 - float64(j)/n2
		if diff > maxS {
			maxS = diff
		}
		if diff < minS {
			minS = diff
		}
	}
	return math.Max(maxS, math.Min(-minS, 1))
}

// ksExact is the exact two-sided p-value of statistic d for sample sizes
// n1 and n2 (Hodges 1958; the "inside" recursion of Viehmann 2021 for
// unequal sizes). It returns d rounded to the lattice of attainable values,
// as scipy does, and ok=false when the computation left [0, 1].
func ksExact(n1, n2 int, d float64) (float64, float64, bool) {
	g := gcd(n1, n2)
	lcm := float64((n1 / g) * n2)
	h := int(math.RoundToEven(d * lcm))
	d = float64(h) / lcm
	if h == 0 {
		return d, 1, true
	}
	var p float64
	if n1 == n2 {
		p = probOutsideSquare(n1, h)
	} else {
		p = probOutsideInside(n1, n2, g, h)
	}
	if !(p >= 0 && p <= 1) {
		return d, p, false
	}
	return d, p, true
}

// probOutsideSquare is Pr(D_{n,n} >= h/n), the alternating binomial sum
// evaluated as a Horner-like product to avoid cancellation.
func probOutsideSquare(n, h int) float64 {
	p := 0.0
	for k := n / h; k >= 0; k-- {
		p1 := 1.0
		for j := 0; j < h; j++ {
			p1 = float64(n-k*h-j) * p1 / float64(n+k*h+j+1)
		}
		p = p1 * (1 - p)
	}
	return 2 * p
}

// probOutsideInside is the proportion of lattice paths from (0,0) to (m,n)
// that leave the band |x/m - y/n| < h/lcm(m,n), computed column by column
// as one minus the inside proportion so that it stays in [0, 1].
func probOutsideInside(m, n, g, h int) float64 {
	if m < n {
		m, n = n, m
	}
	mg, ng := m/g, n/g
	minj, maxj := 0, min(ceilDiv(h, mg), n+1)
	curlen := maxj - minj
	lenA := min(2*maxj+2, n+1)
	a := make([]float64, lenA)
	for i := range a {
		a[i] = 1
	}
	for i := minj; i < maxj; i++ {
		a[i] = 0
	}
	for i := 1; i <= m; i++ {
		lastminj, lastlen := minj, curlen
		minj = max(floorDiv(ng*i-h, mg)+1, 0)
		minj = min(minj, n)
		maxj = min(ceilDiv(ng*i+h, mg), n+1)
		if maxj <= minj {
			return 1
		}
		val := 1.0
		if minj == 0 {
			val = 0
		}
		for jj := 0; jj < maxj-minj; jj++ {
			j := jj + minj
			val = (a[jj+minj-lastminj]*float64(i) + val*float64(j)) / float64(i+j)
			a[jj] = val
		}
		curlen = maxj - minj
		for k := curlen; k < curlen+(lastlen-curlen) && k < len(a); k++ {
			a[k] = 1
		}
	}
	return a[maxj-minj-1]
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func ceilDiv(a, b int) int { return -floorDiv(-a, b) }

func clamp01(p float64) float64 { return math.Min(math.Max(p, 0), 1) }
