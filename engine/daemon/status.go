package daemon

import (
	"context"
	"time"

	"sluice/engine"
	"sluice/engine/source"
	"sluice/runtime/store"
)

// Phases of the loop, as status shows them.
const (
	phaseIdle     = "idle"
	phaseFetching = "fetching"
	phasePlanning = "planning"
	phaseApplying = "applying"
)

// state is what the loop knows beyond the state file, guarded by Daemon.mu.
type state struct {
	phase, step   string
	head, headRef string // the branch's newest commit, as last resolved
	seen          string // the head commit last reconciled without failure
	fetchErr      string
	passes        int
	force         bool // the next poke is a sync, past any backoff
	lockLost      bool // another writer took the state over; the loop stopped
	firstPassDone bool
	lastPlanned   time.Time
	nextRecheck   time.Time
	// viewEvery is the shortest `every` of the feature views in force: a
	// view's new source rows are looked for at least that often.
	viewEvery time.Duration
	failure   *failure
	failures  int // consecutive failed passes
	nextRetry time.Time
	webhooks  WebhookStats
	// training holds the training steps in progress, by address.
	training map[string]*trainingStep
	// superseded is what a newer commit did to the last apply's training.
	superseded *Superseded
	// pendingEvents wait for the apply to end before they are recorded.
	pendingEvents []store.Event
	// lastRejectEvent is when a rejected webhook was last recorded as an event.
	lastRejectEvent time.Time
}

// Status is what GET /api/status returns.
type Status struct {
	// Repo, Branch and Path are what the daemon tracks; empty when the
	// status was read from the state file alone (ReadStatus).
	Repo   string `json:"repo,omitempty"`
	Branch string `json:"branch,omitempty"`
	Path   string `json:"path,omitempty"`
	// Revision is the revision in force: the last applied.
	Revision *RevisionInfo `json:"revision"`
	// Head is the branch's newest commit as last resolved.
	Head      string           `json:"head,omitempty"`
	HeadRef   string           `json:"head_ref,omitempty"`
	Phase     string           `json:"phase,omitempty"`
	Step      string           `json:"step,omitempty"`
	Ready     bool             `json:"ready"`
	Resources []ResourceStatus `json:"resources"`
	// LastError is the failure the daemon is retrying or stalled on.
	LastError *ErrorInfo `json:"last_error,omitempty"`
	// Failures counts consecutive failed passes.
	Failures int `json:"failures"`
	// NextRetry is when the failure is tried again; absent when it waits
	// for a new commit instead.
	NextRetry   *time.Time      `json:"next_retry,omitempty"`
	NextRecheck *time.Time      `json:"next_recheck,omitempty"`
	FetchError  string          `json:"fetch_error,omitempty"`
	Lock        *store.LockInfo `json:"lock,omitempty"`
	// LockLost is set when another writer took the state over and this
	// daemon stopped reconciling.
	LockLost bool         `json:"lock_lost,omitempty"`
	Webhooks WebhookStats `json:"webhooks"`
	// Superseded says which training steps a newer commit cancelled or let
	// finish, during the last apply it overtook.
	Superseded *Superseded `json:"superseded,omitempty"`
	// Notifications count notices sent to the repository's webhooks.
	Notifications NotifyStats `json:"notifications"`
}

// RevisionInfo is one recorded attempt to apply a commit.
type RevisionInfo struct {
	ID         int64      `json:"id"`
	Commit     string     `json:"commit"`
	Ref        string     `json:"ref"`
	Path       string     `json:"path"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	Outcome    string     `json:"outcome"`
	Message    string     `json:"message,omitempty"`
}

// ResourceStatus is one resource's condition.
type ResourceStatus struct {
	Kind       string    `json:"kind"`
	Name       string    `json:"name"`
	Status     string    `json:"status"`
	Reason     string    `json:"reason"`
	Message    string    `json:"message,omitempty"`
	Since      time.Time `json:"since"`
	RevisionID int64     `json:"revision_id,omitempty"`
}

// ErrorInfo is a failed pass.
type ErrorInfo struct {
	Commit  string    `json:"commit,omitempty"`
	Ref     string    `json:"ref,omitempty"`
	Reason  string    `json:"reason"`
	Message string    `json:"message"`
	Errors  []string  `json:"errors,omitempty"`
	At      time.Time `json:"at"`
	// Stalled failures wait for a person (a new commit), not a retry.
	Stalled bool `json:"stalled"`
	// Recheck is set when the failure is a re-check's, of the revision in force.
	Recheck bool `json:"recheck,omitempty"`
}

// WebhookStats count POST /hooks/git requests.
type WebhookStats struct {
	Accepted     int        `json:"accepted"`
	Rejected     int        `json:"rejected"`
	LastRejected *time.Time `json:"last_rejected,omitempty"`
	LastReason   string     `json:"last_rejected_reason,omitempty"`
}

// ReadStatus is the part of Status the state file holds: the revision in
// force, every resource's condition and the lock's holder. It is what
// clients show when no daemon runs.
func ReadStatus(ctx context.Context, q store.Querier) (*Status, error) {
	cur, err := store.CurrentRevision(ctx, q)
	if err != nil {
		return nil, err
	}
	conds, err := store.Conditions(ctx, q)
	if err != nil {
		return nil, err
	}
	lock, err := store.LockHolder(ctx, q)
	if err != nil {
		return nil, err
	}
	s := &Status{Lock: lock, Resources: []ResourceStatus{}}
	if cur != nil {
		s.Revision = revisionInfo(*cur)
	}
	for _, c := range conds {
		s.Resources = append(s.Resources, ResourceStatus{Kind: c.Kind, Name: c.Name, Status: c.Status, Reason: c.Reason,
			Message: c.Message, Since: c.Since, RevisionID: c.RevisionID})
	}
	return s, nil
}

// Status reads the revision in force and every resource's condition from
// the state file, and adds what the loop is doing.
func (d *Daemon) Status(ctx context.Context) (*Status, error) {
	s, err := ReadStatus(ctx, d.cfg.DB)
	if err != nil {
		return nil, err
	}
	s.Repo, s.Branch, s.Path = d.cfg.Repo, d.branchName(), d.cfg.Path
	cur := s.Revision
	d.mu.Lock()
	defer d.mu.Unlock()
	s.Head, s.HeadRef, s.Phase, s.Step = d.st.head, d.st.headRef, d.st.phase, d.st.step
	if s.Phase == "" {
		s.Phase = phaseIdle
	}
	s.Ready = d.st.firstPassDone && cur != nil && !d.st.lockLost
	s.LockLost = d.st.lockLost
	s.Failures, s.FetchError, s.Webhooks = d.st.failures, d.st.fetchErr, d.st.webhooks
	s.Notifications = d.notify.snapshot()
	if sp := d.st.superseded; sp != nil {
		c := *sp
		s.Superseded = &c
	}
	if f := d.st.failure; f != nil {
		s.LastError = &ErrorInfo{Commit: f.Commit, Ref: f.Ref, Reason: f.Reason, Message: f.Message, Errors: f.Errors,
			At: f.At, Stalled: f.stalled, Recheck: f.target == targetCurrent}
		if !f.stalled {
			s.NextRetry = timePtr(d.st.nextRetry)
		}
	}
	if d.cfg.Recheck > 0 && !d.st.nextRecheck.IsZero() {
		s.NextRecheck = timePtr(d.st.nextRecheck)
	}
	return s, nil
}

func revisionInfo(r store.Revision) *RevisionInfo {
	ri := &RevisionInfo{ID: r.ID, Commit: r.Commit, Ref: r.Ref, Path: r.Path, StartedAt: r.StartedAt, Outcome: r.Outcome, Message: r.Message}
	if !r.FinishedAt.IsZero() {
		ri.FinishedAt = timePtr(r.FinishedAt)
	}
	return ri
}

func timePtr(t time.Time) *time.Time { return &t }

func (d *Daemon) setPhase(phase, step string) {
	d.mu.Lock()
	d.st.phase, d.st.step = phase, step
	d.mu.Unlock()
}

// progress shows the step in progress in status, logs each step, and
// sends a notice for each promotion.
type progress struct {
	d   *Daemon
	rev *source.Revision
}

var _ engine.Hook = progress{}

func (p progress) PreStep(c *engine.Change) {
	p.d.setPhase(phaseApplying, c.Addr.String())
}

func (p progress) PostStep(c *engine.Change, r engine.StepResult) {
	level := p.d.log.Info
	if r.Status == store.Failed {
		level = p.d.log.Warn
	}
	level("step", keyStep, c.Addr.String(), keyStatus, r.Status, keyWhy, r.Reason, "message", r.Message)
	if r.Status == store.Ready && r.Reason == engine.ReasonPromoted {
		n := Notice{Type: NoticePromoted, Reason: r.Reason, Message: r.Message, Resource: c.Addr.String()}
		if p.rev != nil {
			n.Commit, n.Ref = p.rev.Commit, p.rev.Ref
		}
		p.d.Notify(context.Background(), n)
	}
}

func (p progress) Warn(err error) { p.d.log.Warn("apply", keyErr, err) }
