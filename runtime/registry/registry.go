// Package registry is Sluice's model registry: numbered versions of each
// model with their metrics, artifact, signature and lineage; aliases that
// point at versions, with an append-only history of every move; and the
// metric gates a version must pass before an alias may move to it.
//
// Versions are contiguous integers per model, starting at 1 and never
// reused: the counter lives in the same transaction as the version it
// numbers, so a rolled-back or crashed registration takes its number back
// with it. Aliases follow MLflow's rules (see ValidateAlias); the legacy
// stage names Staging, Production and Archived are ordinary aliases here,
// never a second state machine.
//
// Writes happen only inside the transactions the engine passes; reads take
// any store.Querier, so planning reads the same state apply will change.
package registry

import (
	"context"
	"fmt"
	"time"

	"sluice/runtime/store"
)

// Status is a version's lifecycle state.
type Status string

// Version statuses. A version an alias points to is always READY.
const (
	// StatusReady versions can be promoted and served.
	StatusReady Status = "READY"
	// StatusFailed versions were numbered but never became usable; failing
	// is final.
	StatusFailed Status = "FAILED"
	// StatusArchived versions are kept for lineage and rollback; promoting
	// one makes it READY again.
	StatusArchived Status = "ARCHIVED"
)

// Reason says who moved an alias.
type Reason string

// Reasons for an alias move, as recorded in its history.
const (
	// ReasonGit is a move declared in a commit's models spec.
	ReasonGit Reason = "git"
	// ReasonDriftRollback is a move made by a drift policy's rollback.
	ReasonDriftRollback Reason = "drift_rollback"
	// ReasonManual is a move made by a person outside git.
	ReasonManual Reason = "manual"
)

func (r Reason) valid() bool {
	return r == ReasonGit || r == ReasonDriftRollback || r == ReasonManual
}

// Registry is the model registry in one state file. It holds no state of
// its own besides its clock; every method works on the querier or
// transaction it is given.
type Registry struct {
	// Now is the clock that stamps versions and alias moves; nil means
	// time.Now. Tests set it to tell history apart by time.
	Now func() time.Time
}

// migrations are the registry's tables. Append only.
var migrations = []string{
	`CREATE TABLE registry_models (
		name TEXT NOT NULL PRIMARY KEY,
		last_version INTEGER NOT NULL,    -- the highest number ever given; never goes down
		created_at INTEGER NOT NULL       -- unix ns
	) WITHOUT ROWID;
	CREATE TABLE registry_versions (
		model TEXT NOT NULL REFERENCES registry_models(name),
		version INTEGER NOT NULL CHECK (version >= 1),
		status TEXT NOT NULL CHECK (status IN ('READY', 'FAILED', 'ARCHIVED')),
		status_message TEXT NOT NULL DEFAULT '',
		run_id TEXT NOT NULL,
		metrics TEXT NOT NULL,            -- JSON object; NaN and infinities as strings
		artifact_path TEXT NOT NULL,
		artifact_sha256 TEXT NOT NULL,
		signature TEXT NOT NULL,          -- JSON, as training read it from the model
		dataset_fingerprint TEXT NOT NULL,
		commit_hash TEXT NOT NULL,
		lineage TEXT NOT NULL,            -- Facts as JSON
		created_at INTEGER NOT NULL,      -- unix ns
		updated_at INTEGER NOT NULL,
		PRIMARY KEY (model, version)
	) WITHOUT ROWID;
	CREATE TABLE registry_aliases (
		model TEXT NOT NULL,
		alias TEXT NOT NULL,
		version INTEGER NOT NULL,
		PRIMARY KEY (model, alias),
		FOREIGN KEY (model, version) REFERENCES registry_versions(model, version)
	) WITHOUT ROWID;
	CREATE TABLE registry_alias_history (
		id INTEGER PRIMARY KEY,
		model TEXT NOT NULL,
		alias TEXT NOT NULL,
		from_version INTEGER,             -- NULL when the alias was unset
		to_version INTEGER,               -- NULL when the alias was removed
		commit_hash TEXT NOT NULL,
		reason TEXT NOT NULL,
		at INTEGER NOT NULL               -- unix ns
	);
	CREATE INDEX registry_alias_history_by_alias ON registry_alias_history(model, alias, at, id);
	CREATE TRIGGER registry_alias_history_no_update BEFORE UPDATE ON registry_alias_history
	BEGIN SELECT RAISE(ABORT, 'alias history is append-only'); END;
	CREATE TRIGGER registry_alias_history_no_delete BEFORE DELETE ON registry_alias_history
	BEGIN SELECT RAISE(ABORT, 'alias history is append-only'); END;`,
}

// New brings the registry's tables in db up to date and returns the
// registry. On a read-only state it only checks that they are.
func New(ctx context.Context, db *store.DB) (*Registry, error) {
	if err := db.Migrate(ctx, "registry", migrations); err != nil {
		return nil, err
	}
	return &Registry{}, nil
}

func (r *Registry) now() time.Time {
	if r.Now != nil {
		return r.Now().UTC()
	}
	return time.Now().UTC()
}

// fromNanos reads a stored unix-nanosecond time.
func fromNanos(ns int64) time.Time { return time.Unix(0, ns).UTC() }

// modelExists reports whether model has ever had a version.
func modelExists(ctx context.Context, q store.Querier, model string) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM registry_models WHERE name = ?`, model).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("read model %s: %w", model, err)
	}
	return n > 0, nil
}
