package features

import (
	"context"
	"fmt"

	"sluice/runtime/store"
)

// Tables are the feature tables a state file holds, read once so that a
// plan of many views asks SQLite one question.
type Tables map[string]bool

// ReadTables lists the feature tables in the state read through q.
func ReadTables(ctx context.Context, q store.Querier) (Tables, error) {
	rows, err := q.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name LIKE 'features\_%' ESCAPE '\'`)
	if err != nil {
		return nil, fmt.Errorf("list feature tables: %w", err)
	}
	defer rows.Close()
	t := Tables{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("list feature tables: %w", err)
		}
		t[name] = true
	}
	return t, rows.Err()
}

// Missing names the tables of a materialized view that are gone
// ("offline", and "online" when the view is online): a state file restored
// from an old copy, or a table dropped by hand. A plan rebuilds them with
// a full materialization rather than trusting its record.
func (t Tables) Missing(view string, online bool) []string {
	var missing []string
	if !t["features_offline_"+view] {
		missing = append(missing, "offline")
	}
	if online && !t["features_online_"+view] {
		missing = append(missing, "online")
	}
	return missing
}
