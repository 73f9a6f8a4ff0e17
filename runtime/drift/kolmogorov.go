package drift

import (
	"math"
)

// kolmogorovSF is Pr(D_n > x) for the one-sample two-sided Kolmogorov–
// Smirnov statistic D_n, as scipy.stats.kstwo.sf(x, n): Simard and
// L'Ecuyer's (2011) choice among exact and asymptotic methods by n and
// n·x², which ks_2samp uses for its asymptotic p-value.
func kolmogorovSF(n int, x float64) float64 {
	if n <= 0 || math.IsNaN(x) {
		return math.NaN()
	}
	if x >= 1 {
		return 0
	}
	if x <= 0 {
		return 1
	}
	fn := float64(n)
	t := fn * x
	if t <= 1 { // Ruben–Gambino
		if t <= 0.5 {
			return 1
		}
		var cdf float64
		if n <= 140 {
			cdf = 1
			for i := 1; i <= n; i++ {
				cdf *= float64(i) * (1 / fn) * (2*t - 1)
			}
		} else {
			cdf = math.Exp(logFactorialOverPower(fn) + fn*math.Log(2*t-1))
		}
		return clamp01(1 - cdf)
	}
	if t >= fn-1 { // Ruben–Gambino
		return clamp01(2 * math.Pow(1-x, fn))
	}
	if x >= 0.5 {
		return clamp01(2 * smirnovSF(n, x))
	}
	nxx := t * x
	if n <= 140 {
		switch {
		case nxx <= 0.754693:
			return clamp01(1 - durbinCDF(n, x))
		case nxx <= 4:
			return clamp01(1 - pomeranzCDF(n, x))
		}
		return clamp01(2 * smirnovSF(n, x))
	}
	if nxx >= 370 {
		return 0
	}
	if nxx >= 2.2 {
		return clamp01(2 * smirnovSF(n, x))
	}
	var cdf float64
	if n <= 100000 && fn*math.Pow(x, 1.5) <= 1.4 {
		cdf = durbinCDF(n, x)
	} else {
		cdf = pelzGoodCDF(n, x)
	}
	return clamp01(1 - cdf)
}

// stirlingCoeffs are B_{2j}/(2j)/(2j-1) for j = 8..1, highest first.
var stirlingCoeffs = [...]float64{
	-2.955065359477124183e-2, 6.4102564102564102564e-3,
	-1.9175269175269175269e-3, 8.4175084175084175084e-4,
	-5.952380952380952381e-4, 7.9365079365079365079e-4,
	-2.7777777777777777778e-3, 8.3333333333333333333e-2,
}

// logFactorialOverPower is log(n!/n^n) by Stirling's series, with n·log n
// removed up front to avoid cancellation.
func logFactorialOverPower(n float64) float64 {
	rn := 1 / n
	x := rn / n
	poly := 0.0
	for _, c := range stirlingCoeffs {
		poly = poly*x + c
	}
	return math.Log(n)/2 - n + math.Log(2*math.Pi)/2 + rn*poly
}

// smirnovSF is the one-sided Smirnov survival function Pr(D+_n >= e) by the
// Birnbaum–Tingey sum; each term is taken through log-gamma so that large n
// neither overflows nor loses the small terms. The terms are unimodal in v,
// so the sum stops once they have become negligible past their peak.
func smirnovSF(n int, e float64) float64 {
	if !(e >= 0 && e <= 1) {
		return math.NaN()
	}
	if e == 0 {
		return 1
	}
	fn := float64(n)
	nn := int(math.Floor(fn * (1 - e)))
	p := 0.0
	if n < 1013 {
		c := 1.0
		for v := 0; v <= nn; v++ {
			evn := e + float64(v)/fn
			p += c * math.Pow(evn, float64(v-1)) * math.Pow(1-evn, float64(n-v))
			c *= float64(n-v) / float64(v+1)
		}
		return p * e
	}
	lgn1, _ := math.Lgamma(fn + 1)
	prev := 0.0
	for v := 0; v <= nn; v++ {
		evn := e + float64(v)/fn
		omevn := 1 - evn
		if omevn <= 0 {
			continue
		}
		lv, _ := math.Lgamma(float64(v + 1))
		lnv, _ := math.Lgamma(float64(n - v + 1))
		t := lgn1 - lv - lnv + float64(v-1)*math.Log(evn) + float64(n-v)*math.Log(omevn)
		term := math.Exp(t)
		p += term
		if term < prev && term <= p*1e-18 {
			break
		}
		prev = term
	}
	return p * e
}

const (
	scaleExp = 128
)

var (
	scaleUp   = math.Ldexp(1, scaleExp)
	scaleDown = math.Ldexp(1, -scaleExp)
)

// durbinCDF is Pr(D_n <= d) by Durbin's matrix method in Marsaglia, Tsang
// and Wang's (2003) form: the k-th diagonal entry of H^n times n!/n^n, with
// the powers rescaled by 2^128 as needed.
func durbinCDF(n int, d float64) float64 {
	if d >= 1 {
		return 1
	}
	fn := float64(n)
	nd := fn * d
	if nd <= 0.5 {
		return 0
	}
	k := int(math.Ceil(nd))
	h := float64(k) - nd
	m := 2*k - 1
	v := make([]float64, m)
	w := make([]float64, m)
	fac := 1.0
	for j := 1; j <= m; j++ {
		v[j-1] = 1 - math.Pow(h, float64(j))
		w[j-1] = fac
		fac /= float64(j)
		v[j-1] *= fac
	}
	tt := math.Pow(math.Max(2*h-1, 0), float64(m)) - 2*math.Pow(h, float64(m))
	v[m-1] = (1 + tt) * fac
	H := newMatrix(m)
	for i := 1; i < m; i++ {
		for r := i - 1; r < m; r++ {
			H.set(r, i, w[r-(i-1)])
		}
	}
	for r := 0; r < m; r++ {
		H.set(r, 0, v[r])
	}
	for c := 0; c < m; c++ {
		H.set(m-1, c, v[m-1-c])
	}
	pw := identity(m)
	expnt, hexpnt := 0, 0
	for nn := n; nn > 0; nn /= 2 {
		if nn%2 == 1 {
			pw = pw.mul(H)
			expnt += hexpnt
		}
		H = H.mul(H)
		hexpnt *= 2
		if math.Abs(H.at(k-1, k-1)) > scaleUp {
			H.scale(scaleDown)
			hexpnt += scaleExp
		}
	}
	p := pw.at(k-1, k-1)
	for i := 1; i <= n; i++ {
		p = float64(i) * p / fn
		if math.Abs(p) < scaleDown {
			p *= scaleUp
			expnt -= scaleExp
		}
	}
	if expnt != 0 {
		p = math.Ldexp(p, expnt)
	}
	return clamp01(p)
}

// matrix is a dense square matrix, row-major.
type matrix struct {
	n int
	a []float64
}

func newMatrix(n int) matrix { return matrix{n: n, a: make([]float64, n*n)} }

func identity(n int) matrix {
	m := newMatrix(n)
	for i := 0; i < n; i++ {
		m.set(i, i, 1)
	}
	return m
}

func (m matrix) at(r, c int) float64     { return m.a[r*m.n+c] }
func (m matrix) set(r, c int, v float64) { m.a[r*m.n+c] = v }

func (m matrix) scale(f float64) {
	for i := range m.a {
		m.a[i] *= f
	}
}

func (m matrix) mul(o matrix) matrix {
	out := newMatrix(m.n)
	for i := 0; i < m.n; i++ {
		row := out.a[i*m.n : (i+1)*m.n]
		for k := 0; k < m.n; k++ {
			x := m.a[i*m.n+k]
			if x == 0 {
				continue
			}
			orow := o.a[k*m.n : (k+1)*m.n]
			for j := range row {
				row[j] += x * orow[j]
			}
		}
	}
	return out
}
