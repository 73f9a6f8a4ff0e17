package engine

import (
	"context"
	"sort"
	"time"

	"sluice/runtime/drift"
	"sluice/schema"
)

// Schedule remembers when each drift policy is next due.
type Schedule map[string]time.Time

// Run checks the policies of the revision spec returns, each on its
// `every`, until ctx ends; tick is how often it looks for due policies,
// and 0 turns the loop off so that tests drive RunDue themselves. spec may
// return nil while nothing is applied. onReport sees every report.
// Retrains run in the background, so that other policies keep their
// schedule; Run returns when ctx has ended and the retrains it started
// have returned (they see ctx end too).
func (m *Monitor) Run(ctx context.Context, tick time.Duration, spec func() *schema.Spec, onReport func(*drift.Report)) {
	if tick <= 0 {
		return
	}
	m.bg.on.Store(true)
	defer m.waitRetrains()
	t := time.NewTicker(tick)
	defer t.Stop()
	due := Schedule{}
	for {
		if s := spec(); s != nil {
			for _, r := range m.RunDue(ctx, s, due) {
				if onReport != nil {
					onReport(r)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunDue checks every policy of spec that is due, in name order, and
// schedules its next check `every` later. A policy seen for the first time
// is due one `every` from now, so its first window has had time to fill.
// Suspended policies are skipped. A failed check is logged and retried at
// its next time.
func (m *Monitor) RunDue(ctx context.Context, spec *schema.Spec, due Schedule) []*drift.Report {
	now := m.now()
	var names []string
	for name := range spec.Drift {
		names = append(names, name)
	}
	sort.Strings(names)
	var out []*drift.Report
	for _, name := range names {
		p := spec.Drift[name]
		next, seen := due[name]
		switch {
		case p.Suspend:
			continue
		case !seen:
			due[name] = now.Add(p.Every)
			continue
		case now.Before(next):
			continue
		}
		due[name] = now.Add(p.Every)
		r, err := m.Check(ctx, spec, name)
		if err != nil {
			m.warn("check "+name, err)
			continue
		}
		out = append(out, r)
	}
	for name := range due {
		if spec.Drift[name] == nil {
			delete(due, name) // the policy left git
		}
	}
	return out
}
