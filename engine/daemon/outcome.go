package daemon

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"sluice/engine"
	"sluice/engine/planjson"
	"sluice/engine/source"
	"sluice/runtime/store"
)

// failure is why the last pass of a target did not apply it.
type failure struct {
	target  target
	Commit  string
	Ref     string
	Reason  string
	Message string
	Errors  []string
	At      time.Time
	// stalled failures need a person (a new commit); they are not retried.
	stalled bool
	// applied failures were recorded by apply itself, as a revision that
	// became current with failed steps, or an apply that errored.
	applied bool
}

func (f *failure) text() string {
	if len(f.Errors) == 0 {
		return f.Message
	}
	return f.Message + ":\n  " + strings.Join(f.Errors, "\n  ")
}

// fail records a failed pass: a revision that failed before apply is
// recorded as failed, with an event per error (once per commit and
// message, however often it is retried), and a retry is scheduled with
// backoff unless the failure needs a person. The last good revision
// stays current.
func (d *Daemon) fail(ctx context.Context, t target, rev *source.Revision, f failure) error {
	ctx = context.WithoutCancel(ctx)
	f.target, f.At = t, time.Now()
	if rev != nil {
		f.Commit, f.Ref = rev.Commit, rev.Ref
	}
	d.mu.Lock()
	prev := d.st.failure
	same := prev != nil && prev.Commit == f.Commit && prev.Reason == f.Reason && prev.text() == f.text()
	d.st.failures++
	n := d.st.failures
	d.st.failure = &f
	d.st.nextRetry = time.Time{}
	if !f.stalled {
		d.st.nextRetry = f.At.Add(backoff(n, d.cfg.RetryMin, d.cfg.RetryMax))
	}
	next := d.st.nextRetry
	d.mu.Unlock()

	if !same {
		if err := d.record(ctx, rev, &f); err != nil {
			d.log.Error("record failure", keyErr, err)
		}
		d.Notify(ctx, Notice{Type: NoticeFailed, Reason: f.Reason, Message: f.text(), Commit: f.Commit, Ref: f.Ref, At: f.At})
	}
	args := []any{keyCommit, short(f.Commit), keyWhy, f.Reason, keyErr, f.text()}
	if !f.stalled {
		args = append(args, keyRetry, time.Until(next).Round(time.Millisecond))
	}
	d.log.Warn("reconcile failed", args...)
	return fmt.Errorf("%s", f.text())
}

// record writes a failure to the state: a failed revision (unless apply
// already recorded one, or the newest recorded is this same failure, as
// after a restart) and its events.
func (d *Daemon) record(ctx context.Context, rev *source.Revision, f *failure) error {
	return d.cfg.DB.Tx(ctx, func(tx *sql.Tx) error {
		var revID int64
		if rev != nil && !f.applied {
			last, err := store.Revisions(ctx, tx, 1)
			if err != nil {
				return err
			}
			if len(last) == 1 && last[0].Commit == rev.ID() && last[0].Outcome == "failed" && last[0].Message == f.text() {
				return nil
			}
			if revID, err = store.BeginRevision(ctx, tx, rev.ID(), rev.Ref, rev.Path, f.At); err != nil {
				return err
			}
			if err := store.FinishRevision(ctx, tx, revID, "failed", f.text(), f.At); err != nil {
				return err
			}
		}
		msgs := f.Errors
		if len(msgs) == 0 || f.applied {
			msgs = []string{f.Message}
		}
		for _, m := range msgs {
			if f.Commit != "" {
				m = short(f.Commit) + ": " + m
			}
			if err := store.AddEvent(ctx, tx, store.Event{At: f.At, Type: "Warning", Reason: f.Reason, Message: m, RevisionID: revID}); err != nil {
				return err
			}
		}
		return nil
	})
}

// applied records a revision-level event for an apply that did work.
func (d *Daemon) applied(ctx context.Context, t target, rev *source.Revision, pj *planjson.Plan, res *engine.Result) {
	ctx = context.WithoutCancel(ctx)
	reason := ReasonRevisionApplied
	msg := fmt.Sprintf("applied %s (%s): %d step(s)", short(rev.Commit), rev.Ref, len(res.Steps))
	if t == targetCurrent {
		var addrs []string
		for _, c := range pj.ResourceChanges {
			if c.Action != planjson.ActionNoOp {
				addrs = append(addrs, c.Address)
			}
		}
		reason = ReasonDriftHealed
		msg = fmt.Sprintf("re-check of %s found work for %s; applied", short(rev.Commit), strings.Join(addrs, ", "))
	}
	d.mu.Lock()
	if f := d.st.failure; f != nil {
		msg += fmt.Sprintf(", after %d failed attempt(s)", d.st.failures)
	}
	d.mu.Unlock()
	err := d.cfg.DB.Tx(ctx, func(tx *sql.Tx) error {
		return store.AddEvent(ctx, tx, store.Event{At: time.Now(), Type: "Normal", Reason: reason, Message: msg, RevisionID: res.RevisionID})
	})
	if err != nil {
		d.log.Error("record event", keyErr, err)
	}
	d.Notify(ctx, Notice{Type: NoticeApplied, Reason: reason, Message: msg, Commit: rev.Commit, Ref: rev.Ref})
	d.log.Info("applied", keyCommit, short(rev.Commit), keyOutcome, res.Outcome, keyDetail, msg)
}

// succeed clears the failure a pass of t has fixed: a head pass fixes
// everything, a re-check only what an earlier re-check found.
func (d *Daemon) succeed(t target, commit string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if t == targetHead {
		d.st.seen = commit
	}
	if f := d.st.failure; f != nil && (t == targetHead || f.target == targetCurrent) {
		d.st.failure, d.st.failures, d.st.nextRetry = nil, 0, time.Time{}
	}
}

// backingOff says whether a pass of t should wait for the scheduled
// retry of a failure instead. commit is the head when known: a head that
// moved past a failed commit is reconciled at once, a failed one waits.
// Before the head is known (commit ""), only a source that could not be
// read waits.
func (d *Daemon) backingOff(t target, commit string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	f := d.st.failure
	if f == nil || f.target != t {
		return false
	}
	due := !time.Now().Before(d.st.nextRetry)
	switch {
	case t == targetCurrent:
		return f.stalled || !due
	case commit == "":
		return f.Reason == ReasonSourceUnavailable && !due
	}
	return f.Commit == commit && (f.stalled || !due)
}

// pendingErr says what a skipped pass waits for.
func (d *Daemon) pendingErr() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	f := d.st.failure
	if f == nil {
		return nil
	}
	if f.stalled {
		return fmt.Errorf("%s; waiting for a new commit", f.text())
	}
	return fmt.Errorf("%s; next retry at %s", f.text(), d.st.nextRetry.Format(time.TimeOnly))
}

// noteHead records the newest commit seen and a fetch that failed (the
// cached clone was read), with an event when that fetch error is new.
func (d *Daemon) noteHead(ctx context.Context, rev *source.Revision) {
	msg := ""
	if rev.FetchErr != nil {
		msg = rev.FetchErr.Error()
	}
	d.mu.Lock()
	d.st.head, d.st.headRef = rev.Commit, rev.Ref
	changed := msg != d.st.fetchErr
	d.st.fetchErr = msg
	d.mu.Unlock()
	if !changed || msg == "" {
		return
	}
	d.log.Warn("fetch failed; reading the cached clone", keyErr, msg)
	ctx = context.WithoutCancel(ctx)
	err := d.cfg.DB.Tx(ctx, func(tx *sql.Tx) error {
		return store.AddEvent(ctx, tx, store.Event{At: time.Now(), Type: "Warning", Reason: ReasonFetchFailed,
			Message: msg + "; read the cached clone at " + short(rev.Commit)})
	})
	if err != nil {
		d.log.Error("record event", keyErr, err)
	}
}

func currentCommit(ctx context.Context, q store.Querier) (string, error) {
	cur, err := store.CurrentRevision(ctx, q)
	if err != nil || cur == nil {
		return "", err
	}
	return cur.Commit, nil
}
