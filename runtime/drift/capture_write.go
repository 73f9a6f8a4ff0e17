package drift

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"sluice/runtime/store"
)

// chunkWriter is the capture writer's side of the state file: it stores a
// batch of rows as one chunk per endpoint version, each a single row of
// drift_capture_chunks. Their request ids are indexed later, by the first
// feedback that needs them (ids.go): an index entry per request written
// here would cost the serving cores a B-tree insert per request, most of
// the writer's work, for endpoints that may never get feedback.
// Only the writer goroutine uses it.
type chunkWriter struct {
	db    *store.DB
	build chunkBuilder
	body  []byte
	other []segment
	// The INSERT, prepared once on the database and bound to each
	// transaction (database/sql reuses a connection's prepared copy).
	stmt *sql.Stmt
}

// segment is rows [from, to) of a batch.
type segment struct {
	b        *Batch
	from, to int
}

// insert writes the segments' rows in one transaction, a chunk per
// endpoint version.
func (w *chunkWriter) insert(ctx context.Context, segs []segment) error {
	return w.db.Tx(ctx, func(tx *sql.Tx) error {
		for len(segs) > 0 {
			var group []segment
			group, segs = w.split(segs)
			if err := w.insertChunk(ctx, tx, group); err != nil {
				return err
			}
		}
		return nil
	})
}

// split orders segs so that those of the first one's endpoint and version
// come first, keeping the order within each, and returns them and the rest.
func (w *chunkWriter) split(segs []segment) (group, rest []segment) {
	ep, v := segs[0].b.Endpoint, segs[0].b.Version
	k := 0
	other := w.other[:0]
	for i := range segs {
		if segs[i].b.Endpoint == ep && segs[i].b.Version == v {
			segs[k] = segs[i]
			k++
		} else {
			other = append(other, segs[i])
		}
	}
	copy(segs[k:], other)
	clear(other)
	w.other = other[:0]
	return segs[:k], segs[k:]
}

func (w *chunkWriter) insertChunk(ctx context.Context, tx *sql.Tx, segs []segment) error {
	c := w.build.build(segs)
	first, last := c.span()
	w.body = appendChunk(w.body[:0], c)
	if w.stmt == nil {
		st, err := w.db.PrepareContext(ctx, `INSERT INTO drift_capture_chunks(endpoint, version, first_at, last_at, rows, body) VALUES (?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return fmt.Errorf("prepare capture insert: %w", err)
		}
		w.stmt = st
	}
	b := segs[0].b
	if _, err := tx.StmtContext(ctx, w.stmt).ExecContext(ctx, b.Endpoint, b.Version, first, last, c.rows(), w.body); err != nil {
		return fmt.Errorf("insert capture chunk: %w", err)
	}
	return nil
}

func (w *chunkWriter) close() {
	if w.stmt != nil {
		w.stmt.Close()
	}
}

// prune deletes the rows captured before cut: whole chunks whose last row
// is older, rows of the chunks that straddle cut (rewritten without them),
// and the request ids of chunks that are gone.
func (w *chunkWriter) prune(ctx context.Context, cut time.Time) error {
	at := cut.UnixNano()
	return w.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM drift_capture_chunks WHERE last_at < ?`, at); err != nil {
			return err
		}
		if err := trimChunks(ctx, tx, at); err != nil {
			return err
		}
		// Chunk ids grow with each insert, and a request id's key is its
		// chunk's id << 16: every key below the oldest chunk's is gone.
		// (A younger chunk pruned before an older one, when clocks
		// disagree, leaves its ids until then; lookups join on chunks.)
		var oldest sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT min(id) FROM drift_capture_chunks`).Scan(&oldest); err != nil {
			return err
		}
		q, args := `DELETE FROM drift_capture_ids WHERE key < ?`, []any{oldest.Int64 << 16}
		if !oldest.Valid {
			q, args = `DELETE FROM drift_capture_ids`, nil
		}
		_, err := tx.ExecContext(ctx, q, args...)
		return err
	})
}

// trimChunks rewrites the chunks that hold rows from before at without
// them (after the chunks wholly before at are deleted, those are the ones
// whose first row is).
func trimChunks(ctx context.Context, tx *sql.Tx, at int64) error {
	type old struct {
		id, first int64
		body      []byte
	}
	var olds []old
	rows, err := tx.QueryContext(ctx, `SELECT id, first_at, body FROM drift_capture_chunks WHERE first_at < ?`, at)
	if err != nil {
		return err
	}
	for rows.Next() {
		var o old
		if err := rows.Scan(&o.id, &o.first, &o.body); err != nil {
			rows.Close()
			return err
		}
		olds = append(olds, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, o := range olds {
		c, err := readChunk(o.body, o.first)
		if err != nil {
			return fmt.Errorf("prune capture chunk %d: %w", o.id, err)
		}
		c = c.since(at)
		first, last := c.span()
		_, err = tx.ExecContext(ctx, `UPDATE drift_capture_chunks SET first_at = ?, last_at = ?, rows = ?, body = ? WHERE id = ?`,
			first, last, c.rows(), appendChunk(nil, c), o.id)
		if err != nil {
			return err
		}
	}
	return nil
}
