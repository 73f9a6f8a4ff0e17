package drift

import (
	"math"
	"testing"

	"sluice/schema"
)

func TestQualityDropBeyondMaxDropIsConceptDrift(t *testing.T) {
	gate := &schema.QualityGate{Metric: "f1", MaxDrop: 0.05, MinLabels: 10}
	for _, tc := range []struct {
		name        string
		labeled     int
		live        float64
		metric      string
		holdout     float64
		wantQuality string
		wantReport  string
	}{
		{"f1 fell by 0.2", 50, 0.68, "f1", 0.88, VerdictDrift, VerdictDrift},
		{"f1 fell by 0.03", 50, 0.85, "f1", 0.88, VerdictNoDrift, VerdictNoDrift},
		{"f1 rose", 50, 0.95, "f1", 0.88, VerdictNoDrift, VerdictNoDrift},
		{"too few labels", 9, 0.10, "f1", 0.88, VerdictNoVerdict, VerdictNoDrift},
		{"rmse rose by 0.3", 50, 1.3, "rmse", 1.0, VerdictDrift, VerdictDrift},
		{"rmse fell", 50, 0.7, "rmse", 1.0, VerdictNoDrift, VerdictNoDrift},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := &Quality{Labeled: tc.labeled, F1: Number(math.NaN()), RMSE: Number(math.NaN()), Holdout: map[string]float64{tc.metric: tc.holdout}}
			if tc.metric == "rmse" {
				q.RMSE = Number(tc.live)
			} else {
				q.F1 = Number(tc.live)
			}
			r := &Report{Verdict: VerdictNoDrift, Quality: q}
			g := *gate
			g.Metric = tc.metric
			JudgeQuality(r, &g)
			if q.Verdict != tc.wantQuality || r.Verdict != tc.wantReport {
				t.Errorf("quality %s (%s), report %s; want %s, %s", q.Verdict, q.Reason, r.Verdict, tc.wantQuality, tc.wantReport)
			}
		})
	}
}

func TestQualityGateWithoutTheMetricHasNoVerdict(t *testing.T) {
	q := &Quality{Labeled: 500, Task: "regression", RMSE: 0.4, F1: Number(math.NaN()), Holdout: map[string]float64{"rmse": 0.3}}
	r := &Report{Verdict: VerdictNoDrift, Quality: q}
	JudgeQuality(r, &schema.QualityGate{Metric: "f1", MaxDrop: 0.01, MinLabels: 1})
	if q.Verdict != VerdictNoVerdict || q.Reason == "" || r.Verdict != VerdictNoDrift {
		t.Errorf("f1 gate on a regressor: quality %s (%q), report %s", q.Verdict, q.Reason, r.Verdict)
	}
}
