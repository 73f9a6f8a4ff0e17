package source

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"
)

// aliasDecl is what one CUE file declares about a model's alias: the
// integer literals that set it, and the deepest braced struct on the way to
// it, where a missing alias can be added.
type aliasDecl struct {
	// values are the literals of models.<model>.aliases.<alias>.
	values []*ast.BasicLit
	// notLiteral is a declaration of the alias by an expression (a
	// reference, a disjunction), which cannot be edited safely.
	notLiteral ast.Node
	// model is set when the file declares the model at all.
	model bool
	// into is the deepest braced struct along models.<model>.aliases, and
	// depth how many of the path's labels lead to it.
	into  *ast.StructLit
	depth int
	// wrap is the deepest `a: b: c` shorthand struct along the same path,
	// which braces can turn into one to add to, and wrapDepth its depth.
	wrap      *ast.StructLit
	wrapDepth int
}

// rank orders the places a missing alias can be added: the deepest braced
// struct first, then the deepest shorthand; 0 when there is none.
func (d *aliasDecl) rank() int {
	switch {
	case d.into != nil:
		return 10 + d.depth
	case d.wrap != nil:
		return d.wrapDepth
	}
	return 0
}

// aliasPath is the label path of a model's alias.
func aliasPath(model, alias string) []string { return []string{"models", model, "aliases", alias} }

// findAlias parses a CUE file and reports what it declares about the alias.
func findAlias(name string, src []byte, model, alias string) (*aliasDecl, error) {
	f, err := parser.ParseFile(name, src, parser.ParseComments)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", name, err)
	}
	d := &aliasDecl{}
	d.walk(f.Decls, aliasPath(model, alias), 0)
	return d, nil
}

// walk looks through decls, which sit depth labels down the alias path.
func (d *aliasDecl) walk(decls []ast.Decl, path []string, depth int) {
	for _, decl := range decls {
		switch x := decl.(type) {
		case *ast.EmbedDecl:
			// An embedded struct literal adds its fields to the enclosing one.
			if s, ok := x.Expr.(*ast.StructLit); ok {
				d.walk(s.Elts, path, depth)
			}
		case *ast.Field:
			name, _, err := ast.LabelName(x.Label)
			if err != nil || name != path[depth] {
				continue
			}
			d.field(x, path, depth+1)
		}
	}
}

// field follows a field whose label is path[depth-1].
func (d *aliasDecl) field(f *ast.Field, path []string, depth int) {
	if depth >= 2 {
		d.model = true
	}
	if depth == len(path) {
		if lit, ok := f.Value.(*ast.BasicLit); ok && lit.Kind == token.INT {
			d.values = append(d.values, lit)
		} else if d.notLiteral == nil {
			d.notLiteral = f.Value
		}
		return
	}
	s, ok := f.Value.(*ast.StructLit)
	if !ok {
		return
	}
	// A braced struct is a place to add the alias; `a: b: c` shorthand
	// has no braces and nothing to add into.
	switch {
	case depth < 2:
	case s.Lbrace.IsValid() && depth > d.depth:
		d.into, d.depth = s, depth
	case !s.Lbrace.IsValid() && len(s.Elts) > 0 && depth > d.wrapDepth:
		d.wrap, d.wrapDepth = s, depth
	}
	d.walk(s.Elts, path, depth)
}

// edit is a replacement of the bytes src[start:end].
type edit struct {
	start, end int
	text       string
	line       int
}

// apply returns src with the edits made; they must not overlap.
func apply(src []byte, edits []edit) []byte {
	var b strings.Builder
	at := 0
	for _, e := range edits {
		b.Write(src[at:e.start])
		b.WriteString(e.text)
		at = e.end
	}
	b.Write(src[at:])
	return []byte(b.String())
}

// setEdits replaces every literal of the alias with version.
func (d *aliasDecl) setEdits(version int) []edit {
	var edits []edit
	for _, lit := range d.values {
		off := lit.ValuePos.Offset()
		edits = append(edits, edit{start: off, end: off + len(lit.Value), text: strconv.Itoa(version), line: lit.ValuePos.Line()})
	}
	return edits
}

// addEdits add the alias inside d.into, as the labels the struct lacks
// (`production: 3` in aliases, `aliases: production: 3` in the model), or,
// when the model has no braced struct, brace the deepest shorthand to add
// it there (`aliases: production: 3` becomes `aliases: {production: 3,
// staging: 1}`): a second top-level declaration of the model would be a
// duplicate. A model declared by anything but struct literals (a
// reference, a conjunction) has nowhere to add to.
func (d *aliasDecl) addEdits(src []byte, path []string, version int) ([]edit, error) {
	switch {
	case d.into != nil:
		return []edit{d.addInto(src, path, version)}, nil
	case d.wrap != nil:
		s := d.wrap
		start, end := s.Elts[0].Pos().Offset(), s.Elts[len(s.Elts)-1].End().Offset()
		field := fieldText(path[d.wrapDepth:], version)
		return []edit{{start: start, end: start, text: "{", line: s.Elts[0].Pos().Line()},
			{start: end, end: end, text: ", " + field + "}", line: s.Elts[0].Pos().Line()}}, nil
	}
	return nil, fmt.Errorf("%s is not declared by a struct literal to add the alias to", strings.Join(path[:2], "."))
}

// fieldText writes labels and a value as one field in shorthand.
func fieldText(labels []string, version int) string {
	quoted := make([]string, len(labels))
	for i, l := range labels {
		quoted[i] = label(l)
	}
	return strings.Join(quoted, ": ") + ": " + strconv.Itoa(version)
}

// addInto adds the alias as the last field of the braced struct d.into.
func (d *aliasDecl) addInto(src []byte, path []string, version int) edit {
	field := fieldText(path[d.depth:], version)
	s := d.into
	lb, rb := s.Lbrace.Offset(), s.Rbrace.Offset()
	switch {
	case s.Lbrace.Line() == s.Rbrace.Line() && len(s.Elts) == 0:
		return edit{start: lb + 1, end: lb + 1, text: field, line: s.Rbrace.Line()}
	case s.Lbrace.Line() == s.Rbrace.Line():
		end := s.Elts[len(s.Elts)-1].End().Offset()
		return edit{start: end, end: end, text: ", " + field, line: s.Rbrace.Line()}
	}
	indent := lineIndent(src, rb) + "\t"
	if n := len(s.Elts); n > 0 {
		indent = lineIndent(src, s.Elts[n-1].Pos().Offset())
	}
	start := lineStart(src, rb)
	if strings.TrimSpace(string(src[start:rb])) != "" {
		// The closing brace ends a line with content: start a new line.
		return edit{start: rb, end: rb, text: "\n" + indent + field + "\n" + lineIndent(src, rb), line: s.Rbrace.Line() + 1}
	}
	return edit{start: start, end: start, text: indent + field + "\n", line: s.Rbrace.Line()}
}

func lineStart(src []byte, off int) int {
	return strings.LastIndexByte(string(src[:off]), '\n') + 1
}

// lineIndent is the leading white space of the line holding offset off.
func lineIndent(src []byte, off int) string {
	start := lineStart(src, off)
	end := start
	for end < len(src) && (src[end] == ' ' || src[end] == '\t') {
		end++
	}
	return string(src[start:end])
}

// plainLabel is a label that needs no quotes: not hidden (_x), not a
// definition (#x), not a keyword.
var plainLabel = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

var keywords = map[string]bool{"if": true, "for": true, "in": true, "let": true, "true": true,
	"false": true, "null": true, "import": true, "package": true, "func": true}

// label writes a CUE label, quoted when it must be.
func label(s string) string {
	if plainLabel.MatchString(s) && !keywords[s] {
		return s
	}
	return strconv.Quote(s)
}
