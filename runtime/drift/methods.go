package drift

import (
	"fmt"
	"math"
	"sort"
)

// The methods a policy may name (schema #Drift.method).
const (
	MethodPSI           = "psi"
	MethodKS            = "ks"
	MethodWasserstein   = "wasserstein"
	MethodJensenShannon = "jensenshannon"
	MethodChi2          = "chi2"
	MethodZTest         = "ztest"
)

var (
	numericalMethods   = []string{MethodPSI, MethodKS, MethodWasserstein, MethodJensenShannon}
	categoricalMethods = []string{MethodChi2, MethodZTest, MethodJensenShannon, MethodPSI}
)

// Default thresholds, each Evidently's default for its statistical test
// (StatTest.default_threshold): 0.05 for the p-value of a test, 0.1 for a
// distance. PSI's 0.1 is Evidently's psi_stat_test default; the seed
// article calls 0.1-0.2 moderate and 0.2 significant drift.
const (
	DefaultPValue   = 0.05
	DefaultDistance = 0.1
)

// smallReferenceRows is Evidently's cut between statistical tests (at most
// this many reference rows) and distances (more).
const smallReferenceRows = 1000

// isTest says whether a method yields a p-value (drift when below the
// threshold) rather than a distance (drift when at or above it).
func isTest(method string) bool {
	return method == MethodKS || method == MethodChi2 || method == MethodZTest
}

// defaultThreshold is a method's threshold when the policy sets none.
func defaultThreshold(method string) float64 {
	if isTest(method) {
		return DefaultPValue
	}
	return DefaultDistance
}

// defaultMethod is Evidently's get_default_stattest: with a reference of at
// most 1,000 rows, KS for numbers with more than 5 unique values (counted
// over reference and current together), else chi-square for more than 2
// values and the Z-test for 2; above 1,000 rows, normed Wasserstein for
// numbers with more than 5 unique values and Jensen–Shannon otherwise.
func defaultMethod(ref *FeatureReference, nunique int) string {
	if ref.Rows <= smallReferenceRows {
		switch {
		case ref.Numerical && nunique > 5:
			return MethodKS
		case nunique > 2:
			return MethodChi2
		}
		return MethodZTest
	}
	if ref.Numerical && nunique > 5 {
		return MethodWasserstein
	}
	return MethodJensenShannon
}

// nunique is the number of distinct values in reference and current
// together; maxDistinct+1 stands for "more than we count".
func nunique(ref *FeatureReference, cur summary) int {
	if ref.Counts == nil || cur.counts == nil {
		return maxDistinct + 1
	}
	n := len(ref.Counts)
	for k := range cur.counts {
		if _, ok := ref.Counts[k]; !ok {
			n++
		}
	}
	return n
}

// comparison is one method applied to one feature.
type comparison struct {
	// stat is the method's statistic: KS's D, chi-square, |z|, PSI or a
	// distance. std thresholds apply to it.
	stat float64
	// p is the test's p-value; NaN for distances.
	p float64
	// value is what the threshold is compared with: p for tests, stat
	// otherwise.
	value float64
	// bins are the labels and counts the histogram shows.
	labels   []string
	ref, cur []int64
	unseen   []string
	err      string
}

// compare applies method to the reference and current summaries of one
// feature. base is the Jensen–Shannon log base (0: e). A numerical feature
// with few distinct values is compared as categories when the method is a
// categorical one, as Evidently does.
func compare(method string, ref *FeatureReference, cur summary, base float64) comparison {
	r := comparison{p: math.NaN()}
	asCategories := !ref.Numerical || method == MethodChi2 || method == MethodZTest ||
		(ref.Counts != nil && cur.counts != nil && nunique(ref, cur) <= 5)
	if asCategories {
		if ref.Counts == nil || cur.counts == nil {
			r.err = fmt.Sprintf("%s needs categories; the feature has more than %d distinct values", method, maxDistinct)
			return r
		}
		r.labels, r.ref, r.cur, r.unseen = categoryCounts(ref.Counts, cur.counts)
	} else {
		r.labels = binLabels(ref.Edges)
		r.ref, r.cur = ref.BinCounts, histogramSorted(ref.Edges, cur.sorted)
	}
	switch method {
	case MethodPSI:
		r.stat = PSI(r.ref, r.cur)
	case MethodJensenShannon:
		r.stat = JensenShannon(floats64(r.ref), floats64(r.cur), base)
	case MethodKS:
		res := KS2Samp(ref.Sample, cur.sorted)
		r.stat, r.p = res.Statistic, res.PValue
	case MethodWasserstein:
		r.stat = WassersteinNormed(Wasserstein(ref.Sample, cur.sorted), ref.Std)
	case MethodChi2:
		rn, cn := float64(total(r.ref)), float64(total(r.cur))
		obs, exp := make([]float64, len(r.ref)), make([]float64, len(r.ref))
		for i := range r.ref {
			obs[i], exp[i] = float64(r.cur[i]), float64(r.ref[i])*(cn/rn)
		}
		r.stat, r.p = ChiSquare(obs, exp)
	case MethodZTest:
		switch len(r.labels) {
		case 1:
			r.stat, r.p = 0, 1
		case 2:
			z, p := ZTestProportions(float64(r.ref[0]), float64(total(r.ref)), float64(r.cur[0]), float64(total(r.cur)))
			r.stat, r.p = math.Abs(z), p
		default:
			r.err = fmt.Sprintf("ztest needs at most two values; the feature has %d", len(r.labels))
		}
	default:
		r.err = fmt.Sprintf("unknown method %q", method)
	}
	r.value = r.stat
	if isTest(method) {
		r.value = r.p
	}
	return r
}

// categoryCounts lines up two category counts on their sorted union of
// keys, and lists the current keys the reference never saw.
func categoryCounts(ref, cur map[string]int64) (keys []string, rc, cc []int64, unseen []string) {
	for k := range ref {
		keys = append(keys, k)
	}
	for k := range cur {
		if _, ok := ref[k]; !ok {
			keys = append(keys, k)
			unseen = append(unseen, k)
		}
	}
	sort.Strings(keys)
	sort.Strings(unseen)
	rc, cc = make([]int64, len(keys)), make([]int64, len(keys))
	for i, k := range keys {
		rc[i], cc[i] = ref[k], cur[k]
	}
	return keys, rc, cc, unseen
}

// binLabels names the bins that edges make.
func binLabels(edges []float64) []string {
	if len(edges) == 0 {
		return []string{"all"}
	}
	out := make([]string, len(edges)+1)
	out[0] = "< " + formatEdge(edges[0])
	for i := 1; i < len(edges); i++ {
		out[i] = "[" + formatEdge(edges[i-1]) + ", " + formatEdge(edges[i]) + ")"
	}
	out[len(edges)] = "≥ " + formatEdge(edges[len(edges)-1])
	return out
}

func formatEdge(v float64) string { return fmt.Sprintf("%.4g", v) }

func floats64(c []int64) []float64 {
	out := make([]float64, len(c))
	for i, v := range c {
		out[i] = float64(v)
	}
	return out
}
