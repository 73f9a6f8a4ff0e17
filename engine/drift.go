package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"sluice/runtime/drift"
	"sluice/runtime/registry"
	"sluice/runtime/store"
	"sluice/schema"
)

// Reasons of drift policies, and of endpoints a policy rolled back.
const (
	// ReasonDriftDetected: the last check found the dataset drifted.
	ReasonDriftDetected = "DriftDetected"
	// ReasonNoDrift: the last check found no drift.
	ReasonNoDrift = "NoDrift"
	// ReasonNoVerdict: the last check could not judge (too few samples,
	// nothing serving, no reference); the message says which.
	ReasonNoVerdict = "NoVerdict"
	// ReasonDriftResolved: a drift episode ended.
	ReasonDriftResolved = "DriftResolved"
	// ReasonRetrainStarted and ReasonRetrainFailed: a policy's retrain.
	ReasonRetrainStarted = "RetrainStarted"
	ReasonRetrainFailed  = "RetrainFailed"
	// ReasonDriftRollback: a policy rolled the endpoint back to the
	// previous version of its alias; it stays Held until a new commit.
	ReasonDriftRollback = "DriftRollback"
	// ReasonRollbackFailed: a policy's rollback could not be done.
	ReasonRollbackFailed = "RollbackFailed"
)

// Monitor runs drift policies against the endpoints this process serves:
// each check reads the policy's window of captured traffic, judges it
// against the serving version's reference and runs the policy's actions
// once per drift episode. The fields are the processes' own drivers.
type Monitor struct {
	DB       *store.DB
	Registry PromotionPlanner
	// Serving is the server whose endpoints are judged and rolled back.
	Serving Swapper
	// Status, when set, says which version each endpoint serves instead
	// of Serving: StateServing reads it from the state file, for commands
	// that report without serving.
	Status ServingStatus
	// Online serves endpoints' feature joins for a rollback's deploy.
	Online OnlineReader
	// Notify sends an event to the repository's notification webhooks
	// (the daemon's notifications entry point); nil records events only.
	Notify func(ctx context.Context, spec *schema.Spec, ev store.Event)
	// Retrain trains experiment again with the newest data and registers
	// the new version, promoting it to promoteTo (when not empty) behind
	// the same gates, and says what it did; nil makes retrain fail with a
	// clear reason.
	Retrain func(ctx context.Context, spec *schema.Spec, experiment, promoteTo string) (string, error)
	// WriteBack, when set, proposes each rollback's alias move, and each
	// retrain's promote_to move its gates allow, as a commit in git.
	WriteBack WriteBack
	// Commit is the revision applied now, recorded with a rollback's hold.
	Commit func() string
	Now    func() time.Time
	Log    *slog.Logger

	bg background
}

func (m *Monitor) now() time.Time {
	if m.Now != nil {
		return m.Now().UTC()
	}
	return time.Now().UTC()
}

// Check judges the policy named name of spec now, records its report and
// condition, and runs its actions when a drift episode begins.
func (m *Monitor) Check(ctx context.Context, spec *schema.Spec, name string) (*drift.Report, error) {
	p := spec.Drift[name]
	if p == nil {
		return nil, fmt.Errorf("no drift policy %q in this revision (policies: %s)", name, policyNames(spec))
	}
	now := m.now()
	r, err := m.evaluate(ctx, spec, p, now)
	if err != nil {
		return nil, err
	}
	if err := m.record(ctx, p, r, now); err != nil {
		return r, err
	}
	if r.Verdict == drift.VerdictDrift {
		m.act(ctx, spec, p, r)
	}
	return r, nil
}

// Evaluate judges the policy named name now without recording anything or
// acting: what `sluice drift report` shows.
func (m *Monitor) Evaluate(ctx context.Context, spec *schema.Spec, name string) (*drift.Report, error) {
	p := spec.Drift[name]
	if p == nil {
		return nil, fmt.Errorf("no drift policy %q in this revision (policies: %s)", name, policyNames(spec))
	}
	return m.evaluate(ctx, spec, p, m.now())
}

func policyNames(spec *schema.Spec) string {
	var names []string
	for n := range spec.Drift {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// evaluate builds the report: serving version, its reference, the window.
func (m *Monitor) evaluate(ctx context.Context, spec *schema.Spec, p *schema.Drift, now time.Time) (*drift.Report, error) {
	noVerdict := func(format string, args ...any) *drift.Report {
		return &drift.Report{Policy: p.Addr.Name, Endpoint: p.Endpoint, MinSamples: p.MinSamples, To: now,
			Verdict: drift.VerdictNoVerdict, Reason: fmt.Sprintf(format, args...)}
	}
	var status ServingStatus = m.Serving
	if m.Status != nil {
		status = m.Status
	}
	if status == nil {
		return noVerdict("this process serves no endpoints"), nil
	}
	st, ok := status.Status(p.Endpoint)
	if !ok || st.Serving == 0 {
		return noVerdict("endpoint %s is not serving", p.Endpoint), nil
	}
	ref, err := drift.GetReference(ctx, m.DB, st.Model, st.Serving)
	if errors.Is(err, drift.ErrNoReference) {
		return noVerdict("%s version %d has no drift reference (trained before drift references were kept?)", st.Model, st.Serving), nil
	}
	if err != nil {
		return nil, err
	}
	q := drift.QueryFor(ref, p.Endpoint, p.Features, p.Window, now)
	frame, err := drift.Window(ctx, m.DB, q)
	if err != nil {
		return nil, err
	}
	r, err := drift.Evaluate(p, ref, frame, drift.Options{From: q.From, To: q.To, Prediction: ref.PredictionColumns()})
	if err != nil {
		return nil, err
	}
	r.Quality = m.quality(ctx, spec, st.Model, st.Serving, q)
	drift.JudgeQuality(r, p.Quality)
	return r, nil
}

// quality is the window's live quality beside the version's holdout
// metrics; nil when nothing is labelled or the task is unknown.
func (m *Monitor) quality(ctx context.Context, spec *schema.Spec, model string, version int, q drift.WindowQuery) *drift.Quality {
	task := ""
	for _, e := range spec.Experiments {
		if e.Model == model {
			task = e.Task
		}
	}
	var holdout map[string]float64
	if m.Registry != nil {
		if v, err := m.Registry.Version(ctx, m.DB, model, version); err == nil {
			holdout = v.Metrics
		}
	}
	qual, err := drift.LiveQuality(ctx, m.DB, q, task, holdout)
	if err != nil || task == "" || qual.Labeled == 0 {
		return nil
	}
	return qual
}

// record stores the report and the policy's condition; a drift verdict
// opens an episode, a clean one closes it with an event.
func (m *Monitor) record(ctx context.Context, p *schema.Drift, r *drift.Report, now time.Time) error {
	return m.DB.Tx(ctx, func(tx *sql.Tx) error {
		if err := drift.SaveReport(ctx, tx, r, now); err != nil {
			return err
		}
		reason := map[string]string{drift.VerdictDrift: ReasonDriftDetected, drift.VerdictNoDrift: ReasonNoDrift}[r.Verdict]
		if reason == "" {
			reason = ReasonNoVerdict
		}
		if err := store.SetCondition(ctx, tx, store.Condition{Kind: string(schema.KindDrift), Name: p.Addr.Name,
			Status: store.Ready, Reason: reason, Message: Summary(r), Since: now}); err != nil {
			return err
		}
		switch r.Verdict {
		case drift.VerdictDrift:
			return drift.BeginEpisode(ctx, tx, p.Addr.Name, now)
		case drift.VerdictNoDrift:
			ended, err := drift.EndEpisode(ctx, tx, p.Addr.Name)
			if err != nil || !ended {
				return err
			}
			return store.AddEvent(ctx, tx, store.Event{At: now, Kind: string(schema.KindDrift), Name: p.Addr.Name,
				Type: "Normal", Reason: ReasonDriftResolved, Message: "drift resolved: " + Summary(r)})
		}
		return nil
	})
}

// Summary is a report in one line, with the numbers that decided it.
func Summary(r *drift.Report) string {
	if r.Verdict == drift.VerdictNoVerdict {
		return "no verdict: " + r.Reason
	}
	if q := r.Quality; q != nil && q.Verdict == drift.VerdictDrift {
		return fmt.Sprintf("live %s %.4g against holdout %.4g over %d labelled rows of %s v%d: dropped %.4g, more than max_drop %.4g",
			q.Metric, float64(liveMetric(q)), q.Holdout[q.Metric], q.Labeled, r.Model, r.Version, float64(q.Drop), q.MaxDrop) + inputs(r)
	}
	var parts []string
	for _, f := range r.Features {
		if f.Drifted() {
			parts = append(parts, featureLine(f))
		}
	}
	head := fmt.Sprintf("%d of %d features drifted (share %.2f, dataset drifts at %.2f) in %d rows of %s v%d",
		r.DriftedFeatures, r.JudgedFeatures, r.DriftShare, r.DatasetDriftShare, r.CurrentRows, r.Model, r.Version)
	if len(parts) == 0 {
		return head
	}
	sort.Strings(parts)
	return head + ": " + strings.Join(parts, "; ")
}

// liveMetric is the live value of the metric a quality gate judges.
func liveMetric(q *drift.Quality) drift.Number {
	switch q.Metric {
	case "accuracy":
		return q.Accuracy
	case "rmse":
		return q.RMSE
	}
	return q.F1
}

// inputs is what the input statistics said beside a quality drop.
func inputs(r *drift.Report) string {
	if r.JudgedFeatures == 0 {
		return ""
	}
	return fmt.Sprintf("; inputs: %d of %d features drifted", r.DriftedFeatures, r.JudgedFeatures)
}

func featureLine(f drift.FeatureReport) string {
	if f.Method == "" {
		return f.Name + " " + f.Reason
	}
	if f.PValue.Valid() {
		return fmt.Sprintf("%s %s p=%.4g (threshold %.4g)", f.Name, f.Method, float64(f.PValue), f.Threshold)
	}
	return fmt.Sprintf("%s %s=%.4g (threshold %.4g)", f.Name, f.Method, float64(f.Statistic), f.Threshold)
}

// registryOf is the registry as the monitor reads it.
func (m *Monitor) registryOf() PromotionPlanner {
	if m.Registry != nil {
		return m.Registry
	}
	return &registry.Registry{}
}
