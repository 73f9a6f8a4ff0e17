package features

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strings"
)

// HistoryRequest asks for point-in-time correct features of entity rows.
type HistoryRequest struct {
	// Entities has a column per join key the views need and an
	// event_timestamp column of type timestamp. Join key columns may be
	// text or numbers: they are converted to their entity's type.
	Entities *Frame
	// Features are "view:field" references.
	Features []string
}

// History returns the entity rows with one column per feature: for each
// row, the value of the view's newest row for that entity whose event time
// is at or before the row's time and within the view's TTL of it, and,
// when the source has a creation time, that was created by then. A value
// from the future never leaks in. Feature columns are named by field, or
// view__field where names collide.
func (s *Store) History(ctx context.Context, req HistoryRequest) (*Frame, error) {
	ents := req.Entities
	if ents == nil {
		return nil, fmt.Errorf("history: no entity rows")
	}
	if err := ents.check(); err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	tsCol := ents.Column(EventTimestamp)
	if tsCol == nil || tsCol.Type != TypeTimestamp {
		return nil, fmt.Errorf("history: entity rows need an %s column of timestamps", EventTimestamp)
	}
	groups, err := groupRefs(req.Features)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	defer conn.Close()
	// One read transaction: every view is read at the same state.
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")

	views := make([]*ViewInfo, len(groups))
	for i, g := range groups {
		rec, err := readRecord(ctx, conn, g.view)
		if err != nil {
			return nil, fmt.Errorf("history: %w", err)
		}
		views[i] = &rec.info
	}
	cols, err := featureColumns(ents, groups, views)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	for i, g := range groups {
		out := make([]*Column, len(g.pos))
		for j, p := range g.pos {
			out[j] = cols[p]
		}
		if err := pointInTime(ctx, conn, views[i], g.fields, ents, tsCol, out); err != nil {
			return nil, fmt.Errorf("history: feature view %s: %w", g.view, err)
		}
	}
	return &Frame{Columns: append(slices.Clip(ents.Columns), cols...)}, nil
}

// featureColumns makes the output columns, named by field unless the name
// is taken by an entity column or another feature.
func featureColumns(ents *Frame, groups []*viewGroup, views []*ViewInfo) ([]*Column, error) {
	n := 0
	for _, g := range groups {
		n += len(g.pos)
	}
	cols := make([]*Column, n)
	uses := map[string]int{}
	for _, c := range ents.Columns {
		uses[c.Name]++
	}
	for _, g := range groups {
		for _, f := range g.fields {
			uses[f]++
		}
	}
	seen := map[string]bool{}
	for i, g := range groups {
		for j, f := range g.fields {
			fi := views[i].field(f)
			if fi < 0 {
				return nil, fmt.Errorf("feature view %s has no field %s (fields: %s)", g.view, f, fieldNames(views[i]))
			}
			if seen[g.view+":"+f] {
				return nil, fmt.Errorf("feature %s:%s requested twice", g.view, f)
			}
			seen[g.view+":"+f] = true
			name := f
			if uses[f] > 1 {
				name = g.view + "__" + f
			}
			cols[g.pos[j]] = NewColumn(name, views[i].Fields[fi].Type, ents.Len())
		}
	}
	return cols, nil
}

// entityRow is one entity row's place in lookup order.
type entityRow struct {
	k   int64 // the first key, when it is an integer
	ts  int64
	row int32
}

// pointInTime fills out (one column per field) for every entity row, in
// chunks of rows sorted by key and time, so that SQLite's seeks walk the
// offline table in order.
func pointInTime(ctx context.Context, conn *sql.Conn, v *ViewInfo, fields []string, ents *Frame, tsCol *Column, out []*Column) error {
	keys, err := entityKeys(v, ents)
	if err != nil {
		return err
	}
	order := make([]entityRow, 0, ents.Len())
	for r := range ents.Len() {
		if tsCol.IsNull(r) || keys.null(r) {
			continue
		}
		order = append(order, entityRow{k: keys.first(r), ts: tsCol.Ints[r], row: int32(r)})
	}
	slices.SortFunc(order, func(a, b entityRow) int {
		if d := keys.compare(a, b); d != 0 {
			return d
		}
		return cmp.Compare(a.ts, b.ts)
	})
	for r := range ents.Len() {
		for _, c := range out {
			c.SetNull(r) // until found
		}
	}
	nk := len(v.Entities)
	per := 30000 / (nk + 3)
	q := historyQuery(v, fields)
	var stmt *sql.Stmt
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

// keyColumns are an entity frame's join key columns converted to a view's
// entity types.
type keyColumns struct {
	ints    [][]int64  // per key, for integer keys
	strs    [][]string // per key, for text keys
	missing []bool
	textKey []bool
}

// entityKeys converts the frame's join key columns for v.
func entityKeys(v *ViewInfo, ents *Frame) (*keyColumns, error) {
	n := ents.Len()
	k := &keyColumns{missing: make([]bool, n)}
	for _, e := range v.Entities {
		c := ents.Column(e.JoinKey)
		if c == nil {
			return nil, fmt.Errorf("entity rows have no %s column", e.JoinKey)
		}
		text := e.Type == TypeString
		k.textKey = append(k.textKey, text)
		ints, strs := make([]int64, 0, n), make([]string, 0, n)
		for r := range n {
			val := c.Value(r)
			if val == nil {
				k.missing[r] = true
				ints, strs = append(ints, 0), append(strs, "")
				continue
			}
			kv, err := coerceKey(val, e.Type)
			if err != nil {
				return nil, fmt.Errorf("entity row %d: %s: %w", r+1, e.JoinKey, err)
			}
			if text {
				ints, strs = append(ints, 0), append(strs, kv.(string))
			} else {
				ints, strs = append(ints, kv.(int64)), append(strs, "")
			}
		}
		k.ints, k.strs = append(k.ints, ints), append(k.strs, strs)
	}
	return k, nil
}

func (k *keyColumns) null(r int) bool { return k.missing[r] }

// first is row r's first key when it is an integer, for fast sorting.
func (k *keyColumns) first(r int) int64 {
	if k.textKey[0] {
		return 0
	}
	return k.ints[0][r]
}

// compare orders two entity rows by their keys.
func (k *keyColumns) compare(a, b entityRow) int {
	for j, text := range k.textKey {
		var d int
		switch {
		case j == 0 && !text:
			d = cmp.Compare(a.k, b.k)
		case text:
			d = strings.Compare(k.strs[j][a.row], k.strs[j][b.row])
		default:
			d = cmp.Compare(k.ints[j][a.row], k.ints[j][b.row])
		}
		if d != 0 {
			return d
		}
	}
	return 0
}

// appendKey appends row r's keys as SQLite binds them.
func (k *keyColumns) appendKey(args []any, r int) []any {
	for j, text := range k.textKey {
		if text {
			args = append(args, k.strs[j][r])
		} else {
			args = append(args, k.ints[j][r])
		}
	}
	return args
}
