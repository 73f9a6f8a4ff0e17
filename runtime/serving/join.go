package serving

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// FeatureJoin fills model inputs from the online store for requests whose
// rows name entities: {"user_id": 1001, "amount": 12.5} gets user 1001's
// features beside the amount it sent, in the same batch. Each feature
// fills the model input of its own name (as the built-in trainers name a
// model's inputs after its feature columns) or, when Input is set, one
// column of that input, in Features' order.
type FeatureJoin struct {
	// EntityKeys are the request fields that name the entities, in the
	// order Lookup receives their values.
	EntityKeys []string
	// Features are the joined features, in the endpoint's order.
	Features []JoinedFeature
	// Input, when set, is a float input [N, len(Features)] the features
	// fill in order, for a model that takes one feature matrix.
	Input string
	// Lookup returns, for each entity row (the EntityKeys' values as
	// text), one FeatureValue per feature of Features. An error made with
	// BadRequest is the caller's (a key that is not of its entity's type).
	Lookup func(ctx context.Context, entities [][]string) ([][]FeatureValue, error) `json:"-"`
	// OnMissing is "error" (the request fails with 400 naming the entity
	// and the feature) or "default" (the feature's Default, else its zero
	// value: 0, or "" which a one-hot encoding reads as no category).
	OnMissing string
}

// JoinedFeature is one feature a join fills.
type JoinedFeature struct {
	// Ref names the feature, "view:field", in errors.
	Ref string
	// Input is the model input it fills when the join has no Input.
	Input string
	// Type is the feature's value type: int64, float64, string or bool.
	Type string
	// Keys are the entity keys its view is keyed by, named in errors.
	Keys []string
	// Default fills the feature for an entity the store lacks under
	// OnMissing "default": a float64, int64, bool or string of the
	// feature's Type. Nil means the type's zero.
	Default any
}

// FeatureValue is one feature of one entity row as the store holds it.
type FeatureValue struct {
	// Value is a float64, int64, bool or string; nil when Missing is set.
	Value any
	// Missing says why there is no value: "not found in the online store",
	// "older than the view's ttl".
	Missing string
}

// BadRequest marks err as the caller's to fix: requests that fail with it
// answer 400 with its message.
func BadRequest(err error) error { return &inputError{err.Error()} }

// join looks the request's entities up and puts their features into named,
// beside what the request sent: an input the request gives itself is left
// as sent. missing, when not nil, gets row*len(Features)+k of each value
// filled by default.
func (v *version) joinFeatures(ctx context.Context, named map[string]Tensor, missing *[]int) error {
	j := v.joined
	entities, err := entityRows(j.EntityKeys, named, func(name string) bool { _, ok := v.inputAt[name]; return ok })
	if err != nil {
		return err
	}
	vals, err := j.Lookup(ctx, entities)
	if err != nil {
		if isInputError(err) {
			return err
		}
		return fmt.Errorf("feature lookup: %w", err)
	}
	if len(vals) != len(entities) {
		return fmt.Errorf("feature lookup returned %d rows for %d entities", len(vals), len(entities))
	}
	for r, row := range vals {
		if len(row) != len(j.Features) {
			return fmt.Errorf("feature lookup returned %d features for row %d, want %d", len(row), r, len(j.Features))
		}
		for k, fv := range row {
			if fv.Missing == "" {
				continue
			}
			f := j.Features[k]
			if j.OnMissing != "default" {
				return badInput("entity %s: feature %s %s (on_missing_entity: error)", describeEntity(j.EntityKeys, entities[r], f.Keys), f.Ref, fv.Missing)
			}
			row[k].Value = f.Default
			if missing != nil {
				*missing = append(*missing, r*len(j.Features)+k)
			}
		}
	}
	if j.dense >= 0 {
		spec := v.sig.Inputs[j.dense]
		if _, sent := named[spec.Name]; !sent {
			named[spec.Name] = denseTensor(spec, vals, len(j.Features))
		}
		return nil
	}
	for k, i := range j.at {
		spec := v.sig.Inputs[i]
		if _, sent := named[spec.Name]; sent {
			continue
		}
		t, err := columnTensor(spec, vals, k)
		if err != nil {
			return fmt.Errorf("feature %s: %w", j.Features[k].Ref, err)
		}
		named[spec.Name] = t
	}
	return nil
}

// entityRows reads the entity keys of named, one row of key texts per
// request row, and takes them out of named unless the model also takes
// an input of that name (which then reads them in its own type).
func entityRows(keys []string, named map[string]Tensor, modelTakes func(string) bool) ([][]string, error) {
	cols := make([]Tensor, len(keys))
	for i, k := range keys {
		t, ok := named[k]
		if !ok {
			return nil, badInput("entity key %q missing: the feature join needs %s", k, strings.Join(keys, ", "))
		}
		if t.Len() != t.Rows() {
			return nil, badInput("entity key %q: one value per row, got shape %v", k, t.Shape)
		}
		if i > 0 && t.Rows() != cols[0].Rows() {
			return nil, badInput("entity keys %q and %q have %d and %d rows", keys[0], k, cols[0].Rows(), t.Rows())
		}
		cols[i] = t
		if !modelTakes(k) {
			delete(named, k)
		}
	}
	rows := make([][]string, cols[0].Rows())
	for r := range rows {
		rows[r] = make([]string, len(keys))
		for i := range cols {
			rows[r][i] = keyText(&cols[i], r)
		}
	}
	return rows, nil
}

// keyText is element r of an entity key column as text: a key the model
// also takes as a number arrives as one.
func keyText(t *Tensor, r int) string {
	switch t.DType {
	case String:
		return t.Str[r]
	case Int64:
		return strconv.FormatInt(t.I64[r], 10)
	case Float32:
		return strconv.FormatFloat(float64(t.F32[r]), 'g', -1, 32)
	case Float64:
		return strconv.FormatFloat(t.F64[r], 'g', -1, 64)
	}
	return ""
}

// denseTensor is the features of every row as one float [N, D] tensor.
func denseTensor(spec TensorSpec, vals [][]FeatureValue, width int) Tensor {
	t := Tensor{Name: spec.Name, DType: spec.DType, Shape: []int64{int64(len(vals)), int64(width)}}
	for _, row := range vals {
		for _, fv := range row {
			f, _ := asFloat(fv.Value)
			if spec.DType == Float32 {
				t.F32 = append(t.F32, float32(f))
			} else {
				t.F64 = append(t.F64, f)
			}
		}
	}
	return t
}

// columnTensor is feature k of every row as the model input spec, [N] or
// [N, 1]; a missing value is the type's zero.
func columnTensor(spec TensorSpec, vals [][]FeatureValue, k int) (Tensor, error) {
	n := len(vals)
	t := Tensor{Name: spec.Name, DType: spec.DType, Shape: []int64{int64(n)}}
	if len(spec.Dims) == 2 {
		t.Shape = append(t.Shape, 1)
	}
	switch spec.DType {
	case Float32:
		t.F32 = make([]float32, n)
	case Float64:
		t.F64 = make([]float64, n)
	case Int64:
		t.I64 = make([]int64, n)
	case String:
		t.Str = make([]string, n)
	}
	for r, row := range vals {
		x := row[k].Value
		if x == nil {
			continue
		}
		if spec.DType == String {
			s, ok := x.(string)
			if !ok {
				return t, fmt.Errorf("store returned %T, input %q takes strings", x, spec.Name)
			}
			t.Str[r] = s
			continue
		}
		f, ok := asFloat(x)
		if !ok {
			return t, fmt.Errorf("store returned %T, input %q takes numbers", x, spec.Name)
		}
		switch spec.DType {
		case Float32:
			t.F32[r] = float32(f)
		case Float64:
			t.F64[r] = f
		case Int64:
			t.I64[r] = int64(f)
		}
	}
	return t, nil
}

// asFloat reads a stored number or bool; nil reads as 0.
func asFloat(x any) (float64, bool) {
	switch x := x.(type) {
	case nil:
		return 0, true
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// describeEntity names a row's entity by the keys a feature's view uses:
// "user_id=999".
func describeEntity(keys, values, only []string) string {
	var parts []string
	for i := range keys {
		if len(only) == 0 || contains(only, keys[i]) {
			parts = append(parts, keys[i]+"="+values[i])
		}
	}
	return strings.Join(parts, ",")
}
