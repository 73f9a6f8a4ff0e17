package drift

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sluice/runtime/store"
)

// TestMigrationKeepsCapturedRowsAndTheirFeedback opens a state file whose
// captures are rows of the JSON table, as the sluice before chunks left
// it, and finds every row, its feedback and its request id after the
// migration, whether Open or a lazy store's first reference migrates it.
func TestMigrationKeepsCapturedRowsAndTheirFeedback(t *testing.T) {
	for _, how := range []string{"open", "lazy"} {
		t.Run(how, func(t *testing.T) {
			ctx := context.Background()
			db := preChunkState(t)
			old := []Row{
				{Endpoint: "fraud", RequestID: "a", Version: 2, Time: t0.Add(-30 * time.Minute), Numeric: map[string]float64{"amount": 10}, Category: map[string]string{"cat": "food"}, Prediction: []float64{0.9}},
				{Endpoint: "fraud", RequestID: `q"\` + "\u2028", Version: 2, Time: t0.Add(-10 * time.Minute), Numeric: map[string]float64{"amount": math.Inf(1)}, Prediction: []float64{0.2}},
				{Endpoint: "fraud", RequestID: "c", Version: 1, Time: t0.Add(-10 * time.Minute), Numeric: map[string]float64{"amount": math.NaN()}},
			}
			for _, r := range old {
				_, err := db.ExecContext(ctx, `INSERT INTO drift_captures(endpoint, version, request_id, at, row) VALUES (?, ?, ?, ?, ?)`,
					r.Endpoint, r.Version, r.RequestID, r.Time.UnixNano(), encodeRowWithJSON(t, r))
				if err != nil {
					t.Fatal(err)
				}
			}
			if _, err := db.ExecContext(ctx, `INSERT INTO drift_feedback(endpoint, request_id, label, at) VALUES ('fraud', 'a', 1, 0)`); err != nil {
				t.Fatal(err)
			}

			var err error
			if how == "open" {
				_, err = Open(ctx, db)
			} else {
				ref := fit(t, numbers("amount", genSpec{Seed: 1, N: 100, Scale: 1}.sample()))
				err = db.Tx(ctx, func(tx *sql.Tx) error { return Lazy(db).PutReference(ctx, tx, ref) })
			}
			if err != nil {
				t.Fatal(err)
			}

			w := WindowQuery{Endpoint: "fraud", Version: 2, From: t0.Add(-time.Hour), To: t0,
				Numerical: []string{"amount"}, Categorical: []string{"cat"}, Outputs: 1}
			f, err := Window(ctx, db, w)
			if err != nil {
				t.Fatal(err)
			}
			amount, cat, pred := f.Columns["amount"].Numbers, f.Columns["cat"].Strings, f.Columns["prediction"].Numbers
			if f.N != 2 || amount[0] != 10 || !math.IsInf(amount[1], 1) || cat[0] != "food" || cat[1] != "" || pred[0] != 0.9 || pred[1] != 0.2 {
				t.Errorf("migrated window: %d rows, amount %v, cat %q, prediction %v", f.N, amount, cat, pred)
			}
			// Feedback given before the migration still joins its row;
			// ids captured before it still take feedback.
			if err := AddFeedback(ctx, db, "fraud", old[1].RequestID, 0, t0); err != nil {
				t.Fatal(err)
			}
			if err := AddFeedback(ctx, db, "fraud", "c", 0, t0); err != nil {
				t.Fatal(err)
			}
			q, err := LiveQuality(ctx, db, w, "classification", nil)
			if err != nil || q.Labeled != 2 || q.Accuracy != 1 {
				t.Errorf("live quality over migrated rows: %+v, %v", q, err)
			}
			// New captures go on beside the migrated rows.
			c := newCapture(t, db, CaptureOptions{Now: func() time.Time { return t0 }})
			c.Capture([]Row{{Endpoint: "fraud", RequestID: "new", Version: 2, Time: t0.Add(-time.Minute), Numeric: map[string]float64{"amount": 3}}})
			if err := c.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if f, err := Window(ctx, db, w); err != nil || f.N != 3 || f.Columns["amount"].Numbers[2] != 3 {
				t.Errorf("window after a new capture: %+v, %v", f, err)
			}
			if err := AddFeedback(ctx, db, "fraud", "new", 1, t0); err != nil {
				t.Error(err)
			}
			if err := AddFeedback(ctx, db, "other", "new", 1, t0); !errors.Is(err, ErrUnknownRequest) {
				t.Errorf("feedback on another endpoint: %v", err)
			}
			var n int
			db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name = 'drift_captures'`).Scan(&n)
			if n != 0 {
				t.Error("the JSON capture table is still there")
			}
		})
	}
}

// TestPruneTrimsAChunkThatStraddlesTheRetention: a chunk holding rows on
// both sides of the cut keeps only the young ones, and the old ones' ids no
// longer take feedback.
func TestPruneTrimsAChunkThatStraddlesTheRetention(t *testing.T) {
	db := openStore(t)
	ctx := context.Background()
	now := t0
	c := newCapture(t, db, CaptureOptions{Retention: time.Hour, Now: func() time.Time { return now }})
	c.Capture([]Row{
		{Endpoint: "fraud", RequestID: "young", Version: 1, Time: t0.Add(-30 * time.Minute), Numeric: map[string]float64{"x": 1}},
		{Endpoint: "fraud", RequestID: "old", Version: 1, Time: t0.Add(-90 * time.Minute), Numeric: map[string]float64{"x": 2}},
		{Endpoint: "fraud", RequestID: "young2", Version: 1, Time: t0.Add(-20 * time.Minute), Numeric: map[string]float64{"x": 3}},
	})
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if ids := capturedIDs(t, db); len(ids) != 2 || ids[0] != "young" || ids[1] != "young2" {
		t.Errorf("kept %v, want [young young2]", ids)
	}
	if err := AddFeedback(ctx, db, "fraud", "old", 1, t0); !errors.Is(err, ErrUnknownRequest) {
		t.Errorf("feedback for a pruned row: %v", err)
	}
	if err := AddFeedback(ctx, db, "fraud", "young2", 1, t0); err != nil {
		t.Error(err)
	}
	var first, last int64
	db.QueryRowContext(ctx, `SELECT first_at, last_at FROM drift_capture_chunks`).Scan(&first, &last)
	if first != t0.Add(-30*time.Minute).UnixNano() || last != t0.Add(-20*time.Minute).UnixNano() {
		t.Errorf("trimmed chunk spans %v to %v", time.Unix(0, first).UTC(), time.Unix(0, last).UTC())
	}
	// Two hours on, everything is gone, ids included.
	now = t0.Add(2 * time.Hour)
	c.Capture([]Row{{Endpoint: "fraud", RequestID: "later", Version: 1, Time: now, Numeric: map[string]float64{"x": 4}}})
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var stale int
	db.QueryRowContext(ctx, `SELECT count(*) FROM drift_capture_ids WHERE request_id != 'later'`).Scan(&stale)
	if got := capturedIDs(t, db); len(got) != 1 || got[0] != "later" || stale != 0 {
		t.Errorf("kept %v and %d index entries of pruned rows, want [later] and none", got, stale)
	}
	if err := AddFeedback(ctx, db, "fraud", "later", 1, now); err != nil {
		t.Error(err)
	}
}

// TestFeedbackIndexesEveryChunkWrittenSinceTheLast: the first feedback
// after more chunks than one indexing step reads finds ids in all of them,
// and a later one finds the ids written after it.
func TestFeedbackIndexesEveryChunkWrittenSinceTheLast(t *testing.T) {
	db := openStore(t)
	ctx := context.Background()
	c := newCapture(t, db, CaptureOptions{Batch: 1, Now: func() time.Time { return t0 }})
	capture := func(from, to int) {
		t.Helper()
		var rows []Row
		for i := from; i < to; i++ {
			// Ids out of order, as clients' random ones are.
			rows = append(rows, Row{Endpoint: "fraud", RequestID: fmt.Sprintf("id-%d", (i*7919)%(2*chunksPerIndexStep+50)), Version: 1,
				Time: t0.Add(-time.Minute), Prediction: []float64{1}})
		}
		c.Capture(rows)
		if err := c.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	capture(0, 2*chunksPerIndexStep+10)
	for _, i := range []int{0, 1, chunksPerIndexStep, 2*chunksPerIndexStep + 9} {
		if err := AddFeedback(ctx, db, "fraud", fmt.Sprintf("id-%d", (i*7919)%(2*chunksPerIndexStep+50)), 1, t0); err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
	}
	capture(2*chunksPerIndexStep+10, 2*chunksPerIndexStep+50)
	if err := AddFeedback(ctx, db, "fraud", fmt.Sprintf("id-%d", ((2*chunksPerIndexStep+49)*7919)%(2*chunksPerIndexStep+50)), 1, t0); err != nil {
		t.Fatal(err)
	}
	var entries, chunks int
	db.QueryRowContext(ctx, `SELECT count(*) FROM drift_capture_ids`).Scan(&entries)
	db.QueryRowContext(ctx, `SELECT count(*) FROM drift_capture_chunks`).Scan(&chunks)
	if entries != chunks || chunks != 2*chunksPerIndexStep+50 {
		t.Errorf("%d index entries for %d chunks of one row", entries, chunks)
	}
}

// TestWindowOfAnUnmigratedStateSaysHowToMigrate: a read-only command on a
// state file whose drift tables predate chunks is told what migrates them.
func TestWindowOfAnUnmigratedStateSaysHowToMigrate(t *testing.T) {
	ctx := context.Background()
	db := preChunkState(t)
	_, err := Window(ctx, db, WindowQuery{Endpoint: "fraud", Version: 1, From: t0.Add(-time.Hour), To: t0})
	if err == nil || !strings.Contains(err.Error(), "read captures of fraud: the state file has no capture chunks yet") ||
		!strings.Contains(err.Error(), "run sluice serve, sluice daemon or sluice feedback once to migrate them") {
		t.Errorf("err = %v", err)
	}
}

// preChunkState is a state file whose drift tables stop at the migration
// before capture chunks, closed with the test.
func preChunkState(t *testing.T) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx, "drift", migrations[:2]); err != nil {
		t.Fatal(err)
	}
	return db
}
