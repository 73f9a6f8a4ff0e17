package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"sluice/runtime/training"
	"sluice/schema"
)

// ReasonCommandTrainersDisabled: an experiment's trainer is a command and
// this process was not started with --allow-command-trainers, so a commit
// could not run code on the host; nothing was trained or recorded.
const ReasonCommandTrainersDisabled = "CommandTrainersDisabled"

// commandRefusal is what the plan and apply say of a command trainer this
// process may not run.
var commandRefusal = training.ErrCommandTrainersDisabled.Error()

// commandTrainer marks a planned train of a command trainer as refused
// when this process may not run command trainers, so the plan's reader
// (and --detailed-exitcode) knows before apply.
func (pl *planner) commandTrainer(c *Change, exp *schema.Experiment) {
	if exp.Trainer.Builtin == "" && !pl.allowCommands {
		c.Refused = commandRefusal
	}
}

// trained is a model before it is scored: its ONNX bytes, what its
// training reported, and for a built-in trainer the Go model to check the
// export against.
type trained struct {
	onnx    []byte
	result  *training.Result
	classes []int64
	// log is the command trainer's captured output; empty for built-ins.
	log string
}

// commandModel runs exp's command under the contract of
// training.RunCommand, in a scratch directory holding a copy of the
// revision's files: the program's working directory is the spec directory
// inside that copy, and SLUICE_REPO its root. The directory is removed
// afterwards; the log is returned, also on failure (as a *trainLog).
func (a *applier) commandModel(ctx context.Context, exp *schema.Experiment, tr, ho *training.Frame) (*trained, error) {
	if !a.drivers.AllowCommandTrainers {
		return nil, stepErrf(ReasonCommandTrainersDisabled, "%s", commandRefusal)
	}
	work, err := os.MkdirTemp("", "sluice-train-")
	if err != nil {
		return nil, fmt.Errorf("command trainer: %w", err)
	}
	defer os.RemoveAll(work)
	repo := filepath.Join(work, "repo")
	if err := materialize(a.plan.fsys, repo); err != nil {
		return nil, fmt.Errorf("command trainer: copy the revision's files: %w", err)
	}
	req := training.CommandRequest{
		Command: exp.Trainer.Command, Dir: filepath.Join(repo, filepath.FromSlash(specDir(a.plan.Revision.Path))),
		RepoDir: repo, WorkDir: filepath.Join(work, "run"), Params: exp.Trainer.Params, Task: exp.Task,
		Seed: exp.Split.Seed, Train: tr, Holdout: ho, Timeout: exp.Trainer.Timeout, AllowCommand: true,
	}
	res, runErr := training.RunCommand(ctx, req)
	log := ""
	if res != nil && res.LogPath != "" {
		log = readLog(res.LogPath)
	}
	if runErr != nil {
		return nil, &trainLog{err: runErr, log: log}
	}
	classes, err := commandClasses(exp.Task, tr)
	if err != nil {
		return nil, &trainLog{err: err, log: log}
	}
	return &trained{onnx: res.Model, classes: classes, log: log, result: &training.Result{
		Params: paramStrings(exp.Trainer.Params), Metrics: res.Metrics}}, nil
}

// trainLog is a training failure with the trainer's log, which the failed
// run keeps.
type trainLog struct {
	err error
	log string
}

func (e *trainLog) Error() string { return e.err.Error() }
func (e *trainLog) Unwrap() error { return e.err }

// logOf returns the trainer's log carried by err, if any.
func logOf(err error) string {
	var tl *trainLog
	if errors.As(err, &tl) {
		return tl.log
	}
	return ""
}

// commandClasses are a command classifier's labels in the order of its
// probability columns: sorted, as scikit-learn orders them.
func commandClasses(task string, tr *training.Frame) ([]int64, error) {
	if task != training.TaskClassification {
		return nil, nil
	}
	return training.ClassesOf(tr.Column(tr.Label))
}

// specDir is the plan's spec directory, "." for the repository's root.
func specDir(p string) string {
	if p == "" {
		return "."
	}
	return path.Clean(p)
}

// materialize writes the regular files of fsys under dir, keeping their
// execute bits; .git and symbolic links are left out (the loader already
// refused links that leave the repository, and a trainer reads files).
func materialize(fsys fs.FS, dir string) error {
	return fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		target := filepath.Join(dir, filepath.FromSlash(p))
		switch {
		case d.IsDir() && d.Name() == ".git" && p != ".":
			return fs.SkipDir
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case !d.Type().IsRegular():
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return copyFile(fsys, p, target, 0o644|info.Mode().Perm()&0o111)
	})
}

func copyFile(fsys fs.FS, name, target string, mode fs.FileMode) error {
	src, err := fsys.Open(name)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	_, err = io.Copy(dst, src)
	return errors.Join(err, dst.Close())
}

// readLog reads a trainer's log; the tracker keeps its end.
func readLog(p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return fmt.Sprintf("[sluice: could not read the trainer's log: %v]", err)
	}
	return string(b)
}

// paramStrings is how a command trainer's params are recorded: strings as
// they are, numbers in their shortest form, anything else as JSON.
func paramStrings(params map[string]any) map[string]string {
	out := make(map[string]string, len(params))
	for k, v := range params {
		switch v := v.(type) {
		case string:
			out[k] = v
		case int64:
			out[k] = strconv.FormatInt(v, 10)
		case float64:
			out[k] = strconv.FormatFloat(v, 'g', -1, 64)
		default:
			b, err := json.Marshal(v)
			if err != nil {
				b = []byte(fmt.Sprint(v))
			}
			out[k] = string(b)
		}
	}
	return out
}

// commandLine is a command as a plan shows it.
func commandLine(argv []string) string {
	parts := make([]string, len(argv))
	for i, a := range argv {
		if a == "" || strings.ContainsAny(a, " \t\"'") {
			a = strconv.Quote(a)
		}
		parts[i] = a
	}
	return strings.Join(parts, " ")
}
