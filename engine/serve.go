package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"sluice/engine/planjson"
	"sluice/runtime/registry"
	"sluice/runtime/serving"
	"sluice/runtime/store"
	"sluice/schema"
)

const (
	// ReasonServing: an endpoint is live at the version git resolves to.
	ReasonServing = "Serving"
	// ReasonVersionMissing: an endpoint's alias or version names no
	// registered model version, so there is nothing to serve.
	ReasonVersionMissing = "VersionMissing"
	// ReasonDeployFailed: the server refused the new version (load, warm
	// or signature); the version it served before keeps serving.
	ReasonDeployFailed = "DeployFailed"
)

// Plan reasons of endpoints. They belong beside planjson's others; they
// live here until planjson's owner moves them.
const (
	planReasonVersionChanged = "model_version_changed"
	planReasonNotServing     = "not_serving"
)

// outputVersion is the output key holding the version an endpoint serves.
const outputVersion = "version"

// versionResolver finds the version an alias names; *registry.Registry is one.
type versionResolver interface {
	Resolve(ctx context.Context, q store.Querier, model, ref string) (*registry.Version, error)
}

// endpointRef is how an endpoint names its version: model@alias or model@vN.
func endpointRef(e *schema.Endpoint) string {
	if e.Version > 0 {
		return fmt.Sprintf("%s@v%d", e.Model, e.Version)
	}
	return e.Model + "@" + e.Alias
}

// resolveEndpoint reads the version e should serve from the registry now.
// A missing alias, version or registry is errVersionMissing.
func resolveEndpoint(ctx context.Context, r PromotionPlanner, q store.Querier, e *schema.Endpoint) (*registry.Version, error) {
	var v *registry.Version
	var err error
	if e.Version > 0 {
		v, err = r.Version(ctx, q, e.Model, e.Version)
	} else {
		res, ok := r.(versionResolver)
		if !ok {
			res = &registry.Registry{}
		}
		v, err = res.Resolve(ctx, q, e.Model, e.Alias)
	}
	if err != nil && (errors.Is(err, registry.ErrNotFound) || registryMissing(err)) {
		return nil, stepErrf(ReasonVersionMissing, "%s points at no registered version; train and promote one to serve this endpoint", endpointRef(e))
	}
	return v, err
}

// endpoint plans an endpoint's swap: to the version its alias will point
// at once this plan's promotions apply, when the spec changed, the version
// moved since the last apply, or the server does not have it live.
func (pl *planner) endpoint(c *Change, e *schema.Endpoint) {
	target, err := pl.endpointTarget(e)
	if err != nil {
		pl.checkEndpoint(e, 0)
		field := "alias"
		if e.Version > 0 {
			field = "version"
		}
		if reasonOf(err) != ReasonVersionMissing {
			pl.errorf(&e.Meta, field, "resolve %s: %v", endpointRef(e), err)
			return
		}
		// Only a server makes this a problem: a plain plan of a repository
		// that has promoted nothing yet is ordinary.
		if pl.serving != nil {
			pl.warnf(&e.Meta, field, "%v", err)
		}
		c.Detail = "held: " + err.Error()
		return
	}
	pl.checkEndpoint(e, target)
	c.Outputs = map[string]string{outputVersion: strconv.Itoa(target)}
	from := ""
	if c.Recorded != nil {
		from = c.Recorded.Outputs[outputVersion]
	}
	swap := c.Action != planjson.ActionNoOp && c.Effect != planjson.EffectMetadataOnly
	if c.Recorded != nil && from != strconv.Itoa(target) {
		swap = true
		c.Reasons = appendNew(c.Reasons, planReasonVersionChanged)
	}
	if pl.serving != nil {
		if st, ok := pl.serving.Status(e.Addr.Name); !ok || st.Serving != target || st.State != serving.StateReady {
			swap = true
			c.Reasons = appendNew(c.Reasons, planReasonNotServing)
		}
	}
	if recorded, live := pl.variantsMoved(c, e, pl.variantTargets(e, target)); recorded || live {
		swap = true
		c.Reasons = appendNew(c.Reasons, planReasonVariantChanged)
	}
	if !swap {
		return
	}
	if c.Action == planjson.ActionNoOp {
		c.Action = planjson.ActionSwap
	}
	c.Effect, c.Runtime = planjson.EffectRedeploy, []string{planjson.ActionSwap}
	arrow := "→ v" + strconv.Itoa(target)
	if from != "" && from != strconv.Itoa(target) {
		arrow = "v" + from + " " + arrow
	}
	c.Detail = endpointRef(e) + " " + arrow
	for _, kv := range [][2]string{{"canary", outputCanary}, {"shadow", outputShadow}} {
		if n := c.Outputs[kv[1]]; n != "" {
			c.Detail += ", " + kv[0] + " v" + n
		}
	}
}

// endpointTarget is the version e will serve: the one its model's alias is
// promoted to by this plan when that promotion is allowed, else the one
// the registry resolves now.
func (pl *planner) endpointTarget(e *schema.Endpoint) (int, error) {
	if e.Version > 0 {
		v, err := resolveEndpoint(pl.ctx, pl.registry, pl.q, e)
		if err != nil {
			return 0, err
		}
		return v.Number, nil
	}
	if m := pl.plan.spec.Models[e.Model]; m != nil {
		mc := pl.byAddr[schema.Addr{Kind: schema.KindModel, Name: e.Model}]
		if to, ok := m.Aliases[e.Alias]; ok && mc != nil && contains(mc.Runtime, planjson.ActionPromote) && mc.Refused == "" {
			return to, nil
		}
	}
	v, err := resolveEndpoint(pl.ctx, pl.registry, pl.q, e)
	if err != nil {
		return 0, err
	}
	return v.Number, nil
}

// serve deploys an endpoint at the version its alias points to now (read
// inside the step, after this apply's promotions), and returns the result
// and outputs to record. Without a server the endpoint is held, not
// pretended live.
func (a *applier) serve(ctx context.Context, tx *sql.Tx, e *schema.Endpoint, r StepResult, outputs map[string]string) (StepResult, error) {
	var reg PromotionPlanner = &registry.Registry{}
	if a.drivers.Registry != nil {
		reg = a.drivers.Registry
	}
	delete(outputs, outputVersion) // the plan's guess; what is served is recorded below
	v, err := resolveEndpoint(ctx, reg, tx, e)
	if err != nil && reasonOf(err) != ReasonVersionMissing {
		return r, err
	}
	if a.drivers.Serving == nil {
		// Held as NotExecuted, which apply and the daemon count as benign:
		// a plain apply records endpoints without pretending to serve them.
		r.Status, r.Reason = store.Held, ReasonNotExecuted
		if err != nil {
			r.Message = "recorded but not served by this process (" + err.Error() + "): run `sluice serve` or `sluice daemon` to serve it"
			return r, nil
		}
		outputs[outputVersion] = strconv.Itoa(v.Number)
		r.Message = fmt.Sprintf("%s v%d recorded but not served by this process: run `sluice serve` or `sluice daemon` to serve it", endpointRef(e), v.Number)
		return r, nil
	}
	if err != nil {
		r.Status, r.Reason, r.Message = store.Held, ReasonVersionMissing, err.Error()
		return r, nil
	}
	outputs[outputVersion] = strconv.Itoa(v.Number)
	cfg := serving.EndpointConfig(e, v.Number, v.ArtifactPath, v.ArtifactSHA256)
	if cfg.Join, err = a.join(e); err != nil {
		return r, err
	}
	notes, err := variants(ctx, reg, tx, e, &cfg)
	if err != nil {
		return r, err
	}
	delete(outputs, outputCanary) // the plan's guesses, as the primary's
	delete(outputs, outputShadow)
	if err := a.drivers.Serving.Deploy(ctx, cfg); err != nil {
		return r, stepErr(ReasonDeployFailed, err)
	}
	r.Reason, r.Message = ReasonServing, fmt.Sprintf("serving %s v%d", endpointRef(e), v.Number)
	if c := cfg.Canary; c != nil {
		r.Message += fmt.Sprintf(", canary v%d on %g%% of requests", c.Version, c.Weight)
		outputs[outputCanary] = strconv.Itoa(c.Version)
	}
	if s := cfg.Shadow; s != nil {
		r.Message += fmt.Sprintf(", shadow v%d", s.Version)
		outputs[outputShadow] = strconv.Itoa(s.Version)
	}
	for _, n := range notes {
		r.Message += "; " + n
	}
	return r, nil
}

func appendNew(xs []string, x string) []string {
	if contains(xs, x) {
		return xs
	}
	return append(xs, x)
}

// join is the endpoint's feature join reading the online store, or nil
// when it declares no features.
func (a *applier) join(e *schema.Endpoint) (*serving.FeatureJoin, error) {
	j, views, errs := endpointJoin(a.plan.spec, e)
	switch {
	case j == nil:
		return nil, nil
	case len(errs) > 0:
		return nil, stepErrf(ReasonDeployFailed, "%s: %s", errs[0].field, errs[0].msg)
	case a.drivers.Online == nil:
		return nil, stepErrf(ReasonDeployFailed, "the endpoint joins features, and this process has no online store to read them from")
	}
	wireJoin(j, views, a.drivers.Online)
	return j, nil
}
