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
	// ErrQueueTimeout: no batch had started on the request when the
	// endpoint's dynamic_batching.timeout had passed since it arrived (503).
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
// join it. A batch runs on whichever instance is free, so a slow one holds
// only its own batch. The request that makes a batch due runs it on its
// own goroutine when an instance is free (no hand-off, which is most of the
// cost of a one-row request); worker goroutines run the batches that come
// due later: after a delay, or when an instance comes free.
type batcher struct {
	cfg     batchConfig
	metrics *versionMetrics

	// arriving counts requests being read and decoded for this version;
	// idleConns counts the server's keep-alive connections between
	// requests. They are where the rows a partial batch could still gain
	// come from.
	arriving  atomic.Int64
	idleConns *atomic.Int64

	mu      sync.Mutex
	queue   []*pending  // FIFO of requests with rows not yet taken
	rows    int         // rows not yet taken, of live requests
	free    []*instance // instances not running a batch
	stopped bool

	// expiry fails the requests whose deadline passed in the queue: one
	// timer for the queue, armed for the earliest deadline (expiresAt),
	// not one per request. armed says it is set; mu guards all three.
	expiry    *time.Timer
	armed     bool
	expiresAt time.Time

	wake    chan struct{}
	stop    chan struct{}
	wg      sync.WaitGroup // worker goroutines
	running sync.WaitGroup // batches running, on any goroutine
}

func newBatcher(cfg batchConfig, m *versionMetrics, instances []*instance, idleConns *atomic.Int64) *batcher {
	b := &batcher{
		cfg: cfg, metrics: m, idleConns: idleConns, free: slices.Clone(instances),
		wake: make(chan struct{}, len(instances)), stop: make(chan struct{}),
	}
	if cfg.timeout > 0 {
		b.expiry = time.AfterFunc(time.Hour, b.expire)
		b.expiry.Stop()
	}
	for range instances {
		b.wg.Add(1)
		go b.work()
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
// deadline (see expire), or ctx. arrived is when the request reached the
// server: its timeout counts from there, so the time spent reading and
// decoding it is part of the wait it bounds.
func (b *batcher) infer(ctx context.Context, inputs []Tensor, arrived time.Time) ([]Tensor, error) {
	p := newPending(inputs)
	if b.cfg.timeout > 0 {
		p.deadline = arrived.Add(b.cfg.timeout)
	}
	// No longer arriving, before it is queued: submit wakes an instance,
	// which must not see this request both queued and still on its way.
	b.arriving.Add(-1)
	if err := b.submit(p); err != nil {
		p.recycle() // never queued
		return nil, err
	}
	if !b.lead() {
		b.poke() // a worker runs the batch when it comes due
	}
	select {
	case <-p.done:
		out, err := p.out, p.err
		if err == nil {
			p.recycle()
		}
		return out, err
	case <-ctx.Done():
		b.withdraw(p, true)
		return nil, context.Cause(ctx)
	}
}

// expire answers 503 to the requests still wholly in the queue at their
// deadline, and sets the timer again for the earliest one left. A request
// an instance has started on finishes, as in Triton. Deadlines count from
// arrival, so a request queued later (decoded faster) may be due sooner:
// the whole queue is looked at, which the queue's bound keeps short.
func (b *batcher) expire() {
	b.mu.Lock()
	now := time.Now()
	var late []*pending
	var next time.Time
	for _, p := range b.queue {
		if p.dead || p.next > 0 {
			continue
		}
		if p.deadline.After(now) {
			if next.IsZero() || p.deadline.Before(next) {
				next = p.deadline
			}
			continue
		}
		p.dead = true
		b.rows -= p.rows
		late = append(late, p)
	}
	b.armed = !next.IsZero() && !b.stopped
	if b.armed {
		b.expiresAt = next
		b.expiry.Reset(next.Sub(now))
	}
	b.metrics.depth.Set(float64(b.rows))
	b.mu.Unlock()
	for _, p := range late {
		p.fail(b.timedOut())
	}
}

// timedOut is the error of a request whose deadline passed before a batch
// took it.
func (b *batcher) timedOut() error {
	return fmt.Errorf("%w: not started within %v of its arrival", ErrQueueTimeout, b.cfg.timeout)
}

// submit queues p, or refuses it when the queue is full. A request larger
// than the whole queue is still taken when the queue is empty, or it could
// never be served.
// full reports whether the queue holds max_queue_size rows already, so
// that a request can be refused before it is decoded.
func (b *batcher) full() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.rows >= b.cfg.maxQueue
}

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
	now := time.Now()
	if !p.deadline.IsZero() && !p.deadline.After(now) {
		// Reading and decoding it took the whole timeout: the client's
		// wait is over before the queue's begins.
		b.mu.Unlock()
		return b.timedOut()
	}
	p.enqueued = now
	b.queue = append(b.queue, p)
	b.rows += p.rows
	b.metrics.depth.Set(float64(b.rows))
	if b.expiry != nil && (!b.armed || p.deadline.Before(b.expiresAt)) {
		b.armed, b.expiresAt = true, p.deadline
		b.expiry.Reset(p.deadline.Sub(now))
	}
	b.mu.Unlock()
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
	if b.expiry != nil {
		b.expiry.Stop()
	}
	b.mu.Unlock()
	close(b.stop)
	b.wg.Wait()
	b.running.Wait()
	for _, p := range queued {
		p.fail(ErrStopped)
	}
}
