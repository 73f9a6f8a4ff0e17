package drift

import (
	"context"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"sluice/runtime/store"
)

// Row is one captured row: a request's inputs and the model's outputs,
// by name (see Batch for a request's rows column by column).
type Row struct {
	Endpoint   string
	RequestID  string
	Version    int
	Time       time.Time
	Numeric    map[string]float64
	Category   map[string]string
	Prediction []float64
}

// Batch is one request's captured rows, column by column: what the serving
// path hands over without a map per row. It is drift's own type; the engine
// adapts the serving runtime's captured rows into it.
type Batch struct {
	Endpoint  string
	RequestID string
	Version   int
	Time      time.Time
	Rows      int
	// NumericNames name a row's numbers and Numbers holds them, row after
	// row; NaN is a missing value. Likewise CategoryNames and Categories,
	// where "" is missing. The writer recognizes names shared by a
	// version's batches (the same slice) and resolves them once.
	NumericNames  []string
	Numbers       []float64
	CategoryNames []string
	Categories    []string
	// Predictions holds each row's Width outputs, row after row.
	Width       int
	Predictions []float64
}

// batchOf is r as a batch of one row.
func batchOf(r Row) Batch {
	b := Batch{Endpoint: r.Endpoint, RequestID: r.RequestID, Version: r.Version, Time: r.Time, Rows: 1,
		Width: len(r.Prediction), Predictions: r.Prediction}
	for k, v := range r.Numeric {
		b.NumericNames, b.Numbers = append(b.NumericNames, k), append(b.Numbers, v)
	}
	for k, v := range r.Category {
		b.CategoryNames, b.Categories = append(b.CategoryNames, k), append(b.Categories, v)
	}
	return b
}

// CaptureOptions size the capture buffer and its writer.
type CaptureOptions struct {
	// Buffer is how many rows wait in memory for the writer; when it is
	// full, new rows are dropped and counted. Default 16384.
	Buffer int
	// Batch is how many rows one insert transaction writes, as one chunk
	// per endpoint version among them. Default 512, at most 65535.
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
	batches chan Batch
	queued  atomic.Int64 // rows in batches
	flushes chan chan struct{}
	kick    chan struct{} // a batch is queued
	dropped atomic.Int64
	written atomic.Int64
	failed  atomic.Int64
	done    chan struct{}
	cancel  context.CancelFunc
	once    sync.Once
	// The writer goroutine's own: see capture_write.go.
	w    chunkWriter
	segs []segment
}

// NewCapture starts the writer. Close stops it after writing what is
// buffered.
func NewCapture(db *store.DB, opt CaptureOptions) *Capture {
	if opt.Buffer <= 0 {
		opt.Buffer = 16384
	}
	if opt.Batch <= 0 {
		opt.Batch = 512
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
	// A batch holds at least a row, so Buffer batches hold every row the
	// buffer may: a send never finds the channel full.
	c := &Capture{db: db, opt: opt, batches: make(chan Batch, opt.Buffer), flushes: make(chan chan struct{}),
		kick: make(chan struct{}, 1),
		done: make(chan struct{}), cancel: cancel, w: chunkWriter{db: db}}
	go c.run(ctx)
	return c
}

// Capture queues rows for writing without ever blocking: a row that does
// not fit in the buffer is dropped and counted.
func (c *Capture) Capture(rows []Row) {
	for _, r := range rows {
		c.CaptureBatch(batchOf(r))
	}
}

// CaptureBatch queues a request's rows for writing without ever blocking:
// when they do not fit in the buffer, they are dropped and counted.
func (c *Capture) CaptureBatch(b Batch) {
	n := int64(b.Rows)
	if n <= 0 {
		return
	}
	if len(b.Numbers) != b.Rows*len(b.NumericNames) || len(b.Categories) != b.Rows*len(b.CategoryNames) ||
		b.Width < 0 || len(b.Predictions) != b.Rows*b.Width {
		c.failed.Add(n) // a caller's bug; the writer must not index past it
		return
	}
	queued := c.queued.Add(n)
	if queued > int64(c.opt.Buffer) {
		c.queued.Add(-n)
		c.dropped.Add(n)
		return
	}
	select {
	case c.batches <- b:
	default: // cannot happen (see NewCapture); never block if it does
		c.queued.Add(-n)
		c.dropped.Add(n)
		return
	}
	if queued >= int64(min(c.opt.Batch, c.opt.Buffer/2)) {
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
	var pending []Batch
	lastPrune := time.Time{}
	for {
		// The writer wakes when a batch is queued or the flush interval
		// ends, never per row: a wake per captured request would cost
		// every request a goroutine switch on the serving cores.
		select {
		case <-c.kick:
		case <-tick.C:
		case ack := <-c.flushes:
			pending = c.write(c.drainUpTo(pending, math.MaxInt))
			lastPrune = c.maybePrune(lastPrune)
			close(ack)
			continue
		case <-ctx.Done():
			c.write(c.drainUpTo(pending, math.MaxInt))
			return
		}
		for {
			var rows int
			pending, rows = c.drainRows(pending, c.opt.Batch)
			pending = c.write(pending)
			if rows < c.opt.Batch {
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

// drainRows moves queued batches into pending until they hold at least
// n rows or none is left; it returns how many rows it moved.
func (c *Capture) drainRows(pending []Batch, n int) ([]Batch, int) {
	rows := 0
	for rows < n {
		select {
		case b := <-c.batches:
			c.queued.Add(-int64(b.Rows))
			pending = append(pending, b)
			rows += b.Rows
		default:
			return pending, rows
		}
	}
	return pending, rows
}

func (c *Capture) drainUpTo(pending []Batch, n int) []Batch {
	pending, _ = c.drainRows(pending, n)
	return pending
}

// write inserts the pending batches' rows in transactions of at most
// Batch rows (a request's rows may straddle two), and returns pending
// emptied for reuse.
func (c *Capture) write(pending []Batch) []Batch {
	segs := c.segs[:0]
	rows := 0
	commit := func() {
		if err := c.w.insert(context.Background(), segs); err != nil {
			c.failed.Add(int64(rows))
			c.opt.Log.Warn("drift capture write failed", "rows", rows, "error", err)
		} else {
			c.written.Add(int64(rows))
		}
		segs, rows = segs[:0], 0
	}
	for i := range pending {
		b := &pending[i]
		for from := 0; from < b.Rows; {
			n := min(b.Rows-from, c.opt.Batch-rows)
			segs = append(segs, segment{b: b, from: from, to: from + n})
			rows += n
			from += n
			if rows == c.opt.Batch {
				commit()
			}
		}
	}
	if rows > 0 {
		commit()
	}
	clear(segs)
	c.segs = segs[:0]
	clear(pending) // its memory is reused; the batches' values are not
	return pending[:0]
}
