package engine

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"sluice/engine/planjson"
	"sluice/runtime/registry"
	"sluice/runtime/store"
	"sluice/schema"
)

const (
	// ReasonPromoted: every alias of a model points where git says.
	ReasonPromoted = "Promoted"
	// ReasonPromotionRefused: a version an alias should move to does not
	// exist, failed, or misses a gate; the alias stays where it was.
	ReasonPromotionRefused = "PromotionRefused"
)

// PromotionPlanner reads the registry to plan alias moves: what the alias
// points to now, the version's metrics against its gates.
type PromotionPlanner interface {
	PlanPromotion(ctx context.Context, q store.Querier, model, alias string, to int, gates []registry.Gate) (*registry.Promotion, error)
	Version(ctx context.Context, q store.Querier, model string, n int) (*registry.Version, error)
	LastVersion(ctx context.Context, q store.Querier, model string) (int, error)
	Aliases(ctx context.Context, q store.Querier, model string) (map[string]int, error)
}

var _ PromotionPlanner = (*registry.Registry)(nil)

// Promoter moves aliases in the step's transaction.
type Promoter interface {
	PromotionPlanner
	Promote(ctx context.Context, tx *sql.Tx, m registry.Move) (registry.Moved, error)
	RemoveAlias(ctx context.Context, tx *sql.Tx, model, alias, commit string, reason registry.Reason) error
}

var _ Promoter = (*registry.Registry)(nil)

// promotions plans every alias of m git declares, in name order, against
// the registry read through q. Aliases already where git says plan nothing.
// pending maps the versions this plan's training will register to the
// experiment registering each: a move to one of those waits for it instead
// of being refused. Apply passes nil, so a version its training did not
// register after all is refused then.
func promotions(ctx context.Context, r PromotionPlanner, q store.Querier, spec *schema.Spec, m *schema.Model, pending map[int]string) ([]*registry.Promotion, error) {
	aliases := make([]string, 0, len(m.Aliases))
	for a := range m.Aliases {
		aliases = append(aliases, a)
	}
	sort.Strings(aliases)
	var out []*registry.Promotion
	for _, alias := range aliases {
		to := m.Aliases[alias]
		exp := spec.Experiments[pending[to]]
		if v, err := r.Version(ctx, q, m.Addr.Name, to); err == nil {
			exp = spec.Experiments[v.Lineage.Experiment]
		}
		gates, err := registry.GatesFor(exp, m)
		if err != nil {
			return nil, err
		}
		p, err := r.PlanPromotion(ctx, q, m.Addr.Name, alias, to, gates)
		if err != nil && registryMissing(err) {
			p, err = &registry.Promotion{Model: m.Addr.Name, Alias: alias, To: to,
				Refused: fmt.Sprintf("version %d does not exist: no model has been registered yet", to)}, nil
		}
		if err != nil {
			return nil, fmt.Errorf("plan promotion of %s %s to %d: %w", m.Addr.Name, alias, to, err)
		}
		if name := pending[to]; name != "" && p.ToStatus == "" && !p.NoOp() {
			p.Refused, p.Verdicts = "", nil
			p.Pending, p.Gates = schema.Addr{Kind: schema.KindExperiment, Name: name}.String(), gates
		} else if p.ToStatus == "" && p.Refused != "" && len(pending) > 0 {
			p.Refused += "; this plan's training registers " + pendingList(pending)
		}
		if !p.NoOp() {
			out = append(out, p)
		}
	}
	unsets, err := removedAliases(ctx, r, q, m)
	if err != nil {
		return nil, err
	}
	out = append(out, unsets...)
	// A version another alias will point to once git's aliases are all
	// applied is not archived by archive_previous either.
	for _, p := range out {
		for _, alias := range aliases {
			if alias != p.Alias && m.Aliases[alias] == p.From && !slices.Contains(p.FromShared, alias) {
				p.FromShared = append(p.FromShared, alias)
			}
		}
	}
	return out, nil
}

// removedAliases plans unsetting each alias the registry has that git no
// longer declares for m; the alias's history keeps where it pointed.
func removedAliases(ctx context.Context, r PromotionPlanner, q store.Querier, m *schema.Model) ([]*registry.Promotion, error) {
	current, err := r.Aliases(ctx, q, m.Addr.Name)
	if err != nil && !registryMissing(err) {
		return nil, err
	}
	var out []*registry.Promotion
	for _, alias := range slices.Sorted(maps.Keys(current)) {
		if _, ok := m.Aliases[alias]; !ok {
			out = append(out, &registry.Promotion{Model: m.Addr.Name, Alias: alias, From: current[alias]})
		}
	}
	return out, nil
}

// pendingVersions predicts the versions of m this plan's training will
// register: experiments of one model train one after another in name order
// (schema's After), and each that succeeds registers the model's last
// version plus one. A train step that finds a run for its spec and data
// already registers nothing, so the guess can be high; apply judges the
// move again on what was registered.
func (pl *planner) pendingVersions(m *schema.Model) (map[int]string, error) {
	last, err := pl.registry.LastVersion(pl.ctx, pl.q, m.Addr.Name)
	if err != nil && !registryMissing(err) {
		return nil, err
	}
	pending := map[int]string{}
	for _, name := range m.Experiments {
		c := pl.byAddr[schema.Addr{Kind: schema.KindExperiment, Name: name}]
		if c != nil && c.Refused == "" && contains(c.Runtime, planjson.ActionTrain) {
			last++
			pending[last] = name
		}
	}
	return pending, nil
}

// promote plans a model's alias moves: `promote` with each move's gate
// verdicts in Detail, and Refused naming every move apply would refuse.
func (pl *planner) promote(c *Change, m *schema.Model) {
	if pl.registry == nil || c.Action == planjson.ActionDelete {
		return
	}
	pending, err := pl.pendingVersions(m)
	if err != nil {
		pl.errorf(&m.Meta, "aliases", "%v", err)
		return
	}
	ps, err := promotions(pl.ctx, pl.registry, pl.q, pl.plan.spec, m, pending)
	if err != nil {
		pl.errorf(&m.Meta, "aliases", "%v", err)
		return
	}
	if len(ps) == 0 {
		return
	}
	if c.Action == planjson.ActionNoOp {
		c.Action, c.Effect = planjson.ActionPromote, planjson.EffectReload
	}
	c.Runtime, c.Promotions = []string{planjson.ActionPromote}, ps
	var detail, refused []string
	for _, p := range ps {
		line := p.String()
		if d := p.Detail(); d != "" {
			line += ": " + d
		}
		detail = append(detail, line)
		if p.Refused != "" {
			refused = append(refused, p.String()+": "+p.Refused)
		}
	}
	c.Detail, c.Refused = strings.Join(detail, "; "), strings.Join(refused, "; ")
}

// promoteStep moves a model's aliases as git declares, planning each move
// again inside the transaction so a gate is judged on the state it changes.
func (a *applier) promoteStep(ctx context.Context, tx *sql.Tx, m *schema.Model) (string, error) {
	r := a.drivers.Registry
	ps, err := promotions(ctx, r, tx, a.plan.spec, m, nil)
	if err != nil {
		return "", err
	}
	var done []string
	for _, p := range ps {
		if p.Refused != "" {
			return "", stepErrf(ReasonPromotionRefused, "%s refused: %s", p, p.Refused)
		}
		if p.To == 0 {
			if err := r.RemoveAlias(ctx, tx, m.Addr.Name, p.Alias, a.plan.Revision.Commit, registry.ReasonGit); err != nil {
				return "", err
			}
			done = append(done, p.String())
			continue
		}
		moved, err := r.Promote(ctx, tx, registry.Move{Model: m.Addr.Name, Alias: p.Alias, Version: p.To,
			Commit: a.plan.Revision.Commit, Reason: registry.ReasonGit, ArchivePrevious: p.Archives(m.ArchivePrevious) != 0})
		if err != nil {
			return "", stepErr(ReasonPromotionRefused, err)
		}
		line := p.String()
		if d := p.Detail(); d != "" {
			line += ": " + d
		}
		if moved.Archived != 0 {
			line += fmt.Sprintf(" (archived v%d)", moved.Archived)
		}
		done = append(done, line)
	}
	return strings.Join(done, "; "), nil
}

// pendingList reads like "v3 (experiments.a), v4 (experiments.b)".
func pendingList(pending map[int]string) string {
	ns := make([]int, 0, len(pending))
	for n := range pending {
		ns = append(ns, n)
	}
	sort.Ints(ns)
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = fmt.Sprintf("v%d (experiments.%s)", n, pending[n])
	}
	return strings.Join(parts, ", ")
}

// registryMissing says the state has no registry tables yet: nothing was
// ever trained into it, so every version is missing. Planning reads the
// state without migrating it, and the store has no call that asks.
func registryMissing(err error) bool {
	return strings.Contains(err.Error(), "no such table: registry_")
}

// promotionsJSON is c's promotions in the plan's JSON contract.
func promotionsJSON(c *Change) []planjson.Promotion {
	if len(c.Promotions) == 0 {
		return nil
	}
	archive := false
	if m, ok := c.Resource.(*schema.Model); ok {
		archive = m.ArchivePrevious
	}
	out := make([]planjson.Promotion, len(c.Promotions))
	for i, p := range c.Promotions {
		j := planjson.Promotion{Model: p.Model, Alias: p.Alias, From: p.From, To: p.To, Pending: p.Pending,
			Gates: []string{}, Verdicts: []planjson.Verdict{}, Archives: p.Archives(archive), Refused: p.Refused}
		for _, g := range p.Gates {
			j.Gates = append(j.Gates, g.String())
		}
		for _, v := range p.Verdicts {
			if p.Pending == "" {
				j.Gates = append(j.Gates, v.Metric+" "+v.Expr)
			}
			j.Verdicts = append(j.Verdicts, planjson.Verdict{Metric: v.Metric, Gate: v.Expr, DeclaredBy: v.From,
				Candidate: v.Candidate, Incumbent: v.Incumbent, IncumbentVersion: v.IncumbentVersion,
				Delta: v.Delta, Bound: v.Bound, Pass: v.Pass, Message: v.Message})
		}
		out[i] = j
	}
	return out
}

// unsetAliases removes every alias of a model git no longer declares at
// all; its versions and the aliases' history stay.
func (a *applier) unsetAliases(ctx context.Context, tx *sql.Tx, model string) error {
	r := a.drivers.Registry
	if r == nil {
		return nil
	}
	current, err := r.Aliases(ctx, tx, model)
	if err != nil {
		if registryMissing(err) {
			return nil
		}
		return err
	}
	for _, alias := range slices.Sorted(maps.Keys(current)) {
		if err := r.RemoveAlias(ctx, tx, model, alias, a.plan.Revision.Commit, registry.ReasonGit); err != nil {
			return stepErr(ReasonPromotionRefused, err)
		}
	}
	return nil
}
