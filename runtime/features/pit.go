package features

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
)

// pointInTime fills out (one column per field) for every entity row, in
// chunks of rows sorted by key, so that SQLite's seeks walk the offline
// table in order. (Rows of one key need no order among themselves: each
// is looked up on its own.)
func pointInTime(ctx context.Context, sn *snapshot, v *ViewInfo, fields []string, ents *Frame, tsCol *Column, out []*Column) error {
	keys, err := entityKeys(v, ents)
	if err != nil {
		return err
	}
	order := make([]sortKey, 0, ents.Len())
	for r := range ents.Len() {
		if tsCol.IsNull(r) || keys.null(r) {
			continue
		}
		order = append(order, sortKey{k: keys.first(r), ts: tsCol.Ints[r], row: uint32(r)})
	}
	if len(keys.textKey) == 1 && !keys.textKey[0] {
		radixByKey(order)
	} else {
		slices.SortFunc(order, keys.compare)
	}
	for _, c := range out {
		c.Null = make([]bool, ents.Len())
		for r := range c.Null {
			c.Null[r] = true // until found
		}
	}
	q := historyQuery(v, fields)
	parts := split(order, len(sn.conns))
	errs := make([]error, len(parts))
	var wg sync.WaitGroup
	for i, part := range parts {
		wg.Go(func() { errs[i] = lookupRows(ctx, sn.conns[i], q, v, keys, part, fields, out) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// split cuts rows into n contiguous parts of near equal size.
func split(rows []sortKey, n int) [][]sortKey {
	n = max(1, min(n, len(rows)/parallelRows*2))
	parts := make([][]sortKey, n)
	for i := range n {
		parts[i] = rows[len(rows)*i/n : len(rows)*(i+1)/n]
	}
	return parts
}

// lookupRows looks rows up on one connection, a chunk per query.
func lookupRows(ctx context.Context, conn *sql.Conn, q func(int) string, v *ViewInfo, keys *keyColumns, order []sortKey, fields []string, out []*Column) error {
	nk := len(v.Entities)
	per := 30000 / (nk + 3)
	var stmt *sql.Stmt
	var err error
	defer func() {
		if stmt != nil {
			stmt.Close()
		}
	}()
	args := make([]any, 0, per*(nk+3))
	for len(order) > 0 {
		n := min(per, len(order))
		if stmt == nil || n < per {
			if stmt != nil {
				stmt.Close()
			}
			if stmt, err = conn.PrepareContext(ctx, q(n)); err != nil {
				return fmt.Errorf("prepare lookup: %w", err)
			}
		}
		args = args[:0]
		for _, e := range order[:n] {
			args = append(args, int64(e.row))
			args = keys.appendKey(args, int(e.row))
			args = append(args, e.ts, minus(e.ts, int64(v.TTL)))
		}
		if err := scanHistory(ctx, stmt, args, v, fields, out); err != nil {
			return err
		}
		order = order[n:]
	}
	return nil
}

// historyQuery makes the lookup of n entity rows: for each, the offline
// row whose (event time, creation time) is the newest at or before the
// row's time, within the TTL, created by then.
func historyQuery(v *ViewInfo, fields []string) func(n int) string {
	nk := len(v.Entities)
	names := []string{"i"}
	eq := make([]string, nk)
	xeq := make([]string, nk)
	for i := range nk {
		names = append(names, keyCol(i))
		eq[i] = fmt.Sprintf("o.%s = e.%s", keyCol(i), keyCol(i))
		xeq[i] = fmt.Sprintf("x.%s = e.%s", keyCol(i), keyCol(i))
	}
	names = append(names, "t", "lo")
	sel := make([]string, len(fields))
	for i, f := range fields {
		sel[i] = "o." + fieldCol(f)
	}
	off := offlineTable(v.Name)
	window := strings.Join(xeq, " AND ") + " AND x.ts <= e.t AND x.ts >= e.lo"
	match := fmt.Sprintf("o.ts = (SELECT max(x.ts) FROM %s x WHERE %s)", off, window)
	if v.Source.CreatedTimestamp != "" {
		match = fmt.Sprintf("(o.ts, o.cts) = (SELECT x.ts, x.cts FROM %s x WHERE %s AND x.cts <= e.t ORDER BY x.ts DESC, x.cts DESC LIMIT 1)", off, window)
	}
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?,", len(names)), ",") + ")"
	return func(n int) string {
		return fmt.Sprintf("WITH e(%s) AS (VALUES %s) SELECT e.i, %s FROM e JOIN %s o ON %s AND %s",
			strings.Join(names, ", "), strings.TrimSuffix(strings.Repeat(tuple+",", n), ","),
			strings.Join(sel, ", "), off, strings.Join(eq, " AND "), match)
	}
}

// scanHistory runs one chunk's lookup and stores what it finds.
func scanHistory(ctx context.Context, stmt *sql.Stmt, args []any, v *ViewInfo, fields []string, out []*Column) error {
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return fmt.Errorf("lookup: %w", err)
	}
	defer rows.Close()
	var row int64
	vals := make([]any, len(fields))
	dest := make([]any, len(fields)+1)
	dest[0] = &row
	for i := range vals {
		dest[i+1] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("lookup: %w", err)
		}
		for i, c := range out {
			setValue(c, int(row), vals[i])
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("lookup: %w", err)
	}
	return nil
}

// setValue stores a value SQLite returned; a NULL stays missing.
func setValue(c *Column, r int, v any) {
	if v == nil {
		return
	}
	c.Null[r] = false
	switch x := typed(v, c.Type).(type) {
	case int64:
		c.Ints[r] = x
	case float64:
		c.Floats[r] = x
	case bool:
		c.Bools[r] = x
	case string:
		c.Strings[r] = x
	}
}

// minus is a - b without wrapping below math.MinInt64; b = 0 (no TTL)
// reaches back forever.
func minus(a, b int64) int64 {
	if b == 0 || a < math.MinInt64+b {
		return math.MinInt64
	}
	return a - b
}
