package engine

import (
	"context"
	"database/sql"
	"fmt"
	"sort"

	"sluice/runtime/drift"
	"sluice/runtime/registry"
	"sluice/runtime/serving"
	"sluice/runtime/store"
	"sluice/schema"
)

// Drift actions a policy may name in on_drift.
const (
	actionAlert    = "alert"
	actionRetrain  = "retrain"
	actionRollback = "rollback"
)

// act runs each of the policy's actions that its open episode has not run
// yet, and records each as taken whether it worked or not: a failure is
// reported once, not on every check while the drift lasts.
func (m *Monitor) act(ctx context.Context, spec *schema.Spec, p *schema.Drift, r *drift.Report) {
	ep, err := drift.OpenEpisode(ctx, m.DB, p.Addr.Name)
	if err != nil {
		m.warn("read drift episode", err)
		return
	}
	for _, a := range p.OnDrift {
		if ep.Took(a) {
			continue
		}
		if a == actionRetrain && m.bg.on.Load() {
			m.retrainInBackground(ctx, spec, p, r)
			continue
		}
		m.taken(ctx, spec, p, a, m.take(ctx, spec, p, r, a))
	}
}

// take runs one action and says what came of it as an event.
func (m *Monitor) take(ctx context.Context, spec *schema.Spec, p *schema.Drift, r *drift.Report, a string) store.Event {
	ev := store.Event{At: m.now(), Kind: string(schema.KindDrift), Name: p.Addr.Name, Type: "Warning"}
	switch a {
	case actionAlert:
		ev.Reason, ev.Message = ReasonDriftDetected, "drift: "+Summary(r)
	case actionRetrain:
		ev = m.retrain(ctx, spec, p, r, ev)
		ev.At = m.now() // a training takes long: the event is when it ended
	case actionRollback:
		ev = m.rollback(ctx, spec, p, r, ev)
	}
	return ev
}

// taken records an action's event in the policy's episode and sends it.
func (m *Monitor) taken(ctx context.Context, spec *schema.Spec, p *schema.Drift, a string, ev store.Event) {
	err := m.DB.Tx(ctx, func(tx *sql.Tx) error {
		if err := store.AddEvent(ctx, tx, ev); err != nil {
			return err
		}
		return drift.RecordAction(ctx, tx, p.Addr.Name, a)
	})
	if err != nil {
		m.warn("record drift action "+a, err)
		return
	}
	if m.Notify != nil {
		m.Notify(ctx, spec, ev)
	}
}

// retrain trains the experiment that produced the serving version again.
func (m *Monitor) retrain(ctx context.Context, spec *schema.Spec, p *schema.Drift, r *drift.Report, ev store.Event) store.Event {
	exp := m.experimentOf(ctx, spec, r.Model, r.Version)
	ev.Reason = ReasonRetrainFailed
	switch {
	case exp == "":
		ev.Message = fmt.Sprintf("retrain: no experiment in this revision trains model %s; %s v%d keeps serving", r.Model, r.Model, r.Version)
		return ev
	case m.Retrain == nil:
		ev.Message = fmt.Sprintf("retrain of %s: this process cannot train; %s v%d keeps serving", exp, r.Model, r.Version)
		return ev
	}
	did, err := m.Retrain(ctx, spec, exp, p.PromoteTo)
	if err != nil {
		ev.Message = fmt.Sprintf("retrain of %s failed: %v; %s v%d keeps serving (drift: %s)", exp, err, r.Model, r.Version, Summary(r))
		return ev
	}
	ev.Reason, ev.Type = ReasonRetrainStarted, "Normal"
	ev.Message = fmt.Sprintf("retrained %s on drift (%s): %s", exp, did, Summary(r))
	if p.PromoteTo != "" && m.WriteBack == nil {
		ev.Message += fmt.Sprintf("; promote_to %s is proposed only with a write-back branch (sluice daemon --write-back): promote it in git", p.PromoteTo)
	}
	ev.Message += m.writeBackPromotion(ctx, spec, p, exp, r)
	return ev
}

// experimentOf is the experiment that produced a version (its lineage), or
// else the revision's only experiment of the model.
func (m *Monitor) experimentOf(ctx context.Context, spec *schema.Spec, model string, version int) string {
	if v, err := m.registryOf().Version(ctx, m.DB, model, version); err == nil && spec.Experiments[v.Lineage.Experiment] != nil {
		return v.Lineage.Experiment
	}
	var names []string
	for name, e := range spec.Experiments {
		if e.Model == model {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return ""
	}
	return names[0]
}

// rollback deploys the version the endpoint's alias pointed to before the
// serving one, and holds the endpoint there until a new commit.
func (m *Monitor) rollback(ctx context.Context, spec *schema.Spec, p *schema.Drift, r *drift.Report, ev store.Event) store.Event {
	ev.Reason = ReasonRollbackFailed
	e := spec.Endpoints[p.Endpoint]
	prev, err := m.previousVersion(ctx, e, r.Version)
	if err != nil {
		ev.Message = fmt.Sprintf("rollback of endpoint %s: %v; v%d keeps serving", p.Endpoint, err, r.Version)
		return ev
	}
	cfg := serving.EndpointConfig(e, prev.Number, prev.ArtifactPath, prev.ArtifactSHA256)
	if j, views, errs := endpointJoin(spec, e); j != nil && len(errs) == 0 && m.Online != nil {
		wireJoin(j, views, m.Online)
		cfg.Join = j
	}
	if err := m.Serving.Deploy(ctx, cfg); err != nil {
		ev.Message = fmt.Sprintf("rollback of endpoint %s to v%d failed: %v; v%d keeps serving", p.Endpoint, prev.Number, err, r.Version)
		return ev
	}
	commit := m.appliedCommit(ctx)
	msg := fmt.Sprintf("rolled back from v%d to v%d by drift policy %s; held until a new commit (drift: %s)", r.Version, prev.Number, p.Addr.Name, Summary(r))
	err = m.DB.Tx(ctx, func(tx *sql.Tx) error {
		if err := drift.PutHold(ctx, tx, drift.Hold{Endpoint: p.Endpoint, Version: prev.Number, FromVersion: r.Version,
			Policy: p.Addr.Name, Commit: commit, At: m.now()}); err != nil {
			return err
		}
		if err := store.SetCondition(ctx, tx, store.Condition{Kind: string(schema.KindEndpoint), Name: p.Endpoint,
			Status: store.Held, Reason: ReasonDriftRollback, Message: msg, Since: m.now()}); err != nil {
			return err
		}
		return store.AddEvent(ctx, tx, store.Event{At: m.now(), Kind: string(schema.KindEndpoint), Name: p.Endpoint,
			Type: "Warning", Reason: ReasonDriftRollback, Message: msg})
	})
	if err != nil {
		ev.Message = fmt.Sprintf("rollback of endpoint %s to v%d: serving, but not recorded: %v", p.Endpoint, prev.Number, err)
		return ev
	}
	ev.Reason, ev.Message = ReasonDriftRollback, msg+m.writeBackRollback(ctx, p, e, r.Version, prev.Number, r)
	return ev
}

// previousVersion is the version the endpoint's alias pointed to before
// it moved to current.
func (m *Monitor) previousVersion(ctx context.Context, e *schema.Endpoint, current int) (*registry.Version, error) {
	if e == nil || e.Alias == "" {
		return nil, fmt.Errorf("the endpoint pins a version; there is no previous version of an alias to roll back to")
	}
	h, ok := m.registryOf().(interface {
		History(ctx context.Context, q store.Querier, model, alias string) ([]registry.AliasMove, error)
	})
	if !ok {
		return nil, fmt.Errorf("no alias history to read")
	}
	moves, err := h.History(ctx, m.DB, e.Model, e.Alias)
	if err != nil {
		return nil, err
	}
	for i := len(moves) - 1; i >= 0; i-- {
		if moves[i].To == current && moves[i].From != 0 && moves[i].From != current {
			return m.registryOf().Version(ctx, m.DB, e.Model, moves[i].From)
		}
	}
	return nil, fmt.Errorf("%s@%s never pointed at another version before v%d", e.Model, e.Alias, current)
}

// appliedCommit is the revision the hold is made under: the monitor's
// Commit, or else the state's current revision.
func (m *Monitor) appliedCommit(ctx context.Context) string {
	if m.Commit != nil {
		return m.Commit()
	}
	if rev, err := store.CurrentRevision(ctx, m.DB); err == nil && rev != nil {
		return rev.Commit
	}
	return ""
}

func (m *Monitor) warn(what string, err error) {
	if m.Log != nil {
		m.Log.Warn("drift: "+what, "error", err)
	}
}
