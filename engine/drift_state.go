package engine

import (
	"context"
	"strconv"

	"sluice/runtime/drift"
	"sluice/runtime/serving"
	"sluice/runtime/store"
	"sluice/schema"
)

// StateServing says which version each endpoint serves as the state file
// records it: the version its last apply deployed, or the one a drift
// policy's hold keeps while the revision is unchanged. It lets commands
// that do not serve (sluice drift report) judge the version that does.
type StateServing struct {
	Ctx  context.Context
	Q    store.Querier
	Spec *schema.Spec
}

var _ ServingStatus = StateServing{}

// Status implements ServingStatus.
func (s StateServing) Status(name string) (serving.EndpointStatus, bool) {
	e := s.Spec.Endpoints[name]
	if e == nil {
		return serving.EndpointStatus{}, false
	}
	st := serving.EndpointStatus{Name: name, Model: e.Model, Alias: e.Alias}
	rs, err := store.Resources(s.Ctx, s.Q)
	if err != nil {
		return st, false
	}
	for _, r := range rs {
		if r.Kind == string(schema.KindEndpoint) && r.Name == name {
			st.Serving, _ = strconv.Atoi(r.Outputs[outputVersion])
		}
	}
	if h, err := drift.HoldOf(s.Ctx, s.Q, name); err == nil && h != nil {
		if rev, err := store.CurrentRevision(s.Ctx, s.Q); err == nil && h.ActiveFor(revCommit(rev)) {
			st.Serving = h.Version
		}
	}
	return st, st.Serving > 0
}

func revCommit(r *store.Revision) string {
	if r == nil {
		return ""
	}
	return r.Commit
}
