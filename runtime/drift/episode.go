package drift

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"sluice/runtime/store"
)

// An episode is the time from a policy's first drifted check to its next
// check without drift. Actions run once per episode: an alert is sent when
// drift begins, not on every check while it lasts.

// Episode is a policy's open drift episode.
type Episode struct {
	Since   time.Time
	Actions []string
}

// OpenEpisode returns the policy's open episode, or nil.
func OpenEpisode(ctx context.Context, q store.Querier, policy string) (*Episode, error) {
	var since int64
	var actions string
	err := q.QueryRowContext(ctx, `SELECT since, actions FROM drift_episodes WHERE policy = ?`, policy).Scan(&since, &actions)
	if errors.Is(err, sql.ErrNoRows) || isNoTable(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read drift episode %s: %w", policy, err)
	}
	e := &Episode{Since: time.Unix(0, since).UTC()}
	if actions != "" {
		e.Actions = strings.Split(actions, ",")
	}
	return e, nil
}

// Took says whether the episode already ran action.
func (e *Episode) Took(action string) bool { return e != nil && slices.Contains(e.Actions, action) }

// BeginEpisode opens a drift episode for the policy unless one is open.
func BeginEpisode(ctx context.Context, q store.Querier, policy string, at time.Time) error {
	_, err := q.ExecContext(ctx, `INSERT INTO drift_episodes(policy, since) VALUES (?, ?) ON CONFLICT(policy) DO NOTHING`, policy, at.UnixNano())
	if err != nil {
		return fmt.Errorf("begin drift episode %s: %w", policy, err)
	}
	return nil
}

// RecordAction notes that the open episode ran action.
func RecordAction(ctx context.Context, q store.Querier, policy, action string) error {
	e, err := OpenEpisode(ctx, q, policy)
	if err != nil || e == nil || e.Took(action) {
		return err
	}
	_, err = q.ExecContext(ctx, `UPDATE drift_episodes SET actions = ? WHERE policy = ?`, strings.Join(append(e.Actions, action), ","), policy)
	if err != nil {
		return fmt.Errorf("record drift action %s: %w", policy, err)
	}
	return nil
}

// EndEpisode closes the policy's episode, if one is open; it reports
// whether one was.
func EndEpisode(ctx context.Context, q store.Querier, policy string) (bool, error) {
	res, err := q.ExecContext(ctx, `DELETE FROM drift_episodes WHERE policy = ?`, policy)
	if err != nil {
		return false, fmt.Errorf("end drift episode %s: %w", policy, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}
