package serving

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unsafe"
)

var comma = []byte{','}

// arrayParser reads a JSON value — a number, a string, or nested arrays of
// them — into a flat tensor of one element type, checking that the arrays
// are not ragged. It reads the bytes once, without building a tree, and
// keeps int64s exact. NaN and ±Inf come as the strings "NaN", "Infinity"
// and "-Infinity" (TensorFlow Serving writes them bare, which JSON
// forbids), or as float32 overflow.
type arrayParser struct {
	b        []byte
	i        int
	dt       DType
	finite   bool    // refuse NaN and ±Inf
	keyText  bool    // a number in a string tensor is kept as its text (entity keys)
	where    string  // what is parsed, for errors: "instances[2]"
	t        Tensor  // what is read, held here so that it is not allocated
	shape    []int64 // sizes seen at each depth
	depth    int
	maxDepth int // depth of the first scalar; every scalar must be there
	path     []int
}

// parseTensor reads raw into a tensor of type dt.
func parseTensor(raw []byte, dt DType, finite bool, where string) (Tensor, error) {
	return parseWith(arrayParser{b: raw, dt: dt, finite: finite, where: where, maxDepth: -1})
}

func parseWith(p arrayParser) (Tensor, error) {
	p.t = Tensor{DType: p.dt}
	// Elements are separated by commas: their count bounds the data.
	switch n := bytes.Count(p.b, comma) + 1; p.dt {
	case Float32:
		p.t.F32 = make([]float32, 0, n)
	case Float64:
		p.t.F64 = make([]float64, 0, n)
	case Int64:
		p.t.I64 = make([]int64, 0, n)
	}
	if err := p.value(); err != nil {
		return Tensor{}, err
	}
	p.space()
	if p.i < len(p.b) {
		return Tensor{}, p.errf("unexpected %q after the value", p.b[p.i])
	}
	p.t.Shape = p.shape
	if p.t.Shape == nil {
		p.t.Shape = []int64{}
	}
	return p.t, nil
}

func (p *arrayParser) errf(format string, a ...any) error {
	var b strings.Builder
	b.WriteString(p.where)
	for _, i := range p.path {
		fmt.Fprintf(&b, "[%d]", i)
	}
	return fmt.Errorf("%s: %s", b.String(), fmt.Sprintf(format, a...))
}

func (p *arrayParser) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *arrayParser) value() error {
	p.space()
	if p.i >= len(p.b) {
		return p.errf("unexpected end of JSON")
	}
	if p.b[p.i] == '[' {
		return p.array()
	}
	if p.maxDepth < 0 {
		p.maxDepth = p.depth
	} else if p.depth != p.maxDepth {
		return p.errf("ragged array: a value where the first row has %s", p.nesting(p.depth))
	}
	return p.scalar()
}

func (p *arrayParser) nesting(depth int) string {
	if depth < p.maxDepth {
		return "an array"
	}
	return "a value"
}

func (p *arrayParser) array() error {
	if p.maxDepth >= 0 && p.depth >= p.maxDepth {
		return p.errf("ragged array: an array where the first row has a value")
	}
	p.i++ // [
	if p.depth == len(p.shape) {
		p.shape = append(p.shape, -1)
	}
	p.depth++
	p.path = append(p.path, 0)
	n := 0
	p.space()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		if p.maxDepth < 0 {
			// An empty array fixes the shape here: [] is [0], [[]] is [1,0].
			p.maxDepth = p.depth
		}
	} else {
		for {
			p.path[len(p.path)-1] = n
			if err := p.value(); err != nil {
				return err
			}
			n++
			p.space()
			if p.i >= len(p.b) {
				return p.errf("unexpected end of JSON in an array")
			}
			c := p.b[p.i]
			p.i++
			if c == ']' {
				break
			}
			if c != ',' {
				return p.errf("unexpected %q in an array", c)
			}
		}
	}
	p.path = p.path[:len(p.path)-1]
	p.depth--
	if s := p.shape[p.depth]; s >= 0 && s != int64(n) {
		return p.errf("ragged array: %d values where the first row has %d", n, s)
	}
	p.shape[p.depth] = int64(n)
	return nil
}

// scalar reads one element.
func (p *arrayParser) scalar() error {
	start := p.i
	c := p.b[p.i]
	if c == '"' {
		s, err := p.str()
		if err != nil {
			return err
		}
		return p.fromString(s)
	}
	for p.i < len(p.b) && !delimiter[p.b[p.i]] {
		p.i++
	}
	// The token is only read while p.b is unchanged (strconv copies it into
	// any error it returns), except as a string tensor's text, copied below.
	tok := unsafe.String(&p.b[start], p.i-start)
	switch {
	case tok == "true" || tok == "false" || tok == "null":
		return p.errf("%s is not a %s", tok, p.dt)
	case c != '-' && (c < '0' || c > '9'):
		return p.errf("invalid JSON value %q", tok)
	}
	switch p.dt {
	case String:
		if p.keyText {
			// A copy: the tensor outlives the pooled body it was parsed
			// from when its rows are captured for drift.
			p.t.Str = append(p.t.Str, strings.Clone(tok))
			return nil
		}
		return p.errf("%s is a number; input is a string tensor (send %q)", tok, tok)
	case Int64:
		n, err := strconv.ParseInt(tok, 10, 64)
		if err != nil {
			return p.errf("%s is not an int64", tok)
		}
		p.t.I64 = append(p.t.I64, n)
		return nil
	}
	bits := 64
	if p.dt == Float32 {
		bits = 32
	}
	f, err := strconv.ParseFloat(tok, bits)
	if err != nil && !isRange(err) {
		return p.errf("%s is not a number", tok)
	}
	return p.float(f, tok)
}

// delimiter marks the bytes that end a bare JSON token.
var delimiter = [256]bool{' ': true, '\t': true, '\r': true, '\n': true, ',': true, ']': true, '}': true}

func isRange(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// float appends f, refusing NaN and ±Inf unless allowed.
func (p *arrayParser) float(f float64, tok string) error {
	if p.finite && (math.IsNaN(f) || math.IsInf(f, 0)) {
		return p.errf("%s is not finite as a %s; the endpoint refuses NaN and infinities", tok, p.dt)
	}
	if p.dt == Float32 {
		p.t.F32 = append(p.t.F32, float32(f))
	} else {
		p.t.F64 = append(p.t.F64, f)
	}
	return nil
}

func (p *arrayParser) fromString(s string) error {
	switch p.dt {
	case String:
		p.t.Str = append(p.t.Str, s)
		return nil
	case Float32, Float64:
		var f float64
		switch strings.ToLower(s) {
		case "nan":
			f = math.NaN()
		case "infinity", "inf", "+infinity", "+inf":
			f = math.Inf(1)
		case "-infinity", "-inf":
			f = math.Inf(-1)
		default:
			return p.errf("%q is not a number; input is %s", s, p.dt)
		}
		return p.float(f, strconv.Quote(s))
	}
	return p.errf("%q is not an int64", s)
}

// str reads a JSON string at p.i.
func (p *arrayParser) str() (string, error) {
	start := p.i
	p.i++
	escaped := false
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case '\\':
			escaped = true
			p.i += 2
			continue
		case '"':
			p.i++
			if !escaped {
				return string(p.b[start+1 : p.i-1]), nil
			}
			var s string
			if err := json.Unmarshal(p.b[start:p.i], &s); err != nil {
				return "", p.errf("invalid string: %v", err)
			}
			return s, nil
		}
		if p.b[p.i] < 0x20 {
			return "", p.errf("control character in a string")
		}
		p.i++
	}
	return "", p.errf("unterminated string")
}
