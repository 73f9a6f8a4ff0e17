package drift

import (
	"math"
)

// pomeranzCDF is Pr(D_n <= x) by Pomeranz's (1974) recursion: each row is
// the previous one convolved with (almost) Poisson probabilities, only two
// rows kept, rescaled by 2^128 against underflow.
func pomeranzCDF(n int, x float64) float64 {
	fn := float64(n)
	t := fn * x
	ll := int(math.Floor(t))
	f := t - float64(ll)
	g := math.Min(f, 1-f)
	ceilf, roundf := 0, 0
	if f > 0 {
		ceilf = 1
	}
	if f > 0.5 {
		roundf = 1
	}
	npwrs := 2 * (ll + 1)
	gp, twogp, onem2gp := make([]float64, npwrs), make([]float64, npwrs), make([]float64, npwrs)
	gp[0], twogp[0], onem2gp[0] = 1, 1, 1
	for m := 1; m < npwrs; m++ {
		fm := float64(m)
		gp[m] = gp[m-1] * (g / fn) / fm
		twogp[m] = twogp[m-1] * (2 * g / fn) / fm
		onem2gp[m] = onem2gp[m-1] * ((1 - 2*g) / fn) / fm
	}
	v0, v1 := make([]float64, npwrs), make([]float64, npwrs)
	v1[0] = 1
	v0s, v1s, expnt := 0, 0, 0
	j1, j2 := pomeranzJ(0, n, ll, ceilf, roundf)
	for i := 1; i < 2*n+2; i++ {
		k1 := j1
		v0, v1 = v1, v0
		v0s, v1s = v1s, v0s
		clear(v1)
		j1, j2 = pomeranzJ(i, n, ll, ceilf, roundf)
		pw := onem2gp
		switch {
		case i == 1 || i == 2*n+1:
			pw = gp
		case i%2 == 1:
			pw = twogp
		}
		ln2 := j2 - k1 + 1
		if ln2 <= 0 {
			continue
		}
		src := v0[k1-v0s : k1-v0s+ln2]
		start, length := j1-k1, j2-j1+1
		maxv := 0.0
		for c := 0; c < length; c++ {
			// Entry start+c of the full convolution of src and pw[:ln2].
			idx := start + c
			s := 0.0
			for a := max(0, idx-(ln2-1)); a <= min(idx, ln2-1); a++ {
				s += src[a] * pw[idx-a]
			}
			v1[c] = s
			maxv = math.Max(maxv, s)
		}
		if maxv > 0 && maxv < scaleDown {
			for c := range v1 {
				v1[c] *= scaleUp
			}
			expnt -= scaleExp
		}
		v1s = v0s + j1 - k1
	}
	ans := v1[n-v1s]
	for m := 1; m <= n; m++ {
		if math.Abs(ans) > scaleUp {
			ans *= scaleDown
			expnt += scaleExp
		}
		ans *= float64(m)
	}
	if expnt != 0 {
		ans = math.Ldexp(ans, expnt)
	}
	return clamp01(ans)
}

// pomeranzJ is the range of non-zero entries of row i.
func pomeranzJ(i, n, ll, ceilf, roundf int) (int, int) {
	var j1, j2 int
	if i == 0 {
		j1, j2 = -ll-ceilf-1, ll+ceilf-1
	} else {
		half, odd := (i+1)/2, (i+1)%2
		switch {
		case odd == 0 && half == n+1:
			j1, j2 = n-ll-ceilf-1, n+ll+ceilf-1
		case odd == 0:
			j1, j2 = half-1-ll-roundf-1, half+ll-1+ceilf-1
		default:
			j1, j2 = half-1-ll-1, half+ll+roundf-1
		}
	}
	return max(j1+2, 0), min(j2, n)
}

// pelzGoodCDF is Pelz and Good's (1976) approximation to Pr(D_n <= x):
// the Li-Chien/Korolyuk expansion K0 + K1/√n + K2/n + K3/n^1.5 with each
// term rewritten through Jacobi theta functions for small z = x√n.
func pelzGoodCDF(n int, x float64) float64 {
	if x <= 0 {
		return 0
	}
	if x >= 1 {
		return 1
	}
	const pi2 = math.Pi * math.Pi
	const pi4 = pi2 * pi2
	const pi6 = pi4 * pi2
	sqrt2pi := math.Sqrt(2 * math.Pi)
	fn := float64(n)
	z := math.Sqrt(fn) * x
	z2, z3, z4, z6 := z*z, z*z*z, math.Pow(z, 4), math.Pow(z, 6)
	qlog := -pi2 / 8 / z2
	if qlog < -708 {
		return 0
	}
	q := math.Exp(qlog)
	k1a, k1b := -z2, pi2/4
	k2a := 6*z6 + 2*z4
	k2b := (2*z4 - 5*z2) * pi2 / 4
	k2c := pi4 * (1 - 2*z2) / 16
	k3d := pi6 * (5 - 30*z2) / 64
	k3c := pi4 * (-60*z2 + 212*z4) / 16
	k3b := pi2 * (135*z4 - 96*z6) / 4
	k3a := -30*z6 - 90*math.Pow(z, 8)
	var K [4]float64
	maxk := int(math.Ceil(16 * z / math.Pi))
	for k := maxk; k > 0; k-- {
		m := float64(2*k - 1)
		m2, m4, m6 := m*m, math.Pow(m, 4), math.Pow(m, 6)
		qp := math.Pow(q, float64(8*k))
		c := [4]float64{1, k1a + k1b*m2, k2a + k2b*m2 + k2c*m4, k3a + k3b*m2 + k3c*m4 + k3d*m6}
		for i := range K {
			K[i] = K[i]*qp + c[i]
		}
	}
	div := [4]float64{z, 6 * z4, 72 * math.Pow(z, 7), 6480 * math.Pow(z, 10)}
	for i := range K {
		K[i] = K[i] * q * sqrt2pi / div[i]
	}
	q = math.Exp(-pi2 / 2 / z2)
	sqrt3z := math.Sqrt(3) * z
	var k2extra, k3extra float64
	for k := maxk; k > 0; k-- {
		fk := float64(k)
		qk := math.Pow(q, fk*fk)
		k2extra += fk * fk * qk
		kpi := math.Pi * fk
		k3extra += (sqrt3z + kpi) * (sqrt3z - kpi) * fk * fk * qk
	}
	K[2] += k2extra * pi2 * sqrt2pi / (-36 * z3)
	K[3] += k3extra * pi2 * sqrt2pi / (216 * z6)
	sum := 0.0
	for i := range K {
		sum += K[i] / math.Pow(fn, float64(i)/2)
	}
	return sum
}
