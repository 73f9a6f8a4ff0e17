package training

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The command trainer contract. Sluice runs the experiment's command with
// its working directory set to CommandRequest.Dir and an environment of
// only these variables (nothing of Sluice's own environment is passed on
// but PATH):
//
//	SLUICE_TRAIN        path of the training rows, CSV with a header
//	SLUICE_HOLDOUT      path of the holdout rows, the same columns
//	SLUICE_PARAMS       path of the experiment's params, a JSON object
//	SLUICE_OUTPUT       a directory, empty, for the program's outputs
//	SLUICE_LABEL        the label column's name
//	SLUICE_FEATURES     the feature columns' names, comma-separated, in order
//	SLUICE_TIME_COLUMN  the event-time column's name (RFC 3339), if any
//	SLUICE_TASK         "classification" or "regression"
//	SLUICE_SEED         the experiment's seed
//	SLUICE_REPO         the root of a copy of the revision's files, if given
//	HOME, TMPDIR        fresh directories inside the work directory
//	PATH, LANG, TZ      Sluice's PATH, C.UTF-8 and UTC
//
// The program writes $SLUICE_OUTPUT/model.onnx, whose inputs take the
// feature columns by name (see Session), and may write
// $SLUICE_OUTPUT/metrics.json, an object of metric names to numbers, which
// is recorded beside the metrics Sluice computes itself on the holdout.
// Its standard output and error go to the run's log. A non-zero exit, or
// running past the timeout, fails the run with the log's last lines.
const (
	CommandModelFile   = "model.onnx"
	CommandMetricsFile = "metrics.json"
	CommandLogFile     = "train.log"
)

// ErrCommandTrainersDisabled is the refusal of a command trainer when
// Sluice was not started with --allow-command-trainers: a commit must not
// be able to run code on the host by default.
var ErrCommandTrainersDisabled = errors.New("command trainers are disabled: start sluice with --allow-command-trainers to run them")

// CommandRequest asks RunCommand to train with an external program.
type CommandRequest struct {
	// Command is the program and its arguments. A program named without a
	// slash is looked up in PATH; with one, relative to Dir.
	Command []string
	// Dir is the program's working directory, typically the spec
	// directory in a copy of the revision's files; empty means WorkDir.
	Dir string
	// RepoDir, when set, is that copy's root, passed as SLUICE_REPO.
	RepoDir string
	// WorkDir receives the contract's files and the log; it is created if
	// missing and should be the run's own directory.
	WorkDir string
	Params  map[string]any
	Task    string
	Seed    int64
	Train   *Frame
	Holdout *Frame
	// Timeout stops the program, and every process it started, after this
	// long; 0 means no limit beyond ctx.
	Timeout time.Duration
	// AllowCommand must be true (the CLI's --allow-command-trainers) or
	// RunCommand refuses with ErrCommandTrainersDisabled.
	AllowCommand bool
	// MaxLogBytes caps the log; output past it is dropped and counted.
	// 0 means 64 MiB.
	MaxLogBytes int64
}

// CommandResult is what a command trainer produced.
type CommandResult struct {
	// Model is the bytes of the model.onnx the program wrote, at ModelPath.
	Model     []byte
	ModelPath string
	// Metrics are the program's own metrics.json, if it wrote one.
	Metrics map[string]float64
	// LogPath is the captured standard output and error.
	LogPath  string
	Duration time.Duration
}

// logTailLines is how many of the log's last lines a failure shows.
const logTailLines = 20

// RunCommand trains with req.Command under the command trainer contract.
func RunCommand(ctx context.Context, req CommandRequest) (*CommandResult, error) {
	if !req.AllowCommand {
		return nil, ErrCommandTrainersDisabled
	}
	if len(req.Command) == 0 || req.Command[0] == "" {
		return nil, errors.New("command trainer: no command")
	}
	if req.Train == nil || req.Holdout == nil {
		return nil, errors.New("command trainer: training and holdout frames are both needed")
	}
	c, err := prepare(req)
	if err != nil {
		return nil, fmt.Errorf("command trainer: %w", err)
	}
	start := time.Now()
	runErr := c.run(ctx, req)
	res := &CommandResult{LogPath: c.log, Duration: time.Since(start)}
	if runErr != nil {
		return res, fmt.Errorf("command trainer %s %w%s", req.Command[0], runErr, logTail(c.log, logTailLines))
	}
	if err := c.collect(res); err != nil {
		return res, fmt.Errorf("command trainer %s: %w%s", req.Command[0], err, logTail(c.log, logTailLines))
	}
	return res, nil
}

// commandFiles are the paths of one run's contract.
type commandFiles struct {
	dir, train, holdout, params, output, log, home, tmp string
	timeColumn                                          string
}

// prepare writes the contract's inputs into req.WorkDir.
func prepare(req CommandRequest) (*commandFiles, error) {
	dir, err := filepath.Abs(req.WorkDir)
	if err != nil {
		return nil, err
	}
	c := &commandFiles{
		dir: dir, train: filepath.Join(dir, "train.csv"), holdout: filepath.Join(dir, "holdout.csv"),
		params: filepath.Join(dir, "params.json"), output: filepath.Join(dir, "output"),
		log: filepath.Join(dir, CommandLogFile), home: filepath.Join(dir, "home"), tmp: filepath.Join(dir, "tmp"),
	}
	for _, d := range []string{c.output, c.home, c.tmp} {
		if err := os.RemoveAll(d); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	if req.Train.Time != nil {
		c.timeColumn = timeColumnName(req.Train)
	}
	if err := writeCSV(c.train, req.Train, c.timeColumn); err != nil {
		return nil, fmt.Errorf("write training rows: %w", err)
	}
	if err := writeCSV(c.holdout, req.Holdout, c.timeColumn); err != nil {
		return nil, fmt.Errorf("write holdout rows: %w", err)
	}
	params := req.Params
	if params == nil {
		params = map[string]any{}
	}
	data, err := json.MarshalIndent(params, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("write params: %w", err)
	}
	if err := os.WriteFile(c.params, append(data, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("write params: %w", err)
	}
	return c, nil
}

// env is the program's whole environment.
func (c *commandFiles) env(req CommandRequest) []string {
	var features []string
	for _, col := range req.Train.Features() {
		features = append(features, col.Name)
	}
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + c.home,
		"TMPDIR=" + c.tmp,
		"LANG=C.UTF-8",
		"TZ=UTC",
		"SLUICE_TRAIN=" + c.train,
		"SLUICE_HOLDOUT=" + c.holdout,
		"SLUICE_PARAMS=" + c.params,
		"SLUICE_OUTPUT=" + c.output,
		"SLUICE_LABEL=" + req.Train.Label,
		"SLUICE_FEATURES=" + strings.Join(features, ","),
		"SLUICE_TASK=" + req.Task,
		"SLUICE_SEED=" + strconv.FormatInt(req.Seed, 10),
	}
	if c.timeColumn != "" {
		env = append(env, "SLUICE_TIME_COLUMN="+c.timeColumn)
	}
	if req.RepoDir != "" {
		env = append(env, "SLUICE_REPO="+req.RepoDir)
	}
	return env
}

// run runs the program to completion, its output into the log.
func (c *commandFiles) run(ctx context.Context, req CommandRequest) error {
	if req.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, req.Timeout)
		defer cancel()
	}
	limit := req.MaxLogBytes
	if limit <= 0 {
		limit = 64 << 20
	}
	log, err := newCappedLog(c.log, limit)
	if err != nil {
		return fmt.Errorf("could not open its log: %w", err)
	}
	defer log.Close()
	cmd := exec.CommandContext(ctx, req.Command[0], req.Command[1:]...)
	cmd.Dir = req.Dir
	if cmd.Dir == "" {
		cmd.Dir = c.dir
	}
	cmd.Env = c.env(req)
	cmd.Stdout, cmd.Stderr = log, log
	isolate(cmd)
	err = cmd.Run()
	log.Close()
	switch {
	case err == nil:
		return nil
	case req.Timeout > 0 && errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("timed out after %s", req.Timeout)
	case ctx.Err() != nil:
		return fmt.Errorf("stopped: %w", ctx.Err())
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return fmt.Errorf("failed: %s", exit.ProcessState)
	}
	return fmt.Errorf("could not start: %w", err)
}
