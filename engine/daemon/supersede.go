package daemon

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"sluice/engine"
	"sluice/engine/planjson"
	"sluice/engine/source"
	"sluice/runtime/store"
	"sluice/schema"
)

// Experiments' on_new_revision policies.
const (
	onNewRevisionFinish = "finish"
	onNewRevisionCancel = "cancel"
)

// Event reasons of a training step a newer revision overtook.
const (
	// ReasonTrainingCancelled: a newer revision landed while the
	// experiment trained, and its on_new_revision is "cancel": the run was
	// stopped (recorded KILLED) and the newer revision is applied next.
	ReasonTrainingCancelled = "TrainingCancelled"
	// ReasonTrainingFinishing: a newer revision landed while the
	// experiment trained, and its on_new_revision is "finish": the run
	// goes on, and the newer revision is applied once this apply ends.
	ReasonTrainingFinishing = "TrainingFinishing"
)

// trainingStep is a training run in progress.
type trainingStep struct {
	policy string
	cancel context.CancelCauseFunc
	// decided is the newer commit the step was cancelled or let finish
	// for, so that each newer commit decides once.
	decided string
}

// Superseded says what the daemon did about steps in progress when a
// newer commit landed during an apply, as status shows it.
type Superseded struct {
	Commit    string   `json:"commit"`
	Cancelled []string `json:"cancelled,omitempty"`
	Finishing []string `json:"finishing,omitempty"`
}

// stepContext gives a training step a context the daemon can cancel when
// a newer revision lands, and remembers the experiment's policy.
func (d *Daemon) stepContext(ctx context.Context, c *engine.Change) (context.Context, context.CancelFunc) {
	exp, ok := c.Resource.(*schema.Experiment)
	if !ok || !slices.Contains(c.Runtime, planjson.ActionTrain) {
		return ctx, func() {}
	}
	sctx, cancel := context.WithCancelCause(ctx)
	addr := c.Addr.String()
	d.mu.Lock()
	d.st.training[addr] = &trainingStep{policy: exp.OnNewRevision, cancel: cancel}
	d.mu.Unlock()
	return sctx, func() {
		d.mu.Lock()
		delete(d.st.training, addr)
		d.mu.Unlock()
		cancel(nil)
	}
}

// watchNewer runs while rev is applied: on every poke (the watcher, a
// poll, a webhook) it resolves the branch, and when the head is newer
// than rev, it applies the training steps' policies. It returns when
// done is closed.
func (d *Daemon) watchNewer(rev *source.Revision, done <-chan struct{}) {
	for {
		select {
		case <-done:
			return
		case <-d.moved:
		}
		d.mu.Lock()
		busy := len(d.st.training) > 0
		d.mu.Unlock()
		if !busy {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		head, err := source.Open(ctx, source.Options{Repo: d.cfg.Repo, Rev: d.cfg.Branch, Path: d.cfg.Path,
			CacheDir: d.cfg.CacheDir, CacheFallback: true, FetchTimeout: d.cfg.FetchTimeout})
		cancel()
		if err != nil || head.Commit == rev.Commit {
			continue
		}
		d.supersede(rev, head)
	}
}

// supersede cancels the training steps that say so and lets the others
// finish, recording an event for each.
func (d *Daemon) supersede(rev, head *source.Revision) {
	now := time.Now()
	var events []store.Event
	d.mu.Lock()
	defer d.mu.Unlock()
	sp := d.st.superseded
	if sp == nil || sp.Commit != head.Commit {
		sp = &Superseded{Commit: head.Commit}
	}
	for addr, s := range d.st.training {
		if s.decided == head.Commit {
			continue
		}
		s.decided = head.Commit
		kind, name, _ := cutAddr(addr)
		e := store.Event{At: now, Kind: kind, Name: name}
		if s.policy == onNewRevisionCancel {
			why := fmt.Errorf("cancelled: %s landed while %s trained for %s (on_new_revision: cancel); the run is recorded KILLED and %s is applied next",
				short(head.Commit), addr, short(rev.Commit), short(head.Commit))
			s.cancel(why)
			sp.Cancelled = append(sp.Cancelled, addr)
			e.Type, e.Reason, e.Message = "Warning", ReasonTrainingCancelled, why.Error()
		} else {
			sp.Finishing = append(sp.Finishing, addr)
			e.Type, e.Reason = "Normal", ReasonTrainingFinishing
			e.Message = fmt.Sprintf("%s landed while %s trained for %s (on_new_revision: finish): the run goes on; %s is applied after it",
				short(head.Commit), addr, short(rev.Commit), short(head.Commit))
		}
		events = append(events, e)
	}
	if len(events) == 0 {
		return
	}
	d.st.superseded = sp
	// A training step holds the state's write transaction until it ends,
	// so the events are written once the apply is over (flushSuperseded).
	d.st.pendingEvents = append(d.st.pendingEvents, events...)
	for _, e := range events {
		d.log.Info("newer revision during training", keyStep, e.Kind+"."+e.Name, keyWhy, e.Reason, keyCommit, short(head.Commit))
	}
}

// flushSuperseded records the events supersede kept for after the apply.
func (d *Daemon) flushSuperseded(ctx context.Context) {
	d.mu.Lock()
	events := d.st.pendingEvents
	d.st.pendingEvents = nil
	d.mu.Unlock()
	if len(events) == 0 {
		return
	}
	ctx = context.WithoutCancel(ctx)
	err := d.cfg.DB.Tx(ctx, func(tx *sql.Tx) error {
		for _, e := range events {
			if err := store.AddEvent(ctx, tx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		d.log.Error("record event", keyErr, err)
	}
}

func cutAddr(addr string) (kind, name string, ok bool) {
	for i := 0; i < len(addr); i++ {
		if addr[i] == '.' {
			return addr[:i], addr[i+1:], true
		}
	}
	return addr, "", false
}
