package engine

import (
	"context"
	"testing"

	"sluice/engine/planjson"
)

// TestALostOnlineTableIsRematerializedByTheNextPlan: a state whose view is
// recorded as materialized but whose online table was dropped (restored
// from an old copy, removed by hand) plans a full materialization of that
// view, and applying it brings the table back with its rows.
func TestALostOnlineTableIsRematerializedByTheNextPlan(t *testing.T) {
	ctx := context.Background()
	db := openState(t)
	fsys := twoViewRepo()
	cs := newCounting(t, db)
	if _, err := Apply(ctx, db, planRevision(t, db, fsys, "c1"), Drivers{Features: cs}, Options{Now: fixedClock}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `DROP TABLE "features_online_a"`); err != nil {
		t.Fatal(err)
	}
	p := planRevision(t, db, fsys, "c1")
	var work []string
	for _, c := range p.Changes {
		if c.Action != planjson.ActionNoOp {
			work = append(work, c.Addr.String())
			if c.Addr.Name != "a" || c.Action != planjson.ActionMaterialize || !c.Full || !contains(c.Reasons, planReasonTablesMissing) {
				t.Errorf("%s: %s full=%v %v, want a full materialize for feature_tables_missing", c.Addr, c.Action, c.Full, c.Reasons)
			}
		}
	}
	if len(work) != 1 {
		t.Fatalf("plan after the table was dropped: %v, want features.a only", work)
	}
	if _, err := Apply(ctx, db, p, Drivers{Features: cs}, Options{Now: fixedClock}); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM "features_online_a"`).Scan(&n); err != nil || n != 2 {
		t.Errorf("online rows after the rebuild: %d, %v; want 2", n, err)
	}
	if p := planRevision(t, db, fsys, "c1"); p.hasWork() {
		t.Errorf("the plan after the rebuild still has work")
	}
}
