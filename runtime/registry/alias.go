package registry

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"sluice/runtime/store"
)

// Aliases returns the version each alias of model points to now.
func (r *Registry) Aliases(ctx context.Context, q store.Querier, model string) (map[string]int, error) {
	rows, err := q.QueryContext(ctx, `SELECT alias, version FROM registry_aliases WHERE model = ?`, model)
	if err != nil {
		return nil, fmt.Errorf("read aliases of %s: %w", model, err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var a string
		var v int
		if err := rows.Scan(&a, &v); err != nil {
			return nil, fmt.Errorf("read aliases of %s: %w", model, err)
		}
		out[a] = v
	}
	return out, rows.Err()
}

// aliasesOf lists, sorted, the aliases that point to version n.
func aliasesOf(aliases map[string]int, n int) []string {
	var out []string
	for a, v := range aliases {
		if v == n {
			out = append(out, a)
		}
	}
	sort.Strings(out)
	return out
}

// Resolve finds the version ref names: an alias, "latest" (the newest READY
// version, in any case) or v<number>.
func (r *Registry) Resolve(ctx context.Context, q store.Querier, model, ref string) (*Version, error) {
	switch {
	case strings.EqualFold(ref, "latest"):
		var n int
		err := q.QueryRowContext(ctx, `SELECT version FROM registry_versions WHERE model = ? AND status = 'READY'
			ORDER BY version DESC LIMIT 1`, model).Scan(&n)
		if err == sql.ErrNoRows {
			return nil, fmt.Errorf("resolve %s@latest: model %s has no READY version: %w", model, model, ErrNotFound)
		}
		if err != nil {
			return nil, fmt.Errorf("resolve %s@latest: %w", model, err)
		}
		return r.Version(ctx, q, model, n)
	case versionAlias.MatchString(ref):
		n, err := strconv.Atoi(ref[1:])
		if err != nil {
			return nil, fmt.Errorf("resolve %s@%s: %w", model, ref, err)
		}
		return r.Version(ctx, q, model, n)
	}
	if err := ValidateAlias(ref); err != nil {
		return nil, fmt.Errorf("resolve %s@%s: %w", model, ref, err)
	}
	var n int
	err := q.QueryRowContext(ctx, `SELECT version FROM registry_aliases WHERE model = ? AND alias = ?`, model, ref).Scan(&n)
	if err == sql.ErrNoRows {
		return nil, fmt.Errorf("resolve %s@%s: model %s has no alias %q: %w", model, ref, model, ref, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("resolve %s@%s: %w", model, ref, err)
	}
	return r.Version(ctx, q, model, n)
}

// Move is one alias move as apply makes it.
type Move struct {
	Model, Alias string
	// Version is the version the alias will point to.
	Version int
	// Commit is the git commit the move comes from (for a drift rollback,
	// the commit being applied when it happened).
	Commit string
	Reason Reason
	// ArchivePrevious archives the version the alias moves away from, unless
	// another alias still points to it.
	ArchivePrevious bool
}

// Moved is what a move did.
type Moved struct {
	// From is the version the alias pointed to before; 0 when it was unset.
	From, To int
	// Archived is the version archive_previous archived; 0 when none was.
	Archived int
	// Restored is true when To was ARCHIVED and the move made it READY.
	Restored bool
}

// NoOp reports whether the alias already pointed to the version.
func (m Moved) NoOp() bool { return m.From == m.To }

// Promote points m.Alias at m.Version, appends the move to the alias's
// history and, with m.ArchivePrevious, archives the version it moved away
// from. A FAILED or missing version is refused; an ARCHIVED one becomes
// READY again (that is how a rollback to an archived version works). Gates
// are not checked here: PlanPromotion decides whether a move may happen,
// and apply executes the plan. Moving an alias to where it already points
// does nothing and records nothing.
func (r *Registry) Promote(ctx context.Context, tx *sql.Tx, m Move) (Moved, error) {
	what := fmt.Sprintf("promote %s %s to version %d", m.Model, m.Alias, m.Version)
	if err := ValidateAlias(m.Alias); err != nil {
		return Moved{}, fmt.Errorf("%s: %w", what, err)
	}
	if !m.Reason.valid() {
		return Moved{}, fmt.Errorf("%s: unknown reason %q (want git, drift_rollback or manual)", what, m.Reason)
	}
	to, err := r.Version(ctx, tx, m.Model, m.Version)
	if err != nil {
		return Moved{}, fmt.Errorf("%s: %w", what, err)
	}
	if to.Status == StatusFailed {
		return Moved{}, fmt.Errorf("%s: %s", what, failedMessage(to))
	}
	aliases, err := r.Aliases(ctx, tx, m.Model)
	if err != nil {
		return Moved{}, err
	}
	done := Moved{From: aliases[m.Alias], To: m.Version}
	if done.NoOp() {
		return done, nil
	}
	if err := r.point(ctx, tx, m.Model, m.Alias, done.From, m.Version, m.Commit, m.Reason); err != nil {
		return Moved{}, fmt.Errorf("%s: %w", what, err)
	}
	if to.Status == StatusArchived {
		if err := r.setStatus(ctx, tx, m.Model, m.Version, StatusReady, ""); err != nil {
			return Moved{}, err
		}
		done.Restored = true
	}
	aliases[m.Alias] = m.Version
	if m.ArchivePrevious && done.From != 0 && len(aliasesOf(aliases, done.From)) == 0 {
		msg := fmt.Sprintf("archived when %s moved to version %d", m.Alias, m.Version)
		if err := r.setStatus(ctx, tx, m.Model, done.From, StatusArchived, msg); err != nil {
			return Moved{}, err
		}
		done.Archived = done.From
	}
	return done, nil
}

// RemoveAlias unsets an alias (git no longer declares it), recording the
// removal in its history. Removing an unset alias does nothing.
func (r *Registry) RemoveAlias(ctx context.Context, tx *sql.Tx, model, alias, commit string, reason Reason) error {
	if !reason.valid() {
		return fmt.Errorf("remove alias %s of %s: unknown reason %q", alias, model, reason)
	}
	aliases, err := r.Aliases(ctx, tx, model)
	if err != nil {
		return err
	}
	from, ok := aliases[alias]
	if !ok {
		return nil
	}
	if err := r.point(ctx, tx, model, alias, from, 0, commit, reason); err != nil {
		return fmt.Errorf("remove alias %s of %s: %w", alias, model, err)
	}
	return nil
}

// point sets (to > 0) or removes (to == 0) an alias and appends the move to
// its history, in the same transaction so neither exists without the other.
func (r *Registry) point(ctx context.Context, tx *sql.Tx, model, alias string, from, to int, commit string, reason Reason) error {
	var err error
	if to == 0 {
		_, err = tx.ExecContext(ctx, `DELETE FROM registry_aliases WHERE model = ? AND alias = ?`, model, alias)
	} else {
		_, err = tx.ExecContext(ctx, `INSERT INTO registry_aliases(model, alias, version) VALUES (?, ?, ?)
			ON CONFLICT(model, alias) DO UPDATE SET version = excluded.version`, model, alias, to)
	}
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO registry_alias_history(model, alias, from_version, to_version, commit_hash, reason, at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, model, alias, nullVersion(from), nullVersion(to), commit, string(reason), r.now().UnixNano())
	return err
}

func nullVersion(n int) any {
	if n == 0 {
		return nil
	}
	return n
}

func failedMessage(v *Version) string {
	msg := fmt.Sprintf("version %d of %s is FAILED", v.Number, v.Model)
	if v.Message != "" {
		msg += " (" + v.Message + ")"
	}
	return msg + " and cannot be promoted"
}
