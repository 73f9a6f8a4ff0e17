package features

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Status is what an online lookup found for one feature of one entity.
// The names are Feast's.
type Status uint8

const (
	// NotFound: the entity has no row in the view.
	NotFound Status = iota
	// Present: the value is there and within the view's TTL.
	Present
	// NullValue: the entity's newest row has no value for the field.
	NullValue
	// OutsideMaxAge: the entity's newest row is older than the view's TTL;
	// its value is not returned.
	OutsideMaxAge
)

var statusNames = [...]string{"NOT_FOUND", "PRESENT", "NULL_VALUE", "OUTSIDE_MAX_AGE"}

// String is Feast's name of the status.
func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("Status(%d)", s)
}

// MarshalText writes the status by name, in JSON too.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Value is one feature of one entity as online retrieval returns it.
type Value struct {
	Status Status
	// Value is an int64, float64, string or bool when Status is Present,
	// nil otherwise.
	Value any
	// EventTime is the event time of the entity's row; zero when NotFound.
	EventTime time.Time
}

// EntityKey is one entity's join key values, in the order the view names
// its entities. Values may be any Go integer or string; they are converted
// to the entity's type (a string "1001" finds int64 key 1001).
type EntityKey []any

// OnlineView returns the named fields (all, in view order, when fields is
// nil) of each entity: out[i][j] is field j of keys[i]. A row older than
// the view's TTL at now comes back OutsideMaxAge, never Present.
func (s *Store) OnlineView(ctx context.Context, view string, keys []EntityKey, fields []string, now time.Time) ([][]Value, error) {
	if now.IsZero() {
		now = time.Now()
	}
	for attempt := 0; ; attempt++ {
		lk, err := s.lookupFor(ctx, view, attempt > 0)
		if err != nil {
			return nil, err
		}
		idx, err := fieldIndexes(lk.info, fields)
		if err != nil {
			return nil, err
		}
		out := make([][]Value, len(keys))
		vals := make([]Value, len(keys)*len(idx))
		current := true
		for i, k := range keys {
			out[i] = vals[i*len(idx) : (i+1)*len(idx) : (i+1)*len(idx)]
			if current, err = lk.get(ctx, k, idx, now, out[i], attempt > 0); err != nil || !current {
				break
			}
		}
		if err != nil {
			return nil, err
		}
		if current {
			return out, nil
		}
		if attempt == 2 {
			return nil, fmt.Errorf("feature view %s: changed during the lookup three times", view)
		}
	}
}

// fieldIndexes maps field names to the view's field positions.
func fieldIndexes(v *ViewInfo, fields []string) ([]int, error) {
	if fields == nil {
		idx := make([]int, len(v.Fields))
		for i := range idx {
			idx[i] = i
		}
		return idx, nil
	}
	idx := make([]int, len(fields))
	for i, f := range fields {
		if idx[i] = v.field(f); idx[i] < 0 {
			return nil, fmt.Errorf("feature view %s has no field %s (fields: %s)", v.Name, f, fieldNames(v))
		}
	}
	return idx, nil
}

func fieldNames(v *ViewInfo) string {
	n := make([]string, len(v.Fields))
	for i, f := range v.Fields {
		n[i] = f.Name
	}
	return strings.Join(n, ", ")
}

// viewLookup is a view's prepared online query. The query reads the view's
// version and TTL with the row, so a lookup made before a materialization
// notices it and is made again.
type viewLookup struct {
	info *ViewInfo
	stmt *sql.Stmt
}

// lookupFor returns the view's cached lookup, or a new one when fresh is
// set or none is cached.
func (s *Store) lookupFor(ctx context.Context, view string, fresh bool) (*viewLookup, error) {
	s.mu.Lock()
	lk := s.lookup[view]
	s.mu.Unlock()
	if lk != nil && !fresh {
		return lk, nil
	}
	rec, err := readRecord(ctx, s.db, view)
	if err != nil {
		return nil, err
	}
	v := &rec.info
	if !v.Online {
		return nil, fmt.Errorf("feature view %s is not online", view)
	}
	on := make([]string, len(v.Entities))
	for i := range v.Entities {
		on[i] = fmt.Sprintf("o.%s = ?", keyCol(i))
	}
	q := fmt.Sprintf(`SELECT v.version, v.ttl, o.ts, %s FROM feature_views v LEFT JOIN %s o ON %s WHERE v.name = ?`,
		fieldList(v, "o."), onlineTable(view), strings.Join(on, " AND "))
	stmt, err := s.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("feature view %s: prepare online lookup: %w", view, err)
	}
	lk = &viewLookup{info: v, stmt: stmt}
	s.mu.Lock()
	if old := s.lookup[view]; old != nil && old != lk {
		old.stmt.Close()
	}
	s.lookup[view] = lk
	s.mu.Unlock()
	return lk, nil
}

// get looks up one entity into out. It reports false, with out unfilled,
// when the view was materialized or deleted since the lookup was made, or
// the query failed and last is not set: the caller makes the lookup again.
func (lk *viewLookup) get(ctx context.Context, key EntityKey, idx []int, now time.Time, out []Value, last bool) (bool, error) {
	v := lk.info
	if len(key) != len(v.Entities) {
		return false, fmt.Errorf("feature view %s: entity key has %d values, the view has %d entities", v.Name, len(key), len(v.Entities))
	}
	args := make([]any, len(key)+1)
	for i, k := range key {
		kv, err := coerceKey(k, v.Entities[i].Type)
		if err != nil {
			return false, fmt.Errorf("feature view %s: %s: %w", v.Name, v.Entities[i].JoinKey, err)
		}
		args[i] = kv
	}
	args[len(key)] = v.Name
	row := make([]any, 3+len(v.Fields))
	ptrs := make([]any, len(row))
	for i := range row {
		ptrs[i] = &row[i]
	}
	err := lk.stmt.QueryRowContext(ctx, args...).Scan(ptrs...)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, fmt.Errorf("feature view %s: %w", v.Name, errNoView)
	case err != nil && last:
		return false, fmt.Errorf("feature view %s: online lookup: %w", v.Name, err)
	case err != nil || row[0] != v.Version:
		return false, nil
	}
	fillValues(v, row, idx, now, out)
	return true, nil
}

// fillValues turns a lookup's row (version, ttl, ts, fields…) into values.
func fillValues(v *ViewInfo, row []any, idx []int, now time.Time, out []Value) {
	ts, found := row[2].(int64)
	if !found {
		clear(out)
		return
	}
	ttl, _ := row[1].(int64)
	at := time.Unix(0, ts).UTC()
	stale := ttl > 0 && now.UnixNano()-ts > ttl
	for j, fi := range idx {
		out[j] = Value{EventTime: at}
		val := row[3+fi]
		switch {
		case stale:
			out[j].Status = OutsideMaxAge
		case val == nil:
			out[j].Status = NullValue
		default:
			out[j].Status = Present
			out[j].Value = typed(val, v.Fields[fi].Type)
		}
	}
}

// typed is a stored value as its field's type.
func typed(v any, typ string) any {
	switch typ {
	case TypeBool:
		if n, ok := v.(int64); ok {
			return n != 0
		}
	case TypeFloat64:
		if n, ok := v.(int64); ok {
			return float64(n)
		}
	case TypeString:
		if b, ok := v.([]byte); ok {
			return string(b)
		}
	}
	return v
}
