package engine

import (
	"context"
	"database/sql"
	"fmt"

	"sluice/runtime/features"
	"sluice/schema"
)

// Materializer is the feature store as the engine drives it. Both calls run
// inside the step's transaction, so a failure leaves the old data in place.
type Materializer interface {
	Materialize(ctx context.Context, tx *sql.Tx, req features.MaterializeRequest) (features.MaterializeResult, error)
	DeleteView(ctx context.Context, tx *sql.Tx, view string) error
}

var _ Materializer = (*features.Store)(nil)

// Drivers are the runtimes apply calls. A nil driver fails the steps that
// need it with a clear reason.
type Drivers struct {
	Features Materializer
}

// materialize runs a feature view's materialization for change c.
func (a *applier) materialize(ctx context.Context, tx *sql.Tx, c *Change, fv *schema.FeatureView) (string, map[string]string, error) {
	if a.drivers.Features == nil {
		return "", nil, stepErrf(ReasonMaterializeFailed, "no feature store driver configured")
	}
	src := a.plan.spec.Sources[fv.Source]
	ents := make([]*schema.Entity, len(fv.Entities))
	for i, e := range fv.Entities {
		ents[i] = a.plan.spec.Entities[e]
	}
	res, err := a.drivers.Features.Materialize(ctx, tx, features.MaterializeRequest{
		View: fv, Source: src, Entities: ents, FS: a.plan.fsys, Full: c.Full,
	})
	if err != nil {
		if features.IsDataError(err) {
			return "", nil, stepErr(ReasonDataInvalid, err)
		}
		return "", nil, stepErr(ReasonMaterializeFailed, err)
	}
	return res.String(), map[string]string{"rows": fmt.Sprint(res.RowsWritten)}, nil
}

// remove deletes what a resource's runtime holds before its record goes.
func (a *applier) remove(ctx context.Context, tx *sql.Tx, c *Change) error {
	if c.Addr.Kind != schema.KindFeature {
		return nil
	}
	if a.drivers.Features == nil {
		return stepErrf(ReasonApplyFailed, "no feature store driver configured")
	}
	return a.drivers.Features.DeleteView(ctx, tx, c.Addr.Name)
}

// FeatureHistory is the point-in-time retrieval that builds training sets.
type FeatureHistory interface {
	History(ctx context.Context, req features.HistoryRequest) (*features.Frame, error)
}

var _ FeatureHistory = (*features.Store)(nil)
