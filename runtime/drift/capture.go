package drift

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"sluice/runtime/store"
)

// Row is one captured request: its inputs and the model's outputs. It is
// drift's own type; the engine adapts the serving runtime's rows into it.
type Row struct {
	Endpoint   string
	RequestID  string
	Version    int
	Time       time.Time
	Numeric    map[string]float64
	Category   map[string]string
	Prediction []float64
}

// CaptureOptions size the capture buffer and its writer.
type CaptureOptions struct {
	// Buffer is how many rows wait in memory for the writer; when it is
	// full, new rows are dropped and counted. Default 16384.
	Buffer int
	// Batch is how many rows one insert transaction writes, as one chunk
	// per endpoint version among them. Default 128, at most 65535.
	Batch int
	// Flush is the longest a row waits for a batch to fill. Default 250ms.
	Flush time.Duration
	// Retention is how long rows are kept; older ones are pruned as the
	// writer goes. Zero keeps them 24h.
	Retention time.Duration
	// Now is the clock for pruning; nil is time.Now.
	Now func() time.Time
	// Log receives write failures; nil discards them.
	Log *slog.Logger
}

// Capture is a bounded asynchronous buffer in front of the capture table:
// Capture never blocks the request that calls it, and a single writer
// inserts rows in batches.
type Capture struct {
	db      *store.DB
	opt     CaptureOptions
	rows    chan Row
	flushes chan chan struct{}
	kick    chan struct{} // a batch is queued
	dropped atomic.Int64
	written atomic.Int64
	failed  atomic.Int64
	done    chan struct{}
	cancel  context.CancelFunc
	once    sync.Once
	// The writer goroutine's own: see capture_write.go.
	w chunkWriter
}

// NewCapture starts the writer. Close stops it after writing what is
// buffered.
func NewCapture(db *store.DB, opt CaptureOptions) *Capture {
	if opt.Buffer <= 0 {
		opt.Buffer = 16384
	}
	if opt.Batch <= 0 {
		opt.Batch = 128
	}
	opt.Batch = min(opt.Batch, maxChunkRows)
	if opt.Flush <= 0 {
		opt.Flush = 250 * time.Millisecond
	}
	if opt.Retention <= 0 {
		opt.Retention = 24 * time.Hour
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Capture{db: db, opt: opt, rows: make(chan Row, opt.Buffer), flushes: make(chan chan struct{}),
		kick: make(chan struct{}, 1),
		done: make(chan struct{}), cancel: cancel, w: chunkWriter{db: db}}
	go c.run(ctx)
	return c
}

// Capture queues rows for writing without ever blocking: a row that does
// not fit in the buffer is dropped and counted.
func (c *Capture) Capture(rows []Row) {
	for _, r := range rows {
		select {
		case c.rows <- r:
		default:
			c.dropped.Add(1)
		}
	}
	if len(c.rows) >= min(c.opt.Batch, cap(c.rows)/2) {
		select {
		case c.kick <- struct{}{}:
		default: // the writer is already woken
		}
	}
}

// Dropped is how many rows were dropped because the buffer was full.
func (c *Capture) Dropped() int64 { return c.dropped.Load() }

// Written is how many rows were stored.
func (c *Capture) Written() int64 { return c.written.Load() }

// Failed is how many rows were lost to failed writes.
func (c *Capture) Failed() int64 { return c.failed.Load() }

// Flush waits until every row queued before it is written.
func (c *Capture) Flush(ctx context.Context) error {
	ack := make(chan struct{})
	select {
	case c.flushes <- ack:
	case <-c.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-ack:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close writes what is buffered and stops the writer.
func (c *Capture) Close(ctx context.Context) error {
	c.once.Do(c.cancel)
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Capture) run(ctx context.Context) {
	defer close(c.done)
	defer c.w.close()
	tick := time.NewTicker(c.opt.Flush)
	defer tick.Stop()
	batch := make([]Row, 0, c.opt.Batch)
	lastPrune := time.Time{}
	for {
		// The writer wakes when a batch is queued or the flush interval
		// ends, never per row: a wake per captured request would cost
		// every request a goroutine switch on the serving cores.
		select {
		case <-c.kick:
		case <-tick.C:
		case ack := <-c.flushes:
			batch = c.drain(batch)
			c.write(batch)
			batch = batch[:0]
			lastPrune = c.maybePrune(lastPrune)
			close(ack)
			continue
		case <-ctx.Done():
			c.write(c.drain(batch))
			return
		}
		for {
			batch = c.drainUpTo(batch, c.opt.Batch)
			c.write(batch)
			full := len(batch) == c.opt.Batch
			batch = batch[:0]
			if !full {
				break
			}
		}
		lastPrune = c.maybePrune(lastPrune)
	}
}

// maybePrune prunes at most once a minute; it returns when it last did.
func (c *Capture) maybePrune(last time.Time) time.Time {
	now := c.opt.Now()
	if !last.IsZero() && now.Sub(last) < time.Minute {
		return last
	}
	if err := c.w.prune(context.Background(), now.Add(-c.opt.Retention)); err != nil {
		c.opt.Log.Warn("drift capture prune failed", "error", err)
	}
	return now
}

// drainUpTo moves queued rows into batch until it holds n.
func (c *Capture) drainUpTo(batch []Row, n int) []Row {
	for len(batch) < n {
		select {
		case r := <-c.rows:
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}

// drain moves every queued row into batch.
func (c *Capture) drain(batch []Row) []Row {
	for {
		select {
		case r := <-c.rows:
			batch = append(batch, r)
		default:
			return batch
		}
	}
}

// write inserts rows in transactions of at most Batch rows.
func (c *Capture) write(rows []Row) {
	defer clear(rows) // the batch's memory is reused; its rows' maps are not
	for len(rows) > 0 {
		n := min(len(rows), c.opt.Batch)
		if err := c.w.insert(context.Background(), rows[:n]); err != nil {
			c.failed.Add(int64(n))
			c.opt.Log.Warn("drift capture write failed", "rows", n, "error", err)
		} else {
			c.written.Add(int64(n))
		}
		rows = rows[n:]
	}
}
