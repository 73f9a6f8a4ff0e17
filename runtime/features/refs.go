package features

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// featureRef is a parsed "view:field".
type featureRef struct{ view, field string }

func parseRef(s string) (featureRef, error) {
	view, field, ok := strings.Cut(s, ":")
	if !ok || view == "" || field == "" || strings.Contains(field, ":") {
		return featureRef{}, fmt.Errorf("feature %q: want view:field", s)
	}
	return featureRef{view, field}, nil
}

// viewGroup is the features a request wants from one view, with their
// positions in the request.
type viewGroup struct {
	view   string
	fields []string
	pos    []int
}

// groupRefs parses refs and groups them by view, in order of first use.
func groupRefs(refs []string) ([]*viewGroup, error) {
	if len(refs) == 0 {
		return nil, fmt.Errorf("no features requested")
	}
	var groups []*viewGroup
	byView := map[string]*viewGroup{}
	for i, s := range refs {
		r, err := parseRef(s)
		if err != nil {
			return nil, err
		}
		g := byView[r.view]
		if g == nil {
			g = &viewGroup{view: r.view}
			byView[r.view] = g
			groups = append(groups, g)
		}
		g.fields = append(g.fields, r.field)
		g.pos = append(g.pos, i)
	}
	return groups, nil
}

// OnlineRequest asks for features of entities, as Feast's
// get_online_features does.
type OnlineRequest struct {
	// Features are "view:field" references.
	Features []string
	// Entities are one map per entity row, from join key to value.
	Entities []map[string]any
	// Now is the time TTLs are measured at; zero means time.Now().
	Now time.Time
}

// OnlineResponse holds Rows[i][j]: feature j of entity row i.
type OnlineResponse struct {
	Features []string
	Rows     [][]Value
}

// Online looks features of several views up for each entity row.
func (s *Store) Online(ctx context.Context, req OnlineRequest) (*OnlineResponse, error) {
	groups, err := groupRefs(req.Features)
	if err != nil {
		return nil, err
	}
	resp := &OnlineResponse{Features: req.Features, Rows: make([][]Value, len(req.Entities))}
	for i := range resp.Rows {
		resp.Rows[i] = make([]Value, len(req.Features))
	}
	for _, g := range groups {
		lk, err := s.lookupFor(ctx, g.view, false)
		if err != nil {
			return nil, err
		}
		keys := make([]EntityKey, len(req.Entities))
		for i, row := range req.Entities {
			keys[i] = make(EntityKey, len(lk.info.Entities))
			for j, e := range lk.info.Entities {
				v, ok := row[e.JoinKey]
				if !ok {
					return nil, fmt.Errorf("entity row %d has no %s (feature view %s needs it)", i+1, e.JoinKey, g.view)
				}
				keys[i][j] = v
			}
		}
		vals, err := s.OnlineView(ctx, g.view, keys, g.fields, req.Now)
		if err != nil {
			return nil, err
		}
		for i := range vals {
			for j, p := range g.pos {
				resp.Rows[i][p] = vals[i][j]
			}
		}
	}
	return resp, nil
}

// coerceKey converts a join key value to the entity's type.
func coerceKey(v any, typ string) (any, error) {
	if typ == TypeString {
		switch x := v.(type) {
		case string:
			return x, nil
		case []byte:
			return string(x), nil
		case json.Number:
			return x.String(), nil
		}
		if n, err := coerceKey(v, TypeInt64); err == nil {
			return strconv.FormatInt(n.(int64), 10), nil
		}
		return nil, fmt.Errorf("%v (%T) is not a string key", v, v)
	}
	switch x := v.(type) {
	case int64:
		return x, nil
	case int:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case int8:
		return int64(x), nil
	case uint32:
		return int64(x), nil
	case uint16:
		return int64(x), nil
	case uint8:
		return int64(x), nil
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), nil
		}
	case uint:
		if uint64(x) <= math.MaxInt64 {
			return int64(x), nil
		}
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<63 {
			return int64(x), nil
		}
	case float32:
		if float64(x) == math.Trunc(float64(x)) {
			return int64(x), nil
		}
	case json.Number:
		return coerceKey(x.String(), typ)
	case string:
		if n, ok := parseInt([]byte(strings.TrimSpace(x))); ok {
			return n, nil
		}
		return nil, fmt.Errorf("%q is not an int64 key", x)
	}
	return nil, fmt.Errorf("%v (%T) is not an int64 key", v, v)
}
