package engine

import (
	"fmt"
	"strconv"
	"strings"

	"sluice/runtime/registry"
	"sluice/schema"
)

// regate plans a metadata-only edit of an experiment that touched its
// gates: gates judge a model but do not make it, so nothing is retrained;
// the plan shows the version the experiment registered last judged by the
// new gates instead.
func (pl *planner) regate(c *Change, exp *schema.Experiment) {
	if c.Recorded == nil || !gatesChanged(c) {
		return
	}
	c.Detail = "gates changed; not retrained"
	n, err := strconv.Atoi(c.Recorded.Outputs["version"])
	if err != nil || n < 1 {
		return
	}
	v, err := pl.registry.Version(pl.ctx, pl.q, exp.Model, n)
	if err != nil {
		return
	}
	gates, err := registry.GatesFor(exp, pl.plan.spec.Models[exp.Model])
	if err != nil {
		pl.errorf(&exp.Meta, "gates", "%v", err)
		return
	}
	verdicts := registry.Evaluate(gates, v.Metrics, nil)
	if len(verdicts) == 0 {
		c.Detail += fmt.Sprintf("; %s v%d has no gates to pass now", exp.Model, n)
		return
	}
	parts := make([]string, len(verdicts))
	for i, vd := range verdicts {
		parts[i] = vd.String()
	}
	c.Detail += fmt.Sprintf("; %s v%d against them: %s", exp.Model, n, strings.Join(parts, ", "))
}

func gatesChanged(c *Change) bool {
	for _, d := range c.Diff {
		if d.Path == "gates" || strings.HasPrefix(d.Path, "gates.") {
			return true
		}
	}
	return false
}
