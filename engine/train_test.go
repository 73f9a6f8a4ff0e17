package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"sluice/engine/planjson"
	"sluice/internal/ortlib"
	"sluice/runtime/features"
	"sluice/runtime/registry"
	"sluice/runtime/store"
	"sluice/runtime/training"
)

// trainingDrivers are every real runtime apply needs to train, with the
// artifacts in a temporary directory.
type trainingDrivers struct {
	Drivers
	tracker  *training.Tracker
	registry *registry.Registry
}

func newTrainingDrivers(t *testing.T, db *store.DB) trainingDrivers {
	t.Helper()
	ctx := context.Background()
	fs, err := features.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := training.NewTracker(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := registry.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	return trainingDrivers{Drivers: Drivers{Features: fs, History: fs, Tracker: tr, Registry: reg,
		ArtifactDir: t.TempDir()}, tracker: tr, registry: reg}
}

func applyWith(t *testing.T, db *store.DB, d Drivers, fsys fstest.MapFS, commit string) (*Plan, *Result) {
	t.Helper()
	p := planRevision(t, db, fsys, commit)
	res, err := Apply(context.Background(), db, p, d, Options{Now: fixedClock})
	if err != nil {
		t.Fatal(err)
	}
	return p, res
}

func stepOf(t *testing.T, res *Result, addr string) StepResult {
	t.Helper()
	for _, s := range res.Steps {
		if s.Addr.String() == addr {
			return s
		}
	}
	t.Fatalf("no step for %s in %+v", addr, res.Steps)
	return StepResult{}
}

func TestApplyTrainsEvaluatesRecordsAndRegistersAnExperiment(t *testing.T) {
	ortlib.Need(t)
	ctx := context.Background()
	db := openState(t)
	d := newTrainingDrivers(t, db)
	p, res := applyWith(t, db, d.Drivers, fraudRepo(fraudSpec), "c1")
	if c := changeOf(p, "experiments.lr"); c.Action != planjson.ActionCreate || len(c.Runtime) != 1 || c.Runtime[0] != planjson.ActionTrain {
		t.Fatalf("plan for experiments.lr: %s %v, want create with train", c.Action, c.Runtime)
	}
	s := stepOf(t, res, "experiments.lr")
	if s.Status != store.Ready || s.Reason != ReasonTrained || !strings.Contains(s.Message, "registered fraud v1") {
		t.Fatalf("step %+v, want Ready/Trained registering fraud v1", s)
	}
	vs, err := d.registry.Versions(ctx, db, "fraud")
	if err != nil || len(vs) != 1 {
		t.Fatalf("versions %v, %v; want one", vs, err)
	}
	v := vs[0]
	b, err := os.ReadFile(v.ArtifactPath)
	if err != nil {
		t.Fatalf("artifact: %v", err)
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != v.ArtifactSHA256 {
		t.Fatal("registered sha256 is not the artifact's")
	}
	if !strings.HasPrefix(v.ArtifactPath, d.ArtifactDir) || !strings.HasSuffix(v.ArtifactPath, "/fraud/"+v.RunID+"/model.onnx") {
		t.Fatalf("artifact at %s, want <artifacts>/fraud/<run>/model.onnx", v.ArtifactPath)
	}
	run, err := d.tracker.GetRun(ctx, db, v.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != training.StatusFinished || run.GitCommit != "c1" || run.DatasetDigest != v.DatasetFingerprint {
		t.Fatalf("run %+v, want FINISHED at c1 with the version's dataset fingerprint", run)
	}
	if _, ok := run.Metrics["roc_auc"]; !ok || run.Params["C"] == "" || len(run.Artifacts) != 1 {
		t.Fatalf("run metrics %v params %v artifacts %v: want holdout metrics, params and the model", run.Metrics, run.Params, run.Artifacts)
	}
	if v.Metrics["f1"] != run.Metrics["f1"] || len(v.Lineage.Sources) != 2 {
		t.Fatalf("version metrics %v lineage %+v, want the run's metrics and both sources", v.Metrics, v.Lineage)
	}
	// The model that was registered loads in ONNX Runtime and takes the raw features.
	sess, err := training.NewSession(b, training.SessionOptions{Task: training.TaskClassification})
	if err != nil {
		t.Fatal(err)
	}
	sess.Close()
}

func TestApplyNeverTrainsTheSameSpecOnTheSameDataTwice(t *testing.T) {
	ortlib.Need(t)
	ctx := context.Background()
	db := openState(t)
	d := newTrainingDrivers(t, db)
	fsys := fraudRepo(fraudSpec)
	applyWith(t, db, d.Drivers, fsys, "c1")
	if p := planRevision(t, db, fsys, "c1"); p.hasWork() {
		t.Fatalf("second plan of the same revision has work: %s", changeOf(p, "experiments.lr").Action)
	}
	// New feature data for a user no label row names: the view
	// rematerializes and the experiment is planned, but its dataset is
	// the same, so the run that exists is kept.
	fsys["data/users.csv"] = &fstest.MapFile{Data: append(fsys["data/users.csv"].Data, "zz,2026-11-01T00:00:00Z,1,a\n"...)}
	p, res := applyWith(t, db, d.Drivers, fsys, "c2")
	if c := changeOf(p, "experiments.lr"); len(c.Runtime) == 0 {
		t.Fatalf("experiment not planned after its source changed: %+v", c)
	}
	if s := stepOf(t, res, "experiments.lr"); s.Status != store.Ready || !strings.Contains(s.Message, "not trained again") {
		t.Fatalf("step %+v, want the existing run kept", s)
	}
	// A new description changes nothing the model depends on.
	spec := strings.Replace(fraudSpec, `model: "fraud"`, `model: "fraud"`+"\n\tdescription: \"baseline\"", 1)
	fsys["specs/main.cue"] = &fstest.MapFile{Data: []byte(spec)}
	applyWith(t, db, d.Drivers, fsys, "c3")
	if vs, err := d.registry.Versions(ctx, db, "fraud"); err != nil || len(vs) != 1 {
		t.Fatalf("%d versions (%v), want still 1", len(vs), err)
	}
}

// A failed run is kept, FAILED with its error, though its step rolls back:
// no version, no artifact, and the next plan trains again.
func TestApplyKeepsAFailedRunWithItsErrorAndRegistersNothing(t *testing.T) {
	ortlib.Need(t)
	ctx := context.Background()
	db := openState(t)
	d := newTrainingDrivers(t, db)
	fsys := fraudRepo(strings.Replace(fraudSpec, "C: 1.0", "C: -1.0", 1))
	_, res := applyWith(t, db, d.Drivers, fsys, "c1")
	s := stepOf(t, res, "experiments.lr")
	if s.Status != store.Failed || s.Reason != ReasonTrainFailed {
		t.Fatalf("step %+v, want Failed/TrainFailed", s)
	}
	if vs, _ := d.registry.Versions(ctx, db, "fraud"); len(vs) != 0 {
		t.Fatalf("a failed run registered %d versions", len(vs))
	}
	runs, err := d.tracker.SearchRuns(ctx, db, training.Search{Filter: "attributes.status = 'FAILED'"})
	if err != nil || len(runs) != 1 {
		t.Fatalf("failed runs %v (%v), want the one that failed", runs, err)
	}
	r := runs[0]
	if r.Error != s.Message || !strings.Contains(r.Error, "C") || r.GitCommit != "c1" || r.Params["C"] != "-1" || r.Tags[TagTrigger] != "apply" || r.End.IsZero() {
		t.Fatalf("failed run %+v, want the step's error, commit, params, trigger tag and an end", r)
	}
	if p := planRevision(t, db, fsys, "c1"); changeOf(p, "experiments.lr").Action == planjson.ActionNoOp {
		t.Fatal("a failed experiment is not planned again")
	}
}

func changeOf(p *Plan, addr string) *Change {
	for _, c := range p.Changes {
		if c.Addr.String() == addr {
			return c
		}
	}
	return &Change{}
}

func TestApplyFailsAnExperimentWhoseDataCannotTrainNamingWhy(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(fstest.MapFS)
		want []string
	}{
		{"label column missing", func(f fstest.MapFS) {
			f["specs/main.cue"].Data = []byte(strings.Replace(string(f["specs/main.cue"].Data), `column: "is_fraud"`, `column: "fraud"`, 1))
		}, []string{"data/labels.csv", "fraud"}},
		{"one class", func(f fstest.MapFS) {
			f["data/labels.csv"].Data = []byte(strings.ReplaceAll(string(f["data/labels.csv"].Data), "Z,1\n", "Z,0\n"))
		}, []string{"class"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := openState(t)
			d := newTrainingDrivers(t, db)
			fsys := fraudRepo(fraudSpec)
			tc.edit(fsys)
			_, res := applyWith(t, db, d.Drivers, fsys, "c1")
			s := stepOf(t, res, "experiments.lr")
			if s.Status != store.Failed || s.Reason != ReasonDataInvalid {
				t.Fatalf("step %+v, want Failed/DataInvalid", s)
			}
			for _, w := range tc.want {
				if !strings.Contains(s.Message, w) {
					t.Fatalf("message %q does not name %q", s.Message, w)
				}
			}
			if vs, _ := d.registry.Versions(context.Background(), db, "fraud"); len(vs) != 0 {
				t.Fatalf("%d versions registered from bad data", len(vs))
			}
		})
	}
}

// Experiments of one model register their versions in name order, whatever
// order they would finish in, so a revision numbers them the same way on
// every machine.
func TestExperimentsOfOneModelRegisterVersionsInNameOrder(t *testing.T) {
	ortlib.Need(t)
	for i := 0; i < 3; i++ {
		db := openState(t)
		d := newTrainingDrivers(t, db)
		// a-first is a forest, slower than lr's logistic regression.
		spec := fraudSpec + `experiments: "a-first": {
	model: "fraud"
	label: {source: "labels", column: "is_fraud", entities: ["user"]}
	features: ["user_stats:segment", "user_stats:score"]
	trainer: {builtin: "random_forest", params: n_estimators: 60}
	split: {holdout: 0.25, seed: 1}
}
`
		_, res := applyWith(t, db, d.Drivers, fraudRepo(spec), "c1")
		for _, s := range res.Steps {
			if s.Addr.Kind == "experiments" && s.Status != store.Ready {
				t.Fatalf("%s: %s %s", s.Addr, s.Status, s.Message)
			}
		}
		if !strings.Contains(stepOf(t, res, "experiments.a-first").Message, "registered fraud v1") {
			t.Fatalf("try %d: a-first did not register v1: %s", i, stepOf(t, res, "experiments.a-first").Message)
		}
	}
}

func TestAGateOnlyEditOfAnExperimentRetrainsNothingAndShowsTheNewVerdicts(t *testing.T) {
	ortlib.Need(t)
	ctx := context.Background()
	db := openState(t)
	d := newTrainingDrivers(t, db)
	gated := func(expr string) fstest.MapFS {
		return fraudRepo(strings.Replace(fraudSpec, "split: {holdout: 0.25, seed: 1}", "split: {holdout: 0.25, seed: 1}\n\tgates: roc_auc: \""+expr+"\"", 1))
	}
	applyWith(t, db, d.Drivers, gated(">= 0.5"), "c1")
	p, res := applyWith(t, db, d.Drivers, gated(">= 1.01"), "c2")
	c := changeOf(p, "experiments.lr")
	if c.Action != planjson.ActionUpdate || c.Effect != planjson.EffectMetadataOnly || len(c.Runtime) != 0 {
		t.Fatalf("plan %s [%s] %v, want a metadata-only update", c.Action, c.Effect, c.Runtime)
	}
	if !strings.Contains(c.Detail, "not retrained") || !strings.Contains(c.Detail, "fraud v1 against them: roc_auc") || !strings.Contains(c.Detail, "✗") {
		t.Fatalf("detail %q, want v1 judged by the new gate", c.Detail)
	}
	if s := stepOf(t, res, "experiments.lr"); s.Status != store.Ready {
		t.Fatalf("step %+v", s)
	}
	if n, _ := d.registry.LastVersion(ctx, db, "fraud"); n != 1 {
		t.Fatalf("last version %d after a gate-only edit, want 1", n)
	}
}
