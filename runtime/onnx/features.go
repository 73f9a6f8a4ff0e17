package onnx

import (
	"errors"
	"fmt"
	"math"
)

// Features says which inputs a model takes and how the model turns them
// into the float feature matrix [N, D] its parameters were fitted on. Set
// exactly one of Dense and Columns.
type Features struct {
	// Dense is a single float input that already is the feature matrix.
	Dense *Dense
	// Columns are one input per raw feature column, each encoded (numeric
	// columns standardised, categorical ones one-hot) and then concatenated
	// in order: a numeric column takes one position of the feature vector,
	// a categorical column one per category, in the order of Categories.
	Columns []Column
}

// Dense is a float input of shape [N, Width].
type Dense struct {
	Name  string
	Width int
	// Mean and Std, when set, standardise feature j as
	// (x[j] - Mean[j]) / Std[j]; a Std of 0 counts as 1, as scikit-learn's
	// StandardScaler does for a constant feature. Set both or neither.
	Mean, Std []float32
}

// ColumnKind says how a raw column is encoded.
type ColumnKind uint8

// The kinds of column.
const (
	// Numeric columns are float inputs [N,1], standardised.
	Numeric ColumnKind = iota
	// Categorical columns are string inputs [N,1], one-hot encoded; a value
	// not among the categories encodes as all zeros.
	Categorical
)

// Column is one raw feature column and how to encode it.
type Column struct {
	Name string
	Kind ColumnKind
	// Mean and Std standardise a numeric column as (x - Mean) / Std; a Std
	// of 0 counts as 1, so the zero values leave the column as it is.
	Mean, Std float32
	// Categories are a categorical column's values, one feature each.
	Categories []string
}

// Width returns D, the length of the feature vector.
func (f Features) Width() int {
	if f.Dense != nil {
		return f.Dense.Width
	}
	d := 0
	for _, c := range f.Columns {
		if c.Kind == Categorical {
			d += len(c.Categories)
		} else {
			d++
		}
	}
	return d
}

// check reports every problem with f.
func (f Features) check() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	switch {
	case f.Dense != nil && len(f.Columns) > 0:
		add("features: set Dense or Columns, not both")
	case f.Dense == nil && len(f.Columns) == 0:
		add("features: no input (set Dense or Columns)")
	case f.Dense != nil:
		d := f.Dense
		if d.Name == "" {
			add("features: dense input without a name")
		}
		if d.Width <= 0 {
			add("features: dense input %q: width %d, want at least 1", d.Name, d.Width)
		}
		if (d.Mean == nil) != (d.Std == nil) || (d.Mean != nil && (len(d.Mean) != d.Width || len(d.Std) != d.Width)) {
			add("features: dense input %q: mean and std need %d values each, have %d and %d", d.Name, d.Width, len(d.Mean), len(d.Std))
		}
		for j := range d.Mean {
			if err := checkScale(d.Mean[j], d.Std[j]); err != nil {
				add("features: dense input %q: feature %d: %w", d.Name, j, err)
			}
		}
	}
	for i, c := range f.Columns {
		where := fmt.Sprintf("features: column %d %q", i, c.Name)
		switch {
		case c.Name == "":
			add("features: column %d: no name", i)
		case c.Kind == Numeric:
			if err := checkScale(c.Mean, c.Std); err != nil {
				add("%s: %w", where, err)
			}
		case c.Kind == Categorical:
			if len(c.Categories) == 0 {
				add("%s: categorical column without categories", where)
			}
			seen := map[string]bool{}
			for _, cat := range c.Categories {
				if seen[cat] {
					add("%s: category %q listed twice", where, cat)
				}
				seen[cat] = true
			}
		default:
			add("%s: unknown kind %d", where, c.Kind)
		}
	}
	return errors.Join(errs...)
}

func checkScale(mean, std float32) error {
	m, s := float64(mean), float64(std)
	if math.IsNaN(m) || math.IsInf(m, 0) || math.IsNaN(s) || math.IsInf(s, 0) || s < 0 {
		return fmt.Errorf("mean %v and std %v must be finite, std not negative", mean, std)
	}
	return nil
}

// build adds f's inputs and encoding to the graph and returns the name of
// the feature matrix [N, D].
func (f Features) build(b *builder) (string, error) {
	if err := f.check(); err != nil {
		return "", err
	}
	if d := f.Dense; d != nil {
		if err := b.input(TensorInfo(d.Name, Float, Batch, Fixed(d.Width))); err != nil {
			return "", fmt.Errorf("features: %w", err)
		}
		return standardise(b, d.Name, d.Mean, d.Std), nil
	}
	// Every input is named before any encoding takes a name, so a column
	// called like another's one-hot output ("country_onehot") is no clash.
	for _, c := range f.Columns {
		elem := Float
		if c.Kind == Categorical {
			elem = String
		}
		if err := b.input(TensorInfo(c.Name, elem, Batch, Fixed(1))); err != nil {
			return "", fmt.Errorf("features: column %w", err)
		}
	}
	var parts []string
	var mean, std []float32
	for _, c := range f.Columns {
		if c.Kind == Numeric {
			parts = append(parts, c.Name)
			mean, std = append(mean, c.Mean), append(std, c.Std)
			continue
		}
		parts = append(parts, oneHot(b, c))
		for range c.Categories {
			mean, std = append(mean, 0), append(std, 1)
		}
	}
	x := parts[0]
	if len(parts) > 1 {
		x = b.op("Concat", b.fresh("features"), parts, IntAttr("axis", 1))
	}
	return standardise(b, x, mean, std), nil
}

// oneHot encodes a string column [N,1] as floats [N,C]. OneHotEncoder (not
// Equal, which takes strings only from opset 19) adds an axis: [N,1,C].
func oneHot(b *builder, c Column) string {
	encoded := b.fresh(c.Name + "_onehot")
	b.node("OneHotEncoder", MLDomain, []string{c.Name}, []string{encoded},
		StringsAttr("cats_strings", c.Categories), IntAttr("zeros", 1))
	axes := b.constant(c.Name+"_axes", Int64Tensor("", []int64{1}, 1))
	return b.op("Squeeze", b.fresh(c.Name+"_encoded"), []string{encoded, axes})
}

// standardise computes (x - mean) / std over the last axis, or returns x
// when that changes nothing.
func standardise(b *builder, x string, mean, std []float32) string {
	scale := make([]float32, len(std))
	identity := true
	for j := range std {
		scale[j] = std[j]
		if scale[j] == 0 {
			scale[j] = 1
		}
		identity = identity && mean[j] == 0 && scale[j] == 1
	}
	if identity {
		return x
	}
	d := int64(len(mean))
	m := b.constant("mean", FloatTensor("", mean, d))
	s := b.constant("std", FloatTensor("", scale, d))
	centred := b.op("Sub", b.fresh("centred"), []string{x, m})
	return b.op("Div", b.fresh("standardised"), []string{centred, s})
}
