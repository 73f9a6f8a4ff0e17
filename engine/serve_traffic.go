package engine

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"sluice/engine/planjson"
	"sluice/runtime/registry"
	"sluice/runtime/serving"
	"sluice/runtime/store"
	"sluice/schema"
)

// resolveTarget reads the version a canary or shadow names now: a pinned
// version, or the one its alias points to.
func resolveTarget(ctx context.Context, r PromotionPlanner, q store.Querier, model string, t schema.Target) (*registry.Version, error) {
	if t.Version > 0 {
		return r.Version(ctx, q, model, t.Version)
	}
	res, ok := r.(versionResolver)
	if !ok {
		res = &registry.Registry{}
	}
	return res.Resolve(ctx, q, model, t.Alias)
}

// targetRef is model@alias or model@vN.
func targetRef(model string, t schema.Target) string {
	if t.Version > 0 {
		return fmt.Sprintf("%s@v%d", model, t.Version)
	}
	return model + "@" + t.Alias
}

// variants gives cfg the endpoint's canary and shadow as model files. A
// variant that resolves to the version the endpoint serves splits nothing
// and is left out; the notes say so.
func variants(ctx context.Context, r PromotionPlanner, q store.Querier, e *schema.Endpoint, cfg *serving.Config) (notes []string, err error) {
	variant := func(kind string, t schema.Target, weight float64) (*serving.Variant, error) {
		v, err := resolveTarget(ctx, r, q, e.Model, t)
		if err != nil {
			if errors.Is(err, registry.ErrNotFound) || registryMissing(err) {
				return nil, stepErrf(ReasonVersionMissing, "%s %s points at no registered version", kind, targetRef(e.Model, t))
			}
			return nil, err
		}
		if v.Number == cfg.Version {
			notes = append(notes, fmt.Sprintf("%s %s is v%d, the version served: no %s", kind, targetRef(e.Model, t), v.Number, kind))
			return nil, nil
		}
		return &serving.Variant{Version: v.Number, Alias: t.Alias, Path: v.ArtifactPath, SHA256: v.ArtifactSHA256, Weight: weight}, nil
	}
	if c := e.Canary; c != nil {
		if cfg.Canary, err = variant("canary", c.Target, c.Weight); err != nil {
			return nil, err
		}
	}
	if s := e.Shadow; s != nil {
		if cfg.Shadow, err = variant("shadow", *s, 0); err != nil {
			return nil, err
		}
	}
	return notes, nil
}

// Output keys of the versions an endpoint's canary and shadow serve, and
// the plan reason of a move of either.
const (
	outputCanary             = "canary_version"
	outputShadow             = "shadow_version"
	planReasonVariantChanged = "variant_version_changed"
)

// variantTargets is the version each of e's canary and shadow will serve,
// by output key: one that resolves to nothing or to target (the
// primary's) splits nothing and is left out, as serve leaves it out.
func (pl *planner) variantTargets(e *schema.Endpoint, target int) map[string]int {
	out := map[string]int{}
	for key, t := range map[string]*schema.Target{outputCanary: canaryTarget(e), outputShadow: e.Shadow} {
		if t == nil {
			continue
		}
		if n, err := pl.targetVersion(e.Model, *t); err == nil && n != target {
			out[key] = n
		}
	}
	return out
}

// targetVersion is the version t names once this plan's promotions apply:
// the alias's promotion in this plan when allowed, else the registry's.
func (pl *planner) targetVersion(model string, t schema.Target) (int, error) {
	if t.Version == 0 {
		if m := pl.plan.spec.Models[model]; m != nil {
			mc := pl.byAddr[schema.Addr{Kind: schema.KindModel, Name: model}]
			if to, ok := m.Aliases[t.Alias]; ok && mc != nil && contains(mc.Runtime, planjson.ActionPromote) && mc.Refused == "" {
				return to, nil
			}
		}
	}
	if pl.registry == nil {
		return 0, errors.New("no registry")
	}
	v, err := resolveTarget(pl.ctx, pl.registry, pl.q, model, t)
	if err != nil {
		return 0, err
	}
	return v.Number, nil
}

// variantsMoved reports whether the canary or shadow will serve another
// version than the one recorded, or than the server has live.
func (pl *planner) variantsMoved(c *Change, e *schema.Endpoint, want map[string]int) (recorded, live bool) {
	for _, key := range []string{outputCanary, outputShadow} {
		n, ok := want[key]
		s := ""
		if ok {
			s = strconv.Itoa(n)
			c.Outputs[key] = s
		}
		if c.Recorded != nil && c.Recorded.Outputs[key] != s {
			recorded = true
		}
	}
	if pl.serving != nil {
		if st, ok := pl.serving.Status(e.Addr.Name); ok {
			live = variantVersion(st.Canary) != want[outputCanary] || variantVersion(st.Shadow) != want[outputShadow]
		}
	}
	return recorded, live
}

func variantVersion(v *serving.VariantStatus) int {
	if v == nil {
		return 0
	}
	return v.Version
}
