package features

import (
	"context"
	"fmt"
	"strings"
)

// insertRun merges sorted chunks and inserts their rows in key order. A
// goroutine merges and boxes values into batches while this one executes
// them, so the two halves of the work share the machine's cores.
func (ld *loader) insertRun(ctx context.Context, chunks []*chunk) error {
	total := 0
	for _, c := range chunks {
		total += c.rows
	}
	if total == 0 {
		return nil
	}
	p := ld.plan
	w := len(p.cols)
	per := min(p.perStmt, total)
	full, err := ld.tx.PrepareContext(ctx, p.stmt(per))
	if err != nil {
		return ld.sqlError("prepare insert", err)
	}
	defer full.Close()

	batches := make(chan []any, 2)
	free := make(chan []any, 3)
	for range cap(free) {
		free <- make([]any, 0, per*w)
	}
	stop := make(chan struct{})
	go ld.produce(chunks, per, batches, free, stop)
	var failed error
	for args := range batches {
		if failed != nil {
			continue // drain, so that the producer finishes
		}
		stmt := full
		if len(args) < per*w {
			stmt, err = ld.tx.PrepareContext(ctx, p.stmt(len(args)/w))
			if err != nil {
				failed = ld.sqlError("prepare insert", err)
				close(stop)
				continue
			}
		}
		_, err := stmt.ExecContext(ctx, args...)
		if stmt != full {
			stmt.Close()
		}
		if err != nil {
			failed = ld.sqlError("insert", err)
			close(stop)
			continue
		}
		ld.written += int64(len(args) / w)
		free <- args[:0]
	}
	return failed
}

// produce fills batches of per rows in merged order and closes batches at
// the end, or early when stop closes.
func (ld *loader) produce(chunks []*chunk, per int, batches chan<- []any, free <-chan []any, stop <-chan struct{}) {
	defer close(batches)
	m := newMerger(&ld.plan.layout, chunks)
	w := len(ld.plan.cols)
	nk := ld.plan.layout.keys()
	var prev *chunk
	var prevKey sortKey
	for {
		var args []any
		select {
		case args = <-free:
		case <-stop:
			return
		}
		for len(args) < per*w {
			c, sk, ok := m.next()
			if !ok {
				break
			}
			r := int(sk.row)
			for j := range w {
				args = append(args, c.boxed(r, j))
			}
			if ld.trackKeys && (prev == nil || !ld.plan.layout.sameKey(prev, prevKey, c, sk)) {
				for _, k := range args[len(args)-w : len(args)-w+nk] {
					if s, ok := k.(string); ok {
						k = strings.Clone(s) // not the chunk's arena, which goes
					}
					ld.touched = append(ld.touched, k)
				}
			}
			prev, prevKey = c, sk
		}
		if len(args) == 0 {
			return
		}
		select {
		case batches <- args:
		case <-stop:
			return
		}
	}
}

// sqlError wraps an error of the insert. An expression that names a column
// the file lacks is the data's fault and says so.
func (ld *loader) sqlError(op string, err error) error {
	if col, ok := strings.CutPrefix(err.Error(), "no such column: "); ok {
		return ld.rr.headerFail(col, "an expression reads it but the file has no such column")
	}
	return fmt.Errorf("%s into %s: %w", op, offlineTable(ld.plan.view.Name), err)
}
