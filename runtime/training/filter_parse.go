package training

import (
	"math"
	"strconv"
	"strings"
)

// ParseFilter parses a runs filter, reporting the first mistake with its
// column. An empty filter matches every run and parses to nil.
func ParseFilter(src string) (Filter, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	if p.peek().kind == tokEOF {
		return nil, nil
	}
	f, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		if t.kind == tokRParen {
			return nil, errAt(t.col, "unmatched \")\"")
		}
		return nil, errAt(t.col, "expected \"and\", \"or\" or the end of the filter, got %s", t.describe())
	}
	return f, nil
}

type parser struct {
	toks []token
	pos  int
}

func (p *parser) peek() token { return p.toks[p.pos] }

func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tokEOF {
		p.pos++
	}
	return t
}

// keyword reports whether the next token is the word kw, any case.
func (p *parser) keyword(kw string) bool {
	t := p.peek()
	return t.kind == tokWord && strings.EqualFold(t.text, kw)
}

func (p *parser) or() (Filter, error) {
	left, err := p.and()
	for err == nil && p.keyword("or") {
		p.next()
		var right Filter
		if right, err = p.and(); err == nil {
			left = &logical{op: "or", left: left, right: right}
		}
	}
	return left, err
}

func (p *parser) and() (Filter, error) {
	left, err := p.term()
	for err == nil && p.keyword("and") {
		p.next()
		var right Filter
		if right, err = p.term(); err == nil {
			left = &logical{op: "and", left: left, right: right}
		}
	}
	return left, err
}

func (p *parser) term() (Filter, error) {
	if p.peek().kind == tokLParen {
		open := p.next()
		f, err := p.or()
		if err != nil {
			return nil, err
		}
		if t := p.next(); t.kind != tokRParen {
			return nil, errAt(t.col, "expected \")\" to close the \"(\" at column %d, got %s", open.col, t.describe())
		}
		return f, nil
	}
	return p.comparison()
}

// reference reads entity.key, where key may be quoted.
func (p *parser) reference() (ref, error) {
	t := p.next()
	if t.kind != tokWord || strings.EqualFold(t.text, "and") || strings.EqualFold(t.text, "or") {
		return ref{}, errAt(t.col, "expected a name such as metrics.f1 or params.max_depth, got %s", t.describe())
	}
	prefix, key, dotted := strings.Cut(t.text, ".")
	entity, ok := entityAliases[strings.ToLower(prefix)]
	if !ok || !dotted {
		return ref{}, errAt(t.col, "unknown name %q: names start with metrics., params., tags., attributes. or datasets.", t.text)
	}
	if key == "" {
		q := p.peek()
		if q.kind != tokQuoted && q.kind != tokString || q.col != t.col+len([]rune(t.text)) {
			return ref{}, errAt(q.col, "expected a key after %q, got %s", t.text, q.describe())
		}
		key = p.next().value
	}
	r := ref{entity: entity, key: key, col: t.col}
	switch {
	case entity == "attributes":
		if _, ok := attributes[key]; !ok {
			return ref{}, errAt(t.col, "unknown attribute %q (known: %s)", key, strings.Join(sortedKeys(attributes), ", "))
		}
	case entity == "datasets":
		if !datasetFields[key] {
			return ref{}, errAt(t.col, "unknown dataset field %q (known: context, digest, name)", key)
		}
	}
	return r, nil
}

func (p *parser) comparison() (Filter, error) {
	r, err := p.reference()
	if err != nil {
		return nil, err
	}
	opTok := p.peek()
	op, err := p.operator()
	if err != nil {
		return nil, err
	}
	c := &comparison{ref: r, op: op}
	switch op {
	case "IS NULL", "IS NOT NULL":
		if r.entity == "attributes" || r.entity == "datasets" {
			return nil, errAt(opTok.col, "%s is always set; %s applies to metrics, params and tags", r, op)
		}
		return c, nil
	case "IN", "NOT IN":
		c.values, err = p.list()
	default:
		var v literal
		v, err = p.value()
		c.values = []literal{v}
	}
	if err != nil {
		return nil, err
	}
	return c, c.check(opTok.col)
}

// operator reads a comparison operator.
func (p *parser) operator() (string, error) {
	t := p.next()
	if t.kind == tokOp {
		if t.text == "<>" {
			return "!=", nil
		}
		return t.text, nil
	}
	if t.kind == tokWord {
		switch w := strings.ToUpper(t.text); w {
		case "LIKE", "ILIKE", "IN":
			return w, nil
		case "NOT":
			if p.keyword("in") {
				p.next()
				return "NOT IN", nil
			}
			return "", errAt(p.peek().col, "expected \"in\" after \"not\", got %s", p.peek().describe())
		case "IS":
			not := ""
			if p.keyword("not") {
				p.next()
				not = "NOT "
			}
			if !p.keyword("null") {
				return "", errAt(p.peek().col, "expected \"null\", got %s", p.peek().describe())
			}
			p.next()
			return "IS " + not + "NULL", nil
		}
	}
	return "", errAt(t.col, "expected a comparison operator, got %s", t.describe())
}

// value reads a string or a number.
func (p *parser) value() (literal, error) {
	t := p.next()
	switch t.kind {
	case tokString:
		return literal{str: t.value, col: t.col}, nil
	case tokNumber:
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil || math.IsInf(f, 0) {
			return literal{}, errAt(t.col, "%q is not a number", t.text)
		}
		return literal{isNum: true, num: f, col: t.col}, nil
	}
	return literal{}, errAt(t.col, "expected a value (a number or a quoted string), got %s", t.describe())
}

// list reads ( value, value, ... ).
func (p *parser) list() ([]literal, error) {
	if t := p.next(); t.kind != tokLParen {
		return nil, errAt(t.col, "expected \"(\" to start a list of values, got %s", t.describe())
	}
	var out []literal
	for {
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		switch t := p.next(); t.kind {
		case tokComma:
		case tokRParen:
			return out, nil
		default:
			return nil, errAt(t.col, "expected \",\" or \")\" in the list, got %s", t.describe())
		}
	}
}

// check reports an operator or value that does not suit the reference.
func (c *comparison) check(opCol int) error {
	r := c.ref
	if r.numeric() {
		if c.op == "LIKE" || c.op == "ILIKE" {
			return errAt(opCol, "%s is a number; compare it with = != < <= > >=", r)
		}
		for _, v := range c.values {
			if !v.isNum {
				return errAt(v.col, "%s is a number; compare it with a number, not %s", r, v)
			}
		}
		return nil
	}
	allNum := true
	for _, v := range c.values {
		allNum = allNum && v.isNum
		if v.isNum != c.values[0].isNum {
			return errAt(v.col, "the values of a list must all be strings or all numbers")
		}
	}
	switch {
	case r.entity == "params" && allNum && c.op != "LIKE" && c.op != "ILIKE":
		return nil // numeric params compare as numbers
	case allNum:
		return errAt(c.values[0].col, "%s is a string; quote the value: '%s'", r, c.values[0])
	case c.op == "<" || c.op == "<=" || c.op == ">" || c.op == ">=":
		return errAt(opCol, "%s compares with = != LIKE ILIKE IN, or with < <= > >= against a number", r)
	}
	return nil
}
