package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"sluice/runtime/drift"
)

// TestAQualityDropFiresThePolicyWhenTheInputsLookFine: traffic like the
// training data, but feedback labels that contradict every prediction
// (concept drift): the inputs do not drift, live accuracy collapses below
// the holdout's and the policy with a quality gate alerts, with the numbers.
func TestAQualityDropFiresThePolicyWhenTheInputsLookFine(t *testing.T) {
	w := newDriftWorld(t, `"alert"`)
	spec := loadSpec(t, servingRepo(2, "2.0", strings.Replace(driftEndpoint(`"alert"`), `on_drift: ["alert"]}`,
		`on_drift: ["alert"], quality: {metric: "accuracy", max_drop: 0.1, min_labels: 40}}`, 1)))
	if g := spec.Drift["inputs"].Quality; g == nil || g.Metric != "accuracy" || g.MaxDrop != 0.1 || g.MinLabels != 40 {
		t.Fatalf("quality gate decoded as %+v", g)
	}
	w.spec = spec
	ctx := context.Background()
	rows := make([]drift.Row, 60)
	for i := range rows {
		rows[i] = drift.Row{Endpoint: "fraud", RequestID: fmt.Sprintf("q%d", i), Version: 2, Time: w.now.Add(-time.Minute),
			Numeric: map[string]float64{"score": float64((i*37)%40) / 4}, Category: map[string]string{"segment": []string{"a", "b"}[i%2]},
			Prediction: []float64{0.1, 0.9}}
	}
	w.capture.Capture(rows)
	if err := w.capture.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	r := w.check()
	if r.Verdict == drift.VerdictDrift {
		t.Fatalf("without labels the policy fired: %s", Summary(r))
	}
	for i := 0; i < 30; i++ {
		if err := drift.AddFeedback(ctx, w.db, "fraud", fmt.Sprintf("q%d", i), 0, w.now); err != nil {
			t.Fatal(err)
		}
	}
	if r := w.check(); r.Verdict == drift.VerdictDrift || r.Quality == nil || r.Quality.Verdict != drift.VerdictNoVerdict {
		t.Fatalf("30 labels, fewer than min_labels 40: %s (quality %+v)", Summary(r), r.Quality)
	}
	for i := 30; i < 60; i++ {
		if err := drift.AddFeedback(ctx, w.db, "fraud", fmt.Sprintf("q%d", i), 0, w.now); err != nil {
			t.Fatal(err)
		}
	}
	r = w.check()
	if r.Verdict != drift.VerdictDrift || r.DriftedFeatures != 0 || r.Quality.Verdict != drift.VerdictDrift {
		t.Fatalf("report: %s (quality %+v)", Summary(r), r.Quality)
	}
	if len(w.notified) != 1 || !strings.Contains(w.notified[0].Message, "live accuracy 0 against holdout") ||
		!strings.Contains(w.notified[0].Message, "60 labelled rows") || !strings.Contains(w.notified[0].Message, "inputs: 0 of 2 features drifted") {
		t.Fatalf("alerts: %+v", w.notified)
	}
}
