package engine

import (
	"fmt"
	"sort"
	"strings"

	"sluice/engine/planjson"
	"sluice/runtime/drift"
	"sluice/schema"
)

// driftPolicy plans a drift policy: what applying it sets up, and a
// warning for each feature no experiment of the endpoint's model trains
// on, which would never be judged.
func (pl *planner) driftPolicy(c *Change, d *schema.Drift) {
	if c.Action != planjson.ActionNoOp && c.Action != planjson.ActionDelete {
		c.Detail = driftDetail(d)
	}
	e := pl.plan.spec.Endpoints[d.Endpoint]
	if e == nil {
		return // the schema check reports it
	}
	known := map[string]bool{}
	for _, exp := range pl.plan.spec.Experiments {
		if exp.Model != e.Model {
			continue
		}
		for _, ref := range exp.Features {
			_, field, _ := strings.Cut(ref, ":")
			known[field] = true
		}
	}
	if len(known) == 0 {
		return // no experiment here trains the model: nothing to check against
	}
	for i, f := range d.Features {
		if !known[f] && !strings.HasPrefix(f, drift.PredictionColumn(0, 1)) {
			pl.warnf(&d.Meta, fmt.Sprintf("features[%d]", i), "no experiment of model %s trains on a feature %q (its features: %s); it will never be judged",
				e.Model, f, strings.Join(sortedKeys(known), ", "))
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// driftDetail is what applying a drift policy sets up.
func driftDetail(d *schema.Drift) string {
	actions := "record only"
	if len(d.OnDrift) > 0 {
		actions = strings.Join(d.OnDrift, ", ")
	}
	return fmt.Sprintf("monitor endpoint %s every %s over the last %s (at least %d samples); on drift: %s",
		d.Endpoint, shortDuration(d.Every), shortDuration(d.Window), d.MinSamples, actions)
}
