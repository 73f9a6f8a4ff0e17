package training

import (
	"strconv"
	"strings"
)

// Filter is a parsed runs filter: MLflow's search grammar —
// comparisons of metrics.X, params.X, tags.X, attributes.X and datasets.X
// joined by "and" — extended with "or" and parentheses.
type Filter interface {
	// String renders the filter canonically; parsing it gives it back.
	String() string
	// sql compiles the filter to a condition on training_runs r, its
	// values appended to args as bound parameters.
	sql(args *[]any) string
}

// logical is "and" or "or" of two filters.
type logical struct {
	op          string
	left, right Filter
}

func (l *logical) String() string {
	return wrap(l.left) + " " + l.op + " " + wrap(l.right)
}

func wrap(f Filter) string {
	if _, ok := f.(*logical); ok {
		return "(" + f.String() + ")"
	}
	return f.String()
}

// comparison tests one value of a run.
type comparison struct {
	ref    ref
	op     string // = != < <= > >= LIKE ILIKE IN "NOT IN" "IS NULL" "IS NOT NULL"
	values []literal
}

func (c *comparison) String() string {
	s := c.ref.String() + " " + c.op
	switch {
	case c.op == "IN" || c.op == "NOT IN":
		parts := make([]string, len(c.values))
		for i, v := range c.values {
			parts[i] = v.String()
		}
		s += " (" + strings.Join(parts, ", ") + ")"
	case len(c.values) == 1:
		s += " " + c.values[0].String()
	}
	return s
}

// ref names a value of a run: an entity ("metrics", "params", "tags",
// "attributes", "datasets") and a key.
type ref struct {
	entity, key string
	col         int
}

func (r ref) String() string {
	for _, c := range r.key {
		if !(c == '_' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return r.entity + ".`" + strings.ReplaceAll(r.key, "`", "``") + "`"
		}
	}
	if r.key == "" || isDigit(rune(r.key[0])) || r.key[0] == '.' {
		return r.entity + ".`" + r.key + "`"
	}
	return r.entity + "." + r.key
}

// literal is a string or a number.
type literal struct {
	isNum bool
	num   float64
	str   string
	col   int
}

func (l literal) String() string {
	if l.isNum {
		return strconv.FormatFloat(l.num, 'g', -1, 64)
	}
	return "'" + strings.ReplaceAll(l.str, "'", "''") + "'"
}

// entityAliases maps the prefixes MLflow accepts to their entity.
var entityAliases = map[string]string{
	"metric": "metrics", "metrics": "metrics",
	"param": "params", "params": "params", "parameter": "params", "parameters": "params",
	"tag": "tags", "tags": "tags",
	"attribute": "attributes", "attributes": "attributes", "attr": "attributes", "run": "attributes",
	"dataset": "datasets", "datasets": "datasets",
}

// attributes lists the run attributes a filter may test, and whether each
// is a number (milliseconds) or a string.
var attributes = map[string]bool{
	"run_id": false, "run_name": false, "status": false, "experiment": false, "trigger": false,
	"git_commit": false, "start_time": true, "end_time": true, "created": true, "duration": true,
}

var datasetFields = map[string]bool{"digest": true, "name": true, "context": true}

// numeric reports whether r compares as a number.
func (r ref) numeric() bool {
	return r.entity == "metrics" || (r.entity == "attributes" && attributes[r.key])
}
