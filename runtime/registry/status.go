package registry

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// SetStatus changes a version's status, with a message saying why.
// FAILED is final. A version an alias points to stays READY: archiving or
// failing it is refused until its aliases move.
func (r *Registry) SetStatus(ctx context.Context, tx *sql.Tx, model string, n int, status Status, message string) error {
	if status != StatusReady && status != StatusFailed && status != StatusArchived {
		return fmt.Errorf("set status of version %d of %s: unknown status %q (want READY, FAILED or ARCHIVED)", n, model, status)
	}
	v, err := r.Version(ctx, tx, model, n)
	if err != nil {
		return fmt.Errorf("set status: %w", err)
	}
	switch {
	case v.Status == StatusFailed && status != StatusFailed:
		return fmt.Errorf("set status of version %d of %s: it failed (%s), and failing is final", n, model, v.Message)
	case status != StatusReady && len(v.Aliases) > 0:
		return fmt.Errorf("set status of version %d of %s to %s: %s %s to it; move %s first",
			n, model, status, aliasList(v.Aliases), pointVerb(v.Aliases), pronoun(v.Aliases))
	}
	return r.setStatus(ctx, tx, model, n, status, message)
}

// setStatus writes a status without checking the transition.
func (r *Registry) setStatus(ctx context.Context, tx *sql.Tx, model string, n int, status Status, message string) error {
	_, err := tx.ExecContext(ctx, `UPDATE registry_versions SET status = ?, status_message = ?, updated_at = ?
		WHERE model = ? AND version = ?`, string(status), message, r.now().UnixNano(), model, n)
	if err != nil {
		return fmt.Errorf("set status of version %d of %s: %w", n, model, err)
	}
	return nil
}

// DeleteVersion forgets version n of model. Its number is never given
// again, and the alias history that mentions it is kept. A version an alias
// points to is not deleted.
func (r *Registry) DeleteVersion(ctx context.Context, tx *sql.Tx, model string, n int) error {
	v, err := r.Version(ctx, tx, model, n)
	if err != nil {
		return fmt.Errorf("delete version: %w", err)
	}
	if len(v.Aliases) > 0 {
		return fmt.Errorf("delete version %d of %s: %s %s to it; move %s first",
			n, model, aliasList(v.Aliases), pointVerb(v.Aliases), pronoun(v.Aliases))
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM registry_versions WHERE model = ? AND version = ?`, model, n); err != nil {
		return fmt.Errorf("delete version %d of %s: %w", n, model, err)
	}
	return nil
}

// aliasList prints aliases for a message: `alias "production"` or
// `aliases "production", "champion"`.
func aliasList(aliases []string) string {
	q := make([]string, len(aliases))
	for i, a := range aliases {
		q[i] = fmt.Sprintf("%q", a)
	}
	if len(q) == 1 {
		return "alias " + q[0]
	}
	return "aliases " + strings.Join(q, ", ")
}

func pointVerb(aliases []string) string {
	if len(aliases) == 1 {
		return "points"
	}
	return "point"
}

func pronoun(aliases []string) string {
	if len(aliases) == 1 {
		return "it"
	}
	return "them"
}
