package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// Condition statuses.
const (
	Ready       = "Ready"
	Progressing = "Progressing"
	Failed      = "Failed"
	Held        = "Held"
)

// Resource is a resource as last applied.
type Resource struct {
	Kind, Name string
	Spec       json.RawMessage
	Hash       string
	Classes    map[string]string
	Outputs    map[string]string
	RevisionID int64
	AppliedAt  time.Time
}

// Condition is a resource's current status.
type Condition struct {
	Kind, Name string
	Status     string
	Reason     string
	Message    string
	Since      time.Time
	RevisionID int64
}

// Event is one entry of the event log.
type Event struct {
	ID         int64
	At         time.Time
	Kind, Name string
	Type       string // Normal or Warning
	Reason     string
	Message    string
	RevisionID int64
}

// Revision is one attempt to apply a commit.
type Revision struct {
	ID         int64
	Commit     string
	Ref, Path  string
	StartedAt  time.Time
	FinishedAt time.Time
	Outcome    string // applying, applied, partial, failed
	Message    string
}

const timeFormat = time.RFC3339Nano

// Querier is what both *sql.DB and *sql.Tx offer.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Serial is the state's version: it moves with every committed step, so a
// saved plan can tell that the state it was made against has changed.
func Serial(ctx context.Context, q Querier) (int64, error) {
	var n int64
	err := q.QueryRowContext(ctx, `SELECT serial FROM state_meta WHERE id = 1`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("read state serial: %w", err)
	}
	return n, nil
}

// BumpSerial moves the serial on; call it in every transaction that changes state.
func BumpSerial(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `UPDATE state_meta SET serial = serial + 1 WHERE id = 1`)
	return err
}

// Resources returns every applied resource.
func Resources(ctx context.Context, q Querier) ([]Resource, error) {
	rows, err := q.QueryContext(ctx, `SELECT kind, name, spec, hash, classes, outputs, revision_id, applied_at FROM resources ORDER BY kind, name`)
	if err != nil {
		return nil, fmt.Errorf("read resources: %w", err)
	}
	defer rows.Close()
	var out []Resource
	for rows.Next() {
		var r Resource
		var spec, classes, outputs, at string
		if err := rows.Scan(&r.Kind, &r.Name, &spec, &r.Hash, &classes, &outputs, &r.RevisionID, &at); err != nil {
			return nil, fmt.Errorf("read resources: %w", err)
		}
		r.Spec = json.RawMessage(spec)
		if err := json.Unmarshal([]byte(classes), &r.Classes); err != nil {
			return nil, fmt.Errorf("read resources: %s.%s classes: %w", r.Kind, r.Name, err)
		}
		if err := json.Unmarshal([]byte(outputs), &r.Outputs); err != nil {
			return nil, fmt.Errorf("read resources: %s.%s outputs: %w", r.Kind, r.Name, err)
		}
		r.AppliedAt, _ = time.Parse(timeFormat, at)
		out = append(out, r)
	}
	return out, rows.Err()
}

// PutResource records a resource as applied.
func PutResource(ctx context.Context, tx *sql.Tx, r Resource) error {
	classes, _ := json.Marshal(nonNil(r.Classes))
	outputs, _ := json.Marshal(nonNil(r.Outputs))
	_, err := tx.ExecContext(ctx, `INSERT INTO resources(kind, name, spec, hash, classes, outputs, revision_id, applied_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(kind, name) DO UPDATE SET spec = excluded.spec, hash = excluded.hash, classes = excluded.classes,
			outputs = excluded.outputs, revision_id = excluded.revision_id, applied_at = excluded.applied_at`,
		r.Kind, r.Name, string(r.Spec), r.Hash, string(classes), string(outputs), r.RevisionID, r.AppliedAt.UTC().Format(timeFormat))
	if err != nil {
		return fmt.Errorf("record %s.%s: %w", r.Kind, r.Name, err)
	}
	return nil
}

// DeleteResource forgets a resource and its condition.
func DeleteResource(ctx context.Context, tx *sql.Tx, kind, name string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM resources WHERE kind = ? AND name = ?`, kind, name); err != nil {
		return fmt.Errorf("forget %s.%s: %w", kind, name, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM conditions WHERE kind = ? AND name = ?`, kind, name); err != nil {
		return fmt.Errorf("forget %s.%s: %w", kind, name, err)
	}
	return nil
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
