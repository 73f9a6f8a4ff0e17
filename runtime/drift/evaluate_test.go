package drift

import (
	"math"
	"strings"
	"testing"
	"time"

	"sluice/schema"
)

func policy(features ...string) *schema.Drift {
	p := &schema.Drift{Endpoint: "fraud", Features: features, MinSamples: 10, DatasetDriftShare: 0.5}
	p.Addr = schema.Addr{Kind: schema.KindDrift, Name: "inputs"}
	return p
}

func numbers(name string, xs []float64) Column { return Column{Name: name, Numbers: xs} }

func strs(name string, counts ...any) Column {
	c := Column{Name: name, Strings: []string{}}
	for i := 0; i < len(counts); i += 2 {
		for j := 0; j < counts[i+1].(int); j++ {
			c.Strings = append(c.Strings, counts[i].(string))
		}
	}
	return c
}

func frame(cols ...Column) *Frame {
	f := &Frame{Columns: map[string]Column{}}
	for _, c := range cols {
		f.N = int64(c.Len())
		f.Columns[c.Name] = c
	}
	return f
}

func fit(t *testing.T, cols ...Column) *Reference {
	t.Helper()
	ref, err := Fit("fraud", 3, cols, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

func evaluate(t *testing.T, p *schema.Drift, ref *Reference, cur *Frame) *Report {
	t.Helper()
	r, err := Evaluate(p, ref, cur, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestEvaluateMatchesScipyThroughTheFittedReference(t *testing.T) {
	for _, c := range loadFixtures(t).Numeric {
		if c.Ref.N > ReferenceSampleSize {
			continue // the reference keeps a bounded sample; scipy saw all rows
		}
		ref := fit(t, numbers("x", c.Ref.sample()))
		p := policy("x")
		p.Numerical = MethodKS
		r := evaluate(t, p, ref, frame(numbers("x", c.Cur.sample())))
		f := r.Features[0]
		if !near(float64(f.Statistic), c.KSStatistic) || !near(float64(f.PValue), c.KSPValue) {
			t.Errorf("%s: KS = (%g, %g), scipy (%g, %g)", c.Name, f.Statistic, f.PValue, c.KSStatistic, c.KSPValue)
		}
		p.Numerical = MethodPSI
		if c.Bins == DefaultBins {
			f = evaluate(t, p, ref, frame(numbers("x", c.Cur.sample()))).Features[0]
			if !near(float64(f.Statistic), c.PSI) {
				t.Errorf("%s: PSI = %g, numpy %g", c.Name, f.Statistic, c.PSI)
			}
		}
		p.Numerical = MethodWasserstein
		f = evaluate(t, p, ref, frame(numbers("x", c.Cur.sample()))).Features[0]
		if !near(float64(f.Statistic), c.WassersteinNormed) {
			t.Errorf("%s: Wasserstein = %g, scipy %g", c.Name, f.Statistic, c.WassersteinNormed)
		}
	}
}

func TestDefaultMethodFollowsEvidentlyByReferenceSizeAndUniqueValues(t *testing.T) {
	small := genSpec{Seed: 1, N: 800, Scale: 1}.sample()
	large := genSpec{Seed: 2, N: 3000, Scale: 1}.sample()
	few := func(n int) []float64 {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = float64(i % 3)
		}
		return xs
	}
	cases := []struct {
		name     string
		ref, cur Column
		want     string
	}{
		{"small numerical", numbers("f", small), numbers("f", small[:400]), MethodKS},
		{"large numerical", numbers("f", large), numbers("f", large[:400]), MethodWasserstein},
		{"small numerical, 3 values", numbers("f", few(800)), numbers("f", few(90)), MethodChi2},
		{"large numerical, 3 values", numbers("f", few(3000)), numbers("f", few(90)), MethodJensenShannon},
		{"small, 3 categories", strs("f", "a", 300, "b", 300, "c", 200), strs("f", "a", 30, "b", 30, "c", 20), MethodChi2},
		{"small, 2 categories", strs("f", "a", 300, "b", 300), strs("f", "a", 30, "b", 30), MethodZTest},
		{"large, 2 categories", strs("f", "a", 1300, "b", 300), strs("f", "a", 30, "b", 30), MethodJensenShannon},
	}
	for _, c := range cases {
		r := evaluate(t, policy("f"), fit(t, c.ref), frame(c.cur))
		if got := r.Features[0]; got.Method != c.want || got.ThresholdSource != "default" || got.Threshold != defaultThreshold(c.want) {
			t.Errorf("%s: method %s threshold %g (%s), want %s at %g", c.name, got.Method, got.Threshold, got.ThresholdSource, c.want, defaultThreshold(c.want))
		}
	}
}

func TestWindowBelowMinSamplesHasNoVerdictAndSaysWhy(t *testing.T) {
	ref := fit(t, numbers("amount", genSpec{Seed: 1, N: 500, Scale: 1}.sample()))
	p := policy("amount")
	p.MinSamples = 500
	r := evaluate(t, p, ref, frame(numbers("amount", genSpec{Seed: 2, N: 42, Scale: 1, Shift: 5}.sample())))
	if r.Verdict != VerdictNoVerdict || r.Reason != "42 rows in the window, fewer than min_samples 500" || len(r.Features) != 0 {
		t.Errorf("verdict %s (%q), %d features", r.Verdict, r.Reason, len(r.Features))
	}
}

func TestFeatureMissingInEveryTrafficRowDrifts(t *testing.T) {
	ref := fit(t, numbers("amount", genSpec{Seed: 1, N: 500, Scale: 1}.sample()))
	cur := make([]float64, 100)
	for i := range cur {
		cur[i] = math.NaN()
	}
	f := evaluate(t, policy("amount"), ref, frame(numbers("amount", cur))).Features[0]
	if !f.Drifted() || f.MissingRate != 1 || f.MissingChange != 1 || !strings.Contains(f.Reason, "every value missing") {
		t.Errorf("verdict %s, missing %g (change %g): %s", f.Verdict, f.MissingRate, f.MissingChange, f.Reason)
	}
}

func TestNaNAndInfAreMissingValuesNotStatistics(t *testing.T) {
	xs := genSpec{Seed: 1, N: 500, Scale: 1}.sample()
	ref := fit(t, numbers("amount", xs))
	cur := append([]float64(nil), xs[:200]...)
	cur[0], cur[1], cur[2], cur[3] = math.NaN(), math.Inf(1), math.Inf(-1), math.NaN()
	f := evaluate(t, policy("amount"), ref, frame(numbers("amount", cur))).Features[0]
	if f.Drifted() || !f.Statistic.Valid() || !f.PValue.Valid() || f.MissingRate != 0.02 {
		t.Errorf("verdict %s, statistic %g p %g, missing %g", f.Verdict, f.Statistic, f.PValue, f.MissingRate)
	}
	if got := total(f.CurrentCounts); got != 196 {
		t.Errorf("histogram holds %d values, want the 196 finite ones", got)
	}
}

func TestConstantFeatureIsJudgedWithoutDividingByZero(t *testing.T) {
	c := func(n int, v float64) []float64 {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = v
		}
		return xs
	}
	ref := fit(t, numbers("flag", c(2000, 1)))
	same := evaluate(t, policy("flag"), ref, frame(numbers("flag", c(100, 1)))).Features[0]
	moved := evaluate(t, policy("flag"), ref, frame(numbers("flag", c(100, 2)))).Features[0]
	if same.Drifted() || !moved.Drifted() || !same.Statistic.Valid() || !moved.Statistic.Valid() {
		t.Errorf("same: %s %g; moved: %s %g", same.Verdict, same.Statistic, moved.Verdict, moved.Statistic)
	}
	p := policy("flag")
	p.Numerical = MethodWasserstein
	f := evaluate(t, p, ref, frame(numbers("flag", c(100, 1.5)))).Features[0]
	if !f.Drifted() || float64(f.Statistic) != 0.5/stdFloor {
		t.Errorf("normed Wasserstein of a constant reference = %g, want %g", f.Statistic, 0.5/stdFloor)
	}
}

func TestCategoryNeverSeenInTrainingDriftsAndIsNamed(t *testing.T) {
	ref := fit(t, strs("category", "food", 400, "travel", 300, "games", 300))
	p := policy("category")
	p.Categorical = MethodChi2
	f := evaluate(t, p, ref, frame(strs("category", "food", 40, "travel", 30, "games", 29, "crypto", 1))).Features[0]
	if !f.Drifted() || !math.IsInf(float64(f.Statistic), 1) || f.PValue != 0 || len(f.UnseenCategories) != 1 || f.UnseenCategories[0] != "crypto" {
		t.Errorf("verdict %s, chi2 %g p %g, unseen %v", f.Verdict, f.Statistic, f.PValue, f.UnseenCategories)
	}
}

func TestDatasetDriftsWhenShareOfFeaturesDrifts(t *testing.T) {
	a := genSpec{Seed: 1, N: 2000, Scale: 1}.sample()
	b := genSpec{Seed: 2, N: 2000, Scale: 1}.sample()
	ref := fit(t, numbers("a", a), numbers("b", b))
	shifted := genSpec{Seed: 3, N: 500, Scale: 1, Shift: 1}.sample()
	cur := frame(numbers("a", shifted), numbers("b", b[:500]))
	p := policy("a", "b")
	r := evaluate(t, p, ref, cur)
	if r.Verdict != VerdictDrift || r.DriftedFeatures != 1 || r.DriftShare != 0.5 {
		t.Errorf("share 0.5: verdict %s, %d drifted, share %g", r.Verdict, r.DriftedFeatures, r.DriftShare)
	}
	p.DatasetDriftShare = 0.75
	if r := evaluate(t, p, ref, cur); r.Verdict != VerdictNoDrift {
		t.Errorf("share 0.75: verdict %s", r.Verdict)
	}
}

func TestStdThresholdIsMeanPlusKSigmaOfReferenceChunks(t *testing.T) {
	xs := genSpec{Seed: 5, N: 5000, Scale: 1}.sample()
	ref := fit(t, numbers("risk", xs))
	var stats []float64
	for k := 0; k < 10; k++ {
		chunk := append([]float64(nil), xs[k*500:(k+1)*500]...)
		sortFloats(chunk)
		stats = append(stats, WassersteinNormed(Wasserstein(ref.Features["risk"].Sample, chunk), Std(xs)))
	}
	mean := 0.0
	for _, s := range stats {
		mean += s / 10
	}
	want := mean + 3*Std(stats)
	p := policy("risk")
	p.Numerical = MethodWasserstein
	p.Threshold = schema.Threshold{Kind: "std", K: 3}
	f := evaluate(t, p, ref, frame(numbers("risk", genSpec{Seed: 6, N: 500, Scale: 1, Shift: 0.5}.sample()))).Features[0]
	if math.Abs(f.Threshold-want) > 1e-12 || !f.Drifted() {
		t.Errorf("threshold %g, want %g; verdict %s at %g", f.Threshold, want, f.Verdict, f.Statistic)
	}
	calm := evaluate(t, p, ref, frame(numbers("risk", xs[:500]))).Features[0]
	if calm.Drifted() {
		t.Errorf("a reference chunk drifted: %g > %g", calm.Statistic, calm.Threshold)
	}
}
