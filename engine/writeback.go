package engine

import (
	"context"
	"fmt"

	"sluice/runtime/drift"
	"sluice/runtime/registry"
	"sluice/schema"
)

// WriteBack proposes in git an alias move Sluice made or wants outside
// git (a drift rollback, a retrain's promotion): the CUE edit a person
// would have written, committed to a branch for review and merge, so git
// stays the truth. why starts with the action and a colon ("rollback: …")
// and carries the numbers that triggered it. It returns the commit.
// source.WriteBack is the implementation; cmd asserts it.
type WriteBack interface {
	ProposeAlias(ctx context.Context, model, alias string, version int, why string) (commit string, err error)
}

// writeBackRollback proposes the alias move of a drift rollback, and says
// how it went, for the rollback's event ("" when there is no write-back).
func (m *Monitor) writeBackRollback(ctx context.Context, p *schema.Drift, e *schema.Endpoint, from, to int, r *drift.Report) string {
	if m.WriteBack == nil || e == nil || e.Alias == "" {
		return ""
	}
	why := fmt.Sprintf("rollback: drift policy %s rolled endpoint %s back from v%d to v%d; drift: %s",
		p.Addr.Name, p.Endpoint, from, to, Summary(r))
	return writeBackNote(m.WriteBack.ProposeAlias(ctx, e.Model, e.Alias, to, why))
}

// writeBackPromotion proposes moving the policy's promote_to alias to the
// version a retrain of exp registered, behind the gates a commit making
// that move would face: a version they refuse is not proposed. It says
// how it went, for the retrain's event ("" when there is nothing to do).
func (m *Monitor) writeBackPromotion(ctx context.Context, spec *schema.Spec, p *schema.Drift, exp string, r *drift.Report) string {
	if m.WriteBack == nil || p.PromoteTo == "" {
		return ""
	}
	reg := m.registryOf()
	v, err := reg.LastVersion(ctx, m.DB, r.Model)
	switch {
	case err != nil:
		return fmt.Sprintf("; promote_to %s not written back: %v", p.PromoteTo, err)
	case v <= r.Version:
		return fmt.Sprintf("; promote_to %s not written back: the retrain registered no version after v%d", p.PromoteTo, r.Version)
	}
	gates, err := registry.GatesFor(spec.Experiments[exp], spec.Models[r.Model])
	if err != nil {
		return fmt.Sprintf("; promote_to %s not written back: %v", p.PromoteTo, err)
	}
	pr, err := reg.PlanPromotion(ctx, m.DB, r.Model, p.PromoteTo, v, gates)
	switch {
	case err != nil:
		return fmt.Sprintf("; promote_to %s not written back: %v", p.PromoteTo, err)
	case pr.Refused != "":
		return fmt.Sprintf("; v%d not proposed for %s: %s", v, p.PromoteTo, pr.Refused)
	}
	why := fmt.Sprintf("promote: drift policy %s retrained %s as v%d", p.Addr.Name, exp, v)
	if d := pr.Detail(); d != "" {
		why += " (" + d + ")"
	}
	why += "; drift: " + Summary(r)
	return writeBackNote(m.WriteBack.ProposeAlias(ctx, r.Model, p.PromoteTo, v, why))
}

// writeBackNote is a write-back's outcome as the tail of an event message.
func writeBackNote(commit string, err error) string {
	if err != nil {
		return fmt.Sprintf("; write-back failed: %v", err)
	}
	return fmt.Sprintf("; proposed in git as commit %.12s", commit)
}
