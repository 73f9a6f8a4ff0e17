package engine

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"sluice/engine/planjson"
	"sluice/runtime/features"
	"sluice/runtime/store"
)

const twoViews = `package sluice

sources: tx: {path: "data/tx.csv", timestamp: "ts"}
entities: user: join_key: "user_id"
features: a: {entities: ["user"], source: "tx", ttl: "87600h", fields: amount: type: "float64"}
features: b: {entities: ["user"], source: "tx", ttl: "87600h", fields: amount: type: "float64"}
models: m: aliases: {}
experiments: e: {
	model: "m"
	label: {source: "tx", column: "amount", entities: ["user"]}
	features: ["b:amount"]
	trainer: builtin: "linear_regression"
	task: "regression"
}
`

func twoViewRepo() fstest.MapFS {
	return fstest.MapFS{
		"specs/main.cue": {Data: []byte(twoViews)},
		"data/tx.csv":    {Data: []byte("user_id,ts,amount\n1,2026-11-01T00:00:00Z,10.5\n2,2026-11-02T00:00:00Z,3.25\n")},
	}
}

// countingStore is the real feature store, counting materializations per
// view and failing (or interrupting) the ones it is told to.
type countingStore struct {
	*features.Store
	mu    sync.Mutex
	calls map[string]int
	fail  map[string]error
	// interrupt, when set, is called by the second materialization, which
	// then returns as a crash would leave it: nothing of it committed.
	interrupt context.CancelFunc
	total     int
	order     []string
}

func (c *countingStore) Materialize(ctx context.Context, tx *sql.Tx, req features.MaterializeRequest) (features.MaterializeResult, error) {
	name := req.View.Addr.Name
	c.mu.Lock()
	c.calls[name]++
	c.total++
	c.order = append(c.order, name)
	err := c.fail[name]
	cancel := c.interrupt
	if c.total != 2 {
		cancel = nil
	}
	c.mu.Unlock()
	if cancel != nil {
		cancel()
		return features.MaterializeResult{}, ctx.Err()
	}
	if err != nil {
		return features.MaterializeResult{}, err
	}
	return c.Store.Materialize(ctx, tx, req)
}

func newCounting(t *testing.T, db *store.DB) *countingStore {
	fs, err := features.New(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return &countingStore{Store: fs, calls: map[string]int{}, fail: map[string]error{}}
}

func conditions(t *testing.T, db *store.DB) map[string]store.Condition {
	t.Helper()
	cs, err := store.Conditions(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]store.Condition{}
	for _, c := range cs {
		out[c.Kind+"."+c.Name] = c
	}
	return out
}

func TestApplySameRevisionTwiceDoesNothingTheSecondTime(t *testing.T) {
	db := openState(t)
	fsys := twoViewRepo()
	cs := newCounting(t, db)
	p := planRevision(t, db, fsys, "c1")
	if _, err := Apply(context.Background(), db, p, Drivers{Features: cs}, Options{Now: fixedClock}); err != nil {
		t.Fatal(err)
	}
	serial, _ := store.Serial(context.Background(), db)
	p = planRevision(t, db, fsys, "c1")
	if p.hasWork() {
		t.Fatalf("second plan has work: %+v", p.JSON().ResourceChanges)
	}
	res, err := Apply(context.Background(), db, p, Drivers{Features: cs}, Options{Now: fixedClock})
	if err != nil {
		t.Fatal(err)
	}
	after, _ := store.Serial(context.Background(), db)
	if res.Outcome != "unchanged" || after != serial {
		t.Errorf("second apply: outcome %s, serial %d → %d; want unchanged and no write", res.Outcome, serial, after)
	}
	if cs.calls["a"] != 1 || cs.calls["b"] != 1 {
		t.Errorf("materializations %v, want one each", cs.calls)
	}
}

func TestApplyFailedViewHoldsItsDependentsAndAppliesTheRest(t *testing.T) {
	db := openState(t)
	cs := newCounting(t, db)
	cs.fail["b"] = errors.New("disk on fire")
	p := planRevision(t, db, twoViewRepo(), "c1")
	res, err := Apply(context.Background(), db, p, Drivers{Features: cs}, Options{Now: fixedClock})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != "partial" {
		t.Errorf("outcome %s, want partial", res.Outcome)
	}
	got := conditions(t, db)
	for addr, want := range map[string]string{
		"features.a": store.Ready, "features.b": store.Failed, "experiments.e": store.Held, "models.m": store.Held, "sources.tx": store.Ready,
	} {
		if got[addr].Status != want {
			t.Errorf("%s is %s (%s: %s), want %s", addr, got[addr].Status, got[addr].Reason, got[addr].Message, want)
		}
	}
	if c := got["features.b"]; c.Reason != ReasonMaterializeFailed || c.Message != "disk on fire" {
		t.Errorf("failed view condition %+v", c)
	}
	if c := got["experiments.e"]; c.Reason != ReasonDependencyFailed {
		t.Errorf("dependent condition %+v, want %s", c, ReasonDependencyFailed)
	}

	// The next plan retries exactly what did not apply.
	delete(cs.fail, "b")
	p = planRevision(t, db, twoViewRepo(), "c1")
	var planned []string
	for _, c := range p.Changes {
		if c.Action != planjson.ActionNoOp {
			planned = append(planned, c.Addr.String()+" "+c.Action)
		}
	}
	want := []string{"features.b create", "experiments.e create", "models.m create"}
	if strings.Join(planned, ", ") != strings.Join(want, ", ") {
		t.Errorf("retry plan %v, want %v", planned, want)
	}
}

func TestApplyResumesAfterInterruptionWithoutRepeatingFinishedSteps(t *testing.T) {
	db := openState(t)
	cs := newCounting(t, db)
	ctx, cancel := context.WithCancel(context.Background())
	cs.interrupt = cancel
	p := planRevision(t, db, twoViewRepo(), "c1")
	_, err := Apply(ctx, db, p, Drivers{Features: cs}, Options{Now: fixedClock, Parallelism: 1})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted apply returned %v", err)
	}
	finished, interrupted := cs.order[0], cs.order[1]
	cs.interrupt = nil
	res, err := Apply(context.Background(), db, planRevision(t, db, twoViewRepo(), "c1"), Drivers{Features: cs}, Options{Now: fixedClock})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != "applied" {
		t.Errorf("resumed apply: %s", res.Outcome)
	}
	if cs.calls[finished] != 1 || cs.calls[interrupted] != 2 {
		t.Errorf("materializations %v: %s finished before the interruption and must not repeat; %s must finish", cs.calls, finished, interrupted)
	}
	revs, _ := store.Revisions(context.Background(), db, 0)
	if len(revs) != 2 || revs[1].Outcome != "interrupted" || revs[0].Outcome != "applied" {
		t.Errorf("revisions %+v: want the interrupted one recorded as such", revs)
	}
}
