package drift

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"sluice/runtime/store"
)

// Hold is a rollback a drift policy made: the endpoint serves Version
// instead of the version its alias names, until a commit other than Commit
// is applied. Git stays the only writer of desired state; a hold is
// recorded state outside it, shown by status and plan.
type Hold struct {
	Endpoint    string
	Version     int
	FromVersion int
	Policy      string
	Commit      string
	At          time.Time
}

// PutHold records (or replaces) an endpoint's hold.
func PutHold(ctx context.Context, q store.Querier, h Hold) error {
	_, err := q.ExecContext(ctx, `INSERT INTO drift_holds(endpoint, version, from_version, policy, commit_hash, at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT(endpoint) DO UPDATE SET version = excluded.version, from_version = excluded.from_version,
		policy = excluded.policy, commit_hash = excluded.commit_hash, at = excluded.at`,
		h.Endpoint, h.Version, h.FromVersion, h.Policy, h.Commit, h.At.UnixNano())
	if err != nil {
		return fmt.Errorf("record hold of endpoint %s: %w", h.Endpoint, err)
	}
	return nil
}

// HoldOf reads an endpoint's hold; nil when it has none (or the state
// predates drift's tables).
func HoldOf(ctx context.Context, q store.Querier, endpoint string) (*Hold, error) {
	h := Hold{Endpoint: endpoint}
	var at int64
	err := q.QueryRowContext(ctx, `SELECT version, from_version, policy, commit_hash, at FROM drift_holds WHERE endpoint = ?`, endpoint).
		Scan(&h.Version, &h.FromVersion, &h.Policy, &h.Commit, &at)
	if errors.Is(err, sql.ErrNoRows) || isNoTable(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read hold of endpoint %s: %w", endpoint, err)
	}
	h.At = time.Unix(0, at).UTC()
	return &h, nil
}

// ActiveFor says whether the hold still applies to a plan of commit.
func (h *Hold) ActiveFor(commit string) bool { return h != nil && h.Commit == commit }
