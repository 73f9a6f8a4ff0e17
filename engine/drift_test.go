package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"sluice/engine/planjson"
	"sluice/internal/ortlib"
	"sluice/runtime/drift"
	"sluice/runtime/serving"
	"sluice/runtime/store"
	"sluice/schema"
)

// driftEndpoint is the fraud endpoint with a drift policy over both of
// the model's features.
func driftEndpoint(actions string) string {
	return fraudEndpoint + `
drift: inputs: {endpoint: "fraud", features: ["score", "segment"], min_samples: 50, window: "1h", on_drift: [` + actions + `]}
`
}

// driftWorld is a server serving fraud v2 (production moved 1 → 2), the
// drift tables, a capture buffer and a monitor whose notifications and
// retrains are recorded.
type driftWorld struct {
	t        *testing.T
	db       *store.DB
	d        trainingDrivers
	srv      *serving.Server
	base     string
	capture  *drift.Capture
	mon      *Monitor
	spec     *schema.Spec
	repo     func(prod int) map[string]string
	notified []store.Event
	retrains []string
	now      time.Time
	actions  string
}

func newDriftWorld(t *testing.T, actions string) *driftWorld {
	ortlib.Need(t)
	ctx := context.Background()
	w := &driftWorld{t: t, db: openState(t), now: fixedClock(), actions: actions}
	w.d = newTrainingDrivers(t, w.db)
	ds, err := drift.Open(ctx, w.db)
	if err != nil {
		t.Fatal(err)
	}
	w.d.Drift = ds
	w.srv, w.base = newServer(t)
	w.d.Serving = w.srv
	applyServing(t, w.db, w.d.Drivers, servingRepo(1, "1.0", driftEndpoint(actions)), "c1")
	applyServing(t, w.db, w.d.Drivers, servingRepo(1, "2.0", driftEndpoint(actions)), "c2")
	fsys := servingRepo(2, "2.0", driftEndpoint(actions))
	applyServing(t, w.db, w.d.Drivers, fsys, "c3")
	w.spec = loadSpec(t, fsys)
	w.capture = drift.NewCapture(w.db, drift.CaptureOptions{Now: func() time.Time { return w.now }})
	t.Cleanup(func() { w.capture.Close(context.Background()) })
	w.mon = &Monitor{DB: w.db, Registry: w.d.registry, Serving: w.srv, Now: func() time.Time { return w.now },
		Notify: func(_ context.Context, _ *schema.Spec, ev store.Event) { w.notified = append(w.notified, ev) }}
	return w
}

// send captures n requests to version, drifted (scores far above any
// trained on, a segment never seen) or like the training data.
func (w *driftWorld) send(n, version int, drifted bool) {
	rows := make([]drift.Row, n)
	for i := range rows {
		score, seg := float64((i*37)%40)/4, []string{"a", "b"}[i%2]
		if drifted {
			score, seg = 50+float64(i), "c"
		}
		rows[i] = drift.Row{Endpoint: "fraud", RequestID: fmt.Sprintf("r%d-%d", w.now.Unix(), i), Version: version,
			Time: w.now.Add(-time.Minute), Numeric: map[string]float64{"score": score}, Category: map[string]string{"segment": seg}}
	}
	w.capture.Capture(rows)
	if err := w.capture.Flush(context.Background()); err != nil {
		w.t.Fatal(err)
	}
}

func (w *driftWorld) check() *drift.Report {
	w.t.Helper()
	r, err := w.mon.Check(context.Background(), w.spec, "inputs")
	if err != nil {
		w.t.Fatal(err)
	}
	return r
}

func (w *driftWorld) events(reason string) []store.Event {
	evs, err := store.Events(context.Background(), w.db, store.EventFilter{})
	if err != nil {
		w.t.Fatal(err)
	}
	var out []store.Event
	for _, e := range evs {
		if e.Reason == reason {
			out = append(out, e)
		}
	}
	return out
}

func TestDriftAlertFiresOncePerEpisodeWithTheNumbers(t *testing.T) {
	w := newDriftWorld(t, `"alert"`)
	w.send(60, 2, true)
	r := w.check()
	if r.Verdict != drift.VerdictDrift || r.DriftedFeatures != 2 || r.Version != 2 {
		t.Fatalf("report %s: %s", r.Verdict, Summary(r))
	}
	alerts := w.events(ReasonDriftDetected)
	if len(alerts) != 1 || len(w.notified) != 1 || !strings.Contains(alerts[0].Message, "score ks p=") ||
		!strings.Contains(alerts[0].Message, "segment chi2 p=0") || !strings.Contains(alerts[0].Message, "60 rows of fraud v2") {
		t.Fatalf("alerts %+v, notified %d", alerts, len(w.notified))
	}
	w.now = w.now.Add(5 * time.Minute)
	w.check() // still drifting: the same episode, no second alert
	if n := len(w.events(ReasonDriftDetected)); n != 1 || len(w.notified) != 1 {
		t.Fatalf("%d alerts, %d notifications after a second drifted check", n, len(w.notified))
	}
	w.now = w.now.Add(2 * time.Hour)
	w.send(60, 2, false)
	if r := w.check(); r.Verdict != drift.VerdictNoDrift || len(w.events(ReasonDriftResolved)) != 1 {
		t.Fatalf("calm window: %s, %d resolved events", Summary(r), len(w.events(ReasonDriftResolved)))
	}
	w.now = w.now.Add(2 * time.Hour)
	w.send(60, 2, true)
	w.check()
	if n := len(w.events(ReasonDriftDetected)); n != 2 {
		t.Fatalf("%d alerts after a second episode began, want 2", n)
	}
}

func TestDriftPolicyWithTooFewSamplesHasNoVerdictAndSaysWhy(t *testing.T) {
	w := newDriftWorld(t, `"alert"`)
	w.send(20, 2, true)
	r := w.check()
	conds, _ := store.Conditions(context.Background(), w.db)
	for _, c := range conds {
		if c.Kind == "drift" && c.Name == "inputs" && (c.Reason != ReasonNoVerdict || !strings.Contains(c.Message, "20 rows in the window, fewer than min_samples 50")) {
			t.Errorf("condition %+v", c)
		}
	}
	if r.Verdict != drift.VerdictNoVerdict || len(w.notified) != 0 {
		t.Errorf("verdict %s, %d notifications", r.Verdict, len(w.notified))
	}
}

func TestDriftRollbackServesThePreviousVersionAndHoldsUntilANewCommit(t *testing.T) {
	w := newDriftWorld(t, `"rollback"`)
	w.send(60, 2, true)
	w.check()
	if st, _ := w.srv.Status("fraud"); st.Serving != 1 {
		t.Fatalf("serving v%d after the rollback, want v1", st.Serving)
	}
	if code, _ := predict(t, w.base, "1"); code != 200 {
		t.Fatalf("predict v1 after the rollback: %d", code)
	}
	ev := w.events(ReasonDriftRollback)
	if len(ev) != 2 || !strings.Contains(ev[0].Message, "rolled back from v2 to v1 by drift policy inputs") || !strings.Contains(ev[0].Message, "score ks p=") {
		t.Fatalf("rollback events %+v", ev)
	}
	conds, _ := store.Conditions(context.Background(), w.db)
	for _, c := range conds {
		if c.Kind == "endpoints" && (c.Status != store.Held || c.Reason != ReasonDriftRollback || !strings.Contains(c.Message, "drift policy inputs")) {
			t.Errorf("endpoint condition %+v, want Held by the policy", c)
		}
	}
	// Planning the same commit again keeps the hold and says so.
	fsys := servingRepo(2, "2.0", driftEndpoint(w.actions))
	p := planServing(t, w.db, w.srv, fsys, "c3")
	c := changeOf(p, "endpoints.fraud")
	if c.Action != planjson.ActionNoOp || !strings.Contains(c.Detail, "held at v1 by drift policy inputs") || len(p.Diagnostics) != 1 {
		t.Fatalf("plan of the held commit: %s %q %+v", c.Action, c.Detail, p.Diagnostics)
	}
	if _, res := applyServing(t, w.db, w.d.Drivers, fsys, "c3"); len(res.Steps) != 0 {
		t.Fatalf("applying the held commit did %+v", res.Steps)
	}
	if st, _ := w.srv.Status("fraud"); st.Serving != 1 {
		t.Fatalf("serving v%d after re-applying the held commit", st.Serving)
	}
	// A new commit releases it: git is the truth again.
	p, _ = applyServing(t, w.db, w.d.Drivers, fsys, "c4")
	if c := changeOf(p, "endpoints.fraud"); c.Action != planjson.ActionSwap || !contains(c.Reasons, planReasonDriftHoldReleased) {
		t.Fatalf("plan of a new commit: %s %v %q", c.Action, c.Reasons, c.Detail)
	}
	if st, _ := w.srv.Status("fraud"); st.Serving != 2 {
		t.Fatalf("serving v%d after a new commit, want v2", st.Serving)
	}
}

func TestDriftRetrainStartsTheServingVersionsExperiment(t *testing.T) {
	w := newDriftWorld(t, `"retrain"`)
	w.mon.Retrain = func(_ context.Context, _ *schema.Spec, exp, promoteTo string) (string, error) {
		w.retrains = append(w.retrains, exp+"→"+promoteTo)
		return "registered fraud v3", nil
	}
	w.send(60, 2, true)
	w.check()
	w.check()
	ev := w.events(ReasonRetrainStarted)
	if len(w.retrains) != 1 || w.retrains[0] != "lr→" || len(ev) != 1 || !strings.Contains(ev[0].Message, "retrained lr on drift (registered fraud v3): 2 of 2 features drifted") {
		t.Fatalf("retrains %v, events %+v", w.retrains, w.events(ReasonRetrainStarted))
	}
}

func TestAFailedRetrainIsReportedOnceAndTheServingVersionStays(t *testing.T) {
	w := newDriftWorld(t, `"retrain"`)
	w.mon.Retrain = func(context.Context, *schema.Spec, string, string) (string, error) {
		return "", errors.New("dataset: no rows")
	}
	w.send(60, 2, true)
	w.check()
	w.now = w.now.Add(5 * time.Minute)
	w.check()
	ev := w.events(ReasonRetrainFailed)
	if len(ev) != 1 || !strings.Contains(ev[0].Message, "retrain of lr failed: dataset: no rows; fraud v2 keeps serving") {
		t.Fatalf("retrain failures %+v", ev)
	}
	if st, _ := w.srv.Status("fraud"); st.Serving != 2 {
		t.Fatalf("serving v%d after a failed retrain", st.Serving)
	}
}

func TestPoliciesAreCheckedOnTheirEverySchedule(t *testing.T) {
	w := newDriftWorld(t, `"alert"`)
	w.send(60, 2, true)
	due := Schedule{}
	ctx := context.Background()
	if got := w.mon.RunDue(ctx, w.spec, due); len(got) != 0 {
		t.Fatalf("checked %d policies at once; the first check waits one every", len(got))
	}
	w.now = w.now.Add(4 * time.Minute)
	if got := w.mon.RunDue(ctx, w.spec, due); len(got) != 0 {
		t.Fatalf("checked before every (5m) passed")
	}
	w.now = w.now.Add(time.Minute)
	got := w.mon.RunDue(ctx, w.spec, due)
	if len(got) != 1 || got[0].Policy != "inputs" || got[0].Verdict != drift.VerdictDrift {
		t.Fatalf("reports at 5m: %+v", got)
	}
	if r, at, _ := drift.LastReport(ctx, w.db, "inputs"); r == nil || !at.Equal(w.now) {
		t.Fatalf("last report %v at %v", r, at)
	}
	if got := w.mon.RunDue(ctx, w.spec, due); len(got) != 0 {
		t.Fatalf("checked twice in one every")
	}
}

func TestStateServingJudgesTheVersionTheStateRecords(t *testing.T) {
	w := newDriftWorld(t, `"rollback"`)
	w.send(60, 2, true)
	ctx := context.Background()
	reader := &Monitor{DB: w.db, Registry: w.d.registry, Status: StateServing{Ctx: ctx, Q: w.db, Spec: w.spec}, Now: w.mon.Now}
	r, err := reader.Evaluate(ctx, w.spec, "inputs")
	if err != nil || r.Version != 2 || r.Verdict != drift.VerdictDrift {
		t.Fatalf("before the rollback: %v %+v", err, r)
	}
	w.check() // rolls back to v1 and holds it
	r, err = reader.Evaluate(ctx, w.spec, "inputs")
	if err != nil || r.Version != 1 || r.Verdict != drift.VerdictNoVerdict {
		t.Fatalf("after the rollback: %v, v%d %s", err, r.Version, Summary(r))
	}
	if _, err := reader.Evaluate(ctx, w.spec, "nope"); err == nil || !strings.Contains(err.Error(), "(policies: inputs)") {
		t.Errorf("unknown policy: %v", err)
	}
}

func TestPlanWarnsOfAPolicyFeatureNoExperimentTrainsOn(t *testing.T) {
	db := openState(t)
	fsys := servingRepo(0, "1.0", fraudEndpoint+`
drift: inputs: {endpoint: "fraud", features: ["score", "scroe", "prediction_1"]}
`)
	p := planRevision(t, db, fsys, "c1")
	var warnings []planjson.Diagnostic
	for _, d := range p.Diagnostics {
		if d.Address == "drift.inputs" {
			warnings = append(warnings, d)
		}
	}
	if len(warnings) != 1 || warnings[0].Severity != "warning" ||
		warnings[0].Summary != `no experiment of model fraud trains on a feature "scroe" (its features: score, segment); it will never be judged` {
		t.Fatalf("diagnostics %+v", warnings)
	}
	if c := changeOf(p, "drift.inputs"); !strings.Contains(c.Detail, "monitor endpoint fraud every 5m over the last 1h") {
		t.Errorf("detail %q", c.Detail)
	}
}

// proposals records what a write-back would commit; source.WriteBack, the
// real one, cannot be imported by the engine (DESIGN's import table).
type proposals []string

func (p *proposals) ProposeAlias(_ context.Context, model, alias string, version int, why string) (string, error) {
	*p = append(*p, fmt.Sprintf("%s@%s=v%d %s", model, alias, version, why))
	return fmt.Sprintf("%012d%028d", len(*p), 0), nil
}

func TestDriftRetrainAndRollbackAreProposedInGitWithTheNumbers(t *testing.T) {
	w := newDriftWorld(t, `"retrain", "rollback"], promote_to: "production", on_drift: ["retrain", "rollback"`)
	var wb proposals
	w.mon.WriteBack = &wb
	fsys := servingRepo(2, "2.0", driftEndpoint(w.actions))
	w.mon.Retrain = func(ctx context.Context, spec *schema.Spec, exp, _ string) (string, error) {
		res, err := Train(ctx, w.db, w.d.Drivers, TrainRequest{Spec: spec, FS: fsys, Experiment: exp, Trigger: TriggerDrift})
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("registered %s v%d", res.Model, res.Version), nil
	}
	w.send(60, 2, true)
	w.check()
	if len(wb) != 2 || !strings.HasPrefix(wb[0], "fraud@production=v3 promote: drift policy inputs retrained lr as v3") ||
		!strings.HasPrefix(wb[1], "fraud@production=v1 rollback: drift policy inputs rolled endpoint fraud back from v2 to v1") {
		t.Fatalf("proposals %q", wb)
	}
	for _, p := range wb {
		if !strings.Contains(p, "score ks p=") {
			t.Errorf("proposal without the numbers: %q", p)
		}
	}
	if ev := w.events(ReasonDriftRollback); len(ev) < 2 || !strings.Contains(ev[len(ev)-1].Message, "proposed in git as commit 000000000002") {
		t.Errorf("rollback events %+v", ev)
	}
}

func TestARetrainRunsBesideTheChecksAndOncePerEpisode(t *testing.T) {
	w := newDriftWorld(t, `"retrain", "alert"`)
	release := make(chan struct{})
	var calls atomic.Int32
	w.mon.Retrain = func(ctx context.Context, _ *schema.Spec, exp, _ string) (string, error) {
		calls.Add(1)
		select {
		case <-release:
			return "registered fraud v3", nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	w.mon.bg.on.Store(true) // as Run does
	w.send(60, 2, true)
	w.check()
	if n := len(w.events(ReasonDriftDetected)); n != 1 {
		t.Fatalf("%d alerts while the retrain trains; the alert after it in on_drift must not wait for it", n)
	}
	if n := len(w.events(ReasonRetrainStarted)); n != 0 {
		t.Fatalf("%d retrain events before the training ended", n)
	}
	w.check()
	close(release)
	w.mon.waitRetrains()
	ev := w.events(ReasonRetrainStarted)
	if calls.Load() != 1 || len(ev) != 1 || !strings.Contains(ev[0].Message, "retrained lr on drift (registered fraud v3)") {
		t.Fatalf("%d retrains (a check while one trained must not start another), events %+v", calls.Load(), ev)
	}
	w.check()
	w.mon.waitRetrains()
	if calls.Load() != 1 {
		t.Fatalf("%d retrains in one drift episode", calls.Load())
	}
}
