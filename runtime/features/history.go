package features

import (
	"context"
	"fmt"
	"slices"
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
