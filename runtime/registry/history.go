package registry

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"sluice/runtime/store"
)

// AliasMove is one entry of an alias's history.
type AliasMove struct {
	Model, Alias string
	// From and To are versions; 0 means the alias pointed nowhere (before
	// its first move, after its removal).
	From, To int
	Commit   string
	Reason   Reason
	At       time.Time
}

// String reads like "production 2 → 3 (git abc1234, 2026-01-02T15:04:05Z)".
func (m AliasMove) String() string {
	return fmt.Sprintf("%s %s → %s (%s %s, %s)", m.Alias, versionOrNone(m.From), versionOrNone(m.To),
		m.Reason, shortCommit(m.Commit), m.At.Format(time.RFC3339))
}

func versionOrNone(n int) string {
	if n == 0 {
		return "none"
	}
	return fmt.Sprint(n)
}

func shortCommit(c string) string {
	if len(c) > 7 {
		return c[:7]
	}
	if c == "" {
		return "-"
	}
	return c
}

const moveColumns = `model, alias, from_version, to_version, commit_hash, reason, at`

func scanMove(row interface{ Scan(...any) error }) (AliasMove, error) {
	var m AliasMove
	var from, to sql.NullInt64
	var reason string
	var at int64
	if err := row.Scan(&m.Model, &m.Alias, &from, &to, &m.Commit, &reason, &at); err != nil {
		return AliasMove{}, err
	}
	m.From, m.To, m.Reason, m.At = int(from.Int64), int(to.Int64), Reason(reason), fromNanos(at)
	return m, nil
}

// History returns every move of model's aliases, oldest first; alias ""
// means all of them.
func (r *Registry) History(ctx context.Context, q store.Querier, model, alias string) ([]AliasMove, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+moveColumns+` FROM registry_alias_history
		WHERE model = ? AND (? = '' OR alias = ?) ORDER BY at, id`, model, alias, alias)
	if err != nil {
		return nil, fmt.Errorf("read alias history of %s: %w", model, err)
	}
	defer rows.Close()
	var out []AliasMove
	for rows.Next() {
		m, err := scanMove(rows)
		if err != nil {
			return nil, fmt.Errorf("read alias history of %s: %w", model, err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// AliasAt answers "which version did alias point to at t": the last move of
// alias at or before t. Its To is the version (0 when the alias pointed
// nowhere then), its At and Commit say since when and why. A zero AliasMove
// means the alias had never been set by t.
func (r *Registry) AliasAt(ctx context.Context, q store.Querier, model, alias string, t time.Time) (AliasMove, error) {
	row := q.QueryRowContext(ctx, `SELECT `+moveColumns+` FROM registry_alias_history
		WHERE model = ? AND alias = ? AND at <= ? ORDER BY at DESC, id DESC LIMIT 1`, model, alias, t.UnixNano())
	m, err := scanMove(row)
	if err == sql.ErrNoRows {
		return AliasMove{}, nil
	}
	if err != nil {
		return AliasMove{}, fmt.Errorf("read alias %s of %s at %s: %w", alias, model, t.Format(time.RFC3339), err)
	}
	return m, nil
}
