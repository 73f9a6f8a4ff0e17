// Package engine plans a revision's specs against the recorded state and
// applies the plan through the runtime drivers, one transaction per step.
package engine

import (
	"context"
	"fmt"
	"io/fs"
	"sort"

	"sluice/engine/planjson"
	"sluice/runtime/features"
	"sluice/runtime/registry"
	"sluice/runtime/store"
	"sluice/schema"
)

// Change is the plan for one resource.
type Change struct {
	Addr schema.Addr
	// Action is what happens to the resource's record (planjson.Action*).
	Action string
	// Runtime lists the work beyond recording the spec (materialize, ...).
	Runtime []string
	Reasons []string
	Effect  string
	Detail  string
	Diff    []planjson.FieldChange
	// Refused says why apply would refuse this change; empty when it would not.
	Refused string
	// Promotions are a model's planned alias moves, with their evidence.
	Promotions []*registry.Promotion

	// Resource is the desired resource; nil for a delete.
	Resource schema.Resource
	// Recorded is the resource as last applied; nil for a create.
	Recorded *store.Resource
	// Outputs are facts found while planning that apply records, such as a
	// source's fingerprint.
	Outputs map[string]string
	// Full asks the runtime to rebuild rather than increment.
	Full bool
}

// Plan is a revision planned against a state: a value, printed elsewhere.
type Plan struct {
	Revision    planjson.Revision
	State       planjson.State
	Changes     []*Change
	Diagnostics []planjson.Diagnostic

	spec *schema.Spec
	fsys fs.FS
}

// Input is what a plan is made from.
type Input struct {
	Spec     *schema.Spec
	FS       fs.FS // the revision's files, rooted at the repository
	Revision planjson.Revision
	// StatePath is shown in the plan; the state itself is read through q.
	StatePath string
	// Base, when set, is the revision a pull request merges into: the plan
	// shows what merging would change, as if Base were applied (plan
	// --base/--head). BaseFS holds Base's files.
	Base   *schema.Spec
	BaseFS fs.FS
	// Registry plans models' alias moves; nil reads the registry's tables
	// in the state as they are (none yet: every version is missing).
	Registry PromotionPlanner
	// Serving, when set, is the server apply will deploy to: an endpoint
	// it does not have live at its version plans a swap.
	Serving ServingStatus
	// AllowCommandTrainers plans for a process that may run command
	// trainers (Drivers.AllowCommandTrainers); without it their training
	// is planned as refused.
	AllowCommandTrainers bool
}

// MakePlan diffs the desired spec against the recorded state. It reads the
// state and the revision's data files and writes nothing.
func MakePlan(ctx context.Context, q store.Querier, in Input) (*Plan, error) {
	recorded, err := store.Resources(ctx, q)
	if err != nil {
		return nil, err
	}
	conds, err := store.Conditions(ctx, q)
	if err != nil {
		return nil, err
	}
	serial, err := store.Serial(ctx, q)
	if err != nil {
		return nil, err
	}
	p := &Plan{Revision: in.Revision, State: planjson.State{Path: in.StatePath, Serial: serial}, spec: in.Spec, fsys: in.FS}
	if cur, err := store.CurrentRevision(ctx, q); err != nil {
		return nil, err
	} else if cur != nil {
		p.State.CurrentCommit = cur.Commit
	}
	reg := in.Registry
	if reg == nil {
		reg = &registry.Registry{}
	}
	pl := &planner{ctx: ctx, q: q, registry: reg, serving: in.Serving, plan: p, allowCommands: in.AllowCommandTrainers, recorded: map[schema.Addr]*store.Resource{}, failed: map[schema.Addr]store.Condition{}, byAddr: map[schema.Addr]*Change{}}
	for i := range recorded {
		r := &recorded[i]
		pl.recorded[schema.Addr{Kind: schema.Kind(r.Kind), Name: r.Name}] = r
	}
	for _, c := range conds {
		if c.Status == store.Failed || (c.Status == store.Held && c.Reason != ReasonNotExecuted) {
			pl.failed[schema.Addr{Kind: schema.Kind(c.Kind), Name: c.Name}] = c
		}
	}
	if in.Base != nil {
		if err := pl.useBase(in.Base, in.BaseFS); err != nil {
			return nil, err
		}
	}
	for _, r := range in.Spec.Resources() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		pl.resource(r)
	}
	pl.deletes()
	return p, nil
}

type planner struct {
	ctx      context.Context
	q        store.Querier
	registry PromotionPlanner
	serving  ServingStatus
	plan     *Plan
	// allowCommands is Input.AllowCommandTrainers.
	allowCommands bool
	recorded      map[schema.Addr]*store.Resource
	failed        map[schema.Addr]store.Condition
	byAddr        map[schema.Addr]*Change
	// tables are the feature tables the state holds, read on first need.
	tables features.Tables
	// fromBase says the records are those a base revision would leave,
	// not what the state holds: the runtimes' facts do not apply to them.
	fromBase bool
}

// resource plans one desired resource. Resources arrive in dependency
// order, so the changes of what it depends on are already known.
func (pl *planner) resource(r schema.Resource) {
	m := r.Metadata()
	c := &Change{Addr: m.Addr, Resource: r, Recorded: pl.recorded[m.Addr], Action: planjson.ActionNoOp, Effect: planjson.EffectNone}
	pl.byAddr[m.Addr] = c
	pl.plan.Changes = append(pl.plan.Changes, c)
	if c.Recorded == nil {
		c.Action, c.Effect, c.Full = planjson.ActionCreate, createEffect(m.Addr.Kind), true
		c.Reasons = append(c.Reasons, planjson.ReasonNewInGit)
	} else if c.Recorded.Hash != m.Hash {
		pl.update(c, m)
	}
	if src, ok := r.(*schema.Source); ok {
		pl.source(c, src)
	}
	if m.Suspend && c.Recorded != nil {
		// Suspended, as in Flux: nothing is applied, but the plan keeps
		// the pending diff so reviewers see what resuming would do.
		pending := c.Action != planjson.ActionNoOp
		c.Action, c.Effect, c.Runtime, c.Full = planjson.ActionNoOp, planjson.EffectNone, nil, false
		c.Reasons = []string{planjson.ReasonSuspended}
		if pending {
			c.Detail = "suspended: these changes wait until suspend is false"
		}
		return
	}
	pl.dependencies(c, r)
	if m, ok := r.(*schema.Model); ok {
		pl.promote(c, m)
	}
	if cond, ok := pl.failed[m.Addr]; ok && c.Action == planjson.ActionNoOp {
		c.Action, c.Effect, c.Full = runtimeAction(m.Addr.Kind), kindEffect(m.Addr.Kind), true
		c.Reasons = append(c.Reasons, planjson.ReasonPreviousApplyFailed)
		c.Detail = fmt.Sprintf("last attempt %s: %s", cond.Status, cond.Reason)
	}
	pl.runtime(c)
}

// update classifies a changed spec by the dearest class among its fields.
func (pl *planner) update(c *Change, m *schema.Meta) {
	diff, err := diffSpecs(c.Recorded.Spec, m.Spec, c.Recorded.Classes, m.Classes)
	if err != nil {
		pl.errorf(m, "", "compare with recorded spec: %v", err)
		return
	}
	c.Diff = diff
	identity, behaviour := false, false
	for _, d := range diff {
		identity = identity || d.Class == schema.ClassIdentity
		behaviour = behaviour || d.Class == schema.ClassBehaviour
	}
	switch {
	case identity:
		c.Action, c.Effect, c.Full = planjson.ActionReplace, kindEffect(m.Addr.Kind), true
		c.Reasons = append(c.Reasons, planjson.ReasonIdentityChanged)
	case behaviour:
		c.Action, c.Effect, c.Full = planjson.ActionUpdate, kindEffect(m.Addr.Kind), true
		c.Reasons = append(c.Reasons, planjson.ReasonSpecChanged)
	default:
		c.Action, c.Effect = planjson.ActionUpdate, planjson.EffectMetadataOnly
		c.Reasons = append(c.Reasons, planjson.ReasonMetadataChanged)
	}
}

// dependencies makes a resource recompute when something it reads changed.
// A resource being created computes from scratch anyway.
//
// A model is the exception: its experiments retraining registers new
// versions but moves no alias; promotions are planned from the aliases.
func (pl *planner) dependencies(c *Change, r schema.Resource) {
	if c.Action == planjson.ActionCreate || c.Addr.Kind == schema.KindModel {
		return
	}
	for _, dep := range r.DependsOn() {
		if orderOnly(c.Addr, dep) {
			continue
		}
		dc, ok := pl.byAddr[dep]
		if !ok || dc.Effect == planjson.EffectNone || dc.Effect == planjson.EffectMetadataOnly {
			continue
		}
		reason := planjson.ReasonDependencyChanged
		switch {
		case dc.Action == planjson.ActionReplace:
			reason = planjson.ReasonDependencyReplaced
		case dep.Kind == schema.KindSource && contains(dc.Reasons, planjson.ReasonSourceDataChanged) && !dc.Full:
			reason = planjson.ReasonSourceDataChanged
		}
		if reason != planjson.ReasonSourceDataChanged {
			c.Full = true
		}
		if !contains(c.Reasons, reason) {
			c.Reasons = append(c.Reasons, reason)
		}
		if c.Action == planjson.ActionNoOp {
			c.Action, c.Effect = runtimeAction(c.Addr.Kind), kindEffect(c.Addr.Kind)
		} else if c.Effect == planjson.EffectMetadataOnly {
			c.Effect = kindEffect(c.Addr.Kind)
		}
	}
}

// deletes plans the removal of every recorded resource git no longer has,
// dependents first.
func (pl *planner) deletes() {
	var gone []*store.Resource
	for a, r := range pl.recorded {
		if _, ok := pl.byAddr[a]; !ok {
			gone = append(gone, r)
		}
	}
	sort.Slice(gone, func(i, j int) bool {
		ki, kj := kindIndex(schema.Kind(gone[i].Kind)), kindIndex(schema.Kind(gone[j].Kind))
		if ki != kj {
			return ki > kj
		}
		return gone[i].Name < gone[j].Name
	})
	for _, r := range gone {
		a := schema.Addr{Kind: schema.Kind(r.Kind), Name: r.Name}
		c := &Change{Addr: a, Recorded: r, Action: planjson.ActionDelete, Effect: kindEffect(a.Kind),
			Reasons: []string{planjson.ReasonRemovedFromGit}}
		c.Diff, _ = diffSpecs(r.Spec, nil, r.Classes, nil)
		pl.plan.Changes = append(pl.plan.Changes, c)
	}
}

func (pl *planner) errorf(m *schema.Meta, field, format string, args ...any) {
	p := m.Position(field)
	pl.plan.Diagnostics = append(pl.plan.Diagnostics, planjson.Diagnostic{
		Severity: "error", Summary: fmt.Sprintf(format, args...), Address: m.Addr.String(),
		File: p.Filename(), Line: p.Line(), Column: p.Column(),
	})
}

func (pl *planner) warnf(m *schema.Meta, field, format string, args ...any) {
	pl.errorf(m, field, format, args...)
	pl.plan.Diagnostics[len(pl.plan.Diagnostics)-1].Severity = "warning"
}

func kindIndex(k schema.Kind) int {
	for i, x := range schema.Kinds {
		if x == k {
			return i
		}
	}
	return len(schema.Kinds)
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
