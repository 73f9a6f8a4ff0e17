package serving

import (
	"fmt"
	"slices"
	"time"
)

// work is a worker's loop: wait for a free instance and a due batch, run
// it, repeat.
func (b *batcher) work() {
	defer b.wg.Done()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		inst, batch, ok := b.next(timer)
		if !ok {
			return
		}
		b.runOn(inst, batch)
	}
}

// lead runs a due batch on the calling goroutine, if an instance is free,
// and reports whether it did.
func (b *batcher) lead() bool {
	b.mu.Lock()
	if b.stopped || len(b.free) == 0 || b.rows == 0 {
		b.mu.Unlock()
		return false
	}
	b.dropDead()
	now := time.Now()
	n, _ := b.due(now)
	if n == 0 {
		b.mu.Unlock()
		return false
	}
	inst := b.claim()
	batch := b.take(n, now, inst.chunks[:0])
	b.mu.Unlock()
	b.runOn(inst, batch)
	return true
}

// claim takes a free instance; the caller holds mu.
func (b *batcher) claim() *instance {
	inst := b.free[len(b.free)-1]
	b.free = b.free[:len(b.free)-1]
	b.running.Add(1)
	return inst
}

// runOn runs batch on inst, then frees inst and wakes a worker when rows
// are waiting.
func (b *batcher) runOn(inst *instance, batch []chunk) {
	b.run(inst, batch)
	clear(batch) // keep no request alive
	inst.chunks = batch[:0]
	b.mu.Lock()
	b.free = append(b.free, inst)
	more := b.rows > 0
	b.mu.Unlock()
	b.running.Done()
	if more {
		b.poke()
	}
}

// next waits until an instance is free and a batch is due, and takes both.
func (b *batcher) next(timer *time.Timer) (*instance, []chunk, bool) {
	b.mu.Lock()
	for {
		if b.stopped {
			b.mu.Unlock()
			return nil, nil, false
		}
		b.dropDead()
		var wait <-chan time.Time
		if b.rows > 0 && len(b.free) > 0 {
			now := time.Now()
			n, due := b.due(now)
			if n > 0 {
				inst := b.claim()
				batch := b.take(n, now, inst.chunks[:0])
				more := b.rows > 0 && len(b.free) > 0
				b.mu.Unlock()
				if more { // another worker may take the rest
					b.poke()
				}
				return inst, batch, true
			}
			timer.Reset(due.Sub(now))
			wait = timer.C
		}
		b.mu.Unlock()
		select {
		case <-b.wake:
		case <-wait:
		case <-b.stop:
		}
		timer.Stop()
		b.mu.Lock()
	}
}

// dropDead pops answered requests off the head of the queue.
func (b *batcher) dropDead() {
	for len(b.queue) > 0 && b.queue[0].dead {
		b.queue[0] = nil
		b.queue = b.queue[1:]
	}
}

// due says how many rows to batch now, or, when 0, until when to wait: a
// batch of maxRows, else of the largest preferred size the queue fills,
// else whatever is queued once the oldest request has waited the delay —
// or at once when no request is being read and no connection is idle,
// since then no row could join the batch soon: waiting would only add the
// delay (a lone client would pay it on every request).
func (b *batcher) due(now time.Time) (int, time.Time) {
	if b.rows >= b.cfg.maxRows {
		return b.cfg.maxRows, now
	}
	for _, size := range b.cfg.preferred {
		if size <= b.rows {
			return size, now
		}
	}
	deadline := b.queue[0].enqueued.Add(b.cfg.delay)
	if b.queue[0].next > 0 || !deadline.After(now) || (b.arriving.Load() == 0 && b.idleConns.Load() == 0) {
		return b.rows, now
	}
	return 0, deadline
}

// take cuts up to n rows off the head of the queue into batch (the
// instance's buffer), splitting the last request when it does not fit
// whole. It stops early at a request whose
// rows have another shape than the batch's.
func (b *batcher) take(n int, now time.Time, batch []chunk) []chunk {
	var first *pending
	for n > 0 && len(b.queue) > 0 {
		p := b.queue[0]
		if p.dead {
			b.queue = b.queue[1:]
			continue
		}
		if first == nil {
			first = p
		} else if !first.sameRows(p) {
			break
		}
		k := min(n, p.rows-p.next)
		c := chunk{p: p, from: p.next, n: k}
		if p.next == 0 {
			c.queuedAt = p.enqueued
		}
		batch = append(batch, c)
		p.next += k
		b.rows -= k
		n -= k
		if p.next == p.rows {
			b.queue[0] = nil
			b.queue = b.queue[1:]
		}
	}
	b.metrics.depth.Set(float64(b.rows))
	for _, c := range batch {
		if !c.queuedAt.IsZero() {
			b.metrics.queue.Observe(now.Sub(c.queuedAt).Seconds())
		}
	}
	return batch
}

// run runs one batch on inst and hands each request its rows' outputs.
// The batch's inputs are gathered into buffers the instance keeps from
// batch to batch, and the outputs are cut into per-request views that
// share one allocation per batch, not one per row.
func (b *batcher) run(inst *instance, batch []chunk) {
	rows := 0
	for _, c := range batch {
		rows += c.n
	}
	inputs := inst.gather(batch)
	start := time.Now()
	outs, err := inst.r.run(inputs)
	elapsed := time.Since(start)
	b.metrics.compute.Observe(elapsed.Seconds())
	b.metrics.batch.Observe(float64(rows))
	inst.busy.Add(elapsed.Seconds())
	if err == nil {
		err = checkRows(outs, rows)
	}
	if err != nil {
		for _, c := range batch {
			c.p.fail(fmt.Errorf("instance %s: %w", inst.name, err))
			b.withdraw(c.p, true)
		}
		return
	}
	if len(batch) == 1 {
		batch[0].p.deliver(batch[0].from, batch[0].n, outs)
		return
	}
	views := make([]Tensor, len(batch)*len(outs))
	oneRow := rowShapes(outs)
	off := 0
	for k, c := range batch {
		mine := views[k*len(outs) : (k+1)*len(outs) : (k+1)*len(outs)]
		for i := range outs {
			if c.n == 1 {
				mine[i] = outs[i].view(off, 1, oneRow[i])
			} else {
				mine[i] = outs[i].slice(off, c.n)
			}
		}
		c.p.deliver(c.from, c.n, mine)
		off += c.n
	}
}

// rowShapes returns, per output, the shape of one of its rows as a
// one-row tensor ([1, ...]), shared by every one-row request of a batch:
// nothing reads a shape to change it.
func rowShapes(outs []Tensor) [][]int64 {
	n := 0
	for i := range outs {
		n += len(outs[i].Shape)
	}
	flat := make([]int64, 0, n)
	shapes := make([][]int64, len(outs))
	for i := range outs {
		at := len(flat)
		flat = append(flat, 1)
		flat = append(flat, outs[i].Shape[1:]...)
		shapes[i] = flat[at:len(flat):len(flat)]
	}
	return shapes
}

// checkRows reports an output whose first dimension is not the batch: its
// rows could not be handed back to the requests.
func checkRows(outs []Tensor, rows int) error {
	for _, o := range outs {
		if len(o.Shape) == 0 || o.Shape[0] != int64(rows) || o.Len() != rows*o.rowLen() {
			return fmt.Errorf("output %q has shape %v for a batch of %d rows; its first dimension must be the batch", o.Name, o.Shape, rows)
		}
	}
	return nil
}

// sortedPreferred returns the preferred batch sizes no larger than max,
// largest first, without repeats.
func sortedPreferred(sizes []int, max int) []int {
	var out []int
	for _, s := range sizes {
		if s >= 1 && s <= max && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	slices.Reverse(out)
	return out
}
