package drift

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"path/filepath"
	"testing"
	"time"

	"sluice/runtime/store"
)

func openStore(t *testing.T) *store.DB { return openStoreB(t) }

func openStoreB(t testing.TB) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := Open(ctx, db); err != nil {
		t.Fatal(err)
	}
	return db
}

func newCapture(t *testing.T, db *store.DB, opt CaptureOptions) *Capture {
	t.Helper()
	c := NewCapture(db, opt)
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func TestReferenceRoundTripsThroughTheStateFile(t *testing.T) {
	db := openStore(t)
	ctx := context.Background()
	ref := fit(t, numbers("amount", genSpec{Seed: 1, N: 3000, Scale: 1}.sample()), strs("category", "a", 2000, "b", 1000))
	if err := PutReference(ctx, db, ref); err != nil {
		t.Fatal(err)
	}
	got, err := GetReference(ctx, db, "fraud", 3)
	if err != nil {
		t.Fatal(err)
	}
	cur := frame(numbers("amount", genSpec{Seed: 2, N: 600, Scale: 1, Shift: 0.2}.sample()), strs("category", "a", 300, "b", 300))
	a := evaluate(t, policy("amount", "category"), ref, cur)
	b := evaluate(t, policy("amount", "category"), got, cur)
	for i := range a.Features {
		if a.Features[i].Statistic != b.Features[i].Statistic || a.Features[i].Threshold != b.Features[i].Threshold {
			t.Errorf("%s: %g/%g before storing, %g/%g after", a.Features[i].Name, a.Features[i].Statistic, a.Features[i].Threshold, b.Features[i].Statistic, b.Features[i].Threshold)
		}
	}
	if _, err := GetReference(ctx, db, "fraud", 4); !errors.Is(err, ErrNoReference) {
		t.Errorf("missing version: %v", err)
	}
}

func TestCaptureNeverBlocksAndCountsWhatItDrops(t *testing.T) {
	db := openStore(t)
	ctx := context.Background()
	c := newCapture(t, db, CaptureOptions{Buffer: 8, Batch: 4, Flush: time.Millisecond})
	// Another writer holds the state file, so the capture writer stalls.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM drift_feedback`); err != nil {
		t.Fatal(err)
	}
	rows := make([]Row, 1000)
	for i := range rows {
		rows[i] = Row{Endpoint: "fraud", RequestID: "r", Version: 1, Time: t0, Numeric: map[string]float64{"x": 1}}
	}
	c.Capture(rows) // returns although nothing can be written
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if c.Dropped() == 0 || c.Dropped()+c.Written()+c.Failed() != 1000 || c.Written() > 8+4 {
		t.Errorf("dropped %d, written %d, failed %d of 1000", c.Dropped(), c.Written(), c.Failed())
	}
}

func TestWindowHoldsTheServingVersionsRowsInTimeRange(t *testing.T) {
	db := openStore(t)
	ctx := context.Background()
	c := newCapture(t, db, CaptureOptions{Now: func() time.Time { return t0 }})
	c.Capture([]Row{
		{Endpoint: "fraud", RequestID: "a", Version: 2, Time: t0.Add(-30 * time.Minute), Numeric: map[string]float64{"amount": 10}, Category: map[string]string{"cat": "food"}, Prediction: []float64{0.9}},
		{Endpoint: "fraud", RequestID: "b", Version: 2, Time: t0.Add(-10 * time.Minute), Numeric: map[string]float64{"amount": math.Inf(1)}, Prediction: []float64{0.1}},
		{Endpoint: "fraud", RequestID: "c", Version: 1, Time: t0.Add(-10 * time.Minute), Numeric: map[string]float64{"amount": 99}},
		{Endpoint: "fraud", RequestID: "d", Version: 2, Time: t0.Add(-2 * time.Hour), Numeric: map[string]float64{"amount": 99}},
		{Endpoint: "other", RequestID: "e", Version: 2, Time: t0.Add(-time.Minute), Numeric: map[string]float64{"amount": 99}},
	})
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	f, err := Window(ctx, db, WindowQuery{Endpoint: "fraud", Version: 2, From: t0.Add(-time.Hour), To: t0,
		Numerical: []string{"amount"}, Categorical: []string{"cat"}, Outputs: 1})
	if err != nil {
		t.Fatal(err)
	}
	amount, cat, pred := f.Columns["amount"].Numbers, f.Columns["cat"].Strings, f.Columns["prediction"].Numbers
	if f.N != 2 || amount[0] != 10 || !math.IsInf(amount[1], 1) || cat[0] != "food" || cat[1] != "" || pred[0] != 0.9 || pred[1] != 0.1 {
		t.Errorf("window: %d rows, amount %v, cat %q, prediction %v", f.N, amount, cat, pred)
	}
}

func TestRetentionPrunesOldCaptures(t *testing.T) {
	db := openStore(t)
	ctx := context.Background()
	c := newCapture(t, db, CaptureOptions{Retention: time.Hour, Now: func() time.Time { return t0 }})
	c.Capture([]Row{
		{Endpoint: "fraud", RequestID: "old", Version: 1, Time: t0.Add(-2 * time.Hour)},
		{Endpoint: "fraud", RequestID: "new", Version: 1, Time: t0.Add(-time.Minute)},
	})
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	ids := capturedIDs(t, db)
	if len(ids) != 1 || ids[0] != "new" {
		t.Errorf("kept %v, want [new]", ids)
	}
}

func TestFeedbackForUnknownRequestIsRefusedAndChangesNothing(t *testing.T) {
	db := openStore(t)
	ctx := context.Background()
	err := AddFeedback(ctx, db, "fraud", "nope", 1, t0)
	if !errors.Is(err, ErrUnknownRequest) || err.Error() != "feedback for nope on fraud: unknown request id (not captured, sampled out or pruned)" {
		t.Errorf("err = %v", err)
	}
	var n int
	db.QueryRowContext(ctx, `SELECT count(*) FROM drift_feedback`).Scan(&n)
	if n != 0 {
		t.Errorf("%d feedback rows stored", n)
	}
}

func TestLiveQualityFromFeedbackLabels(t *testing.T) {
	db := openStore(t)
	ctx := context.Background()
	c := newCapture(t, db, CaptureOptions{Now: func() time.Time { return t0 }})
	preds := []float64{0.9, 0.8, 0.2, 0.3, 0.7}
	labels := []float64{1, 0, 0, 1, 1}
	var rows []Row
	for i, p := range preds {
		rows = append(rows, Row{Endpoint: "fraud", RequestID: string(rune('a' + i)), Version: 1, Time: t0.Add(-time.Minute), Prediction: []float64{p}})
	}
	c.Capture(rows)
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for i, l := range labels {
		if err := AddFeedback(ctx, db, "fraud", string(rune('a'+i)), l, t0); err != nil {
			t.Fatal(err)
		}
	}
	w := WindowQuery{Endpoint: "fraud", Version: 1, From: t0.Add(-time.Hour), To: t0}
	q, err := LiveQuality(ctx, db, w, "classification", map[string]float64{"accuracy": 0.9})
	if err != nil {
		t.Fatal(err)
	}
	// predicted 1 1 0 0 1 against 1 0 0 1 1: tp 2, fp 1, fn 1.
	if q.Labeled != 5 || q.Accuracy != 0.6 || q.F1 != Number(2.0/3) {
		t.Errorf("labeled %d, accuracy %g, F1 %g", q.Labeled, q.Accuracy, q.F1)
	}
	q, err = LiveQuality(ctx, db, w, "regression", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := math.Sqrt((0.01 + 0.64 + 0.04 + 0.49 + 0.09) / 5)
	if math.Abs(float64(q.RMSE)-want) > 1e-12 {
		t.Errorf("RMSE %g, want %g", q.RMSE, want)
	}
}

func TestEpisodeRunsEachActionOnce(t *testing.T) {
	db := openStore(t)
	ctx := context.Background()
	if err := BeginEpisode(ctx, db, "inputs", t0); err != nil {
		t.Fatal(err)
	}
	RecordAction(ctx, db, "inputs", "alert")
	BeginEpisode(ctx, db, "inputs", t0.Add(time.Minute)) // still drifting: same episode
	e, err := OpenEpisode(ctx, db, "inputs")
	if err != nil || !e.Took("alert") || e.Took("retrain") || !e.Since.Equal(t0) {
		t.Fatalf("episode %+v, %v", e, err)
	}
	if ended, _ := EndEpisode(ctx, db, "inputs"); !ended {
		t.Error("no episode ended")
	}
	if e, _ := OpenEpisode(ctx, db, "inputs"); e.Took("alert") {
		t.Error("a new episode remembers the old one's alert")
	}
}

func TestLazyStoreCreatesItsTablesWithTheFirstReference(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := Lazy(db)
	var n int
	db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name LIKE 'drift_%'`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d drift tables before any reference", n)
	}
	ref := fit(t, numbers("amount", genSpec{Seed: 1, N: 100, Scale: 1}.sample()))
	if err := db.Tx(ctx, func(tx *sql.Tx) error { return s.PutReference(ctx, tx, ref) }); err != nil {
		t.Fatal(err)
	}
	if _, err := GetReference(ctx, db, "fraud", 3); err != nil {
		t.Fatal(err)
	}
	// Open finds them current and migrates nothing twice.
	if _, err := Open(ctx, db); err != nil {
		t.Fatal(err)
	}
	if err := db.Tx(ctx, func(tx *sql.Tx) error { return s.PutReference(ctx, tx, ref) }); err != nil {
		t.Fatal(err)
	}
}
