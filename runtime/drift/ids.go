package drift

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"sluice/runtime/store"
)

// The request ids of captured rows are indexed (drift_capture_ids) by the
// first feedback that needs them, not by the capture writer: writing an
// index entry per request costs a B-tree insert per request on the cores
// that serve, the larger part of what capture cost, and many endpoints
// never get feedback. A feedback first indexes every chunk written since
// the last one it indexed, then looks its id up.

// chunksPerIndexStep is how many chunks' ids are sorted and inserted
// together: sorted, the index's B-tree takes them in one sweep instead of
// at random pages (client ids such as UUIDv4 are random).
const chunksPerIndexStep = 512

// idsPerInsert is how many request ids one INSERT statement carries.
const idsPerInsert = 100

// captured says whether the endpoint captured requestID in a chunk it
// still holds: the index names the candidate chunks, and the chunk's own
// ids confirm it (a chunk trimmed by retention keeps its pruned rows'
// entries until it goes).
func captured(ctx context.Context, q store.Querier, endpoint, requestID string) (bool, error) {
	if err := indexIDs(ctx, q); err != nil {
		return false, err
	}
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT c.id, c.first_at, c.body FROM drift_capture_ids i
		JOIN drift_capture_chunks c ON c.id = i.key >> 16
		WHERE i.request_id = ? AND c.endpoint = ?`, requestID, endpoint)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, first int64
		var body []byte
		if err := rows.Scan(&id, &first, &body); err != nil {
			return false, err
		}
		// A chunk that does not decode cannot confirm the id; the window
		// that reads it reports it, and feedback for other ids goes on.
		if c, err := readChunk(body, first); err == nil && slices.Contains(c.ids, requestID) {
			return true, nil
		}
	}
	return false, rows.Err()
}

// indexID is one entry of drift_capture_ids: a request id and its key,
// chunk id << 16 | its sequence among the chunk's distinct ids.
type indexID struct {
	id  string
	key int64
}

// indexIDs indexes the ids of the chunks written since the newest indexed
// one (chunk ids only grow: the table is AUTOINCREMENT).
func indexIDs(ctx context.Context, q store.Querier) error {
	for {
		more, err := indexStep(ctx, q)
		if err != nil || !more {
			return err
		}
	}
}

// indexStep indexes the ids of up to chunksPerIndexStep chunks; more says
// whether chunks may be left.
func indexStep(ctx context.Context, q store.Querier) (more bool, err error) {
	var after int64
	if err := q.QueryRowContext(ctx, `SELECT coalesce(max(key) >> 16, 0) FROM drift_capture_ids`).Scan(&after); err != nil {
		return false, fmt.Errorf("index captured request ids: %w", err)
	}
	ids, n, err := unindexedIDs(ctx, q, after)
	if err != nil {
		return false, fmt.Errorf("index captured request ids: %w", err)
	}
	if err := insertIDs(ctx, q, ids); err != nil {
		return false, fmt.Errorf("index captured request ids: %w", err)
	}
	return n == chunksPerIndexStep, nil
}

// indexIDsInSteps is indexIDs with each step in a transaction of its own,
// so that a long backlog does not hold the state file from the capture
// writer (and every other writer) until it is done.
func indexIDsInSteps(ctx context.Context, db *store.DB) error {
	for {
		var more bool
		err := db.Tx(ctx, func(tx *sql.Tx) error {
			var err error
			more, err = indexStep(ctx, tx)
			return err
		})
		if err != nil || !more {
			return err
		}
	}
}

// unindexedIDs reads the ids of up to chunksPerIndexStep chunks after the
// chunk id after, sorted; n is how many chunks it read.
func unindexedIDs(ctx context.Context, q store.Querier, after int64) (ids []indexID, n int, err error) {
	rows, err := q.QueryContext(ctx, `SELECT id, first_at, body FROM drift_capture_chunks WHERE id > ? ORDER BY id LIMIT ?`, after, chunksPerIndexStep)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, first int64
		var body []byte
		if err := rows.Scan(&id, &first, &body); err != nil {
			return nil, 0, err
		}
		n++
		var c *chunk
		if len(body) > 0 && body[0] == '{' {
			c, err = readChunk(body, first)
		} else {
			_, c, err = decodeHead(body)
		}
		key := id << 16
		if err != nil || c.rows() == 0 {
			// Nothing to index, but indexing must get past it: a
			// corrupt chunk (Window names it) must not stop feedback for
			// every chunk after it.
			ids = append(ids, indexID{key: key})
			continue
		}
		for i, rid := range c.ids {
			// A request's rows are usually next to each other: one
			// entry for them.
			if i > 0 && rid == c.ids[i-1] {
				continue
			}
			ids = append(ids, indexID{id: rid, key: key})
			key++
		}
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	slices.SortFunc(ids, func(a, b indexID) int { return strings.Compare(a.id, b.id) })
	return ids, n, nil
}

// insertIDs inserts index entries, idsPerInsert to a statement.
func insertIDs(ctx context.Context, q store.Querier, ids []indexID) error {
	args := make([]any, 0, 2*idsPerInsert)
	for len(ids) > 0 {
		n := min(len(ids), idsPerInsert)
		args = args[:0]
		for _, e := range ids[:n] {
			args = append(args, e.key, e.id)
		}
		query := `INSERT OR IGNORE INTO drift_capture_ids(key, request_id) VALUES (?, ?)` + strings.Repeat(", (?, ?)", n-1)
		if _, err := q.ExecContext(ctx, query, args...); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}
