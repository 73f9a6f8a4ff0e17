package training

import (
	"strings"
)

func (l *logical) sql(args *[]any) string {
	return "(" + l.left.sql(args) + " " + strings.ToUpper(l.op) + " " + l.right.sql(args) + ")"
}

// attributeColumns maps attributes to their SQL over training_runs r.
var attributeColumns = map[string]string{
	"run_id": "r.run_id", "run_name": "r.run_name", "status": "r.status", "experiment": "r.experiment",
	"trigger": "r.trigger", "git_commit": "r.git_commit", "start_time": "r.start_time",
	"created": "r.start_time", "end_time": "r.end_time", "duration": "(r.end_time - r.start_time)",
}

// sql compiles a comparison. Metrics, params, tags and datasets live in
// their own tables, so their comparisons are EXISTS over the run's rows:
// a run without the key matches no comparison but IS NULL.
func (c *comparison) sql(args *[]any) string {
	r := c.ref
	var column, from string
	switch r.entity {
	case "attributes":
		return c.condition(attributeColumns[r.key], args)
	case "metrics":
		from, column = "training_latest_metrics x", "x.value"
	case "params":
		from, column = "training_params x", "x.value"
		if len(c.values) > 0 && c.values[0].isNum {
			column = "x.num"
		}
	case "tags":
		from, column = "training_tags x", "x.value"
	case "datasets":
		// r.key is one of datasetFields, checked by the parser.
		return "EXISTS (SELECT 1 FROM training_datasets x WHERE x.run = r.id AND " + c.condition("x."+r.key, args) + ")"
	}
	*args = append(*args, r.key)
	exists := "EXISTS (SELECT 1 FROM " + from + " WHERE x.run = r.id AND x.key = ?"
	switch c.op {
	case "IS NULL":
		return "NOT " + exists + ")"
	case "IS NOT NULL":
		return exists + ")"
	}
	return exists + " AND " + c.condition(column, args) + ")"
}

// condition compiles column op values, the values bound as parameters.
func (c *comparison) condition(column string, args *[]any) string {
	bind := func(v literal) {
		if v.isNum {
			*args = append(*args, v.num)
		} else {
			*args = append(*args, v.str)
		}
	}
	switch c.op {
	case "IN", "NOT IN":
		for _, v := range c.values {
			bind(v)
		}
		return column + " " + c.op + " (" + strings.TrimSuffix(strings.Repeat("?, ", len(c.values)), ", ") + ")"
	case "LIKE":
		// SQLite's LIKE ignores ASCII case; GLOB, with the pattern
		// translated, does not.
		*args = append(*args, likeToGlob(c.values[0].str))
		return column + " GLOB ?"
	case "ILIKE":
		bind(c.values[0])
		return column + " LIKE ?"
	}
	bind(c.values[0])
	return column + " " + c.op + " ?"
}

// likeToGlob translates a LIKE pattern (% any run, _ one character) into
// a GLOB pattern, escaping GLOB's own wildcards.
func likeToGlob(pattern string) string {
	var b strings.Builder
	for _, r := range pattern {
		switch r {
		case '%':
			b.WriteByte('*')
		case '_':
			b.WriteByte('?')
		case '*', '?', '[':
			b.WriteByte('[')
			b.WriteRune(r)
			b.WriteByte(']')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
