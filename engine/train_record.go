package engine

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"maps"
	"sort"

	"sluice/runtime/registry"
	"sluice/runtime/training"
	"sluice/schema"
)

// recordRun writes what a run did to the tracker (params, metrics, series,
// the artifact and its SHA-256, the datasets) and registers its model as a
// new version, in the step's transaction.
func (a *applier) recordRun(ctx context.Context, tx *sql.Tx, exp *schema.Experiment, run *training.Run, ds *dataset, fit *fitted, path string) (int, error) {
	t := a.drivers.Tracker
	if err := t.LogParams(ctx, tx, run.ID, fit.result.Params); err != nil {
		return 0, err
	}
	metrics := maps.Clone(fit.metrics)
	for k, v := range fit.result.Metrics {
		if _, ok := metrics[k]; !ok {
			metrics[k] = v
		}
	}
	if err := t.LogMetrics(ctx, tx, run.ID, metrics); err != nil {
		return 0, err
	}
	for k, vs := range fit.result.Series {
		if err := t.LogSeries(ctx, tx, run.ID, k, vs); err != nil {
			return 0, err
		}
	}
	art, err := t.LogArtifact(ctx, tx, run.ID, path)
	if err != nil {
		return 0, err
	}
	for _, d := range []training.Dataset{
		{Name: exp.Addr.Name, Digest: training.Fingerprint(ds.Frame), Context: "training", Rows: fit.train.Rows()},
		{Name: exp.Addr.Name, Digest: training.Fingerprint(fit.holdout), Context: "holdout", Rows: fit.holdout.Rows()},
	} {
		if err := t.LogDataset(ctx, tx, run.ID, d); err != nil {
			return 0, err
		}
	}
	if err := t.SetTags(ctx, tx, run.ID, runTags(exp, run.Trigger)); err != nil {
		return 0, err
	}
	if err := t.EndRun(ctx, tx, run.ID, training.StatusFinished, "", fit.log); err != nil {
		return 0, err
	}
	sig, err := json.Marshal(fit.signature)
	if err != nil {
		return 0, err
	}
	return a.drivers.Registry.RegisterVersion(ctx, tx, exp.Model, registry.VersionInput{
		RunID: run.ID, Metrics: fit.metrics, ArtifactPath: path, ArtifactSHA256: art.SHA256,
		Signature: sig, DatasetFingerprint: run.DatasetDigest, Commit: a.plan.Revision.Commit,
		Lineage: a.lineage(exp, run.SpecHash),
	})
}

// lineage is where the dataset came from: the label source, the feature
// views and their sources with the fingerprints this plan read.
func (a *applier) lineage(exp *schema.Experiment, specHash string) registry.Facts {
	spec := a.plan.spec
	f := registry.Facts{Experiment: exp.Addr.Name, SpecHash: specHash, Label: exp.Label.Source}
	fields := map[string][]string{}
	var views []string
	for _, ref := range exp.Features {
		view, field, _ := cutRef(ref)
		if _, ok := fields[view]; !ok {
			views = append(views, view)
		}
		fields[view] = append(fields[view], field)
	}
	srcs := map[string]bool{exp.Label.Source: true}
	for _, v := range views {
		src := ""
		if fv := spec.Features[v]; fv != nil {
			src = fv.Source
			srcs[src] = true
		}
		f.FeatureViews = append(f.FeatureViews, registry.ViewFact{Name: v, Source: src, Fields: fields[v]})
	}
	planned := map[string]string{}
	for _, c := range a.plan.Changes {
		if c.Addr.Kind == schema.KindSource {
			planned[c.Addr.Name] = c.Outputs["fingerprint"]
		}
	}
	names := make([]string, 0, len(srcs))
	for n := range srcs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		src := spec.Sources[n]
		if src == nil {
			continue
		}
		fp, ok := planned[n]
		if !ok {
			// Outside apply (sluice train) there is no plan: read the file.
			fp, _ = fingerprint(a.plan.fsys, src.Path)
		}
		f.Sources = append(f.Sources, registry.SourceFact{Name: n, Path: src.Path, Fingerprint: fp})
	}
	return f
}

func cutRef(ref string) (view, field string, ok bool) {
	for i := 0; i < len(ref); i++ {
		if ref[i] == ':' {
			return ref[:i], ref[i+1:], true
		}
	}
	return ref, "", false
}

// TagTrigger is the run tag saying what started a run: apply, manual
// (sluice train) or drift.
const TagTrigger = "sluice.trigger"

// runTags are the experiment's tags and sluice.trigger.
func runTags(exp *schema.Experiment, trigger string) map[string]string {
	tags := maps.Clone(exp.Tags)
	if tags == nil {
		tags = map[string]string{}
	}
	if trigger == "" {
		trigger = "apply"
	}
	tags[TagTrigger] = trigger
	return tags
}

// failedRun is a training run that failed after it started. Its step's
// transaction rolls back, run record and all; keepFailedRun then records
// it again, FAILED, with its error and log, so `sluice runs` shows it.
type failedRun struct {
	start training.RunStart
	name  string
	exp   *schema.Experiment
	err   error
}

func (e *failedRun) Error() string { return e.err.Error() }
func (e *failedRun) Unwrap() error { return e.err }

// keepFailedRun records the failed run in err, if it holds one, in tx:
// status FAILED (KILLED when apply was interrupted), the error, the
// trainer's log, the params as written and the tags.
func (a *applier) keepFailedRun(ctx context.Context, tx *sql.Tx, err error) error {
	var fr *failedRun
	if !errors.As(err, &fr) || a.drivers.Tracker == nil {
		return nil
	}
	t := a.drivers.Tracker
	start := fr.start
	start.Name = fr.name
	run, serr := t.StartRun(ctx, tx, start)
	if serr != nil {
		return serr
	}
	if err := t.LogParams(ctx, tx, run.ID, paramStrings(fr.exp.Trainer.Params)); err != nil {
		return err
	}
	if err := t.SetTags(ctx, tx, run.ID, runTags(fr.exp, start.Trigger)); err != nil {
		return err
	}
	status := training.StatusFailed
	if errors.Is(err, context.Canceled) {
		status = training.StatusKilled
	}
	return t.EndRun(ctx, tx, run.ID, status, fr.err.Error(), logOf(err))
}
