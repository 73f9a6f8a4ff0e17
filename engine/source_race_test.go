package engine

import (
	"context"
	"strings"
	"testing"

	"sluice/runtime/store"
	"sluice/schema"
)

// TestApplyRefusesASourceThatChangedBetweenPlanAndRead plans a view over
// a file, then cuts the file short before apply reads it, as a file in a
// data root can be: the view fails as DataInvalid saying the source
// changed while read, and holds no rows, rather than recording half the
// file under the whole file's fingerprint (which no later apply would
// read again).
func TestApplyRefusesASourceThatChangedBetweenPlanAndRead(t *testing.T) {
	db := openState(t)
	fsys := twoViewRepo()
	p := planRevision(t, db, fsys, "c1")
	full := fsys["data/tx.csv"].Data
	fsys["data/tx.csv"].Data = full[:len(full)-len("2,2026-11-02T00:00:00Z,3.25\n")]
	res, err := Apply(context.Background(), db, p, realDrivers(t, db), Options{Now: fixedClock})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range res.Steps {
		if s.Addr.Kind != schema.KindFeature {
			continue
		}
		if s.Status != store.Failed || s.Reason != ReasonDataInvalid || !strings.Contains(s.Message, "changed while it was read") {
			t.Errorf("%s: %s (%s) %q, want Failed (DataInvalid) saying the source changed while read", s.Addr, s.Status, s.Reason, s.Message)
		}
		var n int
		if err := db.QueryRowContext(context.Background(), `SELECT count(*) FROM feature_views WHERE name = ?`, s.Addr.Name).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s: %d materialization records (%v), want none", s.Addr, n, err)
		}
	}
}
