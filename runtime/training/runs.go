package training

import (
	"context"
	"database/sql"
	"time"

	"sluice/runtime/store"
)

// Querier is what the tracker runs its SQL on: the state file itself or
// the transaction of the engine's step, so a run's record commits with
// the step that made it.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

var _ Querier = (*sql.Tx)(nil)
var _ Querier = (*store.DB)(nil)

// Run statuses, as MLflow names them.
const (
	StatusRunning  = "RUNNING"
	StatusFinished = "FINISHED"
	StatusFailed   = "FAILED"
	StatusKilled   = "KILLED"
)

// Run is one recorded training run.
type Run struct {
	ID         string
	Experiment string
	Name       string
	Status     string
	// Trigger says what started the run: "apply", "manual" (sluice train)
	// or "drift".
	Trigger string
	// SpecHash and DatasetDigest key the run: a finished run with both
	// equal to a new one's makes training again unnecessary.
	SpecHash      string
	DatasetDigest string
	// Spec is the experiment's canonical JSON; GitCommit the revision it
	// was read from.
	Spec      string
	GitCommit string
	Start     time.Time
	// End is zero while the run is running.
	End   time.Time
	Error string
	// Params, Metrics (the latest value of each), Tags, Artifacts and
	// Datasets are filled by GetRun and SearchRuns.
	Params    map[string]string
	Metrics   map[string]float64
	Tags      map[string]string
	Artifacts []Artifact
	Datasets  []Dataset
}

// Duration is how long the run took, or has been running at now.
func (r *Run) Duration(now time.Time) time.Duration {
	if r.End.IsZero() {
		return now.Sub(r.Start)
	}
	return r.End.Sub(r.Start)
}

// Artifact is a file a run produced, identified by its content.
type Artifact struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// Dataset is a dataset a run used, as MLflow's dataset inputs: its
// fingerprint (digest), a name, and its context ("training", "holdout").
type Dataset struct {
	Name    string `json:"name"`
	Digest  string `json:"digest"`
	Context string `json:"context"`
	Rows    int    `json:"rows"`
}

// MetricPoint is one logged value of a metric.
type MetricPoint struct {
	Step  int64
	Value float64
	Time  time.Time
}

// runMigrations are the tracker's tables, version by version; append only.
var runMigrations = []string{`
CREATE TABLE training_runs (
	id INTEGER PRIMARY KEY,
	run_id TEXT NOT NULL UNIQUE,
	experiment TEXT NOT NULL,
	run_name TEXT NOT NULL,
	status TEXT NOT NULL CHECK (status IN ('RUNNING', 'FINISHED', 'FAILED', 'KILLED')),
	trigger TEXT NOT NULL,
	spec_hash TEXT NOT NULL,
	dataset_digest TEXT NOT NULL,
	spec TEXT NOT NULL,
	git_commit TEXT NOT NULL,
	start_time INTEGER NOT NULL,
	end_time INTEGER,
	error TEXT NOT NULL DEFAULT '',
	log TEXT NOT NULL DEFAULT ''
);
CREATE INDEX training_runs_by_start ON training_runs(start_time);
CREATE INDEX training_runs_by_experiment ON training_runs(experiment, start_time);
CREATE INDEX training_runs_by_key ON training_runs(spec_hash, dataset_digest);
CREATE TABLE training_params (
	run INTEGER NOT NULL REFERENCES training_runs(id) ON DELETE CASCADE,
	key TEXT NOT NULL,
	value TEXT NOT NULL,
	num REAL,
	PRIMARY KEY (run, key)
) WITHOUT ROWID;
CREATE TABLE training_tags (
	run INTEGER NOT NULL REFERENCES training_runs(id) ON DELETE CASCADE,
	key TEXT NOT NULL,
	value TEXT NOT NULL,
	PRIMARY KEY (run, key)
) WITHOUT ROWID;
CREATE TABLE training_metrics (
	run INTEGER NOT NULL REFERENCES training_runs(id) ON DELETE CASCADE,
	key TEXT NOT NULL,
	step INTEGER NOT NULL,
	value REAL,
	is_nan INTEGER NOT NULL DEFAULT 0,
	time INTEGER NOT NULL,
	PRIMARY KEY (run, key, step)
) WITHOUT ROWID;
CREATE TABLE training_latest_metrics (
	run INTEGER NOT NULL REFERENCES training_runs(id) ON DELETE CASCADE,
	key TEXT NOT NULL,
	step INTEGER NOT NULL,
	value REAL,
	is_nan INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (run, key)
) WITHOUT ROWID;
CREATE INDEX training_latest_metrics_by_value ON training_latest_metrics(key, value);
CREATE TABLE training_artifacts (
	run INTEGER NOT NULL REFERENCES training_runs(id) ON DELETE CASCADE,
	path TEXT NOT NULL,
	sha256 TEXT NOT NULL,
	size INTEGER NOT NULL,
	PRIMARY KEY (run, path)
) WITHOUT ROWID;
CREATE TABLE training_datasets (
	run INTEGER NOT NULL REFERENCES training_runs(id) ON DELETE CASCADE,
	context TEXT NOT NULL,
	name TEXT NOT NULL,
	digest TEXT NOT NULL,
	rows INTEGER NOT NULL,
	PRIMARY KEY (run, context)
) WITHOUT ROWID;
CREATE INDEX training_datasets_by_digest ON training_datasets(digest);
`}

// Tracker records training runs in the state file's training_* tables.
// Its methods take the Querier to run on; it holds no state of its own
// but the clock.
type Tracker struct {
	now func() time.Time
}

// NewTracker brings the tracker's tables in db up to date.
func NewTracker(ctx context.Context, db *store.DB) (*Tracker, error) {
	if err := db.Migrate(ctx, "training", runMigrations); err != nil {
		return nil, err
	}
	return &Tracker{now: time.Now}, nil
}
