package onnx

import (
	"errors"
	"fmt"
)

// check reports every problem that would make ONNX Runtime refuse the
// model or run it differently from what its author meant.
func (m *Model) check() error {
	var errs []error
	opsets := m.Opsets
	if opsets == nil {
		opsets = defaultOpsets()
	}
	imported := map[string]bool{}
	for _, o := range opsets {
		if imported[o.Domain] {
			errs = append(errs, fmt.Errorf("opset domain %q imported twice", o.Domain))
		}
		imported[o.Domain] = true
	}
	if !imported[""] {
		errs = append(errs, errors.New("no opset imported for the standard domain \"\""))
	}
	errs = append(errs, m.Graph.check(imported)...)
	return within("onnx model", errors.Join(errs...))
}

func (g *Graph) check(imported map[string]bool) []error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	defined := map[string]string{} // value name → what defines it
	for _, v := range g.Inputs {
		if err := v.check(); err != nil {
			add("graph input: %w", err)
			continue
		}
		if defined[v.Name] != "" {
			add("graph input %q: defined twice", v.Name)
		}
		defined[v.Name] = "a graph input"
	}
	inits := map[string]bool{}
	for i := range g.Initializers {
		t := &g.Initializers[i]
		switch {
		case t.Name == "":
			add("initializer %d: no name", i)
		case inits[t.Name]:
			add("initializer %q: defined twice", t.Name)
		}
		// An initializer may share a graph input's name: the input then
		// becomes optional with the initializer as its default.
		inits[t.Name] = true
		defined[t.Name] = "an initializer"
		if err := t.check(); err != nil {
			add("initializer: %w", err)
		}
	}
	for i := range g.Nodes {
		errs = append(errs, g.Nodes[i].check(i, defined, imported)...)
	}
	for _, v := range g.Outputs {
		if err := v.check(); err != nil {
			add("graph output: %w", err)
			continue
		}
		if defined[v.Name] == "" {
			add("graph output %q: no node produces it", v.Name)
		}
	}
	return errs
}

func (n *Node) check(i int, defined map[string]string, imported map[string]bool) []error {
	var errs []error
	where := fmt.Sprintf("node %d %q (%s)", i, n.Name, n.OpType)
	add := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf(where+": "+format, a...))
	}
	if n.OpType == "" {
		add("no operator type")
	}
	if !imported[n.Domain] {
		add("domain %q is not among the model's opsets", n.Domain)
	}
	for _, in := range n.Inputs {
		// "" marks an optional input left out.
		if in != "" && defined[in] == "" {
			add("input %q is not defined by a graph input, an initializer or an earlier node", in)
		}
	}
	for _, out := range n.Outputs {
		switch {
		case out == "":
			add("output without a name")
		case defined[out] != "":
			add("output %q is already defined by %s", out, defined[out])
		default:
			defined[out] = where
		}
	}
	seen := map[string]bool{}
	for j := range n.Attrs {
		a := &n.Attrs[j]
		if err := a.check(); err != nil {
			add("%w", err)
		}
		if seen[a.Name] {
			add("attribute %q given twice", a.Name)
		}
		seen[a.Name] = true
	}
	return errs
}

func (v ValueInfo) check() error {
	switch {
	case v.Name == "":
		return errors.New("value without a name")
	case v.Kind == SequenceValue && v.checkSequenceOfMaps() == nil:
		return nil // ZipMap's output (zipmap.go)
	case v.Kind != TensorValue:
		return fmt.Errorf("%q: only tensor values can be written, not %s", v.Name, v.Kind)
	case v.Elem == Undefined:
		return fmt.Errorf("%q: no element type", v.Name)
	}
	if _, ok := otherElemTypes[v.Elem]; !ok && v.Elem != Float && v.Elem != Double && v.Elem != Int64 && v.Elem != String {
		return fmt.Errorf("%q: unknown element type %d", v.Name, int32(v.Elem))
	}
	for i, d := range v.Shape {
		if d.Value < 0 {
			return fmt.Errorf("%q: dimension %d is negative (%d)", v.Name, i, d.Value)
		}
	}
	return nil
}

// within prefixes every error err joins with where, so that each problem
// reported on its own line says what it belongs to.
func within(where string, err error) error {
	if err == nil {
		return nil
	}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		var errs []error
		for _, e := range joined.Unwrap() {
			errs = append(errs, within(where, e))
		}
		return errors.Join(errs...)
	}
	return fmt.Errorf("%s: %w", where, err)
}
