package features

import (
	"context"
	"fmt"
	"slices"
)

// HistoryRequest asks for point-in-time correct features of entity rows.
type HistoryRequest struct {
	// Entities has a column per join key the views need and a column of
	// points in time: timestamps, or text in the layouts sources accept.
	// Join key columns may be text or numbers: they are converted to their
	// entity's type.
	Entities *Frame
	// Features are "view:field" references.
	Features []string
	// TimestampColumn names the points in time; empty means
	// event_timestamp.
	TimestampColumn string
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
	tsCol, err := pointsInTime(ents, req.TimestampColumn)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	groups, err := groupRefs(req.Features)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	names := make([]string, len(groups))
	for i, g := range groups {
		names[i] = g.view
	}
	sn, views, err := s.openSnapshot(ctx, names, ents.Len() >= parallelRows)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	defer sn.close()
	cols, err := featureColumns(ents, groups, views)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	for i, g := range groups {
		out := make([]*Column, len(g.pos))
		for j, p := range g.pos {
			out[j] = cols[p]
		}
		if err := pointInTime(ctx, sn, views[i], g.fields, ents, tsCol, out); err != nil {
			return nil, fmt.Errorf("history: feature view %s: %w", g.view, err)
		}
	}
	return &Frame{Columns: append(slices.Clip(ents.Columns), cols...)}, nil
}

// pointsInTime is the entity rows' timestamp column, parsed when text.
func pointsInTime(ents *Frame, name string) (*Column, error) {
	if name == "" {
		name = EventTimestamp
	}
	c := ents.Column(name)
	switch {
	case c == nil:
		return nil, fmt.Errorf("entity rows have no %s column", name)
	case c.Type == TypeTimestamp:
		return c, nil
	case c.Type != TypeString:
		return nil, fmt.Errorf("entity rows' %s column holds %s values, not timestamps", name, c.Type)
	}
	ts := NewColumn(name, TypeTimestamp, c.Len())
	for r, s := range c.Strings {
		if c.IsNull(r) || s == "" {
			ts.SetNull(r)
			continue
		}
		v, err := parseTimestamp([]byte(s))
		if err != nil {
			return nil, fmt.Errorf("entity row %d: %s: %s: %w", r+1, name, parseMsg([]byte(s), "timestamp"), err)
		}
		ts.Ints[r] = v
	}
	return ts, nil
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
