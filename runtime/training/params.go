package training

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// params reads a trainer's hyperparameters, filling in defaults, and
// collects every problem, each naming the param, so one error lists them
// all. Effective records every value used, defaults included, as the
// strings a run records.
type params struct {
	trainer   string
	raw       map[string]any
	known     []string
	errs      []error
	Effective map[string]string
}

func newParams(trainer string, raw map[string]any) *params {
	return &params{trainer: trainer, raw: raw, Effective: map[string]string{}}
}

func (p *params) failf(name, format string, a ...any) {
	p.errs = append(p.errs, fmt.Errorf("param %s: %s", name, fmt.Sprintf(format, a...)))
}

// value returns the raw value of name and whether it was given (null
// counts as not given).
func (p *params) value(name string) (any, bool) {
	p.known = append(p.known, name)
	v, ok := p.raw[name]
	return v, ok && v != nil
}

// number converts v to a float64, reporting whether it is a number.
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

// Float returns param name, def when not given, and reports one outside
// [lo, hi] (open at an end whose bound is excluded by open).
func (p *params) Float(name string, def, lo, hi float64, loOpen bool) float64 {
	v, ok := p.value(name)
	x := def
	if ok {
		f, isNum := number(v)
		switch {
		case !isNum:
			p.failf(name, "%s, want a number", show(v))
		case math.IsNaN(f) || f < lo || f > hi || (loOpen && f == lo):
			p.failf(name, "%v, want a number%s", f, rangeText(lo, hi, loOpen))
		default:
			x = f
		}
	}
	p.Effective[name] = strconv.FormatFloat(x, 'g', -1, 64)
	return x
}

// Int returns integer param name, def when not given, reporting one
// outside [lo, hi].
func (p *params) Int(name string, def, lo, hi int) int {
	v, ok := p.value(name)
	x := def
	if ok {
		x = p.toInt(name, v, def, lo, hi)
	}
	p.Effective[name] = strconv.Itoa(x)
	return x
}

// OptionalInt is Int where null (or absent, when def is 0) means no limit,
// returned as 0.
func (p *params) OptionalInt(name string, def, lo, hi int) int {
	v, ok := p.value(name)
	x := def
	if ok {
		x = p.toInt(name, v, def, lo, hi)
	} else if _, given := p.raw[name]; given {
		x = 0 // explicit null
	}
	if x == 0 {
		p.Effective[name] = "None"
	} else {
		p.Effective[name] = strconv.Itoa(x)
	}
	return x
}

func (p *params) toInt(name string, v any, def, lo, hi int) int {
	f, isNum := number(v)
	switch {
	case !isNum || f != math.Trunc(f):
		p.failf(name, "%s, want an integer%s", show(v), rangeText(float64(lo), float64(hi), false))
	case f < float64(lo) || f > float64(hi):
		p.failf(name, "%v, want an integer%s", f, rangeText(float64(lo), float64(hi), false))
	default:
		return int(f)
	}
	return def
}

// Bool returns boolean param name, def when not given.
func (p *params) Bool(name string, def bool) bool {
	v, ok := p.value(name)
	x := def
	if ok {
		if b, isBool := v.(bool); isBool {
			x = b
		} else {
			p.failf(name, "%s, want true or false", show(v))
		}
	}
	p.Effective[name] = strconv.FormatBool(x)
	return x
}

// Enum returns string param name, def when not given, which must be one of
// allowed.
func (p *params) Enum(name, def string, allowed ...string) string {
	v, ok := p.value(name)
	x := def
	if ok {
		s, isStr := v.(string)
		switch {
		case !isStr:
			p.failf(name, "%s, want one of %s", show(v), quoteAll(allowed))
		case !contains(allowed, s):
			p.failf(name, "%q, want one of %s", s, quoteAll(allowed))
		default:
			x = s
		}
	}
	p.Effective[name] = x
	return x
}

// Raw marks name as known and returns its value (absent or null: not
// ok) for a caller that parses it, and records its Effective value, itself.
func (p *params) Raw(name string) (any, bool) {
	return p.value(name)
}

// Err reports every problem found, including params no reader asked for.
func (p *params) Err() error {
	var unknown []string
	for name := range p.raw {
		if !contains(p.known, name) {
			unknown = append(unknown, name)
		}
	}
	sort.Strings(unknown)
	for _, name := range unknown {
		known := append([]string(nil), p.known...)
		sort.Strings(known)
		p.errs = append(p.errs, fmt.Errorf("param %s: unknown to %s (known: %s)", name, p.trainer, strings.Join(known, ", ")))
	}
	if len(p.errs) == 0 {
		return nil
	}
	return fmt.Errorf("%s: %w", p.trainer, errors.Join(p.errs...))
}

// rangeText describes [lo, hi] after "want a number": " >= 1", " > 0 and
// <= 1", or "" when neither bound is worth saying.
func rangeText(lo, hi float64, loOpen bool) string {
	op := ">="
	if loOpen {
		op = ">"
	}
	noLo, noHi := math.IsInf(lo, -1) || lo <= -1<<53, math.IsInf(hi, 1) || hi >= math.MaxInt32
	switch {
	case noLo && noHi:
		return ""
	case noHi:
		return fmt.Sprintf(" %s %v", op, lo)
	case noLo:
		return fmt.Sprintf(" <= %v", hi)
	}
	return fmt.Sprintf(" %s %v and <= %v", op, lo, hi)
}

func show(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
