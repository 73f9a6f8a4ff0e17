package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"sluice/engine"
	"sluice/runtime/store"
)

// progress prints each step as it starts and ends, so long work is never silent.
type progress struct {
	mu sync.Mutex
	w  io.Writer
}

var _ engine.Hook = (*progress)(nil)

func (p *progress) PreStep(c *engine.Change) {
	p.mu.Lock()
	defer p.mu.Unlock()
	what := c.Action
	if len(c.Runtime) > 0 {
		what = c.Runtime[0]
	}
	fmt.Fprintf(p.w, "%s: %s…\n", c.Addr, gerund(what))
}

func (p *progress) PostStep(c *engine.Change, r engine.StepResult) {
	p.mu.Lock()
	defer p.mu.Unlock()
	msg := ""
	if r.Message != "" {
		msg = ": " + r.Message
	}
	fmt.Fprintf(p.w, "%s: %s (%s) after %s%s\n", c.Addr, r.Status, r.Reason, r.Duration.Round(time.Millisecond), msg)
}

func (p *progress) Warn(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "warning: %v\n", err)
}

func gerund(action string) string {
	switch action {
	case "create":
		return "creating"
	case "update":
		return "updating"
	case "replace":
		return "replacing"
	case "delete":
		return "deleting"
	case "materialize":
		return "materializing"
	}
	return action
}

// execute applies a plan with the runtime drivers and reports how it went.
func (a *app) execute(ctx context.Context, db *store.DB, p *engine.Plan, parallelism int) error {
	if err := a.needORT(p); err != nil {
		return err
	}
	drivers, err := newDrivers(ctx, db, a.ortLib)
	if err != nil {
		return err
	}
	drivers.AllowCommandTrainers = a.allowCommands
	res, err := engine.Apply(ctx, db, p, drivers, engine.Options{Parallelism: parallelism, Hooks: []engine.Hook{&progress{w: a.stderr}}})
	if err != nil {
		return err
	}
	if res.Outcome == "unchanged" {
		fmt.Fprintln(a.stdout, "No changes. Nothing to apply.")
		return nil
	}
	counts := map[string]int{}
	for _, s := range res.Steps {
		counts[s.Status]++
	}
	fmt.Fprintf(a.stdout, "\nApply %s: %d ready, %d failed, %d held, %d recorded only. Revision %s is current.\n",
		res.Outcome, counts[store.Ready], counts[store.Failed], heldOnly(res), notExecuted(res), short(p.Revision.Commit))
	if res.Failed() > 0 {
		return exitCode(exitError)
	}
	return nil
}

func notExecuted(r *engine.Result) int {
	n := 0
	for _, s := range r.Steps {
		if s.Reason == engine.ReasonNotExecuted {
			n++
		}
	}
	return n
}

func heldOnly(r *engine.Result) int {
	n := 0
	for _, s := range r.Steps {
		if s.Status == store.Held && s.Reason != engine.ReasonNotExecuted {
			n++
		}
	}
	return n
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}
