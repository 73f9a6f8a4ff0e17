package serving

import (
	"slices"
	"sync"
	"time"
)

// pending is one request's rows on their way through the batcher. The
// batcher's lock guards next and dead; mu guards the results, which chunks
// of a split request may deliver from several instances at once.
type pending struct {
	inputs   []Tensor // in the model's input order
	rows     int
	enqueued time.Time

	next int  // the first row no batch has taken yet
	dead bool // answered already (timed out, cancelled, failed): take no more rows

	mu     sync.Mutex
	got    int // rows whose outputs came back
	parts  []part
	out    []Tensor
	err    error
	closed bool
	done   chan struct{}
}

// part is the outputs of rows [from, from+rows) of a request.
type part struct {
	from int
	outs []Tensor
}

func newPending(inputs []Tensor) *pending {
	return &pending{inputs: inputs, rows: inputs[0].Rows(), done: make(chan struct{})}
}

// deliver records the outputs of rows [from, from+n); the last rows to
// come back assemble the request's outputs in row order and wake it.
func (p *pending) deliver(from, n int, outs []Tensor) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.parts = append(p.parts, part{from: from, outs: outs})
	p.got += n
	if p.got < p.rows {
		return
	}
	if len(p.parts) == 1 {
		p.out = p.parts[0].outs
	} else {
		slices.SortFunc(p.parts, func(a, b part) int { return a.from - b.from })
		p.out = make([]Tensor, len(outs))
		pieces := make([]Tensor, len(p.parts))
		for i := range p.out {
			for j := range p.parts {
				pieces[j] = p.parts[j].outs[i]
			}
			p.out[i] = concat(pieces)
		}
	}
	p.parts = nil
	p.closed = true
	close(p.done)
}

// fail answers the request with err unless it was answered already.
func (p *pending) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.err = err
	p.closed = true
	close(p.done)
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
