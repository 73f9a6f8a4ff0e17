package training

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// script writes an executable shell script into a fresh directory and
// returns its path.
func script(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "train.sh")
	if err := os.WriteFile(path, []byte("#!/bin/sh\nset -e\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// commandRequest is a request for the given script over a small frame.
func commandRequest(t *testing.T, path string) CommandRequest {
	f := numbered(10)
	train, hold, err := splitForTest(f)
	if err != nil {
		t.Fatal(err)
	}
	return CommandRequest{
		Command: []string{path}, WorkDir: t.TempDir(), Task: TaskClassification, Seed: 42,
		Train: train, Holdout: hold, Timeout: time.Minute, AllowCommand: true,
		Params: map[string]any{"model": filepath.Join(mustAbs(t, "testdata/models"), "logistic.onnx"), "depth": int64(3)},
	}
}

func splitForTest(f *Frame) (*Frame, *Frame, error) {
	return f.Take([]int{0, 1, 2, 3, 4, 5, 6, 7}), f.Take([]int{8, 9}), nil
}

func mustAbs(t *testing.T, p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestCommandTrainerIsRefusedUnlessAllowed(t *testing.T) {
	req := commandRequest(t, script(t, "touch \"$SLUICE_OUTPUT/ran\"\n"))
	req.AllowCommand = false
	_, err := RunCommand(context.Background(), req)
	if !errors.Is(err, ErrCommandTrainersDisabled) || !strings.Contains(err.Error(), "--allow-command-trainers") {
		t.Fatalf("error %v, want the refusal naming the flag", err)
	}
	if entries, _ := os.ReadDir(req.WorkDir); len(entries) != 0 {
		t.Errorf("a refused command left %d files in its work directory", len(entries))
	}
}

func TestCommandTrainerFollowsTheContract(t *testing.T) {
	needORT(t)
	path := script(t, `
cd "$SLUICE_OUTPUT"
echo "task=$SLUICE_TASK label=$SLUICE_LABEL features=$SLUICE_FEATURES seed=$SLUICE_SEED time=$SLUICE_TIME_COLUMN"
head -2 "$SLUICE_TRAIN"
wc -l < "$SLUICE_HOLDOUT"
echo "oops" >&2
model=$(sed -n 's/.*"model": "\(.*\)".*/\1/p' "$SLUICE_PARAMS")
cp "$model" model.onnx
printf '{"f1": 0.75, "train_seconds": 12}' > metrics.json
`)
	req := commandRequest(t, path)
	res, err := RunCommand(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile("testdata/models/logistic.onnx")
	if string(res.Model) != string(want) || res.ModelPath != filepath.Join(req.WorkDir, "output", "model.onnx") {
		t.Errorf("model %d bytes at %s, want logistic.onnx's %d at output/model.onnx", len(res.Model), res.ModelPath, len(want))
	}
	if !reflect.DeepEqual(res.Metrics, map[string]float64{"f1": 0.75, "train_seconds": 12}) {
		t.Errorf("metrics %v", res.Metrics)
	}
	log, _ := os.ReadFile(res.LogPath)
	wantLog := "task=classification label=y features=x,s seed=42 time=event_time\n" +
		"x,s,y,event_time\n0,a,0,2024-01-01T10:00:00Z\n3\noops\n"
	if string(log) != wantLog {
		t.Errorf("log\n%s\nwant\n%s", log, wantLog)
	}
}

func TestCommandTrainerDoesNotInheritTheEnvironment(t *testing.T) {
	t.Setenv("AWS_SECRET_ACCESS_KEY", "hunter2")
	t.Setenv("SLUICE_TOKEN", "hunter3")
	req := commandRequest(t, script(t, "env | sort > \"$TMPDIR/../env.txt\"\nexit 1\n"))
	RunCommand(context.Background(), req)
	env, err := os.ReadFile(filepath.Join(req.WorkDir, "env.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, line := range strings.Split(strings.TrimSpace(string(env)), "\n") {
		name, value, _ := strings.Cut(line, "=")
		if strings.Contains(value, "hunter") {
			t.Errorf("the trainer saw a secret: %s", line)
		}
		if name == "HOME" && !strings.HasPrefix(value, req.WorkDir) {
			t.Errorf("HOME is %s, outside the work directory", value)
		}
		names = append(names, name)
	}
	allowed := "HOME LANG PATH PWD SHLVL SLUICE_FEATURES SLUICE_HOLDOUT SLUICE_LABEL SLUICE_OUTPUT SLUICE_PARAMS SLUICE_REPO SLUICE_SEED SLUICE_TASK SLUICE_TIME_COLUMN SLUICE_TRAIN TMPDIR TZ _"
	for _, n := range names {
		if !strings.Contains(" "+allowed+" ", " "+n+" ") {
			t.Errorf("the trainer saw %s, which the contract does not pass", n)
		}
	}
}

func TestCommandTrainerFailureShowsTheLastLogLines(t *testing.T) {
	req := commandRequest(t, script(t, "for i in $(seq 1 30); do echo \"line $i\"; done\nexit 3\n"))
	_, err := RunCommand(context.Background(), req)
	if err == nil {
		t.Fatal("a trainer that exits 3 succeeded")
	}
	msg := err.Error()
	if !strings.Contains(msg, "failed: exit status 3; last 20 log lines:\n    line 11\n") || !strings.HasSuffix(msg, "line 30") {
		t.Errorf("error %q", msg)
	}
	if strings.Contains(msg, "line 10\n") {
		t.Errorf("error shows more than the last 20 lines: %q", msg)
	}
}

func TestCommandTrainerTimesOutAndStopsItsChildren(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "survived")
	req := commandRequest(t, script(t, fmt.Sprintf("echo started\n(sleep 1; touch %s) &\nsleep 60\n", marker)))
	req.Timeout = 300 * time.Millisecond
	_, err := RunCommand(context.Background(), req)
	if err == nil || !strings.Contains(err.Error(), "timed out after 300ms; last 1 log lines:\n    started") {
		t.Fatalf("error %v", err)
	}
	time.Sleep(1500 * time.Millisecond)
	if _, err := os.Stat(marker); err == nil {
		t.Error("a child of the timed-out trainer kept running")
	}
}

func TestCommandTrainerOutputsAreChecked(t *testing.T) {
	needORT(t)
	for _, tc := range []struct {
		name, body, want string
	}{
		{"no model", "echo done\n", "exited 0 but wrote no model.onnx into $SLUICE_OUTPUT; last 1 log lines:\n    done"},
		{"not onnx", "echo 'not a model' > \"$SLUICE_OUTPUT/model.onnx\"\n", "wrote a model.onnx that is not an ONNX model ONNX Runtime can read"},
		{"metrics not numbers", "cp " + mustAbs(t, "testdata/models/linear.onnx") + " \"$SLUICE_OUTPUT/model.onnx\"\n" +
			"printf '{\"f1\": \"high\", \"auc\": 0.9, \"bad key!\": 1}' > \"$SLUICE_OUTPUT/metrics.json\"\n",
			"metrics.json: metric name \"bad key!\" holds '!'; names take letters, digits, _ - . / and spaces\n\"f1\" is \"high\", want a number"},
		{"metrics not json", "cp " + mustAbs(t, "testdata/models/linear.onnx") + " \"$SLUICE_OUTPUT/model.onnx\"\n" +
			"printf '{\\n  \"f1\": 0.9,\\n  \"auc\" 0.8\\n}' > \"$SLUICE_OUTPUT/metrics.json\"\n",
			"metrics.json: line 3 column 9: invalid character '0' after object key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := RunCommand(context.Background(), commandRequest(t, script(t, tc.body)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v\nwant one containing %q", err, tc.want)
			}
		})
	}
}

func TestCommandTrainerLogIsCapped(t *testing.T) {
	req := commandRequest(t, script(t, "head -c 5000 /dev/zero | tr '\\0' x\nexit 1\n"))
	req.MaxLogBytes = 1000
	res, _ := RunCommand(context.Background(), req)
	log, err := os.ReadFile(res.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(log), strings.Repeat("x", 1000)+"\n[sluice: log capped, 4000 more bytes dropped]") {
		t.Errorf("log of %d bytes: %.60q...", len(log), log)
	}
}
