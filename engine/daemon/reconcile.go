package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"sluice/engine"
	"sluice/engine/planjson"
	"sluice/engine/source"
	"sluice/schema"
)

// pass reconciles t once and records how it went in the status. force
// skips the checks that spare work: an unchanged head, a failure still
// backing off. It returns nil when the target is applied (or already was).
func (d *Daemon) pass(ctx context.Context, t target, force bool) error {
	d.mu.Lock()
	d.st.passes++
	d.mu.Unlock()
	defer d.setPhase(phaseIdle, "")
	var err error
	if t == targetCurrent {
		err = d.recheck(ctx)
	} else {
		err = d.reconcileHead(ctx, force)
	}
	d.mu.Lock()
	d.st.firstPassDone = true
	d.mu.Unlock()
	return err
}

// reconcileHead resolves the branch (fetching a remote) and reconciles
// its newest commit, so a burst of commits is one reconcile of the last.
func (d *Daemon) reconcileHead(ctx context.Context, force bool) error {
	if !force && d.backingOff(targetHead, "") {
		return d.pendingErr()
	}
	d.setPhase(phaseFetching, "")
	opts := source.Options{Repo: d.cfg.Repo, Rev: d.cfg.Branch, Path: d.cfg.Path, CacheDir: d.cfg.CacheDir, CacheFallback: true,
		FetchTimeout: d.cfg.FetchTimeout}
	if d.cfg.VerifyKeyring != "" {
		// The revision in force was verified (or accepted before
		// verification was turned on): strict mode checks what is new since.
		since, _ := currentCommit(ctx, d.cfg.DB)
		opts.Verify = &source.Verify{Keyring: d.cfg.VerifyKeyring, Mode: d.cfg.VerifyMode, Since: since}
	}
	rev, err := source.Open(ctx, opts)
	var unverified *source.UnverifiedError
	switch {
	case err != nil && ctx.Err() != nil:
		return ctx.Err()
	case errors.As(err, &unverified):
		return d.refuseUnverified(ctx, unverified, err, force)
	case err != nil:
		return d.fail(ctx, targetHead, nil, failure{Reason: ReasonSourceUnavailable, Message: err.Error()})
	}
	d.noteHead(ctx, rev)
	if !force {
		if d.backingOff(targetHead, rev.Commit) {
			return d.pendingErr()
		}
		d.mu.Lock()
		seen := d.st.seen == rev.Commit
		d.mu.Unlock()
		if seen {
			return nil
		}
	}
	return d.reconcile(ctx, targetHead, rev)
}

// refuseUnverified records a head whose signature does not verify: a
// failed revision, status and events say which commit and why, and it
// waits for a new commit; the revision in force stays.
func (d *Daemon) refuseUnverified(ctx context.Context, ue *source.UnverifiedError, err error, force bool) error {
	d.mu.Lock()
	d.st.head, d.st.headRef = ue.Head, ue.Ref
	d.mu.Unlock()
	if !force && d.backingOff(targetHead, ue.Head) {
		return d.pendingErr()
	}
	rev := &source.Revision{Repo: d.cfg.Repo, Commit: ue.Head, Ref: ue.Ref, Path: d.cfg.Path}
	return d.fail(ctx, targetHead, rev, failure{Reason: ReasonUnverifiedCommit, Message: err.Error(), stalled: true})
}

// recheck plans the current revision again and applies what the plan
// finds: state that drifted from it, steps that failed. Before anything
// was applied it reconciles the head instead.
func (d *Daemon) recheck(ctx context.Context) error {
	if d.backingOff(targetCurrent, "") {
		return d.pendingErr()
	}
	cur, err := currentCommit(ctx, d.cfg.DB)
	if err != nil || cur == "" {
		return d.reconcileHead(ctx, false)
	}
	if d.backingOff(targetHead, cur) {
		// The current revision is the head that failed: its retry is due
		// later, and a re-check now would only be that retry early.
		return d.pendingErr()
	}
	rev, err := source.Open(ctx, source.Options{Repo: d.cfg.Repo, Rev: cur, Path: d.cfg.Path,
		CacheDir: d.cfg.CacheDir, Offline: d.remote})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return d.fail(ctx, targetCurrent, nil, failure{Reason: ReasonSourceUnavailable, Message: err.Error()})
	}
	return d.reconcile(ctx, targetCurrent, rev)
}

// reconcile loads, plans and applies one revision. The first error stops
// it; a revision that fails before apply changes nothing.
func (d *Daemon) reconcile(ctx context.Context, t target, rev *source.Revision) error {
	d.setPhase(phasePlanning, "")
	d.mu.Lock()
	d.st.lastPlanned = time.Now()
	d.mu.Unlock()
	spec, err := schema.Load(schema.LoadOptions{FS: rev.FS, Dir: rev.Path, DataRoots: d.cfg.DataRoots})
	if err != nil {
		var b bytes.Buffer
		schema.Print(&b, err, "")
		return d.fail(ctx, t, rev, failure{Reason: ReasonSpecInvalid, Errors: lines(b.String()), stalled: true,
			Message: fmt.Sprintf("specs at %s are invalid", short(rev.Commit))})
	}
	// Notices go to the notifications of the revision in force; until one
	// is, to those of the first whose specs load.
	if t == targetCurrent || d.notify.targets.Load() == nil {
		d.notify.setTargets(spec)
	}
	p, err := engine.MakePlan(ctx, d.cfg.DB, engine.Input{Spec: spec, FS: rev.FS, Revision: revisionOf(rev), StatePath: d.cfg.DB.Path, Serving: d.cfg.Drivers.Serving, AllowCommandTrainers: d.cfg.Drivers.AllowCommandTrainers})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return d.fail(ctx, t, rev, failure{Reason: ReasonPlanFailed, Message: err.Error()})
	}
	pj := p.JSON()
	if f, bad := planFailure(pj); bad {
		return d.fail(ctx, t, rev, f)
	}
	if t == targetCurrent && !pj.HasChanges() {
		d.succeed(t, rev.Commit)
		return nil
	}
	d.setPhase(phaseApplying, "")
	hooks := append([]engine.Hook{progress{d, rev}}, d.cfg.Hooks...)
	d.mu.Lock()
	if d.st.superseded != nil && d.st.superseded.Commit != rev.Commit {
		d.st.superseded = nil
	}
	d.mu.Unlock()
	// The branch is still watched while training runs: a newer commit
	// cancels the experiments that say on_new_revision: "cancel".
	watched := make(chan struct{})
	go d.watchNewer(rev, watched)
	res, err := engine.Apply(d.applyCtx, d.cfg.DB, p, d.cfg.Drivers, engine.Options{Parallelism: d.cfg.Parallelism, Hooks: hooks,
		StepContext: d.stepContext})
	close(watched)
	d.flushSuperseded(ctx)
	if err == nil {
		d.notify.setTargets(spec) // the revision is in force, applied or partial
		d.mu.Lock()
		d.st.viewEvery = shortestEvery(spec)
		d.mu.Unlock()
	}
	switch {
	case err != nil && d.applyCtx.Err() != nil:
		d.log.Warn("apply interrupted; the next start resumes it", keyCommit, rev.Commit)
		return err
	case err != nil:
		return d.fail(ctx, t, rev, failure{Reason: ReasonApplyError, Message: err.Error(), applied: true})
	case res.Outcome == "partial":
		return d.fail(ctx, t, rev, failure{Reason: ReasonApplyIncomplete, applied: true, Errors: stepErrors(res),
			Message: fmt.Sprintf("%s applied with %d of %d steps failed or held", short(rev.Commit), res.Failed(), len(res.Steps))})
	case res.Outcome == "applied":
		d.applied(ctx, t, rev, pj, res)
	}
	d.succeed(t, rev.Commit)
	return nil
}

// planFailure turns a plan apply would not run into a failure.
func planFailure(pj *planjson.Plan) (failure, bool) {
	var errs []string
	for _, dg := range pj.Diagnostics {
		if dg.Severity == "error" {
			errs = append(errs, diagnosticLine(dg))
		}
	}
	if len(errs) > 0 {
		return failure{Reason: ReasonPlanFailed, Errors: errs,
			Message: fmt.Sprintf("plan of %s failed with %d error(s)", short(pj.Revision.Commit), len(errs))}, true
	}
	for _, c := range pj.ResourceChanges {
		if c.Refused != "" {
			errs = append(errs, c.Address+": "+c.Refused)
		}
	}
	if len(errs) > 0 {
		return failure{Reason: ReasonChangeRefused, Errors: errs, stalled: true,
			Message: fmt.Sprintf("plan of %s holds %d refused change(s)", short(pj.Revision.Commit), len(errs))}, true
	}
	return failure{}, false
}

func diagnosticLine(dg planjson.Diagnostic) string {
	switch {
	case dg.File != "":
		return fmt.Sprintf("%s:%d:%d: %s", dg.File, dg.Line, dg.Column, dg.Summary)
	case dg.Address != "":
		return dg.Address + ": " + dg.Summary
	}
	return dg.Summary
}

func stepErrors(res *engine.Result) []string {
	var out []string
	for _, s := range res.Steps {
		if s.Status != "Ready" && s.Reason != engine.ReasonNotExecuted {
			out = append(out, fmt.Sprintf("%s: %s (%s): %s", s.Addr, s.Status, s.Reason, s.Message))
		}
	}
	return out
}

func revisionOf(rev *source.Revision) planjson.Revision {
	return planjson.Revision{Repo: rev.Repo, Commit: rev.ID(), Ref: rev.Ref, Path: rev.Path, Dirty: rev.Dirty}
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}

// shortestEvery is the shortest `every` of spec's feature views; 0 when
// it has none.
func shortestEvery(spec *schema.Spec) time.Duration {
	var every time.Duration
	for _, v := range spec.Features {
		if v.Every > 0 && (every == 0 || v.Every < every) {
			every = v.Every
		}
	}
	return every
}
