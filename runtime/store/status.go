package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// SetCondition records a resource's status. Since moves only when the status
// or reason changes, so "Failed since 09:14" keeps meaning the first failure.
func SetCondition(ctx context.Context, tx *sql.Tx, c Condition) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO conditions(kind, name, status, reason, message, since, revision_id)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(kind, name) DO UPDATE SET
			since = CASE WHEN status = excluded.status AND reason = excluded.reason THEN since ELSE excluded.since END,
			status = excluded.status, reason = excluded.reason, message = excluded.message,
			revision_id = excluded.revision_id`,
		c.Kind, c.Name, c.Status, c.Reason, c.Message, c.Since.UTC().Format(timeFormat), nullID(c.RevisionID))
	if err != nil {
		return fmt.Errorf("record condition of %s.%s: %w", c.Kind, c.Name, err)
	}
	return nil
}

// Conditions returns every resource's status.
func Conditions(ctx context.Context, q Querier) ([]Condition, error) {
	rows, err := q.QueryContext(ctx, `SELECT kind, name, status, reason, message, since, COALESCE(revision_id, 0) FROM conditions ORDER BY kind, name`)
	if err != nil {
		return nil, fmt.Errorf("read conditions: %w", err)
	}
	defer rows.Close()
	var out []Condition
	for rows.Next() {
		var c Condition
		var since string
		if err := rows.Scan(&c.Kind, &c.Name, &c.Status, &c.Reason, &c.Message, &since, &c.RevisionID); err != nil {
			return nil, fmt.Errorf("read conditions: %w", err)
		}
		c.Since, _ = time.Parse(timeFormat, since)
		out = append(out, c)
	}
	return out, rows.Err()
}

// AddEvent appends to the event log.
func AddEvent(ctx context.Context, tx *sql.Tx, e Event) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO events(at, kind, name, type, reason, message, revision_id) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		e.At.UTC().Format(timeFormat), e.Kind, e.Name, e.Type, e.Reason, e.Message, nullID(e.RevisionID))
	if err != nil {
		return fmt.Errorf("record event %s: %w", e.Reason, err)
	}
	return nil
}

// EventFilter narrows Events; zero values match everything.
type EventFilter struct {
	Kind, Name string
	AfterID    int64
	Limit      int
}

// Events returns the event log, oldest first.
func Events(ctx context.Context, q Querier, f EventFilter) ([]Event, error) {
	if f.Limit <= 0 {
		f.Limit = 1 << 30
	}
	rows, err := q.QueryContext(ctx, `SELECT id, at, kind, name, type, reason, message, COALESCE(revision_id, 0) FROM (
			SELECT * FROM events WHERE id > ? AND (? = '' OR kind = ?) AND (? = '' OR name = ?)
			ORDER BY id DESC LIMIT ?) ORDER BY id`,
		f.AfterID, f.Kind, f.Kind, f.Name, f.Name, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var at string
		if err := rows.Scan(&e.ID, &at, &e.Kind, &e.Name, &e.Type, &e.Reason, &e.Message, &e.RevisionID); err != nil {
			return nil, fmt.Errorf("read events: %w", err)
		}
		e.At, _ = time.Parse(timeFormat, at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// BeginRevision records the start of applying a commit.
func BeginRevision(ctx context.Context, tx *sql.Tx, commit, ref, path string, at time.Time) (int64, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO revisions(commit_hash, ref, path, started_at) VALUES (?, ?, ?, ?)`,
		commit, ref, path, at.UTC().Format(timeFormat))
	if err != nil {
		return 0, fmt.Errorf("record revision %s: %w", commit, err)
	}
	return res.LastInsertId()
}

// FinishRevision records how applying a revision ended; an applied or
// partially applied revision becomes the current one.
func FinishRevision(ctx context.Context, tx *sql.Tx, id int64, outcome, message string, at time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE revisions SET outcome = ?, message = ?, finished_at = ? WHERE id = ?`,
		outcome, message, at.UTC().Format(timeFormat), id); err != nil {
		return fmt.Errorf("finish revision: %w", err)
	}
	if outcome == "applied" || outcome == "partial" {
		if _, err := tx.ExecContext(ctx, `UPDATE state_meta SET current_revision = ? WHERE id = 1`, id); err != nil {
			return fmt.Errorf("finish revision: %w", err)
		}
	}
	return nil
}

// CurrentRevision returns the revision last applied, or nil before the first.
func CurrentRevision(ctx context.Context, q Querier) (*Revision, error) {
	rows, err := q.QueryContext(ctx, `SELECT r.id, r.commit_hash, r.ref, r.path, r.started_at, COALESCE(r.finished_at, ''), r.outcome, r.message
		FROM revisions r JOIN state_meta m ON m.current_revision = r.id`)
	if err != nil {
		return nil, fmt.Errorf("read current revision: %w", err)
	}
	revs, err := scanRevisions(rows)
	if err != nil || len(revs) == 0 {
		return nil, err
	}
	return &revs[0], nil
}

// Revisions returns every revision attempted, newest first.
func Revisions(ctx context.Context, q Querier, limit int) ([]Revision, error) {
	if limit <= 0 {
		limit = 1 << 30
	}
	rows, err := q.QueryContext(ctx, `SELECT id, commit_hash, ref, path, started_at, COALESCE(finished_at, ''), outcome, message
		FROM revisions ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("read revisions: %w", err)
	}
	return scanRevisions(rows)
}

func scanRevisions(rows *sql.Rows) ([]Revision, error) {
	defer rows.Close()
	var out []Revision
	for rows.Next() {
		var r Revision
		var started, finished string
		if err := rows.Scan(&r.ID, &r.Commit, &r.Ref, &r.Path, &started, &finished, &r.Outcome, &r.Message); err != nil {
			return nil, fmt.Errorf("read revisions: %w", err)
		}
		r.StartedAt, _ = time.Parse(timeFormat, started)
		r.FinishedAt, _ = time.Parse(timeFormat, finished)
		out = append(out, r)
	}
	return out, rows.Err()
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}
