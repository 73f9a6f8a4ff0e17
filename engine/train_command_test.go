package engine

import (
	"context"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"sluice/engine/planjson"
	"sluice/internal/ortlib"
	"sluice/runtime/store"
	"sluice/runtime/training"
)

// commandSpec is fraudSpec with lr trained by `sh train.sh`, the script
// sitting beside the specs in the revision.
func commandSpec(timeout string) string {
	return strings.Replace(fraudSpec, `trainer: {builtin: "logistic_regression", params: C: 1.0}`,
		`trainer: {command: ["sh", "train.sh"], params: {C: 1.0, solver: "lbfgs"}, timeout: "`+timeout+`"}`, 1)
}

// commandRepo is a repository whose experiment runs script, with model
// committed beside it as specs/model.onnx.
func commandRepo(script string, model []byte, timeout string) fstest.MapFS {
	fsys := fraudRepo(commandSpec(timeout))
	fsys["specs/train.sh"] = &fstest.MapFile{Data: []byte("set -e\n" + script)}
	fsys["specs/model.onnx"] = &fstest.MapFile{Data: model}
	return fsys
}

// builtinModelBytes trains fraudSpec's logistic regression in a state of
// its own and returns its model.onnx: an ONNX model whose inputs are the
// experiment's features, as a command trainer should write.
func builtinModelBytes(t *testing.T) []byte {
	t.Helper()
	db := openState(t)
	d := newTrainingDrivers(t, db)
	applyWith(t, db, d.Drivers, fraudRepo(fraudSpec), "c0")
	v, err := d.registry.Version(context.Background(), db, "fraud", 1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(v.ArtifactPath)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func planAllowing(t *testing.T, db *store.DB, fsys fstest.MapFS, commit string, allow bool) *Plan {
	t.Helper()
	p, err := MakePlan(context.Background(), db, Input{Spec: loadSpec(t, fsys), FS: fsys, AllowCommandTrainers: allow,
		Revision: planjson.Revision{Commit: commit, Ref: "refs/heads/main", Path: "specs"}, StatePath: "state.db"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func applyAllowing(t *testing.T, db *store.DB, d Drivers, fsys fstest.MapFS, commit string) (*Plan, *Result) {
	t.Helper()
	d.AllowCommandTrainers = true
	p := planAllowing(t, db, fsys, commit, true)
	res, err := Apply(context.Background(), db, p, d, Options{Now: fixedClock})
	if err != nil {
		t.Fatal(err)
	}
	return p, res
}

func TestPlanRefusesACommandTrainerUnlessCommandTrainersAreAllowed(t *testing.T) {
	db := openState(t)
	fsys := commandRepo("exit 0\n", nil, "1m")
	c := changeOf(planAllowing(t, db, fsys, "c1", false), "experiments.lr")
	if c.Refused != commandRefusal || !strings.Contains(c.Refused, "--allow-command-trainers") {
		t.Fatalf("refused %q, want %q", c.Refused, commandRefusal)
	}
	if !strings.Contains(c.Detail, "command `sh train.sh`") {
		t.Errorf("detail %q does not show the command", c.Detail)
	}
	if c := changeOf(planAllowing(t, db, fsys, "c1", true), "experiments.lr"); c.Refused != "" {
		t.Fatalf("refused %q with command trainers allowed", c.Refused)
	}
}

func TestApplyRunsNoCommandTrainerUnlessAllowed(t *testing.T) {
	ctx := context.Background()
	db := openState(t)
	d := newTrainingDrivers(t, db)
	marker := t.TempDir() + "/ran"
	_, res := applyWith(t, db, d.Drivers, commandRepo("touch "+marker+"\n", nil, "1m"), "c1")
	s := stepOf(t, res, "experiments.lr")
	if s.Status != store.Failed || s.Reason != ReasonCommandTrainersDisabled || !strings.Contains(s.Message, "--allow-command-trainers") {
		t.Fatalf("step %+v, want Failed/CommandTrainersDisabled naming the flag", s)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the command ran")
	}
	if runs, err := d.tracker.SearchRuns(ctx, db, training.Search{}); err != nil || len(runs) != 0 {
		t.Fatalf("%d runs (%v) recorded for a refused trainer, want none", len(runs), err)
	}
}

func TestApplyTrainsWithACommandOnTheRevisionsFilesAndAMinimalEnvironment(t *testing.T) {
	ortlib.Need(t)
	t.Setenv("SLUICE_TOKEN", "hunter2")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "hunter3")
	ctx := context.Background()
	db := openState(t)
	d := newTrainingDrivers(t, db)
	script := `echo "cwd=$(basename "$PWD") repo_has_data=$(test -f "$SLUICE_REPO/data/users.csv" && echo yes)"
echo "env: $(env | cut -d= -f1 | grep -v '^_$' | sort | tr '\n' ' ')"
cp model.onnx "$SLUICE_OUTPUT/model.onnx"
printf '{"train_seconds": 2}' > "$SLUICE_OUTPUT/metrics.json"
`
	_, res := applyAllowing(t, db, d.Drivers, commandRepo(script, builtinModelBytes(t), "1m"), "c1")
	s := stepOf(t, res, "experiments.lr")
	if s.Status != store.Ready || !strings.Contains(s.Message, "registered fraud v1") {
		t.Fatalf("step %+v, want Ready and fraud v1 registered", s)
	}
	v, err := d.registry.Version(ctx, db, "fraud", 1)
	if err != nil {
		t.Fatal(err)
	}
	run, err := d.tracker.GetRun(ctx, db, v.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := run.Metrics["roc_auc"]; !ok || run.Metrics["train_seconds"] != 2 || run.Params["solver"] != "lbfgs" {
		t.Fatalf("metrics %v params %v: want Sluice's holdout metrics, the trainer's own, and the params", run.Metrics, run.Params)
	}
	log, err := d.tracker.RunLog(ctx, db, v.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log, "cwd=specs repo_has_data=yes") {
		t.Fatalf("log %q: the trainer did not run in the revision's spec directory", log)
	}
	if strings.Contains(log, "SLUICE_TOKEN") || strings.Contains(log, "AWS_") {
		t.Fatalf("log %q: the trainer saw sluice's environment", log)
	}
	env := log[strings.Index(log, "env: ")+5:]
	for _, name := range strings.Fields(env) {
		if !strings.Contains(" HOME LANG PATH PWD SHLVL TMPDIR TZ ", " "+name+" ") && !strings.HasPrefix(name, "SLUICE_") {
			t.Errorf("the trainer saw %s, which the contract does not pass", name)
		}
	}
}

func TestACommandTrainerThatFailsFailsItsRunWithTheLogAndChangesNothingElse(t *testing.T) {
	ortlib.Need(t)
	notONNX := []byte("this is not an onnx model\n")
	otherInputs, err := os.ReadFile("../runtime/training/testdata/models/logistic.onnx")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, script, timeout string
		model                 []byte
		want                  []string
	}{
		{"exits 1", "echo preparing\necho 'boom: no GPU' >&2\nexit 1\n", "1m", nil,
			[]string{"exit status 1", "last 2 log lines", "boom: no GPU"}},
		{"times out", "echo waiting\nsleep 30\n", "300ms", nil,
			[]string{"timed out after 300ms", "waiting"}},
		{"writes a file that is not ONNX", "echo writing\ncp model.onnx \"$SLUICE_OUTPUT/model.onnx\"\n", "1m", notONNX,
			[]string{"not an ONNX model", "writing"}},
		{"writes a model whose inputs do not match the dataset", "cp model.onnx \"$SLUICE_OUTPUT/model.onnx\"\n", "1m", otherInputs,
			[]string{"segment"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			db := openState(t)
			d := newTrainingDrivers(t, db)
			_, res := applyAllowing(t, db, d.Drivers, commandRepo(tc.script, tc.model, tc.timeout), "c1")
			s := stepOf(t, res, "experiments.lr")
			if s.Status != store.Failed || s.Reason != ReasonTrainFailed {
				t.Fatalf("step %+v, want Failed/TrainFailed", s)
			}
			for _, w := range tc.want {
				if !strings.Contains(s.Message, w) {
					t.Errorf("message %q does not say %q", s.Message, w)
				}
			}
			if f := stepOf(t, res, "features.user_stats"); f.Status != store.Ready {
				t.Errorf("features.user_stats %s: a failed trainer changed another resource", f.Status)
			}
			if n, _ := d.registry.LastVersion(ctx, db, "fraud"); n != 0 {
				t.Errorf("a failed trainer registered version %d", n)
			}
			runs, err := d.tracker.SearchRuns(ctx, db, training.Search{Filter: "attributes.status = 'FAILED'"})
			if err != nil || len(runs) != 1 || runs[0].Error != s.Message {
				t.Fatalf("failed runs %+v (%v), want one with the step's error", runs, err)
			}
		})
	}
}
