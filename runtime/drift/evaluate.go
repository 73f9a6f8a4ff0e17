package drift

import (
	"fmt"
	"math"
	"time"

	"sluice/schema"
)

// Verdicts of a feature and of a whole report.
const (
	VerdictDrift     = "drift"
	VerdictNoDrift   = "no_drift"
	VerdictNoVerdict = "no_verdict"
)

// Report is one evaluation of a drift policy over a window of traffic.
type Report struct {
	Policy   string `json:"policy"`
	Endpoint string `json:"endpoint"`
	Model    string `json:"model"`
	Version  int    `json:"version"`
	// From and To bound the window; zero when the rows did not come from one.
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// ReferenceRows and CurrentRows are the two sample sizes.
	ReferenceRows int64 `json:"reference_rows"`
	CurrentRows   int64 `json:"current_rows"`
	MinSamples    int   `json:"min_samples"`
	// Verdict is the dataset's: drift when at least DatasetDriftShare of
	// the judged features drifted. Reason says why there is no verdict.
	Verdict           string  `json:"verdict"`
	Reason            string  `json:"reason,omitempty"`
	DriftedFeatures   int     `json:"drifted_features"`
	JudgedFeatures    int     `json:"judged_features"`
	DriftShare        float64 `json:"drift_share"`
	DatasetDriftShare float64 `json:"dataset_drift_share"`
	// Features are the policy's features in its order; Prediction holds
	// the model-output columns, judged the same way but not counted in the
	// dataset's share.
	Features   []FeatureReport `json:"features"`
	Prediction []FeatureReport `json:"prediction,omitempty"`
	// Quality is the live quality from feedback labels, when known.
	Quality *Quality `json:"quality,omitempty"`
}

// FeatureReport is one feature's statistic, threshold and verdict.
type FeatureReport struct {
	Name      string `json:"name"`
	Numerical bool   `json:"numerical"`
	Method    string `json:"method"`
	// Statistic is the method's statistic (KS's D, chi-square, |z|, PSI or
	// a distance); PValue the test's p-value, absent for distances.
	Statistic Number `json:"statistic"`
	PValue    Number `json:"p_value"`
	// Threshold is compared with the p-value (drift when below) for tests
	// and with the statistic (drift when at or above) otherwise; a std
	// threshold is compared with the statistic (drift when above).
	Threshold       float64 `json:"threshold"`
	ThresholdSource string  `json:"threshold_source"`
	Verdict         string  `json:"verdict"`
	Reason          string  `json:"reason,omitempty"`
	ReferenceRows   int64   `json:"reference_rows"`
	CurrentRows     int64   `json:"current_rows"`
	// MissingRate is the current share of missing values, MissingChange
	// its change from the reference.
	MissingRate      Number   `json:"missing_rate"`
	MissingChange    Number   `json:"missing_change"`
	UnseenCategories []string `json:"unseen_categories,omitempty"`
	// Bins, ReferenceCounts and CurrentCounts are the histogram.
	Bins            []string `json:"bins"`
	ReferenceCounts []int64  `json:"reference_counts"`
	CurrentCounts   []int64  `json:"current_counts"`
}

// Drifted says whether the feature drifted.
func (f FeatureReport) Drifted() bool { return f.Verdict == VerdictDrift }

// Options tune an evaluation beyond the policy.
type Options struct {
	// From and To are recorded in the report.
	From, To time.Time
	// JSBase is the Jensen–Shannon log base; 0 means e (scipy's default
	// and Evidently's).
	JSBase float64
	// Prediction names the model-output columns to judge as prediction drift.
	Prediction []string
}

// Evaluate judges policy p over the current rows against the reference,
// reading one column at a time.
func Evaluate(p *schema.Drift, ref *Reference, cur Source, opt Options) (*Report, error) {
	r := &Report{
		Policy: p.Addr.Name, Endpoint: p.Endpoint, Model: ref.Model, Version: ref.Version,
		From: opt.From, To: opt.To, ReferenceRows: ref.Rows, CurrentRows: cur.Rows(),
		MinSamples: p.MinSamples, DatasetDriftShare: p.DatasetDriftShare,
	}
	if r.DatasetDriftShare == 0 {
		r.DatasetDriftShare = 0.5
	}
	if r.CurrentRows < int64(p.MinSamples) {
		r.Verdict = VerdictNoVerdict
		r.Reason = fmt.Sprintf("%d rows in the window, fewer than min_samples %d", r.CurrentRows, p.MinSamples)
		return r, nil
	}
	for _, name := range p.Features {
		f, err := evaluateFeature(p, ref, cur, name, opt.JSBase)
		if err != nil {
			return nil, err
		}
		r.Features = append(r.Features, f)
		if f.Verdict != VerdictNoVerdict {
			r.JudgedFeatures++
		}
		if f.Drifted() {
			r.DriftedFeatures++
		}
	}
	for _, name := range opt.Prediction {
		if _, ok := ref.Features[name]; !ok {
			continue
		}
		f, err := evaluateFeature(p, ref, cur, name, opt.JSBase)
		if err != nil {
			return nil, err
		}
		if f.Method == "" && f.MissingRate == 1 {
			// Traffic captured without outputs says nothing about them.
			f.Verdict, f.Reason = VerdictNoVerdict, "no predictions captured"
		}
		r.Prediction = append(r.Prediction, f)
	}
	r.Verdict = VerdictNoVerdict
	if r.JudgedFeatures == 0 {
		r.Reason = "no feature could be judged"
		return r, nil
	}
	r.DriftShare = float64(r.DriftedFeatures) / float64(r.JudgedFeatures)
	r.Verdict = VerdictNoDrift
	if r.DriftShare >= r.DatasetDriftShare {
		r.Verdict = VerdictDrift
	}
	return r, nil
}

func evaluateFeature(p *schema.Drift, ref *Reference, cur Source, name string, base float64) (FeatureReport, error) {
	f := FeatureReport{Name: name, Verdict: VerdictNoVerdict, Statistic: Number(math.NaN()), PValue: Number(math.NaN()),
		MissingRate: Number(math.NaN()), MissingChange: Number(math.NaN())}
	fr, ok := ref.Features[name]
	if !ok {
		f.Reason = fmt.Sprintf("the reference of %s version %d has no feature %s", ref.Model, ref.Version, name)
		return f, nil
	}
	f.Numerical, f.ReferenceRows = fr.Numerical, fr.Rows
	col, ok, err := cur.Column(name)
	if err != nil {
		return f, fmt.Errorf("read current %s: %w", name, err)
	}
	if !ok {
		f.Reason = "the captured traffic has no feature " + name
		return f, nil
	}
	if col.Numerical() != fr.Numerical {
		f.Reason = fmt.Sprintf("feature %s is %s in the reference but %s in the traffic", name, kindName(fr.Numerical), kindName(col.Numerical()))
		return f, nil
	}
	s := summarize(col)
	f.CurrentRows = s.rows
	if s.rows > 0 {
		f.MissingRate = Number(float64(s.missing) / float64(s.rows))
		f.MissingChange = Number(MissingRateChange(fr.Missing, fr.Rows, s.missing, s.rows))
	}
	refValues, curValues := fr.Rows-fr.Missing, s.rows-s.missing
	switch {
	case refValues == 0 && curValues == 0:
		f.Reason = "always missing, in the reference and in the traffic"
		return f, nil
	case refValues == 0:
		f.Reason = "always missing in the reference; nothing to compare the traffic with"
		return f, nil
	case curValues == 0:
		f.Verdict = VerdictDrift
		f.Reason = fmt.Sprintf("every value missing in the traffic (reference: %.1f%% missing)", 100*float64(fr.Missing)/float64(fr.Rows))
		return f, nil
	}
	f.Method = methodFor(p, fr, s)
	c := compare(f.Method, fr, s, base)
	if c.err != "" {
		f.Reason = c.err
		return f, nil
	}
	f.Statistic, f.PValue = Number(c.stat), Number(c.p)
	f.Bins, f.ReferenceCounts, f.CurrentCounts, f.UnseenCategories = c.labels, c.ref, c.cur, c.unseen
	drifted, reason := judge(p.Threshold, f.Method, fr, c, &f)
	f.Verdict = VerdictNoDrift
	if drifted {
		f.Verdict = VerdictDrift
	}
	f.Reason = reason
	return f, nil
}

// methodFor is the policy's method for the feature's kind, or Evidently's
// default for it.
func methodFor(p *schema.Drift, fr *FeatureReference, s summary) string {
	if fr.Numerical && p.Numerical != "" {
		return p.Numerical
	}
	if !fr.Numerical && p.Categorical != "" {
		return p.Categorical
	}
	return defaultMethod(fr, nunique(fr, s))
}

// judge compares the comparison with the policy's threshold (or the
// method's default) and fills in the threshold used.
func judge(t schema.Threshold, method string, fr *FeatureReference, c comparison, f *FeatureReport) (bool, string) {
	if t.Kind == "std" {
		cs, ok := fr.Chunks[method]
		if !ok {
			f.Threshold, f.ThresholdSource = math.NaN(), "std"
			return false, fmt.Sprintf("no %s statistics over reference chunks (reference too small)", method)
		}
		f.Threshold = cs.Mean + t.K*cs.Std
		f.ThresholdSource = fmt.Sprintf("std: mean + %g·σ of %s over %d reference chunks", t.K, method, referenceChunks)
		if c.stat > f.Threshold {
			return true, fmt.Sprintf("%s %.4g above %.4g", method, c.stat, f.Threshold)
		}
		return false, ""
	}
	f.Threshold, f.ThresholdSource = t.Value, "policy"
	if t.Value == 0 {
		f.Threshold, f.ThresholdSource = defaultThreshold(method), "default"
	}
	if isTest(method) {
		if c.p < f.Threshold {
			return true, fmt.Sprintf("%s p-value %.4g below %g", method, c.p, f.Threshold)
		}
		return false, ""
	}
	if c.stat >= f.Threshold {
		return true, fmt.Sprintf("%s %.4g at or above %g", method, c.stat, f.Threshold)
	}
	return false, ""
}

func kindName(numerical bool) string {
	if numerical {
		return "numerical"
	}
	return "categorical"
}
