package training

import (
	"context"
	"fmt"
	"strings"
)

// Search asks for runs, as `sluice runs` does.
type Search struct {
	// Experiments limits the search to these experiments; empty means all.
	Experiments []string
	// Filter is MLflow's filter grammar with "or" and parentheses, such as
	// "metrics.f1 > 0.85 and (params.max_depth = 15 or tags.team = 'risk')".
	Filter string
	// OrderBy are terms such as "metrics.f1 desc" (ascending by default);
	// runs without the value come last. Ties, and no terms, order by start
	// time, newest first.
	OrderBy []string
	// Max caps the runs returned: 0 means DefaultMaxRuns, at most
	// MaxSearchRuns.
	Max int
}

// Search limits, as MLflow's.
const (
	DefaultMaxRuns = 1000
	MaxSearchRuns  = 50000
)

// SearchRuns returns the runs that match s, each with its params, latest
// metrics, tags, artifacts and datasets. A bad filter or ordering is an
// error naming the column of the mistake.
func (t *Tracker) SearchRuns(ctx context.Context, q Querier, s Search) ([]*Run, error) {
	limit := s.Max
	switch {
	case limit == 0:
		limit = DefaultMaxRuns
	case limit < 0 || limit > MaxSearchRuns:
		return nil, fmt.Errorf("search runs: max %d, want 1 to %d", limit, MaxSearchRuns)
	}
	query, args, err := searchSQL(s)
	if err != nil {
		return nil, err
	}
	args = append(args, limit)
	rows, err := q.QueryContext(ctx, query+" LIMIT ?", args...)
	if err != nil {
		return nil, fmt.Errorf("search runs: %w", err)
	}
	defer rows.Close()
	var runs []*Run
	byID := map[int64]*Run{}
	for rows.Next() {
		id, r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("search runs: %w", err)
		}
		runs = append(runs, r)
		byID[id] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search runs: %w", err)
	}
	rows.Close()
	if err := loadDetails(ctx, q, byID); err != nil {
		return nil, fmt.Errorf("search runs: %w", err)
	}
	return runs, nil
}

// searchSQL compiles s into a query and its bound parameters.
func searchSQL(s Search) (string, []any, error) {
	filter, err := ParseFilter(s.Filter)
	if err != nil {
		return "", nil, fmt.Errorf("filter: %w", err)
	}
	var order []orderTerm
	for _, text := range s.OrderBy {
		terms, err := parseOrderBy(text)
		if err != nil {
			return "", nil, fmt.Errorf("order by %q: %w", text, err)
		}
		order = append(order, terms...)
	}
	var where []string
	var args []any
	if len(s.Experiments) > 0 {
		where = append(where, "r.experiment IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(s.Experiments)), ", ")+")")
		for _, e := range s.Experiments {
			args = append(args, e)
		}
	}
	if filter != nil {
		where = append(where, filter.sql(&args))
	}
	query := "SELECT " + runColumns + " FROM training_runs r"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	var keys []string
	for _, o := range order {
		keys = append(keys, o.sql(&args)...)
	}
	keys = append(keys, "r.start_time DESC", "r.id DESC")
	return query + " ORDER BY " + strings.Join(keys, ", "), args, nil
}

// orderTerm is one key of an ordering.
type orderTerm struct {
	ref  ref
	desc bool
}

// parseOrderBy parses "ref [asc|desc], ...".
func parseOrderBy(src string) ([]orderTerm, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	var terms []orderTerm
	for {
		r, err := p.reference()
		if err != nil {
			return nil, err
		}
		if r.entity == "datasets" {
			return nil, errAt(r.col, "runs cannot be ordered by %s", r)
		}
		o := orderTerm{ref: r}
		if p.keyword("desc") || p.keyword("asc") {
			o.desc = strings.EqualFold(p.next().text, "desc")
		}
		terms = append(terms, o)
		switch t := p.next(); t.kind {
		case tokEOF:
			return terms, nil
		case tokComma:
		default:
			return nil, errAt(t.col, "expected \"asc\", \"desc\", \",\" or the end, got %s", t.describe())
		}
	}
}

// sql returns the ORDER BY keys of the term: runs without the value
// last, then the value. Params order numbers numerically, before strings.
func (o orderTerm) sql(args *[]any) []string {
	dir := " ASC"
	if o.desc {
		dir = " DESC"
	}
	r := o.ref
	if r.entity == "attributes" {
		col := attributeColumns[r.key]
		return []string{col + " IS NULL", col + dir}
	}
	table := map[string]string{"metrics": "training_latest_metrics", "params": "training_params", "tags": "training_tags"}[r.entity]
	// Each key binds its own copy of the name: parameters are positional.
	sub := func(column, suffix string) string {
		*args = append(*args, r.key)
		return "(SELECT x." + column + " FROM " + table + " x WHERE x.run = r.id AND x.key = ?)" + suffix
	}
	if r.entity == "params" {
		return []string{sub("value", " IS NULL"), sub("num", " IS NULL"), sub("num", dir), sub("value", dir)}
	}
	return []string{sub("value", " IS NULL"), sub("value", dir)}
}
