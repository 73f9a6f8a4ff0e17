package engine

import (
	"encoding/json"

	"sluice/runtime/serving"
	"sluice/runtime/training"
	"sluice/schema"
)

// checkEndpoint compares the signature the registry recorded for the
// version an endpoint will serve (and for its canary and shadow) with the
// endpoint's declared inputs and feature join, so that a model the server
// would refuse is a plan error at the endpoint's field, not a failed
// deploy. A version this plan trains has no record yet; the deploy checks
// its file instead. A target of 0 (none resolved) checks the join alone.
func (pl *planner) checkEndpoint(e *schema.Endpoint, target int) {
	join, _, errs := endpointJoin(pl.plan.spec, e)
	for _, fe := range errs {
		pl.errorf(&e.Meta, fe.field, "%s", fe.msg)
	}
	if len(errs) > 0 {
		join = nil // its problems are reported; the signature check would repeat them
	}
	if target == 0 {
		return
	}
	versions := []int{target}
	for _, key := range []string{outputCanary, outputShadow} {
		if n, ok := pl.variantTargets(e, target)[key]; ok {
			versions = append(versions, n)
		}
	}
	for _, n := range versions {
		sig := pl.recordedSignature(e.Model, n)
		if sig == nil {
			continue
		}
		err := serving.CheckEndpoint(e.Inputs, join, sig)
		se, ok := err.(*serving.SignatureError)
		if !ok {
			continue
		}
		for _, p := range se.Problems {
			field := p.Field
			if field == "" {
				field = "inputs"
			}
			pl.errorf(&e.Meta, field, "%s v%d does not fit this endpoint: %s%s", e.Model, n, prefix(p.Field), p.Message)
		}
	}
}

func canaryTarget(e *schema.Endpoint) *schema.Target {
	if e.Canary == nil {
		return nil
	}
	return &e.Canary.Target
}

func prefix(field string) string {
	if field == "" {
		return ""
	}
	return field + " "
}

// recordedSignature is the inputs the registry recorded for a version, or
// nil when the version or its signature is unknown.
func (pl *planner) recordedSignature(model string, n int) []serving.TensorSpec {
	if pl.registry == nil {
		return nil
	}
	v, err := pl.registry.Version(pl.ctx, pl.q, model, n)
	if err != nil || len(v.Signature) == 0 {
		return nil
	}
	var sig training.Signature
	if err := json.Unmarshal(v.Signature, &sig); err != nil || sig.Inputs == nil {
		return nil
	}
	out := make([]serving.TensorSpec, len(sig.Inputs))
	for i, in := range sig.Inputs {
		out[i] = serving.TensorSpec{Name: in.Name, DType: recordedType(in), Dims: in.Shape}
	}
	return out
}

// recordedType maps training's element type names to serving's.
func recordedType(t training.Tensor) serving.DType {
	if t.Kind != "tensor" {
		return serving.Invalid
	}
	switch t.Type {
	case "float":
		return serving.Float32
	case "double":
		return serving.Float64
	case "int64":
		return serving.Int64
	case "string":
		return serving.String
	}
	return serving.Invalid
}
