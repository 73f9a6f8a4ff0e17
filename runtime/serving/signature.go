package serving

import (
	"fmt"
	"strings"

	"sluice/schema"
)

// SignatureProblem is one way a model does not fit an endpoint. Field is
// the endpoint's field at fault ("inputs[1]", "features[0]"), or "" when
// the model has an input nothing declares or fills.
type SignatureProblem struct {
	Field   string
	Message string
}

// SignatureError lists every way a model does not fit an endpoint.
type SignatureError struct {
	Problems []SignatureProblem
}

// Error lists the problems, one per line: `inputs[0] "amount": declared
// float64, the model takes float32`.
func (e *SignatureError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.Message
		if p.Field != "" {
			lines[i] = p.Field + " " + p.Message
		}
	}
	return "signature mismatch: " + strings.Join(lines, "\n")
}

// CheckSignature compares a model's inputs with an endpoint's declared
// inputs and reports every difference: a missing or extra input, another
// element type, another row shape. Declared shapes leave out the batch
// dimension; -1 matches any size, and so does a dimension the model leaves
// free. No declared inputs match any model.
func CheckSignature(declared []schema.Input, model []TensorSpec) error {
	return CheckEndpoint(declared, nil, model)
}

// CheckEndpoint is CheckSignature for an endpoint that also joins
// features: every feature must fit the input it fills (by name, or a
// column of the join's dense input, whose width must be the number of
// features), and the inputs the join fills need no declaring. Deploy runs
// it on the model file; the engine runs it at plan time on the signature
// the registry recorded. The error is a *SignatureError.
func CheckEndpoint(declared []schema.Input, join *FeatureJoin, model []TensorSpec) error {
	var probs []SignatureProblem
	var plan *joinPlan
	if join != nil {
		var err error
		plan, err = planJoin(join, model)
		if err != nil {
			for _, m := range strings.Split(err.Error(), "\n") {
				probs = append(probs, SignatureProblem{Field: joinField(join, m), Message: m})
			}
		}
	}
	if len(declared) > 0 {
		probs = append(probs, checkDeclared(declared, plan, model)...)
	}
	if len(probs) > 0 {
		return &SignatureError{probs}
	}
	return nil
}

// joinField finds the features[i] a join problem's message names.
func joinField(j *FeatureJoin, msg string) string {
	for i, f := range j.Features {
		if strings.HasPrefix(msg, "feature "+f.Ref+" ") {
			return fmt.Sprintf("features[%d]", i)
		}
	}
	return "features"
}

// checkDeclared compares declared inputs with the model's, leaving out
// the ones a join fills.
func checkDeclared(declared []schema.Input, join *joinPlan, model []TensorSpec) []SignatureProblem {
	var probs []SignatureProblem
	byName := map[string]TensorSpec{}
	for _, in := range model {
		byName[in.Name] = in
	}
	seen := map[string]bool{}
	for i, d := range declared {
		field := fmt.Sprintf("inputs[%d]", i)
		add := func(format string, a ...any) {
			probs = append(probs, SignatureProblem{field, fmt.Sprintf("%q: ", d.Name) + fmt.Sprintf(format, a...)})
		}
		seen[d.Name] = true
		in, ok := byName[d.Name]
		if !ok {
			add("the model has no such input (it has %s)", strings.Join(names(model), ", "))
			continue
		}
		if join.fills(d.Name) {
			add("the feature join fills it; a request cannot send it too")
			continue
		}
		typ := d.Type
		if typ == "" {
			typ = "float32"
		}
		if want, err := ParseDType(typ); err != nil || want != in.DType {
			add("declared %s, the model takes %s", typ, in.DType)
		}
		if d.Shape != nil && !shapeMatches(d.Shape, in.rowDims()) {
			add("declared row shape %v, the model takes %v (batch dimension left out)", d.Shape, in.rowDims())
		}
	}
	for _, in := range model {
		if !seen[in.Name] && !join.fills(in.Name) {
			probs = append(probs, SignatureProblem{"", fmt.Sprintf("the model's input %q (%s) is not declared", in.Name, in)})
		}
	}
	return probs
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
