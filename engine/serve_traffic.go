package engine

import (
	"context"
	"errors"
	"fmt"

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
