package engine

import (
	"context"
	"sync"
	"sync/atomic"

	"sluice/runtime/drift"
	"sluice/schema"
)

// background runs policies' retrains off the monitor's loop: a training
// takes minutes, and in the loop it held back every other policy's check
// and alert for as long. A policy has at most one retrain in flight (its
// episode records the action only when the training ends, so later checks
// of the same episode see it running rather than taken), and retrains run
// one at a time, as they share the state's writer and the CPUs.
type background struct {
	on      atomic.Bool
	mu      sync.Mutex
	running map[string]bool
	train   sync.Mutex
	wg      sync.WaitGroup
}

// begin claims policy's retrain; false while one is already running.
func (b *background) begin(policy string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.running[policy] {
		return false
	}
	if b.running == nil {
		b.running = map[string]bool{}
	}
	b.running[policy] = true
	b.wg.Add(1)
	return true
}

func (b *background) end(policy string) {
	b.mu.Lock()
	delete(b.running, policy)
	b.mu.Unlock()
	b.wg.Done()
}

// retrainInBackground starts the policy's retrain unless it is running.
func (m *Monitor) retrainInBackground(ctx context.Context, spec *schema.Spec, p *schema.Drift, r *drift.Report) {
	if !m.bg.begin(p.Addr.Name) {
		return
	}
	go func() {
		defer m.bg.end(p.Addr.Name)
		m.bg.train.Lock()
		defer m.bg.train.Unlock()
		m.taken(ctx, spec, p, actionRetrain, m.take(ctx, spec, p, r, actionRetrain))
	}()
}

// waitRetrains returns when no retrain is running.
func (m *Monitor) waitRetrains() { m.bg.wg.Wait() }
