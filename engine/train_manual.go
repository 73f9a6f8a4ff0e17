package engine

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"

	"sluice/engine/planjson"
	"sluice/runtime/store"
	"sluice/schema"
)

// Triggers of a run started outside apply, recorded as its sluice.trigger tag.
const (
	TriggerManual = "manual"
	TriggerDrift  = "drift"
)

// TrainRequest asks Train for one run of an experiment outside the git flow.
type TrainRequest struct {
	// Spec and FS are the revision the experiment is read from (its label
	// source too), as MakePlan takes them; Revision is recorded with the run.
	Spec     *schema.Spec
	FS       fs.FS
	Revision planjson.Revision
	// Experiment is the name of the experiment to train.
	Experiment string
	// Trigger is TriggerManual (sluice train) or TriggerDrift; empty means
	// TriggerManual.
	Trigger string
}

// TrainResult is what Train recorded.
type TrainResult struct {
	RunID, RunName string
	// Model and Version name the version the run registered.
	Model   string
	Version int
	// Message says it in a line: the run, its holdout metrics, the version
	// and its gate verdicts.
	Message string
}

// Train trains req.Experiment now, on the spec of req's revision and the
// feature store's newest data, whether or not a run exists for them, and
// registers a version of its model. It moves no alias: promotion stays a
// change in git. The run is tagged sluice.trigger with req.Trigger, and an
// event is added to the experiment. A failed run is kept, FAILED with its
// error and log, and its error returned; nothing else changes. d needs
// History, Tracker and Registry (and AllowCommandTrainers for a command
// trainer); the caller holds the state's write lock, as apply does.
func Train(ctx context.Context, db *store.DB, d Drivers, req TrainRequest) (*TrainResult, error) {
	exp := req.Spec.Experiments[req.Experiment]
	if exp == nil {
		return nil, fmt.Errorf("train: no experiment %q in revision %s (experiments: %s)", req.Experiment, req.Revision.Commit, experimentNames(req.Spec))
	}
	if !d.canTrain() {
		return nil, fmt.Errorf("train %s: the feature store, run tracker and model registry are all needed", req.Experiment)
	}
	if req.Trigger == "" {
		req.Trigger = TriggerManual
	}
	a := &applier{db: db, drivers: d, opts: Options{Now: time.Now},
		plan: &Plan{Revision: req.Revision, State: planjson.State{Path: db.Path}, spec: req.Spec, fsys: req.FS}}
	c := &Change{Addr: exp.Addr, Action: planjson.ActionTrain, Resource: exp}
	var res *TrainResult
	err := a.write(ctx, func(tx *sql.Tx) error {
		msg, out, err := a.trainRun(ctx, tx, exp, req.Trigger)
		if err != nil {
			return err
		}
		res = &TrainResult{RunID: out["run_id"], RunName: out["run_name"], Model: exp.Model, Message: msg}
		fmt.Sscan(out["version"], &res.Version)
		return a.event(ctx, tx, c, "Normal", ReasonTrained, req.Trigger+" run: "+msg+"; no alias moved")
	})
	if err != nil {
		werr := a.write(context.WithoutCancel(ctx), func(tx *sql.Tx) error {
			if err := a.keepFailedRun(ctx, tx, err); err != nil {
				return err
			}
			return a.event(ctx, tx, c, "Warning", reasonOf(err), req.Trigger+" run failed: "+err.Error())
		})
		if werr != nil {
			return nil, fmt.Errorf("train %s: %w (and recording the failed run: %v)", req.Experiment, err, werr)
		}
		return nil, fmt.Errorf("train %s: %w", req.Experiment, err)
	}
	return res, nil
}

// event adds an event to c's resource outside any apply.
func (a *applier) event(ctx context.Context, tx *sql.Tx, c *Change, typ, reason, msg string) error {
	return store.AddEvent(ctx, tx, store.Event{At: a.opts.Now(), Kind: string(c.Addr.Kind), Name: c.Addr.Name,
		Type: typ, Reason: reason, Message: msg})
}

func experimentNames(spec *schema.Spec) string {
	names := make([]string, 0, len(spec.Experiments))
	for n := range spec.Experiments {
		names = append(names, n)
	}
	if len(names) == 0 {
		return "none"
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
