package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"sluice/engine/planjson"
	"sluice/internal/ortlib"
	"sluice/runtime/drift"
	"sluice/runtime/store"
	"sluice/schema"
)

// capturedEndpoint captures every request of the fraud endpoint and
// watches it with one policy that alerts, retrains and rolls back.
const capturedEndpoint = `
endpoints: fraud: {model: "fraud", alias: "production", instance_groups: [{count: 1}], capture: rate: 1.0}
drift: inputs: {endpoint: "fraud", features: ["score", "segment"], min_samples: 40, window: "1h", on_drift: ["alert", "retrain", "rollback"]}
`

// score sends one row to the fraud endpoint and returns its request id.
func score(t *testing.T, base string, score float64, segment string) string {
	t.Helper()
	body := fmt.Sprintf(`{"instances":[{"segment":[%q],"score":[%g]}]}`, segment, score)
	resp, err := http.Post(base+"/v1/models/fraud:predict", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out struct {
		RequestID string `json:"request_id"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(b, &out) != nil || out.RequestID == "" {
		t.Fatalf("predict: %d %s", resp.StatusCode, b)
	}
	return out.RequestID
}

func feedback(t *testing.T, base, id string, label float64) int {
	t.Helper()
	resp, err := http.Post(base+"/v1/feedback", "application/json",
		strings.NewReader(fmt.Sprintf(`{"endpoint":"fraud","request_id":%q,"label":%g}`, id, label)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestEndToEndDriftedTrafficFiresAlertRetrainAndRollbackWithTheNumbers(t *testing.T) {
	ortlib.Need(t)
	ctx := context.Background()
	db := openState(t)
	d := newTrainingDrivers(t, db)
	ds, err := drift.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	d.Drift = ds
	srv, base := newServer(t)
	buf := drift.NewCapture(db, drift.CaptureOptions{})
	t.Cleanup(func() { buf.Close(context.Background()) })
	d.Serving = CapturingServer{Server: srv, Capture: DriftCapture{Buffer: buf}}
	srv.SetFeedback(DriftFeedback{DB: db, Buffer: buf})
	applyServing(t, db, d.Drivers, servingRepo(1, "1.0", capturedEndpoint), "c1")
	applyServing(t, db, d.Drivers, servingRepo(1, "2.0", capturedEndpoint), "c2")
	fsys := servingRepo(2, "2.0", capturedEndpoint)
	applyServing(t, db, d.Drivers, fsys, "c3")
	spec := loadSpec(t, fsys)

	// Drifted traffic: scores far above the trained range, a new segment.
	var ids []string
	for i := 0; i < 50; i++ {
		ids = append(ids, score(t, base, 40+float64(i), "c"))
	}
	if code := feedback(t, base, ids[0], 1); code != http.StatusNoContent {
		t.Fatalf("feedback for a served request: %d", code)
	}
	if code := feedback(t, base, "never-served", 1); code != http.StatusNotFound {
		t.Fatalf("feedback for an unknown request: %d, want 404", code)
	}
	var notified []store.Event
	var trained []string
	m := &Monitor{DB: db, Registry: d.registry, Serving: d.Serving, Online: d.Online,
		Notify: func(_ context.Context, _ *schema.Spec, ev store.Event) { notified = append(notified, ev) },
		Retrain: func(ctx context.Context, spec *schema.Spec, exp, promoteTo string) (string, error) {
			res, err := Train(ctx, db, d.Drivers, TrainRequest{Spec: spec, FS: fsys, Experiment: exp, Trigger: TriggerDrift,
				Revision: planjson.Revision{Commit: "c3"}})
			if err != nil {
				return "", err
			}
			trained = append(trained, fmt.Sprintf("%s v%d", res.Model, res.Version))
			return fmt.Sprintf("registered %s v%d", res.Model, res.Version), nil
		},
		Now: func() time.Time { return time.Now().Add(time.Second) }}
	r, err := m.Check(ctx, spec, "inputs")
	if err != nil {
		t.Fatal(err)
	}
	if r.Verdict != drift.VerdictDrift || r.CurrentRows != 50 || r.Version != 2 || r.Quality == nil || r.Quality.Labeled != 1 {
		t.Fatalf("report: %s (quality %+v)", Summary(r), r.Quality)
	}
	if len(notified) != 3 {
		t.Fatalf("%d notifications, want alert, retrain and rollback: %+v", len(notified), notified)
	}
	for i, want := range []string{"drift: 2 of 2 features drifted", "retrained lr on drift (registered fraud v3)", "rolled back from v2 to v1 by drift policy inputs"} {
		if !strings.Contains(notified[i].Message, want) || !strings.Contains(notified[i].Message, "score ks p=") {
			t.Errorf("action %d: %q, want %q and the numbers", i, notified[i].Message, want)
		}
	}
	if len(trained) != 1 || trained[0] != "fraud v3" {
		t.Errorf("retrained %v", trained)
	}
	if st, _ := srv.Status("fraud"); st.Serving != 1 {
		t.Errorf("serving v%d after the rollback, want v1", st.Serving)
	}
	// Traffic now reaches v1 and is captured under it.
	score(t, base, 1, "a")
	buf.Flush(ctx)
	var n int
	db.QueryRowContext(ctx, `SELECT coalesce(sum(rows), 0) FROM drift_capture_chunks WHERE version = 1`).Scan(&n)
	if n != 1 {
		t.Errorf("%d rows captured under v1 after the rollback", n)
	}
}
