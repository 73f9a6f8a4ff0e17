package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"sluice/engine/planjson"
	"sluice/runtime/store"
	"sluice/schema"
)

// StepResult is the outcome of one change.
type StepResult struct {
	Addr     schema.Addr
	Status   string // store.Ready, Failed or Held
	Reason   string
	Message  string
	Duration time.Duration
}

// run executes one change. Its runtime work, its record and its condition
// commit in one transaction; a failure rolls all of it back (the last good
// data stays) and is recorded in a transaction of its own.
func (a *applier) run(applyCtx context.Context, c *Change) {
	ctx := applyCtx
	if a.opts.StepContext != nil {
		var cancel context.CancelFunc
		ctx, cancel = a.opts.StepContext(applyCtx, c)
		defer cancel()
	}
	for _, h := range a.opts.Hooks {
		h.PreStep(c)
	}
	start := a.opts.Now()
	var r StepResult
	err := a.write(ctx, func(tx *sql.Tx) error {
		var err error
		r, err = a.execute(ctx, tx, c)
		if err != nil {
			return err
		}
		r.Duration = a.opts.Now().Sub(start)
		return a.recordIn(ctx, tx, c, r)
	})
	if err != nil {
		r = StepResult{Addr: c.Addr, Status: store.Failed, Reason: reasonOf(err), Message: err.Error(), Duration: a.opts.Now().Sub(start)}
		switch cause := context.Cause(ctx); {
		case applyCtx.Err() == nil && ctx.Err() != nil && cause != nil && !errors.Is(cause, context.Canceled):
			r.Reason, r.Message = ReasonCancelled, cause.Error()
		case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
			r.Reason, r.Message = ReasonInterrupted, "apply was interrupted; the next apply resumes here"
		}
		a.recordFailure(context.WithoutCancel(ctx), c, r, err)
	}
	a.setStatus(c, r)
	for _, h := range a.opts.Hooks {
		h.PostStep(c, r)
	}
}

// execute does a change's runtime work and records its spec.
func (a *applier) execute(ctx context.Context, tx *sql.Tx, c *Change) (StepResult, error) {
	r := StepResult{Addr: c.Addr, Status: store.Ready, Reason: ReasonApplied}
	if c.Action == planjson.ActionDelete {
		if err := a.remove(ctx, tx, c); err != nil {
			return r, err
		}
		r.Message = "removed: " + planjson.ReasonRemovedFromGit
		return r, store.DeleteResource(ctx, tx, string(c.Addr.Kind), c.Addr.Name)
	}
	// A metadata-only change keeps what the runtime reported last time;
	// facts found by this plan (a fingerprint) are newer either way.
	outputs := map[string]string{}
	if c.Recorded != nil && c.Effect == planjson.EffectMetadataOnly {
		for k, v := range c.Recorded.Outputs {
			outputs[k] = v
		}
	}
	for k, v := range c.Outputs {
		outputs[k] = v
	}
	switch res := c.Resource.(type) {
	case *schema.Experiment:
		if c.Recorded != nil {
			for k, v := range c.Recorded.Outputs {
				outputs[k] = v
			}
		}
		if len(c.Runtime) > 0 && !a.drivers.canTrain() {
			r.Status, r.Reason = store.Held, ReasonNotExecuted
			r.Message = "validated and recorded; no trainer is configured in this process"
		} else if len(c.Runtime) > 0 {
			msg, out, err := a.train(ctx, tx, res)
			if err != nil {
				return r, err
			}
			r.Reason, r.Message = ReasonTrained, msg
			for k, v := range out {
				outputs[k] = v
			}
		}
	case *schema.Model:
		if len(c.Runtime) > 0 && a.drivers.Registry == nil {
			r.Status, r.Reason = store.Held, ReasonNotExecuted
			r.Message = "validated and recorded; no model registry is configured in this process"
		} else if len(c.Runtime) > 0 {
			msg, err := a.promoteStep(ctx, tx, res)
			if err != nil {
				return r, err
			}
			r.Reason, r.Message = ReasonPromoted, msg
		}
	case *schema.Endpoint:
		if c.Effect != planjson.EffectMetadataOnly {
			var err error
			if r, err = a.serve(ctx, tx, res, r, outputs); err != nil {
				return r, err
			}
		}
	case *schema.FeatureView:
		if len(c.Runtime) > 0 {
			msg, out, err := a.materialize(ctx, tx, c, res)
			if err != nil {
				return r, err
			}
			r.Reason, r.Message = ReasonMaterialized, msg
			for k, v := range out {
				outputs[k] = v
			}
		}
	default:
		if !executed(c.Addr.Kind) {
			r.Status, r.Reason = store.Held, ReasonNotExecuted
			r.Message = fmt.Sprintf("validated and recorded; this build of sluice does not execute %s yet", c.Addr.Kind)
		}
	}
	m := c.Resource.Metadata()
	err := store.PutResource(ctx, tx, store.Resource{
		Kind: string(c.Addr.Kind), Name: c.Addr.Name, Spec: m.Spec, Hash: m.Hash,
		Classes: m.Classes, Outputs: outputs, RevisionID: a.revision, AppliedAt: a.opts.Now(),
	})
	return r, err
}

// record writes a condition and event outside a step's transaction, for
// steps that failed or were held.
func (a *applier) record(ctx context.Context, c *Change, r StepResult) {
	err := a.write(ctx, func(tx *sql.Tx) error { return a.recordIn(ctx, tx, c, r) })
	if err != nil {
		for _, h := range a.opts.Hooks {
			h.Warn(fmt.Errorf("record outcome of %s: %w", c.Addr, err))
		}
	}
}

// recordFailure records a failed step's outcome and, in the same
// transaction, the training run it started, which the step's rollback took
// with it: failed runs are kept, with their error and log.
func (a *applier) recordFailure(ctx context.Context, c *Change, r StepResult, failure error) {
	err := a.write(ctx, func(tx *sql.Tx) error {
		if err := a.keepFailedRun(ctx, tx, failure); err != nil {
			return err
		}
		return a.recordIn(ctx, tx, c, r)
	})
	if err != nil {
		for _, h := range a.opts.Hooks {
			h.Warn(fmt.Errorf("record the failed run of %s: %w", c.Addr, err))
		}
		a.record(ctx, c, r)
	}
}

func (a *applier) recordIn(ctx context.Context, tx *sql.Tx, c *Change, r StepResult) error {
	now := a.opts.Now()
	if c.Action != planjson.ActionDelete {
		if err := store.SetCondition(ctx, tx, store.Condition{
			Kind: string(c.Addr.Kind), Name: c.Addr.Name, Status: r.Status, Reason: r.Reason,
			Message: r.Message, Since: now, RevisionID: a.revision,
		}); err != nil {
			return err
		}
	}
	typ := "Normal"
	if r.Status == store.Failed || (r.Status == store.Held && r.Reason != ReasonNotExecuted) {
		typ = "Warning"
	}
	msg := c.Action
	if r.Message != "" {
		msg += ": " + r.Message
	}
	return store.AddEvent(ctx, tx, store.Event{
		At: now, Kind: string(c.Addr.Kind), Name: c.Addr.Name, Type: typ, Reason: r.Reason,
		Message: msg, RevisionID: a.revision,
	})
}
