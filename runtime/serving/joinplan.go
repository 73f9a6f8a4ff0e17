package serving

import (
	"errors"
	"fmt"
	"strings"
)

// joinPlan is where a version's join puts each feature.
type joinPlan struct {
	*FeatureJoin
	dense int   // the input every feature fills a column of, or -1
	at    []int // per feature, the input it fills, without dense
}

// fills reports whether the join fills the named model input.
func (p *joinPlan) fills(name string) bool {
	if p == nil {
		return false
	}
	if p.dense >= 0 {
		return p.Input == name
	}
	for _, f := range p.Features {
		if f.Input == name {
			return true
		}
	}
	return false
}

// planJoin matches a join's features to the model's inputs: by name, or
// all into the dense Input. With no Input and no feature's name among the
// model's inputs, a model with a single float [N, D] input takes them all
// there. It reports every feature that fits nowhere.
func planJoin(j *FeatureJoin, inputs []TensorSpec) (*joinPlan, error) {
	p := &joinPlan{FeatureJoin: j, dense: -1}
	at := map[string]int{}
	for i, in := range inputs {
		at[in.Name] = i
	}
	dense := j.Input
	if dense == "" {
		named := false
		for _, f := range j.Features {
			_, ok := at[f.Input]
			named = named || ok
		}
		if !named && len(inputs) == 1 && len(inputs[0].Dims) == 2 && isFloat(inputs[0].DType) {
			dense = inputs[0].Name
		}
	}
	if dense != "" {
		i, ok := at[dense]
		switch {
		case !ok:
			return nil, fmt.Errorf("feature join fills input %q; the model has %s", dense, strings.Join(names(inputs), ", "))
		case len(inputs[i].Dims) != 2 || !isFloat(inputs[i].DType):
			return nil, fmt.Errorf("feature join fills input %q with %d features; it is %s, want float32 or float64 [N, %d]", dense, len(j.Features), inputs[i], len(j.Features))
		case inputs[i].Dims[1] >= 0 && int(inputs[i].Dims[1]) != len(j.Features):
			return nil, fmt.Errorf("feature join has %d features; input %q takes %d per row (%s)", len(j.Features), dense, inputs[i].Dims[1], inputs[i])
		}
		var errs []error
		for _, f := range j.Features {
			if f.Type == "string" {
				errs = append(errs, fmt.Errorf("feature %s is a string; the float input %q cannot take it", f.Ref, dense))
			}
		}
		p.dense = i
		return p, errors.Join(errs...)
	}
	var errs []error
	for _, f := range j.Features {
		i, ok := at[f.Input]
		if !ok {
			errs = append(errs, fmt.Errorf("feature %s fills input %q; the model has no such input (it has %s)", f.Ref, f.Input, strings.Join(names(inputs), ", ")))
			continue
		}
		if err := fitsInput(f, inputs[i]); err != nil {
			errs = append(errs, err)
		}
		p.at = append(p.at, i)
	}
	return p, errors.Join(errs...)
}

// fitsInput reports a feature that cannot fill a model input: another kind
// of value, or an input that takes more than one value per row.
func fitsInput(f JoinedFeature, in TensorSpec) error {
	for _, d := range in.rowDims() {
		if d != 1 && d != -1 {
			return fmt.Errorf("feature %s fills input %q, which takes %v values per row (%s); a feature is one", f.Ref, in.Name, in.rowDims(), in)
		}
	}
	str := f.Type == "string"
	switch {
	case str != (in.DType == String):
		return fmt.Errorf("feature %s is %s; input %q takes %s", f.Ref, f.Type, in.Name, in.DType)
	case f.Type == "float64" && in.DType == Int64:
		return fmt.Errorf("feature %s is float64; input %q takes int64", f.Ref, in.Name)
	}
	return nil
}

func isFloat(d DType) bool { return d == Float32 || d == Float64 }
