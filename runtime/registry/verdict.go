package registry

import (
	"fmt"
	"math"
	"strings"
)

// tolerance absorbs float noise in comparisons, so that "> incumbent -
// 0.01" means what it says in decimal: 0.87 - 0.01 is 0.86, not
// 0.85999999999999999.
const tolerance = 1e-9

// Verdict is one gate checked against a candidate version.
type Verdict struct {
	Metric string `json:"metric"`
	Expr   string `json:"expr"`
	From   string `json:"from"`
	// Candidate is the candidate's value; nil when it has no such metric.
	Candidate *float64 `json:"candidate"`
	// Incumbent is the incumbent's value, shown for every gate when there is
	// an incumbent with that metric; nil otherwise.
	Incumbent        *float64 `json:"incumbent"`
	IncumbentVersion int      `json:"incumbent_version,omitempty"`
	// Delta is Candidate - Incumbent when both are known.
	Delta *float64 `json:"delta"`
	// Bound is what the candidate was compared with: the gate's number, or
	// the incumbent's value plus the offset; nil when nothing was compared.
	Bound   *float64 `json:"bound"`
	Pass    bool     `json:"pass"`
	Message string   `json:"message"`
}

// String reads like "f1 0.87 → 0.91 (gate f1 >= 0.85 ✓)", with the
// message after a failing gate's cross.
func (v Verdict) String() string {
	var b strings.Builder
	b.WriteString(v.Metric + " ")
	if v.Incumbent != nil {
		b.WriteString(formatValue(*v.Incumbent) + " → ")
	}
	if v.Candidate != nil {
		b.WriteString(formatValue(*v.Candidate))
	} else {
		b.WriteString("missing")
	}
	fmt.Fprintf(&b, " (gate %s %s ", v.Metric, v.Expr)
	if v.Pass {
		b.WriteString("✓)")
	} else {
		b.WriteString("✗: " + v.Message + ")")
	}
	return b.String()
}

// Evaluate checks every gate against the candidate's metrics and, for
// relative gates and for the deltas, the incumbent (nil when the alias
// points nowhere yet). It returns one verdict per gate, in order.
func Evaluate(gates []Gate, candidate Metrics, incumbent *Version) []Verdict {
	out := make([]Verdict, len(gates))
	for i, g := range gates {
		out[i] = evaluate(g, candidate, incumbent)
	}
	return out
}

func evaluate(g Gate, candidate Metrics, incumbent *Version) Verdict {
	v := Verdict{Metric: g.Metric, Expr: g.Expr, From: g.From}
	if incumbent != nil {
		v.IncumbentVersion = incumbent.Number
		if x, ok := incumbent.Metrics[g.Metric]; ok {
			v.Incumbent = &x
		}
	}
	c, ok := candidate[g.Metric]
	if !ok {
		v.Message = fmt.Sprintf("the candidate has no metric %s (it has %s)", g.Metric, namesOrNone(candidate))
		return v
	}
	v.Candidate = &c
	if v.Incumbent != nil {
		d := c - *v.Incumbent
		v.Delta = &d
	}
	if math.IsNaN(c) {
		v.Message = fmt.Sprintf("the candidate's %s is NaN", g.Metric)
		return v
	}
	bound, how := g.Value, ""
	if g.Relative {
		switch {
		case incumbent == nil:
			v.Pass, v.Message = true, "no incumbent to compare with: the alias points to no version yet"
			return v
		case v.Incumbent == nil:
			v.Pass, v.Message = true, fmt.Sprintf("the incumbent, version %d, has no metric %s to compare with", incumbent.Number, g.Metric)
			return v
		case math.IsNaN(*v.Incumbent):
			v.Pass, v.Message = true, fmt.Sprintf("the incumbent's %s is NaN: nothing to compare with", g.Metric)
			return v
		}
		bound = *v.Incumbent + g.Value
		how = fmt.Sprintf(" (version %d's %s%s)", incumbent.Number, formatValue(*v.Incumbent), offset(g.Value))
	}
	v.Bound = &bound
	v.Pass = compare(c, g.Op, bound)
	verb := "satisfies"
	if !v.Pass {
		verb = "does not satisfy"
	}
	v.Message = fmt.Sprintf("%s %s %s %s%s", formatValue(c), verb, g.Op, formatValue(bound), how)
	return v
}

// compare is c op bound, within tolerance relative to the values' size;
// infinities compare exactly.
func compare(c float64, op string, bound float64) bool {
	eps := 0.0
	if !math.IsInf(c, 0) && !math.IsInf(bound, 0) {
		eps = tolerance * math.Max(1, math.Max(math.Abs(c), math.Abs(bound)))
	}
	switch op {
	case ">=":
		return c >= bound-eps
	case "<=":
		return c <= bound+eps
	case ">":
		return c > bound+eps
	case "<":
		return c < bound-eps
	case "==":
		return math.Abs(c-bound) <= eps
	}
	return false
}

func offset(v float64) string {
	switch {
	case v > 0:
		return " + " + formatValue(v)
	case v < 0:
		return " - " + formatValue(-v)
	}
	return ""
}

func namesOrNone(m Metrics) string {
	if len(m) == 0 {
		return "none"
	}
	return strings.Join(m.Names(), ", ")
}
