package training

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"sluice/runtime/store"
)

// newTracker opens a state file in a temporary directory with a tracker
// whose clock starts at 2025-01-01 and moves a second per reading.
func newTracker(t *testing.T) (*Tracker, *store.DB) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	tr, err := NewTracker(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	tr.now = func() time.Time {
		now = now.Add(time.Second)
		return now
	}
	return tr, db
}

func TestRunRecordsEverythingAboutATraining(t *testing.T) {
	ctx := context.Background()
	tr, db := newTracker(t)
	r, err := tr.StartRun(ctx, db, RunStart{Experiment: "fraud-rf", SpecHash: "abc", DatasetDigest: "d1", Spec: []byte(`{"model":"fraud"}`), GitCommit: "c0ffee"})
	if err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(t.TempDir(), "model.onnx")
	os.WriteFile(model, []byte("model bytes"), 0o644)
	steps := []error{
		tr.LogParams(ctx, db, r.ID, map[string]string{"max_depth": "15", "criterion": "gini"}),
		tr.LogMetrics(ctx, db, r.ID, map[string]float64{"f1": 0.91, "roc_auc": 0.97}),
		tr.LogSeries(ctx, db, r.ID, "loss", []float64{0.9, 0.5, 0.4}),
		tr.SetTags(ctx, db, r.ID, map[string]string{"team": "risk"}),
		tr.LogDataset(ctx, db, r.ID, Dataset{Name: "fraud-rf", Digest: "d1", Context: "training", Rows: 800}),
		tr.LogDataset(ctx, db, r.ID, Dataset{Name: "fraud-rf", Digest: "d2", Context: "holdout", Rows: 200}),
		tr.EndRun(ctx, db, r.ID, StatusFinished, "", "epoch 1\nepoch 2\n"),
	}
	if _, err := tr.LogArtifact(ctx, db, r.ID, model); err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(steps...); err != nil {
		t.Fatal(err)
	}
	got, err := tr.GetRun(ctx, db, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := &Run{
		ID: r.ID, Experiment: "fraud-rf", Name: "fraud-rf-" + r.ID[:8], Status: StatusFinished, Trigger: "apply",
		SpecHash: "abc", DatasetDigest: "d1", Spec: `{"model":"fraud"}`, GitCommit: "c0ffee",
		Start: time.Date(2025, 1, 1, 0, 0, 1, 0, time.UTC), End: got.End,
		Params:  map[string]string{"max_depth": "15", "criterion": "gini"},
		Metrics: map[string]float64{"f1": 0.91, "roc_auc": 0.97, "loss": 0.4},
		Tags:    map[string]string{"team": "risk"},
		Artifacts: []Artifact{{Path: model, Size: 11,
			SHA256: "9cb7487000bc86ac36ce83c4acfabe8878552be99572a6770f65ab1d048a5c48"}},
		Datasets: []Dataset{{"fraud-rf", "d2", "holdout", 200}, {"fraud-rf", "d1", "training", 800}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("run\n%+v\nwant\n%+v", got, want)
	}
	if got.End.IsZero() || got.Duration(time.Time{}) <= 0 {
		t.Errorf("end %v, duration %v", got.End, got.Duration(time.Time{}))
	}
	log, _ := tr.RunLog(ctx, db, r.ID)
	if log != "epoch 1\nepoch 2\n" {
		t.Errorf("log %q", log)
	}
}

func TestParamsAreNeverTruncated(t *testing.T) {
	ctx := context.Background()
	tr, db := newTracker(t)
	r, _ := tr.StartRun(ctx, db, RunStart{Experiment: "e"})
	long := strings.Repeat("x", MaxParamValueLength+1)
	err := tr.LogParams(ctx, db, r.ID, map[string]string{"features": long, "alpha": "1"})
	if err == nil || !strings.Contains(err.Error(), "param features: value is 6001 characters, the limit is 6000 (Sluice never truncates)") {
		t.Fatalf("error %v", err)
	}
	got, _ := tr.GetRun(ctx, db, r.ID)
	if _, ok := got.Params["features"]; ok {
		t.Error("an over-long param was recorded")
	}
	if err := tr.LogParams(ctx, db, r.ID, map[string]string{"exact": long[1:]}); err != nil {
		t.Errorf("a param of exactly the limit: %v", err)
	}
}

func TestParamsOfARunDoNotChange(t *testing.T) {
	ctx := context.Background()
	tr, db := newTracker(t)
	r, _ := tr.StartRun(ctx, db, RunStart{Experiment: "e"})
	if err := tr.LogParams(ctx, db, r.ID, map[string]string{"alpha": "1"}); err != nil {
		t.Fatal(err)
	}
	if err := tr.LogParams(ctx, db, r.ID, map[string]string{"alpha": "1"}); err != nil {
		t.Errorf("logging the same value again: %v", err)
	}
	err := tr.LogParams(ctx, db, r.ID, map[string]string{"alpha": "2"})
	if err == nil || !strings.Contains(err.Error(), `param alpha is already "1"; params of a run do not change (new value "2")`) {
		t.Errorf("error %v", err)
	}
	err = tr.LogParams(ctx, db, r.ID, map[string]string{"bad;name": "2"})
	if err == nil || !strings.Contains(err.Error(), `param name "bad;name" holds ';'`) {
		t.Errorf("error %v", err)
	}
}

func TestMetricSeriesKeepsEveryEpochAndTheHighestStepIsLatest(t *testing.T) {
	ctx := context.Background()
	tr, db := newTracker(t)
	r, _ := tr.StartRun(ctx, db, RunStart{Experiment: "e"})
	if err := tr.LogSeries(ctx, db, r.ID, "loss", []float64{0.9, 0.5, math.NaN(), 0.3}); err != nil {
		t.Fatal(err)
	}
	if err := tr.LogMetric(ctx, db, r.ID, "loss", 7, 2); err != nil {
		t.Fatal(err)
	}
	hist, err := tr.MetricHistory(ctx, db, r.ID, "loss")
	if err != nil {
		t.Fatal(err)
	}
	var values []float64
	for i, p := range hist {
		if p.Step != int64(i+1) {
			t.Errorf("point %d at step %d", i, p.Step)
		}
		values = append(values, p.Value)
	}
	if len(values) != 4 || values[0] != 0.9 || values[1] != 7 || !math.IsNaN(values[2]) || values[3] != 0.3 {
		t.Errorf("history %v, want [0.9 7 NaN 0.3]", values)
	}
	got, _ := tr.GetRun(ctx, db, r.ID)
	if got.Metrics["loss"] != 0.3 {
		t.Errorf("latest loss %v, want step 4's 0.3", got.Metrics["loss"])
	}
}

func TestFindRunReturnsTheFinishedRunOfAKey(t *testing.T) {
	ctx := context.Background()
	tr, db := newTracker(t)
	if r, err := tr.FindRun(ctx, db, "spec", "data"); r != nil || err != nil {
		t.Fatalf("empty state: %v, %v", r, err)
	}
	failed, _ := tr.StartRun(ctx, db, RunStart{Experiment: "e", SpecHash: "spec", DatasetDigest: "data"})
	tr.EndRun(ctx, db, failed.ID, StatusFailed, "boom", "")
	other, _ := tr.StartRun(ctx, db, RunStart{Experiment: "e", SpecHash: "spec", DatasetDigest: "other"})
	tr.EndRun(ctx, db, other.ID, StatusFinished, "", "")
	if r, _ := tr.FindRun(ctx, db, "spec", "data"); r != nil {
		t.Fatalf("found %s, a failed run or another dataset's", r.ID)
	}
	done, _ := tr.StartRun(ctx, db, RunStart{Experiment: "e", SpecHash: "spec", DatasetDigest: "data"})
	tr.EndRun(ctx, db, done.ID, StatusFinished, "", "")
	if r, _ := tr.FindRun(ctx, db, "spec", "data"); r == nil || r.ID != done.ID {
		t.Fatalf("found %v, want %s", r, done.ID)
	}
}

func TestRunRecordCommitsWithTheStepsTransaction(t *testing.T) {
	ctx := context.Background()
	tr, db := newTracker(t)
	var id string
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		r, err := tr.StartRun(ctx, tx, RunStart{Experiment: "e"})
		if err != nil {
			return err
		}
		id = r.ID
		return errors.New("the step failed")
	})
	if err == nil {
		t.Fatal("the transaction committed")
	}
	if _, err := tr.GetRun(ctx, db, id); err == nil || err.Error() != "no run "+id {
		t.Errorf("run of a rolled-back step: %v", err)
	}
}

func TestTrackerOwnsItsMigrations(t *testing.T) {
	ctx := context.Background()
	_, db := newTracker(t)
	if _, err := NewTracker(ctx, db); err != nil {
		t.Fatalf("migrating twice: %v", err)
	}
	var v int
	if err := db.QueryRowContext(ctx, `SELECT version FROM schema_migrations WHERE component = 'training'`).Scan(&v); err != nil || v != len(runMigrations) {
		t.Errorf("training tables at version %d (%v), want %d", v, err, len(runMigrations))
	}
}

func TestEndRunRefusesAnUnknownStatusOrRun(t *testing.T) {
	ctx := context.Background()
	tr, db := newTracker(t)
	r, _ := tr.StartRun(ctx, db, RunStart{Experiment: "e"})
	if err := tr.EndRun(ctx, db, r.ID, "DONE", "", ""); err == nil || !strings.Contains(err.Error(), `status "DONE", want FINISHED, FAILED or KILLED`) {
		t.Errorf("error %v", err)
	}
	if err := tr.EndRun(ctx, db, "nope", StatusFinished, "", ""); err == nil || err.Error() != "no run nope" {
		t.Errorf("error %v", err)
	}
}
