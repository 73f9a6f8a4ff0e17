package drift

import (
	"fmt"

	"sluice/schema"
)

// JudgeQuality judges a report's live quality against the policy's gate:
// a drop of the metric beyond MaxDrop below the holdout value (a rise, for
// rmse) is concept drift, and makes the report's verdict drift whatever
// the inputs say. Without enough labels the quality has no verdict and the
// report's stands.
func JudgeQuality(r *Report, g *schema.QualityGate) {
	q := r.Quality
	if g == nil || q == nil {
		return
	}
	q.Metric, q.MaxDrop = g.Metric, g.MaxDrop
	if q.Labeled < g.MinLabels {
		q.Verdict = VerdictNoVerdict
		q.Reason = fmt.Sprintf("%d labelled rows, fewer than min_labels %d", q.Labeled, g.MinLabels)
		return
	}
	live := map[string]Number{"f1": q.F1, "accuracy": q.Accuracy, "rmse": q.RMSE}[g.Metric]
	base, ok := q.Holdout[g.Metric]
	if !live.Valid() || !ok {
		q.Verdict = VerdictNoVerdict
		q.Reason = fmt.Sprintf("no %s to compare: the version's holdout metrics lack it or the task does not have it", g.Metric)
		return
	}
	drop := base - float64(live)
	if g.Metric == "rmse" {
		drop = -drop
	}
	q.Drop = Number(drop)
	q.Verdict = VerdictNoDrift
	if drop > g.MaxDrop {
		q.Verdict = VerdictDrift
		r.Verdict, r.Reason = VerdictDrift, ""
	}
}
