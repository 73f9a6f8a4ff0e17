package drift

import (
	"math"

	"gonum.org/v1/gonum/mathext"
)

// ChiSquare is Pearson's goodness-of-fit test of observed counts against
// expected ones, as scipy.stats.chisquare: the statistic and its p-value
// with k-1 degrees of freedom. An expected count of zero where something
// was observed (a category never seen in training) makes the statistic
// infinite and the p-value zero.
func ChiSquare(observed, expected []float64) (stat, p float64) {
	for i := range observed {
		d := observed[i] - expected[i]
		stat += d * d / expected[i]
	}
	if math.IsNaN(stat) {
		// 0/0: a category absent from both samples adds nothing.
		stat = 0
		for i := range observed {
			if expected[i] == 0 && observed[i] == 0 {
				continue
			}
			d := observed[i] - expected[i]
			stat += d * d / expected[i]
		}
	}
	return stat, chi2SF(stat, float64(len(observed)-1))
}

// chi2SF is the chi-square survival function (scipy.stats.chi2.sf).
func chi2SF(x, df float64) float64 {
	if df <= 0 {
		return math.NaN()
	}
	if math.IsInf(x, 1) {
		return 0
	}
	if x <= 0 {
		return 1
	}
	return mathext.GammaIncRegComp(df/2, x/2)
}

// ZTestProportions is the two-sided Z-test that a binary feature has the
// same proportion in both samples, as Evidently's z_stat_test: successes
// and sizes of reference and current. When both samples hold one and the
// same value the p-value is 1.
func ZTestProportions(refHits, refN, curHits, curN float64) (z, p float64) {
	p1, p2 := refHits/refN, curHits/curN
	pool := (p1*refN + p2*curN) / (refN + curN)
	if pool == 0 || pool == 1 {
		return 0, 1
	}
	z = (p1 - p2) / math.Sqrt(pool*(1-pool)*(1/refN+1/curN))
	return z, 2 * (1 - normCDF(math.Abs(z)))
}

// normCDF is the standard normal CDF (scipy.special.ndtr).
func normCDF(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }

// MissingRateChange is how much the share of missing values moved, in
// absolute proportion (current minus reference).
func MissingRateChange(refMissing, refN, curMissing, curN int64) float64 {
	if refN == 0 || curN == 0 {
		return math.NaN()
	}
	return float64(curMissing)/float64(curN) - float64(refMissing)/float64(refN)
}
