package serving

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// inputError is a request the caller must fix (400 in either protocol).
type inputError struct{ msg string }

func (e *inputError) Error() string { return e.msg }

func badInput(format string, a ...any) error {
	return &inputError{fmt.Sprintf(format, a...)}
}

// isInputError reports whether err is the caller's to fix.
func isInputError(err error) bool {
	var ie *inputError
	return errors.As(err, &ie)
}

// typeOf says what element type the named request field is decoded as: a
// model input's type, or string for the entity keys of a feature join.
func (v *version) typeOf(name string) (DType, bool) {
	if i, ok := v.inputAt[name]; ok {
		return v.sig.Inputs[i].DType, true
	}
	if j := v.joined; j != nil && contains(j.EntityKeys, name) {
		return String, true
	}
	return Invalid, false
}

// parse reads the JSON value raw of the request field name.
func (v *version) parse(raw []byte, name, where string) (Tensor, error) {
	dt, ok := v.typeOf(name)
	if !ok {
		return Tensor{}, v.unknownInput(name)
	}
	_, model := v.inputAt[name]
	t, err := parseWith(arrayParser{b: raw, dt: dt, finite: !v.cfg.AllowNonFinite, keyText: !model, where: where, maxDepth: -1})
	if err != nil {
		return Tensor{}, &inputError{err.Error()}
	}
	t.Name = name
	return t, nil
}

// unknownInput is the error for a field that is neither a model input nor
// an entity key.
func (v *version) unknownInput(name string) error {
	want := v.sig.inputNames()
	if j := v.joined; j != nil {
		want = slices.DeleteFunc(want, j.fills)
		want = append(want, j.EntityKeys...)
	}
	return badInput("unknown input %q: the model takes %s", name, strings.Join(want, ", "))
}

// prepare turns a request's named tensors into one tensor per model input,
// in the model's order, joining features when the endpoint has a join, and
// checks types, shapes and row counts.
func (v *version) prepare(ctx context.Context, named map[string]Tensor) ([]Tensor, error) {
	return v.prepareWith(ctx, named, nil)
}

// prepare is version.prepare for a request on its way: the join records
// which of its values were missing, for capture.
func (a *arrival) prepare(ctx context.Context, named map[string]Tensor) ([]Tensor, error) {
	return a.v.prepareWith(ctx, named, &a.missing)
}

// prepareWith is prepare; filled, when not nil, gets the cells (row ×
// feature) a feature join filled with a default.
func (v *version) prepareWith(ctx context.Context, named map[string]Tensor, filled *[]int) ([]Tensor, error) {
	if j := v.joined; j != nil && hasAny(named, j.EntityKeys) {
		if err := v.joinFeatures(ctx, named, filled); err != nil {
			return nil, err
		}
	}
	inputs := make([]Tensor, len(v.sig.Inputs))
	rows := -1
	var missing []string
	for i, spec := range v.sig.Inputs {
		t, ok := named[spec.Name]
		if !ok {
			missing = append(missing, spec.Name)
			continue
		}
		t.Name = spec.Name
		if len(t.Shape) > 0 && t.Shape[0] == 0 {
			return nil, badInput("no rows: send at least one example")
		}
		t = fitShape(spec, t)
		if err := checkInput(spec, t); err != nil {
			return nil, err
		}
		if rows >= 0 && t.Rows() != rows {
			return nil, badInput("input %q has %d rows, input %q has %d: every input needs one row per example", spec.Name, t.Rows(), inputs[0].Name, rows)
		}
		rows = t.Rows()
		inputs[i] = t
	}
	if len(missing) > 0 {
		return nil, badInput("missing input %s: the model takes %s", strings.Join(missing, ", "), strings.Join(v.sig.inputNames(), ", "))
	}
	if rows == 0 {
		return nil, badInput("no rows: send at least one example")
	}
	return inputs, nil
}

// fitShape reshapes a tensor whose rows hold as many values as the model's
// fixed row shape takes, such as [N] for [N,1]: row objects of scalars
// ({"amount": 12.5}) feed column inputs that way.
func fitShape(spec TensorSpec, t Tensor) Tensor {
	if len(t.Shape) == 0 || slices.Equal(t.Shape[1:], spec.rowDims()) {
		return t
	}
	n := 1
	for _, d := range spec.rowDims() {
		if d < 0 {
			return t
		}
		n *= int(d)
	}
	if t.rowLen() != n || t.Len() != t.Rows()*n {
		return t
	}
	t.Shape = append([]int64{t.Shape[0]}, spec.rowDims()...)
	return t
}

// checkInput compares a request tensor with the model input it feeds.
func checkInput(spec TensorSpec, t Tensor) error {
	if t.DType != spec.DType {
		return badInput("input %q: %s data, the model takes %s", spec.Name, t.DType, spec.DType)
	}
	if len(t.Shape) != len(spec.Dims) {
		return badInput("input %q: shape %v, the model takes %v (first dimension: the rows)", spec.Name, t.Shape, spec.Dims)
	}
	for i := 1; i < len(spec.Dims); i++ {
		if spec.Dims[i] >= 0 && t.Shape[i] != spec.Dims[i] {
			return badInput("input %q: shape %v, the model takes %v (first dimension: the rows)", spec.Name, t.Shape, spec.Dims)
		}
	}
	n := 1
	for _, d := range t.Shape {
		if d < 0 {
			return badInput("input %q: negative dimension in shape %v", spec.Name, t.Shape)
		}
		n *= int(d)
	}
	if n != t.Len() {
		return badInput("input %q: shape %v needs %d values, got %d", spec.Name, t.Shape, n, t.Len())
	}
	return nil
}

func hasAny(named map[string]Tensor, keys []string) bool {
	for _, k := range keys {
		if _, ok := named[k]; ok {
			return true
		}
	}
	return false
}
