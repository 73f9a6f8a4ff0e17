package daemon

import (
	"context"
	"math/rand/v2"
	"time"
)

// target is what a pass reconciles.
type target int

const (
	// targetHead is the branch's newest commit.
	targetHead target = iota
	// targetCurrent is the revision last applied, planned again for drift.
	targetCurrent
)

func (t target) String() string {
	if t == targetCurrent {
		return "recheck"
	}
	return "head"
}

// loop runs one pass at a time until ctx is done: at once, then on every
// poke (watcher, poll, webhook), sync, due retry and re-check. A pass in
// progress when ctx ends finishes its apply first (see Close).
func (d *Daemon) loop(ctx context.Context) {
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	defer retry.Stop()
	// The re-check comes an interval after the last pass that planned,
	// which has just compared the state with a revision.
	recheck := time.NewTimer(time.Hour)
	recheck.Stop()
	defer recheck.Stop()
	d.pass(ctx, targetHead, false)
	for {
		d.armRetry(retry)
		d.armRecheck(recheck)
		select {
		case <-ctx.Done():
			return
		case <-d.lease.Lost():
			// Another writer decided this daemon was gone and took the
			// state; writing on would make two writers.
			d.log.Error("the state lock was taken over by another writer; reconciling stops")
			d.mu.Lock()
			d.st.lockLost = true
			d.mu.Unlock()
			return
		case <-d.kick:
			d.mu.Lock()
			force := d.st.force
			d.st.force = false
			d.mu.Unlock()
			d.pass(ctx, targetHead, force)
		case r := <-d.syncs:
			r.reply <- d.pass(ctx, r.t, true)
		case <-retry.C:
			d.mu.Lock()
			t := targetHead
			if d.st.failure != nil {
				t = d.st.failure.target
			}
			d.mu.Unlock()
			d.pass(ctx, t, true)
		case <-recheck.C:
			d.pass(ctx, targetCurrent, false)
		}
	}
}

// armRetry points the retry timer at the next retry, or stops it when no
// failure waits for one (none, or one that needs a person).
func (d *Daemon) armRetry(t *time.Timer) {
	d.mu.Lock()
	f, next := d.st.failure, d.st.nextRetry
	d.mu.Unlock()
	t.Stop()
	if f != nil && !f.stalled {
		t.Reset(max(time.Until(next), 0))
	}
}

// armRecheck points the re-check timer an interval after the last pass
// that planned (a pass that found nothing new does not delay it): the
// --recheck interval, or a feature view's shorter `every`, so that its
// incremental materialization runs on the view's schedule. An interval of
// 0 leaves it stopped.
func (d *Daemon) armRecheck(t *time.Timer) {
	t.Stop()
	if d.cfg.Recheck <= 0 {
		return
	}
	d.mu.Lock()
	interval := d.cfg.Recheck
	if e := d.st.viewEvery; e > 0 && e < interval {
		interval = e
	}
	d.st.nextRecheck = d.st.lastPlanned.Add(interval)
	next := d.st.nextRecheck
	d.mu.Unlock()
	t.Reset(max(time.Until(next), 0))
}

// poll pokes the loop every cfg.Poll, give or take a tenth, so that many
// daemons polling one server spread out.
func (d *Daemon) poll(ctx context.Context) {
	t := time.NewTimer(jitter(d.cfg.Poll, 0.1))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			d.poke()
			t.Reset(jitter(d.cfg.Poll, 0.1))
		}
	}
}

// backoff is how long to wait before retry n (from 1): min doubling up to
// max, with a fifth of jitter either way, never outside [min, max].
func backoff(n int, lo, hi time.Duration) time.Duration {
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	d = min(jitter(min(d, hi), 0.2), hi)
	return max(d, lo)
}

// jitter spreads d uniformly over d·(1±frac).
func jitter(d time.Duration, frac float64) time.Duration {
	return time.Duration(float64(d) * (1 - frac + 2*frac*rand.Float64()))
}
