package engine

import (
	"context"
	"database/sql"
	"fmt"

	"sluice/runtime/features"
	"sluice/runtime/registry"
	"sluice/runtime/serving"
	"sluice/runtime/training"
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
	// History, Tracker and Registry train experiments: the training set
	// is read from the feature store, the run recorded by the tracker and
	// its model registered. ONNX Runtime must be initialised by the
	// process (cmd does it once) for an experiment to be evaluated.
	History  FeatureHistory
	Tracker  RunTracker
	Registry Registrar
	// Serving runs endpoints; nil (plain apply) records them as held,
	// NotServing.
	Serving Swapper
	// Online is the online store endpoints join features from while they
	// serve; an endpoint with features fails to deploy without it.
	Online OnlineReader
	// Drift stores each trained version's drift reference; nil skips it.
	Drift ReferenceStore
	// ArtifactDir holds trained models, <model>/<run>/model.onnx; empty
	// means "artifacts" beside the state file.
	ArtifactDir string
	// AllowCommandTrainers lets experiments run their trainer command
	// (--allow-command-trainers); without it they fail, training nothing.
	AllowCommandTrainers bool
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
	// A file outside git (a data root) can change between the plan's
	// fingerprint and the read; rows from a file cut short would then be
	// recorded as the whole file and never read again. The error rolls
	// the step back.
	if want := a.plannedFingerprint(fv.Source); want != "" && res.SourceSHA256 != "" && res.SourceSHA256 != want {
		return "", nil, stepErrf(ReasonDataInvalid, "source %s (%s) changed while it was read: read sha256 %.12s, planned %.12s; nothing was materialized, the next apply reads it again",
			fv.Source, src.Path, res.SourceSHA256, want)
	}
	return res.String(), map[string]string{"rows": fmt.Sprint(res.RowsWritten)}, nil
}

// plannedFingerprint is the fingerprint this plan found for a source, or "".
func (a *applier) plannedFingerprint(source string) string {
	for _, c := range a.plan.Changes {
		if c.Addr.Kind == schema.KindSource && c.Addr.Name == source {
			return c.Outputs["fingerprint"]
		}
	}
	return ""
}

// remove deletes what a resource's runtime holds before its record goes.
func (a *applier) remove(ctx context.Context, tx *sql.Tx, c *Change) error {
	if c.Addr.Kind == schema.KindEndpoint {
		if a.drivers.Serving == nil {
			return nil
		}
		return stepErr(ReasonDeployFailed, a.drivers.Serving.Remove(ctx, c.Addr.Name))
	}
	if c.Addr.Kind == schema.KindModel {
		return a.unsetAliases(ctx, tx, c.Addr.Name)
	}
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

// RunTracker records training runs in the step's transaction, so a run
// and the step that made it commit together.
type RunTracker interface {
	FindRun(ctx context.Context, q training.Querier, specHash, datasetDigest string) (*training.Run, error)
	StartRun(ctx context.Context, q training.Querier, s training.RunStart) (*training.Run, error)
	LogParams(ctx context.Context, q training.Querier, runID string, params map[string]string) error
	LogMetrics(ctx context.Context, q training.Querier, runID string, metrics map[string]float64) error
	LogSeries(ctx context.Context, q training.Querier, runID, key string, values []float64) error
	LogArtifact(ctx context.Context, q training.Querier, runID, path string) (training.Artifact, error)
	LogDataset(ctx context.Context, q training.Querier, runID string, d training.Dataset) error
	SetTags(ctx context.Context, q training.Querier, runID string, tags map[string]string) error
	EndRun(ctx context.Context, q training.Querier, runID, status, errText, log string) error
}

var _ RunTracker = (*training.Tracker)(nil)

// Registrar is the model registry as training and promotion drive it.
type Registrar interface {
	Promoter
	RegisterVersion(ctx context.Context, tx *sql.Tx, model string, in registry.VersionInput) (int, error)
}

var _ Registrar = (*registry.Registry)(nil)

// ServingStatus says whether an endpoint is live and at which version;
// planning reads it as a fact, so a restarted server is deployed again.
type ServingStatus interface {
	Status(name string) (serving.EndpointStatus, bool)
}

// Swapper is the inference server as apply drives it: Deploy loads, warms
// and swaps a version in (the old one serves until then, and keeps serving
// when the new one is refused); Remove drains an endpoint away.
type Swapper interface {
	ServingStatus
	Deploy(ctx context.Context, cfg serving.Config) error
	Remove(ctx context.Context, name string) error
}

var _ Swapper = (*serving.Server)(nil)
