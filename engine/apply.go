package engine

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"sluice/engine/planjson"
	"sluice/runtime/store"
	"sluice/schema"
)

// Options tune Apply.
type Options struct {
	// Parallelism bounds how many independent steps run at once; 0 means 4.
	Parallelism int
	// Hooks are told about every step, for progress output and events.
	Hooks []Hook
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// StepContext, when set, gives each step a context of its own derived
	// from the apply's, so a caller can cancel one step (a training run a
	// newer revision made moot) and let the others go on. A step whose
	// context is cancelled with a cause records ReasonCancelled and it.
	StepContext func(ctx context.Context, c *Change) (context.Context, context.CancelFunc)
}

// Result is how an apply ended.
type Result struct {
	RevisionID int64
	// Outcome is applied (every step succeeded), partial (some failed or
	// were held) or unchanged (nothing to do).
	Outcome string
	Steps   []StepResult
}

// Failed counts the steps that failed or were held back by a failure.
func (r *Result) Failed() int {
	n := 0
	for _, s := range r.Steps {
		if s.Status == store.Failed || (s.Status == store.Held && s.Reason != ReasonNotExecuted) {
			n++
		}
	}
	return n
}

// Apply executes a plan: each change is one step in its own transaction
// that also records the step's outcome, so a crash at any point leaves the
// state at a step boundary and the next plan resumes from there. Steps run
// over the dependency graph; a failed step holds its dependents and lets
// everything else go on.
func Apply(ctx context.Context, db *store.DB, p *Plan, d Drivers, opts Options) (*Result, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Parallelism <= 0 {
		opts.Parallelism = 4
	}
	a := &applier{db: db, plan: p, drivers: d, opts: opts, done: map[schema.Addr]chan struct{}{}, results: map[schema.Addr]StepResult{}}
	res := &Result{Outcome: "unchanged"}
	if !p.hasWork() && p.State.CurrentCommit == p.Revision.Commit {
		return res, nil
	}
	if err := a.begin(ctx); err != nil {
		return nil, err
	}
	res.RevisionID = a.revision
	a.walk(ctx)
	for _, c := range p.Changes {
		if s, ok := a.results[c.Addr]; ok {
			res.Steps = append(res.Steps, s)
		}
	}
	res.Outcome = "applied"
	if res.Failed() > 0 {
		res.Outcome = "partial"
	}
	if ctx.Err() != nil {
		res.Outcome = "interrupted"
	}
	if err := a.finish(context.WithoutCancel(ctx), res); err != nil {
		return res, err
	}
	return res, ctx.Err()
}

func (p *Plan) hasWork() bool {
	for _, c := range p.Changes {
		if c.Action != planjson.ActionNoOp {
			return true
		}
	}
	return false
}

type applier struct {
	db       *store.DB
	plan     *Plan
	drivers  Drivers
	opts     Options
	revision int64

	// writeMu keeps this process to one write transaction at a time, so
	// concurrent steps queue here rather than on SQLite's busy timeout.
	writeMu sync.Mutex
	mu      sync.Mutex
	done    map[schema.Addr]chan struct{}
	results map[schema.Addr]StepResult
}

// begin records the revision and marks any apply a crash left unfinished.
func (a *applier) begin(ctx context.Context) error {
	return a.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE revisions SET outcome = 'interrupted', finished_at = ? WHERE outcome = 'applying'`,
			a.opts.Now().UTC().Format(time.RFC3339Nano)); err != nil {
			return err
		}
		r := a.plan.Revision
		id, err := store.BeginRevision(ctx, tx, r.Commit, r.Ref, r.Path, a.opts.Now())
		a.revision = id
		return err
	})
}

func (a *applier) finish(ctx context.Context, res *Result) error {
	return a.write(ctx, func(tx *sql.Tx) error {
		msg := ""
		if n := res.Failed(); n > 0 {
			msg = fmt.Sprintf("%d of %d steps failed or held", n, len(res.Steps))
		}
		return store.FinishRevision(ctx, tx, a.revision, res.Outcome, msg, a.opts.Now())
	})
}

// write runs fn in a write transaction that also moves the state serial.
func (a *applier) write(ctx context.Context, fn func(*sql.Tx) error) error {
	a.writeMu.Lock()
	defer a.writeMu.Unlock()
	return a.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return store.BumpSerial(ctx, tx)
	})
}

// walk runs every change once its dependencies are done, deletes last.
func (a *applier) walk(ctx context.Context) {
	var work, deletes []*Change
	for _, c := range a.plan.Changes {
		switch c.Action {
		case planjson.ActionNoOp:
		case planjson.ActionDelete:
			deletes = append(deletes, c)
		default:
			work = append(work, c)
			a.done[c.Addr] = make(chan struct{})
		}
	}
	sem := make(chan struct{}, a.opts.Parallelism)
	var wg sync.WaitGroup
	for _, c := range work {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(a.done[c.Addr])
			if blocked := a.waitDeps(ctx, c); blocked != "" {
				a.hold(ctx, c, blocked)
				return
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			a.run(ctx, c)
		}()
	}
	wg.Wait()
	for _, c := range deletes {
		if ctx.Err() != nil {
			return
		}
		a.run(ctx, c)
	}
}

// waitDeps waits for the changes c depends on and names one that did not
// succeed, if any.
func (a *applier) waitDeps(ctx context.Context, c *Change) string {
	for _, dep := range c.Resource.DependsOn() {
		ch, ok := a.done[dep]
		if !ok {
			continue
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return dep.String()
		}
		a.mu.Lock()
		r := a.results[dep]
		a.mu.Unlock()
		if r.Status != store.Ready && r.Reason != ReasonNotExecuted && !orderOnly(c.Addr, dep) {
			return dep.String()
		}
	}
	return ""
}

// orderOnly says whether a dependency only orders two steps: experiments of
// one model train one after another so their versions are numbered the same
// way every time, but neither needs the other to succeed, and one retraining
// does not retrain the other.
func orderOnly(a, dep schema.Addr) bool {
	return a.Kind == schema.KindExperiment && dep.Kind == schema.KindExperiment
}

func (a *applier) setStatus(c *Change, r StepResult) {
	a.mu.Lock()
	a.results[c.Addr] = r
	a.mu.Unlock()
}

// hold records that c was not applied because a dependency did not succeed.
func (a *applier) hold(ctx context.Context, c *Change, dep string) {
	r := StepResult{Addr: c.Addr, Status: store.Held, Reason: ReasonDependencyFailed,
		Message: fmt.Sprintf("waiting for %s, which did not apply", dep)}
	a.setStatus(c, r)
	if ctx.Err() != nil {
		return
	}
	a.record(context.WithoutCancel(ctx), c, r)
	for _, h := range a.opts.Hooks {
		h.PostStep(c, r)
	}
}
