package serving

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Errors the batcher answers with; the protocols map them to status codes.
var (
	// ErrQueueFull: the queue holds max_queue_size rows already (429).
	ErrQueueFull = errors.New("queue full")
	// ErrQueueTimeout: the request waited in the queue longer than the
	// endpoint's dynamic_batching.timeout (503).
	ErrQueueTimeout = errors.New("request timed out in the queue")
	// ErrStopped: the version the request reached has been closed (503).
	ErrStopped = errors.New("endpoint version stopped")
)

// batchConfig is a version's dynamic batching, after defaults.
type batchConfig struct {
	maxRows   int
	preferred []int // descending, each at most maxRows
	delay     time.Duration
	maxQueue  int // rows
	timeout   time.Duration
}

// runner is what an instance runs a batch on: a session.
type runner interface {
	run(inputs []Tensor) ([]Tensor, error)
}

// chunk is rows [from, from+n) of a request, inside one batch.
type chunk struct {
	p        *pending
	from, n  int
	queuedAt time.Time // when the request was enqueued, for the first chunk
}

// batcher queues requests' rows and hands them to its instances in batches
// of up to maxRows rows, as Triton's dynamic batcher does: a full or
// preferred-size batch goes at once, a smaller one when its oldest row has
// waited maxQueueDelay — or as soon as no request is arriving that could
// join it. Each instance pulls its own batches, so a slow one holds only
// its own batch.
type batcher struct {
	cfg     batchConfig
	metrics *versionMetrics

	// arriving counts requests being read and decoded for this version;
	// idle counts the server's keep-alive connections between requests.
	// They are where the rows a partial batch could still gain come from.
	arriving atomic.Int64
	idle     *atomic.Int64

	mu      sync.Mutex
	queue   []*pending // FIFO of requests with rows not yet taken
	rows    int        // rows not yet taken, of live requests
	stopped bool

	wake chan struct{}
	stop chan struct{}
	wg   sync.WaitGroup
}

func newBatcher(cfg batchConfig, m *versionMetrics, instances []*instance, idle *atomic.Int64) *batcher {
	b := &batcher{cfg: cfg, metrics: m, idle: idle, wake: make(chan struct{}, len(instances)), stop: make(chan struct{})}
	for _, inst := range instances {
		b.wg.Add(1)
		go b.work(inst)
	}
	return b
}

// arrive records a request on its way to the queue; the caller calls
// infer (which queues it) or leave (if it fails first), exactly once.
func (b *batcher) arrive() { b.arriving.Add(1) }

// leave records an arriving request that will not be queued. A partial
// batch may have been waiting for it.
func (b *batcher) leave() {
	if b.arriving.Add(-1) == 0 {
		b.poke()
	}
}

// poke wakes an idle instance, unless every instance has a wake-up pending.
func (b *batcher) poke() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// infer queues inputs (one tensor per model input, in the model's order,
// all with the same rows) and waits for their outputs, the request's
// timeout in the queue, or ctx.
func (b *batcher) infer(ctx context.Context, inputs []Tensor) ([]Tensor, error) {
	p := newPending(inputs)
	// No longer arriving, before it is queued: submit wakes an instance,
	// which must not see this request both queued and still on its way.
	b.arriving.Add(-1)
	if err := b.submit(p); err != nil {
		return nil, err
	}
	var timeout <-chan time.Time
	if b.cfg.timeout > 0 {
		t := time.NewTimer(b.cfg.timeout)
		defer t.Stop()
		timeout = t.C
	}
	for {
		select {
		case <-p.done:
			return p.out, p.err
		case <-timeout:
			timeout = nil
			// A request an instance has started on finishes: the timeout
			// bounds waiting in the queue, as Triton's does.
			if b.withdraw(p, false) {
				return nil, fmt.Errorf("%w after %v", ErrQueueTimeout, b.cfg.timeout)
			}
		case <-ctx.Done():
			b.withdraw(p, true)
			return nil, context.Cause(ctx)
		}
	}
}

// submit queues p, or refuses it when the queue is full. A request larger
// than the whole queue is still taken when the queue is empty, or it could
// never be served.
func (b *batcher) submit(p *pending) error {
	b.mu.Lock()
	if b.stopped {
		b.mu.Unlock()
		return ErrStopped
	}
	if b.rows > 0 && b.rows+p.rows > b.cfg.maxQueue {
		b.mu.Unlock()
		return ErrQueueFull
	}
	p.enqueued = time.Now()
	b.queue = append(b.queue, p)
	b.rows += p.rows
	b.metrics.depth.Set(float64(b.rows))
	b.mu.Unlock()
	b.poke()
	return nil
}

// withdraw takes p's untaken rows out of the queue and reports whether no
// batch had taken any of its rows. Unless always, a request a batch has
// started on is left to finish.
func (b *batcher) withdraw(p *pending, always bool) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	untouched := p.next == 0
	if p.dead || (!untouched && !always) {
		return untouched && !p.dead
	}
	p.dead = true
	b.rows -= p.rows - p.next
	b.metrics.depth.Set(float64(b.rows))
	return untouched
}

// close stops the instances after their current batches and fails whatever
// is still queued.
func (b *batcher) close() {
	b.mu.Lock()
	b.stopped = true
	queued := b.queue
	b.queue, b.rows = nil, 0
	b.mu.Unlock()
	close(b.stop)
	b.wg.Wait()
	for _, p := range queued {
		p.fail(ErrStopped)
	}
}

// work is one instance's loop: take a batch, run it, repeat.
func (b *batcher) work(inst *instance) {
	defer b.wg.Done()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		batch, ok := b.next(timer)
		if !ok {
			return
		}
		b.run(inst, batch)
	}
}

// next waits until a batch is due and takes it.
func (b *batcher) next(timer *time.Timer) ([]chunk, bool) {
	b.mu.Lock()
	for {
		if b.stopped {
			b.mu.Unlock()
			return nil, false
		}
		b.dropDead()
		var wait <-chan time.Time
		if b.rows > 0 {
			now := time.Now()
			n, due := b.due(now)
			if n > 0 {
				batch := b.take(n, now)
				more := b.rows > 0
				b.mu.Unlock()
				if more { // another idle instance may take the rest
					b.poke()
				}
				return batch, true
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
	if b.queue[0].next > 0 || !deadline.After(now) || (b.arriving.Load() == 0 && b.idle.Load() == 0) {
		return b.rows, now
	}
	return 0, deadline
}

// take cuts up to n rows off the head of the queue, splitting the last
// request when it does not fit whole. It stops early at a request whose
// rows have another shape than the batch's.
func (b *batcher) take(n int, now time.Time) []chunk {
	var batch []chunk
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
func (b *batcher) run(inst *instance, batch []chunk) {
	rows := 0
	for _, c := range batch {
		rows += c.n
	}
	inputs := make([]Tensor, len(batch[0].p.inputs))
	parts := make([]Tensor, len(batch))
	for i := range inputs {
		for j, c := range batch {
			parts[j] = c.p.inputs[i]
			if c.n != c.p.rows {
				parts[j] = parts[j].slice(c.from, c.n)
			}
		}
		inputs[i] = concat(parts)
	}
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
	off := 0
	for _, c := range batch {
		mine := outs
		if len(batch) > 1 {
			mine = make([]Tensor, len(outs))
			for i := range outs {
				mine[i] = outs[i].slice(off, c.n)
			}
		}
		c.p.deliver(c.from, c.n, mine)
		off += c.n
	}
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
