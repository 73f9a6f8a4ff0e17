// Package features is Sluice's feature store: it reads CSV and Parquet
// sources, materializes feature views into offline (history) and online
// (latest value per entity) tables of the state file, incrementally when a
// source only grew, and serves point-in-time correct historical retrieval
// and online lookups with Feast's statuses.
package features

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"sluice/runtime/store"
)

// Store is the feature store over one state file. Its methods are safe for
// concurrent use; writes happen only in the transactions the engine passes.
type Store struct {
	db *store.DB

	// RunRows bounds how many parsed rows are held in memory, sorted and
	// inserted at once; more rows are loaded in several sorted runs.
	RunRows int

	mu     sync.Mutex
	lookup map[string]*viewLookup // online lookups by view
}

// migrations are the feature store's tables; the per-view tables are made
// by Materialize. Append only.
var migrations = []string{
	`CREATE TABLE feature_views (
		name TEXT NOT NULL PRIMARY KEY,
		spec TEXT NOT NULL,               -- ViewInfo as JSON
		layout TEXT NOT NULL,             -- hash of what the stored rows depend on
		version INTEGER NOT NULL,         -- moves with every materialization, never repeats
		ttl INTEGER NOT NULL,             -- nanoseconds, 0 = never expires
		source_size INTEGER NOT NULL,     -- bytes of the file read so far
		source_sha256 TEXT NOT NULL,      -- of those bytes
		source_lines INTEGER NOT NULL,    -- newlines in them (CSV)
		watermark INTEGER,                -- newest event time, unix ns
		rows_read INTEGER NOT NULL,       -- by the last materialization
		rows_written INTEGER NOT NULL,
		materialized_at TEXT NOT NULL
	) WITHOUT ROWID`,
}

// New opens the feature store in db, bringing its tables up to date.
func New(ctx context.Context, db *store.DB) (*Store, error) {
	if err := db.Migrate(ctx, "features", migrations); err != nil {
		return nil, err
	}
	return &Store{db: db, RunRows: 1 << 24, lookup: map[string]*viewLookup{}}, nil
}

// record is a view's row of feature_views.
type record struct {
	info   ViewInfo
	layout string
	size   int64
	sha    string
	lines  int
}

var errNoView = errors.New("not materialized")

// readRecord reads a view's record, errNoView when there is none.
func readRecord(ctx context.Context, q store.Querier, name string) (*record, error) {
	var r record
	var spec, at string
	var wm sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT spec, layout, version, source_size, source_sha256, source_lines, watermark, materialized_at
		FROM feature_views WHERE name = ?`, name).Scan(&spec, &r.layout, &r.info.Version, &r.size, &r.sha, &r.lines, &wm, &at)
	if err == sql.ErrNoRows {
		return nil, fmt.Errorf("feature view %s: %w", name, errNoView)
	}
	if err != nil {
		return nil, fmt.Errorf("read feature view %s: %w", name, err)
	}
	v := r.info.Version
	if err := json.Unmarshal([]byte(spec), &r.info); err != nil {
		return nil, fmt.Errorf("read feature view %s: %w", name, err)
	}
	r.info.Version = v
	if wm.Valid {
		r.info.Watermark = time.Unix(0, wm.Int64).UTC()
	}
	r.info.MaterializedAt, _ = time.Parse(time.RFC3339Nano, at)
	return &r, nil
}

// writeRecord records a materialization. The version is the time of it,
// or one more than the last when the clock stepped back: it must never
// repeat, not even for a view deleted and made again, because a cached
// online lookup trusts a version it has seen.
func writeRecord(ctx context.Context, tx *sql.Tx, r *record, prev *record, res *MaterializeResult, now time.Time) error {
	r.info.Version = now.UnixNano()
	if prev != nil && prev.info.Version >= r.info.Version {
		r.info.Version = prev.info.Version + 1
	}
	spec, err := json.Marshal(&r.info)
	if err != nil {
		return err
	}
	var wm any
	if !r.info.Watermark.IsZero() {
		wm = r.info.Watermark.UnixNano()
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO feature_views(name, spec, layout, version, ttl, source_size, source_sha256,
			source_lines, watermark, rows_read, rows_written, materialized_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(name) DO UPDATE SET spec = excluded.spec, layout = excluded.layout, version = excluded.version,
			ttl = excluded.ttl, source_size = excluded.source_size, source_sha256 = excluded.source_sha256,
			source_lines = excluded.source_lines, watermark = excluded.watermark, rows_read = excluded.rows_read,
			rows_written = excluded.rows_written, materialized_at = excluded.materialized_at`,
		r.info.Name, string(spec), r.layout, r.info.Version, int64(r.info.TTL), r.size, r.sha, r.lines, wm,
		res.RowsRead, res.RowsWritten, now.UTC().Format(time.RFC3339Nano))
	if err != nil {
		return fmt.Errorf("record feature view %s: %w", r.info.Name, err)
	}
	return nil
}

// View returns a view as it was last materialized.
func (s *Store) View(ctx context.Context, name string) (*ViewInfo, error) {
	r, err := readRecord(ctx, s.db, name)
	if err != nil {
		return nil, err
	}
	return &r.info, nil
}

// Views lists every materialized view by name.
func (s *Store) Views(ctx context.Context) ([]*ViewInfo, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name FROM feature_views ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list feature views: %w", err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list feature views: %w", err)
		}
		names = append(names, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list feature views: %w", err)
	}
	out := make([]*ViewInfo, 0, len(names))
	for _, n := range names {
		v, err := s.View(ctx, n)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// DeleteView removes a view's offline and online data and its record. A
// view that was never materialized is not an error.
func (s *Store) DeleteView(ctx context.Context, tx *sql.Tx, view string) error {
	for _, q := range []string{"DROP TABLE IF EXISTS " + offlineTable(view), "DROP TABLE IF EXISTS " + onlineTable(view)} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("delete feature view %s: %w", view, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM feature_views WHERE name = ?`, view); err != nil {
		return fmt.Errorf("delete feature view %s: %w", view, err)
	}
	return nil
}
