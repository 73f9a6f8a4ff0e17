package registry

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"sluice/schema"
)

// Gate is one parsed gate: a metric compared with a number or with the
// incumbent's value of the same metric plus an offset.
type Gate struct {
	Metric string
	// Expr is the expression as written, without surrounding space.
	Expr string
	// Op is one of >= <= > < ==.
	Op string
	// Relative gates compare with the incumbent; Value is then the offset
	// added to the incumbent's value, otherwise the bound itself.
	Relative bool
	Value    float64
	// From is the address of the resource that declares the gate
	// ("experiments.fraud-rf", "models.fraud-detector").
	From string
}

// String reads like "f1 >= incumbent - 0.01".
func (g Gate) String() string { return g.Metric + " " + g.Expr }

// GateError is a gate expression that does not parse.
type GateError struct {
	From, Metric, Expr string
	// Column is where in Expr the problem is, counting from 1.
	Column int
	Msg    string
	// File, Line and FileColumn locate the problem in its spec file when
	// the gate came from one (GatesFor); File is empty otherwise.
	File             string
	Line, FileColumn int
}

func (e *GateError) Error() string {
	var b strings.Builder
	if e.File != "" {
		fmt.Fprintf(&b, "%s:%d:%d: ", e.File, e.Line, e.FileColumn)
	}
	if e.From != "" {
		b.WriteString(e.From + ": ")
	}
	fmt.Fprintf(&b, "gate %s %q: column %d: %s", e.Metric, e.Expr, e.Column, e.Msg)
	return b.String()
}

var ops = []string{">=", "<=", "==", ">", "<"}

// ParseGate parses one gate expression: an operator (>= <= > < ==) and
// either a number or "incumbent", optionally followed by + or - and a
// number: ">= 0.85", "> incumbent - 0.01", "== 1". A mistake is a
// *GateError naming the metric and the column.
func ParseGate(metric, expr string) (Gate, error) {
	p := &gateParser{metric: metric, src: expr}
	g, err := p.parse()
	if err != nil {
		return Gate{}, err
	}
	g.Metric, g.Expr = metric, strings.TrimSpace(expr)
	return g, nil
}

type gateParser struct {
	metric, src string
	i           int
}

func (p *gateParser) errorf(format string, args ...any) error {
	return &GateError{Metric: p.metric, Expr: p.src, Column: p.i + 1, Msg: fmt.Sprintf(format, args...)}
}

func (p *gateParser) space() {
	for p.i < len(p.src) && (p.src[p.i] == ' ' || p.src[p.i] == '\t') {
		p.i++
	}
}

func (p *gateParser) parse() (Gate, error) {
	var g Gate
	if p.metric == "" {
		return g, p.errorf("the metric name is empty")
	}
	p.space()
	if p.i == len(p.src) {
		return g, p.errorf(`the gate is empty; write a comparison such as ">= 0.85" or ">= incumbent - 0.01"`)
	}
	for _, op := range ops {
		if strings.HasPrefix(p.src[p.i:], op) {
			g.Op = op
			break
		}
	}
	if g.Op == "" {
		return g, p.errorf("expected a comparison (>=, <=, >, <, ==), found %s", p.found())
	}
	p.i += len(g.Op)
	p.space()
	if word := p.word(); word != "" {
		if word != "incumbent" {
			return g, p.errorf(`expected a number or "incumbent", found %q`, word)
		}
		g.Relative = true
		p.i += len(word)
		p.space()
		if p.i == len(p.src) {
			return g, nil
		}
		sign := p.src[p.i]
		if sign != '+' && sign != '-' {
			return g, p.errorf(`expected + or - after "incumbent", found %s`, p.found())
		}
		p.i++
		p.space()
		v, err := p.number(false)
		if err != nil {
			return g, err
		}
		if sign == '-' {
			v = -v
		}
		g.Value = v
	} else {
		v, err := p.number(true)
		if err != nil {
			return g, err
		}
		g.Value = v
	}
	p.space()
	if p.i < len(p.src) {
		return g, p.errorf("unexpected %s after the gate", p.found())
	}
	return g, nil
}

// word returns the letters at the cursor.
func (p *gateParser) word() string {
	j := p.i
	for j < len(p.src) && (p.src[j] >= 'a' && p.src[j] <= 'z' || p.src[j] >= 'A' && p.src[j] <= 'Z' || p.src[j] == '_') {
		j++
	}
	return p.src[p.i:j]
}

var numberRE = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?`)

// number reads a decimal number at the cursor; signed allows a leading sign.
func (p *gateParser) number(signed bool) (float64, error) {
	m := numberRE.FindString(p.src[p.i:])
	if m == "" || (!signed && (m[0] == '+' || m[0] == '-')) {
		return 0, p.errorf("expected a number, found %s", p.found())
	}
	v, err := strconv.ParseFloat(m, 64)
	if errors.Is(err, strconv.ErrRange) {
		return 0, p.errorf("%q is out of range", m)
	}
	if err != nil {
		return 0, p.errorf("%q is not a number", m)
	}
	p.i += len(m)
	return v, nil
}

// found describes what is at the cursor, for an error.
func (p *gateParser) found() string {
	if p.i >= len(p.src) {
		return "the end"
	}
	end := p.i + 1
	for end < len(p.src) && p.src[end] != ' ' {
		end++
	}
	return strconv.Quote(p.src[p.i:end])
}

// ParseGates parses a resource's gates map, in metric order, with from as
// every gate's From. Every bad gate is reported, joined into one error.
func ParseGates(from string, gates map[string]string) ([]Gate, error) {
	metrics := make([]string, 0, len(gates))
	for m := range gates {
		metrics = append(metrics, m)
	}
	sort.Strings(metrics)
	var out []Gate
	var errs []error
	for _, m := range metrics {
		g, err := ParseGate(m, gates[m])
		if err != nil {
			err.(*GateError).From = from
			errs = append(errs, err)
			continue
		}
		g.From = from
		out = append(out, g)
	}
	return out, errors.Join(errs...)
}

// GatesFor returns the gates a version of model trained by exp must pass:
// the experiment's, then the model's; both apply, so a metric gated by
// both is checked twice. Either may be nil. Errors carry the file, line and
// column of the mistake.
func GatesFor(exp *schema.Experiment, model *schema.Model) ([]Gate, error) {
	var out []Gate
	var errs []error
	seen := map[[2]string]bool{}
	add := func(m *schema.Meta, gates map[string]string) {
		gs, err := ParseGates(m.Addr.String(), gates)
		for _, g := range gs {
			// The same bound declared on the experiment and on its model
			// is one gate, judged and shown once.
			if k := [2]string{g.Metric, strings.Join(strings.Fields(g.Expr), "")}; !seen[k] {
				seen[k] = true
				out = append(out, g)
			}
		}
		if err != nil {
			errs = append(errs, locate(m, err))
		}
	}
	if exp != nil {
		add(&exp.Meta, exp.Gates)
	}
	if model != nil {
		add(&model.Meta, model.Gates)
	}
	return out, errors.Join(errs...)
}

// locate fills in where each GateError in err is in m's spec file. The
// expression's position is its opening quote, so the mistake at column c
// of a one-line string is c columns further on.
func locate(m *schema.Meta, err error) error {
	var list []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	} else {
		list = []error{err}
	}
	for _, e := range list {
		ge, ok := e.(*GateError)
		if !ok {
			continue
		}
		p := m.Position("gates." + label(ge.Metric))
		if !p.IsValid() {
			continue
		}
		ge.File, ge.Line, ge.FileColumn = p.Filename(), p.Line(), p.Column()
		if p != m.Pos {
			ge.FileColumn += ge.Column
		}
	}
	return err
}

var identRE = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*$`)

// label is how CUE writes a field name in a path: quoted unless it is an
// identifier.
func label(name string) string {
	if identRE.MatchString(name) {
		return name
	}
	return strconv.Quote(name)
}
