package serving

import (
	"slices"
	"sync"
	"time"
)

// pending is one request's rows on their way through the batcher. The
// batcher's lock guards next and dead; mu guards the results, which chunks
// of a split request may deliver from several instances at once. Answered
// requests go back to a pool (see recycle), so that a request costs no
// allocation here.
type pending struct {
	inputs   []Tensor // in the model's input order
	rows     int
	enqueued time.Time
	// deadline is when the request, unless a batch has taken it, answers
	// 503: its arrival plus the endpoint's timeout; zero for none.
	deadline time.Time

	next int  // the first row no batch has taken yet
	dead bool // answered already (timed out, cancelled, failed): take no more rows

	mu     sync.Mutex
	got    int // rows whose outputs came back
	parts  []part
	out    []Tensor
	err    error
	closed bool
	// done gets one value when the request is answered. It is buffered
	// and reused with the pending, so it is sent on, never closed.
	done chan struct{}
}

// part is the outputs of rows [from, from+rows) of a request.
type part struct {
	from int
	outs []Tensor
}

var pendingPool = sync.Pool{New: func() any { return &pending{done: make(chan struct{}, 1)} }}

func newPending(inputs []Tensor) *pending {
	p := pendingPool.Get().(*pending)
	p.inputs, p.rows = inputs, inputs[0].Rows()
	return p
}

// recycle returns p to the pool. Only a request answered with all its
// outputs may go back: every row was taken and delivered, so no batch
// holds it and none will touch it again. (A failed or withdrawn request
// may still have rows in a running batch; the garbage collector takes
// those.)
func (p *pending) recycle() {
	p.inputs, p.rows, p.enqueued, p.deadline = nil, 0, time.Time{}, time.Time{}
	p.next, p.dead = 0, false
	p.got, p.parts, p.out, p.err, p.closed = 0, p.parts[:0], nil, nil, false
	pendingPool.Put(p)
}

// deliver records the outputs of rows [from, from+n); the last rows to
// come back assemble the request's outputs in row order and wake it.
func (p *pending) deliver(from, n int, outs []Tensor) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.got += n
	switch {
	case p.got == n && n == p.rows: // the whole request in one batch
		p.out = outs
	case p.got < p.rows:
		p.parts = append(p.parts, part{from: from, outs: outs})
		p.mu.Unlock()
		return
	default:
		p.parts = append(p.parts, part{from: from, outs: outs})
		p.out = p.assemble()
	}
	p.closed = true
	p.mu.Unlock()
	p.done <- struct{}{} // after the unlock: the woken caller may recycle p
}

// assemble joins the parts of a split request in row order.
func (p *pending) assemble() []Tensor {
	slices.SortFunc(p.parts, func(a, b part) int { return a.from - b.from })
	out := make([]Tensor, len(p.parts[0].outs))
	pieces := make([]Tensor, len(p.parts))
	for i := range out {
		for j := range p.parts {
			pieces[j] = p.parts[j].outs[i]
		}
		out[i] = concat(pieces)
	}
	clear(p.parts)
	return out
}

// fail answers the request with err unless it was answered already.
func (p *pending) fail(err error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.err = err
	p.closed = true
	p.mu.Unlock()
	p.done <- struct{}{}
}

// sameRows reports whether q's rows have the shape of p's, so that they can
// share a batch (they differ only where a model leaves a row dimension free).
func (p *pending) sameRows(q *pending) bool {
	for i := range p.inputs {
		if !slices.Equal(p.inputs[i].Shape[1:], q.inputs[i].Shape[1:]) {
			return false
		}
	}
	return true
}
