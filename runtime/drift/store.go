package drift

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"sluice/runtime/store"
)

// migrations are drift's tables in the state file. Append only.
var migrations = []string{
	`CREATE TABLE drift_references (
		model TEXT NOT NULL,
		version INTEGER NOT NULL,
		fitted_at INTEGER NOT NULL, -- unix ns
		rows INTEGER NOT NULL,
		body BLOB NOT NULL,         -- gzip'd JSON of Reference
		PRIMARY KEY (model, version)
	) WITHOUT ROWID;
	CREATE TABLE drift_captures (
		id INTEGER PRIMARY KEY,
		endpoint TEXT NOT NULL,
		version INTEGER NOT NULL,
		request_id TEXT NOT NULL,
		at INTEGER NOT NULL,        -- unix ns
		row TEXT NOT NULL           -- JSON: {"n": numbers, "c": categories, "p": prediction}
	);
	CREATE INDEX drift_captures_by_time ON drift_captures(endpoint, version, at);
	CREATE INDEX drift_captures_by_request ON drift_captures(endpoint, request_id);
	CREATE TABLE drift_feedback (
		endpoint TEXT NOT NULL,
		request_id TEXT NOT NULL,
		label REAL NOT NULL,
		at INTEGER NOT NULL,
		PRIMARY KEY (endpoint, request_id)
	) WITHOUT ROWID;
	CREATE TABLE drift_reports (
		policy TEXT NOT NULL PRIMARY KEY,
		at INTEGER NOT NULL,
		verdict TEXT NOT NULL,
		body TEXT NOT NULL          -- JSON of the last Report
	) WITHOUT ROWID;
	CREATE TABLE drift_episodes (
		policy TEXT NOT NULL PRIMARY KEY,
		since INTEGER NOT NULL,     -- when the current drift episode began
		actions TEXT NOT NULL DEFAULT '' -- actions already taken in it, comma-separated
	) WITHOUT ROWID;`,
	`CREATE TABLE drift_holds (
		endpoint TEXT NOT NULL PRIMARY KEY,
		version INTEGER NOT NULL,   -- the version the endpoint was rolled back to
		from_version INTEGER NOT NULL,
		policy TEXT NOT NULL,
		commit_hash TEXT NOT NULL,  -- the revision applied when it was rolled back
		at INTEGER NOT NULL
	) WITHOUT ROWID;`,
	// Captured rows are stored a chunk per write (chunk.go): one row per
	// batch instead of a row and two index entries per request. The old
	// table's rows become chunks of one row whose body is their JSON and
	// request id (chunk_legacy.go), under the same ids, so feedback
	// already given keeps finding them.
	`CREATE TABLE drift_capture_chunks (
		id INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: ids.go indexes chunks after the newest indexed one
		endpoint TEXT NOT NULL,
		version INTEGER NOT NULL,
		first_at INTEGER NOT NULL,  -- unix ns of the earliest row
		last_at INTEGER NOT NULL,   -- and of the latest
		rows INTEGER NOT NULL,
		body BLOB NOT NULL          -- chunk.go's encoding, or a migrated row's JSON
	);
	CREATE INDEX drift_capture_chunks_by_window ON drift_capture_chunks(endpoint, version, last_at);
	CREATE INDEX drift_capture_chunks_by_last ON drift_capture_chunks(last_at);
	CREATE INDEX drift_capture_chunks_by_first ON drift_capture_chunks(first_at);
	CREATE TABLE drift_capture_ids (  -- filled by feedback (ids.go)
		key INTEGER PRIMARY KEY,    -- chunk id << 16 | sequence in the chunk
		request_id TEXT NOT NULL
	);
	CREATE INDEX drift_capture_ids_by_request ON drift_capture_ids(request_id);
	INSERT INTO drift_capture_chunks(id, endpoint, version, first_at, last_at, rows, body)
		SELECT id, endpoint, version, at, at, 1, CAST('{"id":' || json_quote(request_id) || ',"row":' || row || '}' AS BLOB)
		FROM drift_captures;
	INSERT INTO drift_capture_ids(key, request_id) SELECT id << 16, request_id FROM drift_captures;
	DROP TABLE drift_captures;`,
}

// Store is drift's part of the state file: references, captured traffic,
// feedback labels, the last report of each policy and open drift episodes.
type Store struct {
	db *store.DB
	// lazy stores create the tables with the first reference, inside the
	// transaction that stores it.
	lazy bool
}

// Lazy returns a Store whose tables are created only when the first
// reference is stored, inside that step's transaction: a plain apply that
// trains nothing adds nothing to the state file.
func Lazy(db *store.DB) *Store { return &Store{db: db, lazy: true} }

// migrateIn brings drift's tables up to date inside the caller's
// transaction, recording the version in the state's schema_migrations as
// store.DB.Migrate does, so that a later Open finds them current.
func migrateIn(ctx context.Context, q store.Querier) error {
	var v int
	err := q.QueryRowContext(ctx, `SELECT version FROM schema_migrations WHERE component = 'drift'`).Scan(&v)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("migrate drift: %w", err)
	}
	if v > len(migrations) {
		return fmt.Errorf("state file's drift tables are at version %d, newer than this sluice knows (%d): upgrade sluice", v, len(migrations))
	}
	if v == len(migrations) {
		return nil
	}
	for ; v < len(migrations); v++ {
		if _, err := q.ExecContext(ctx, migrations[v]); err != nil {
			return fmt.Errorf("migration drift #%d: %w", v+1, err)
		}
	}
	_, err = q.ExecContext(ctx, `INSERT INTO schema_migrations(component, version) VALUES ('drift', ?)
		ON CONFLICT(component) DO UPDATE SET version = excluded.version`, v)
	if err != nil {
		return fmt.Errorf("migrate drift: %w", err)
	}
	return nil
}

// Open brings drift's tables in db up to date.
func Open(ctx context.Context, db *store.DB) (*Store, error) {
	if err := db.Migrate(ctx, "drift", migrations); err != nil {
		return nil, err
	}
	return &Store{db: db}, nil
}

// ErrNoReference is returned when a model version has no fitted reference.
var ErrNoReference = errors.New("no reference")

// PutReference stores (or replaces) a model version's reference.
func PutReference(ctx context.Context, q store.Querier, ref *Reference) error {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(ref); err != nil {
		return fmt.Errorf("encode reference %s v%d: %w", ref.Model, ref.Version, err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("encode reference %s v%d: %w", ref.Model, ref.Version, err)
	}
	_, err := q.ExecContext(ctx, `INSERT INTO drift_references(model, version, fitted_at, rows, body) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT(model, version) DO UPDATE SET fitted_at = excluded.fitted_at, rows = excluded.rows, body = excluded.body`,
		ref.Model, ref.Version, ref.FittedAt.UnixNano(), ref.Rows, buf.Bytes())
	if err != nil {
		return fmt.Errorf("store reference %s v%d: %w", ref.Model, ref.Version, err)
	}
	return nil
}

// GetReference reads a model version's reference; the error wraps
// ErrNoReference when there is none.
func GetReference(ctx context.Context, q store.Querier, model string, version int) (*Reference, error) {
	var body []byte
	err := q.QueryRowContext(ctx, `SELECT body FROM drift_references WHERE model = ? AND version = ?`, model, version).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) || isNoTable(err) {
		return nil, fmt.Errorf("%w for %s version %d", ErrNoReference, model, version)
	}
	if err != nil {
		return nil, fmt.Errorf("read reference %s v%d: %w", model, version, err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("read reference %s v%d: %w", model, version, err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("read reference %s v%d: %w", model, version, err)
	}
	var ref Reference
	if err := json.Unmarshal(raw, &ref); err != nil {
		return nil, fmt.Errorf("decode reference %s v%d: %w", model, version, err)
	}
	return &ref, nil
}

// SaveReport records a policy's latest report.
func SaveReport(ctx context.Context, q store.Querier, r *Report, at time.Time) error {
	body, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode report %s: %w", r.Policy, err)
	}
	_, err = q.ExecContext(ctx, `INSERT INTO drift_reports(policy, at, verdict, body) VALUES (?, ?, ?, ?)
		ON CONFLICT(policy) DO UPDATE SET at = excluded.at, verdict = excluded.verdict, body = excluded.body`,
		r.Policy, at.UnixNano(), r.Verdict, string(body))
	if err != nil {
		return fmt.Errorf("store report %s: %w", r.Policy, err)
	}
	return nil
}

// LastReport reads a policy's latest report and when it was made; nil when
// the policy has never been checked.
func LastReport(ctx context.Context, q store.Querier, policy string) (*Report, time.Time, error) {
	var at int64
	var body string
	err := q.QueryRowContext(ctx, `SELECT at, body FROM drift_reports WHERE policy = ?`, policy).Scan(&at, &body)
	if errors.Is(err, sql.ErrNoRows) || isNoTable(err) {
		return nil, time.Time{}, nil
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("read report %s: %w", policy, err)
	}
	var r Report
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		return nil, time.Time{}, fmt.Errorf("decode report %s: %w", policy, err)
	}
	return &r, time.Unix(0, at).UTC(), nil
}

// isNoTable says the drift tables were never created (a state file that
// no drift-aware command has opened for writing).
func isNoTable(err error) bool {
	return err != nil && bytes.Contains([]byte(err.Error()), []byte("no such table"))
}

// PutReference stores a model version's reference (see the function),
// creating a lazy store's tables first.
func (s *Store) PutReference(ctx context.Context, q store.Querier, ref *Reference) error {
	if s.lazy {
		if err := migrateIn(ctx, q); err != nil {
			return err
		}
	}
	return PutReference(ctx, q, ref)
}
