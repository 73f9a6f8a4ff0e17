package serving

import (
	"errors"
	"fmt"
	"strings"

	"sluice/schema"
)

// CheckSignature compares a model's inputs with an endpoint's declared
// inputs and reports every difference: a missing or extra input, another
// element type, another row shape. Declared shapes leave out the batch
// dimension; -1 matches any size, and so does a dimension the model leaves
// free. No declared inputs match any model.
func CheckSignature(declared []schema.Input, model []TensorSpec) error {
	if len(declared) == 0 {
		return nil
	}
	var errs []error
	byName := map[string]TensorSpec{}
	for _, in := range model {
		byName[in.Name] = in
	}
	seen := map[string]bool{}
	for i, d := range declared {
		seen[d.Name] = true
		in, ok := byName[d.Name]
		if !ok {
			errs = append(errs, fmt.Errorf("inputs[%d] %q: the model has no such input (it has %s)", i, d.Name, strings.Join(names(model), ", ")))
			continue
		}
		typ := d.Type
		if typ == "" {
			typ = "float32"
		}
		if want, err := ParseDType(typ); err != nil || want != in.DType {
			errs = append(errs, fmt.Errorf("inputs[%d] %q: declared %s, the model takes %s", i, d.Name, typ, in.DType))
		}
		if d.Shape != nil && !shapeMatches(d.Shape, in.rowDims()) {
			errs = append(errs, fmt.Errorf("inputs[%d] %q: declared row shape %v, the model takes %v (batch dimension left out)", i, d.Name, d.Shape, in.rowDims()))
		}
	}
	for _, in := range model {
		if !seen[in.Name] {
			errs = append(errs, fmt.Errorf("the model's input %q (%s) is not declared", in.Name, in))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("signature mismatch: %w", errors.Join(errs...))
	}
	return nil
}

func shapeMatches(declared, model []int64) bool {
	if len(declared) != len(model) {
		return false
	}
	for i := range declared {
		if declared[i] != -1 && model[i] != -1 && declared[i] != model[i] {
			return false
		}
	}
	return true
}
