package engine

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"sluice/runtime/registry"
	"sluice/runtime/training"
	"sluice/schema"
)

const (
	// ReasonTrained: an experiment's run finished and its model version is
	// registered (or a finished run already existed for its spec and data).
	ReasonTrained = "Trained"
	// ReasonTrainFailed: building the dataset, training, exporting or
	// evaluating the model failed.
	ReasonTrainFailed = "TrainFailed"
)

// parityTolerance is how far the ONNX model's outputs may be from the Go
// model's on the holdout before the export is called wrong.
const parityTolerance = 1e-5

// trainingHash keys a run by what decides the model: the fields that are
// not metadata (description, owner, tags) and not gates, which judge the
// model but do not change it. Editing them never retrains.
func trainingHash(exp *schema.Experiment) string {
	b, _ := json.Marshal(struct {
		Model    string         `json:"model"`
		Task     string         `json:"task"`
		Label    schema.Label   `json:"label"`
		Features []string       `json:"features"`
		Trainer  schema.Trainer `json:"trainer"`
		Split    schema.Split   `json:"split"`
	}{exp.Model, exp.Task, exp.Label, exp.Features, exp.Trainer, exp.Split})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// trainDetail is what the plan says a train step will do.
func trainDetail(exp *schema.Experiment) string {
	var ps []string
	for k, v := range exp.Trainer.Params {
		ps = append(ps, fmt.Sprintf("%s=%v", k, v))
	}
	sort.Strings(ps)
	what := exp.Trainer.Builtin
	if what == "" {
		what = "command `" + commandLine(exp.Trainer.Command) + "`"
	}
	if len(ps) > 0 {
		what += " (" + strings.Join(ps, ", ") + ")"
	}
	return "train " + what + " → model " + exp.Model + ", unless a run exists for this spec and data"
}

// train runs an experiment for apply: dataset, split, trainer, ONNX
// export, evaluation in ONNX Runtime, run record and model version, all in
// tx; nothing when a finished run exists for its spec and dataset.
func (a *applier) train(ctx context.Context, tx *sql.Tx, exp *schema.Experiment) (string, map[string]string, error) {
	return a.trainRun(ctx, tx, exp, "")
}

// trainRun is train started by trigger: "" for apply, which trains only
// when no finished run has the same spec and dataset, or "manual" and
// "drift", which always train. The run is tagged sluice.trigger. A failure
// after the run started returns a *failedRun, which the caller records
// once tx has rolled back.
func (a *applier) trainRun(ctx context.Context, tx *sql.Tx, exp *schema.Experiment, trigger string) (string, map[string]string, error) {
	d := a.drivers
	if exp.Trainer.Builtin == "" && !d.AllowCommandTrainers {
		return "", nil, stepErrf(ReasonCommandTrainersDisabled, "%s", commandRefusal)
	}
	ds, err := buildDataset(ctx, d.History, a.plan.fsys, a.plan.spec, exp)
	if err != nil {
		return "", nil, stepErr(ReasonDataInvalid, err)
	}
	if err := ds.Frame.Check(exp.Task); err != nil {
		return "", nil, stepErr(ReasonDataInvalid, fmt.Errorf("dataset: %w", err))
	}
	key, digest := trainingHash(exp), training.Fingerprint(ds.Frame)
	out := map[string]string{"spec_hash": key, "dataset_fingerprint": digest}
	if trigger == "" {
		if run, err := d.Tracker.FindRun(ctx, tx, key, digest); err != nil {
			return "", nil, err
		} else if run != nil {
			out["run_id"] = run.ID
			return fmt.Sprintf("run %s already trained this spec on this dataset; not trained again", run.Name), out, nil
		}
	}
	start := training.RunStart{Experiment: exp.Addr.Name, Trigger: trigger, SpecHash: key, DatasetDigest: digest,
		Spec: exp.Spec, GitCommit: a.plan.Revision.Commit, Start: a.opts.Now()}
	run, err := d.Tracker.StartRun(ctx, tx, start)
	if err != nil {
		return "", nil, err
	}
	failed := func(err error) error {
		return stepErr(ReasonTrainFailed, &failedRun{start: start, name: run.Name, exp: exp, err: err})
	}
	out["run_id"], out["run_name"] = run.ID, run.Name
	fit, err := a.fit(ctx, exp, ds)
	if err != nil {
		return "", nil, failed(err)
	}
	path, err := writeArtifact(a.artifactDir(), exp.Model, run.ID, fit.onnx)
	if err != nil {
		return "", nil, failed(err)
	}
	version, err := a.recordRun(ctx, tx, exp, run, ds, fit, path)
	if err != nil {
		return "", nil, failed(err)
	}
	if err := a.storeReference(ctx, tx, exp, version, fit); err != nil {
		return "", nil, stepErr(ReasonTrainFailed, err)
	}
	out["version"] = fmt.Sprint(version)
	out["artifact"] = path
	return fmt.Sprintf("run %s: %s; registered %s v%d%s", run.Name, metricLine(fit.metrics), exp.Model, version, gateLine(fit.verdicts)), out, nil
}

// canTrain says whether the drivers an experiment needs are configured;
// without them experiments are recorded only, as by a build that did not
// train.
func (d Drivers) canTrain() bool {
	return d.History != nil && d.Tracker != nil && d.Registry != nil
}

// fitted is a trained, exported and evaluated model.
type fitted struct {
	result         *training.Result
	onnx           []byte
	signature      training.Signature
	metrics        map[string]float64
	verdicts       []registry.Verdict
	train, holdout *training.Frame
	// trainPredictions are a command trainer's outputs on train, scored in
	// ONNX Runtime (a built-in's Go model predicts them itself).
	trainPredictions *training.Predictions
	// log is a command trainer's output, kept with its run.
	log string
}

// fit splits, trains, and scores the holdout in ONNX Runtime, the runtime
// that will serve the model, whichever trainer made it: a built-in's
// export is first checked for parity with the Go model.
func (a *applier) fit(ctx context.Context, exp *schema.Experiment, ds *dataset) (*fitted, error) {
	tr, ho, err := training.Split(ds.Frame, exp.Split)
	if err != nil {
		return nil, fmt.Errorf("split: %w", err)
	}
	var m *trained
	if exp.Trainer.Builtin != "" {
		m, err = builtinModel(ctx, exp, tr)
	} else {
		m, err = a.commandModel(ctx, exp, tr, ho)
	}
	if err != nil {
		return nil, err
	}
	fail := func(err error) error { return &trainLog{err: err, log: m.log} }
	sess, err := training.NewSession(m.onnx, training.SessionOptions{Task: exp.Task, Classes: m.classes})
	if err != nil {
		return nil, fail(fmt.Errorf("load the model in onnx runtime (apply finds the library through SLUICE_ORT_LIB or the cache `make ort` fills): %w", err))
	}
	defer sess.Close()
	if m.result.Model != nil {
		if err := training.Parity(ctx, m.result.Model, sess, ho, parityTolerance); err != nil {
			return nil, fmt.Errorf("exported model differs from the trained one: %w", err)
		}
	}
	metrics, err := training.Evaluate(ctx, sess, ho, exp.Task)
	if err != nil {
		return nil, fail(fmt.Errorf("evaluate on the holdout: %w", err))
	}
	gates, err := registry.GatesFor(exp, a.plan.spec.Models[exp.Model])
	if err != nil {
		return nil, err
	}
	f := &fitted{result: m.result, onnx: m.onnx, signature: sess.Signature, metrics: metrics, log: m.log,
		verdicts: registry.Evaluate(gates, metrics, nil), train: tr, holdout: ho}
	// A command trainer's model exists only as ONNX: its outputs on the
	// training rows, the drift policy's prediction reference, come from the
	// session while it is open.
	if m.result.Model == nil && a.drivers.Drift != nil {
		if f.trainPredictions, err = sess.Predict(ctx, tr); err != nil {
			return nil, fail(fmt.Errorf("predict the training rows for the drift reference: %w", err))
		}
	}
	return f, nil
}

// builtinModel trains a built-in trainer and exports its model to ONNX.
func builtinModel(ctx context.Context, exp *schema.Experiment, tr *training.Frame) (*trained, error) {
	res, err := training.Train(ctx, training.TrainRequest{Builtin: exp.Trainer.Builtin, Task: exp.Task,
		Params: exp.Trainer.Params, Seed: exp.Split.Seed, Train: tr})
	if err != nil {
		return nil, fmt.Errorf("train %s: %w", exp.Trainer.Builtin, err)
	}
	b, err := exportBytes(res.Model)
	if err != nil {
		return nil, err
	}
	return &trained{onnx: b, result: res, classes: classesOf(res.Model)}, nil
}

func classesOf(m training.Predictor) []int64 {
	switch m := m.(type) {
	case *training.Linear:
		return m.Classes
	case *training.MLP:
		return m.Classes
	case *training.Forest:
		return m.Classes
	}
	return nil
}

// artifactDir is where models are kept: the driver's, else "artifacts"
// beside the state file.
func (a *applier) artifactDir() string {
	if a.drivers.ArtifactDir != "" {
		return a.drivers.ArtifactDir
	}
	return filepath.Join(filepath.Dir(a.plan.State.Path), "artifacts")
}

// writeArtifact writes model.onnx durably: a temporary file, fsynced, then
// renamed into place and the directory fsynced, so a crash leaves either
// no file or the whole model.
func writeArtifact(root, model, runID string, b []byte) (string, error) {
	dir := filepath.Join(root, model, runID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("write artifact: %w", err)
	}
	path := filepath.Join(dir, training.CommandModelFile)
	f, err := os.CreateTemp(dir, ".model-*.onnx")
	if err != nil {
		return "", fmt.Errorf("write artifact: %w", err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("write artifact %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return path, nil
}

func metricLine(m map[string]float64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %.4f", k, m[k])
	}
	return strings.Join(parts, ", ")
}

func gateLine(vs []registry.Verdict) string {
	if len(vs) == 0 {
		return ""
	}
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = v.String()
	}
	return "; gates: " + strings.Join(parts, ", ")
}
