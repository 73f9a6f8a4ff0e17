package serving

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// gate wraps every instance's real session (Litestream-style: the fake
// embeds the real thing) to record the rows of each batch and to hold some
// batches until the test opens it, standing in for a slow instance.
type gate struct {
	armed   atomic.Bool
	hold    atomic.Int32 // the next this-many batches wait for a token from open
	open    chan struct{}
	once    sync.Once
	entered chan int // rows of each batch as it starts

	mu      sync.Mutex
	batches []int
}

func newGate(hold int) *gate {
	g := &gate{open: make(chan struct{}), entered: make(chan int, 1000)}
	g.hold.Store(int32(hold))
	return g
}

// install makes s wrap its runners with g; use with newServer.
func (g *gate) install(_ *Options, s *Server) {
	if s != nil {
		s.wrap = func(r runner) runner { return &gatedRunner{runner: r, g: g} }
	}
}

type gatedRunner struct {
	runner
	g *gate
}

func (r *gatedRunner) run(inputs []Tensor) ([]Tensor, error) {
	g := r.g
	if g.armed.Load() {
		rows := inputs[0].Rows()
		g.mu.Lock()
		g.batches = append(g.batches, rows)
		g.mu.Unlock()
		g.entered <- rows
		if g.hold.Add(-1) >= 0 {
			<-g.open
		}
	}
	return r.runner.run(inputs)
}

// step lets one held batch go.
func (g *gate) step() { g.open <- struct{}{} }

// release lets every held batch go, now and later.
func (g *gate) release() { g.once.Do(func() { close(g.open) }) }

// newGatedServer starts a server whose runners pass through g; g opens
// before the server closes, so a failing test cannot hang on a held batch.
func newGatedServer(t *testing.T, g *gate) *testServer {
	ts := newServer(t, g.install)
	t.Cleanup(g.release)
	return ts
}

// sizes returns the rows of every batch run since arming.
func (g *gate) sizes() []int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]int(nil), g.batches...)
}

// wait returns the rows of the next batch to start.
func (g *gate) wait(t *testing.T) int {
	t.Helper()
	select {
	case n := <-g.entered:
		return n
	case <-time.After(10 * time.Second):
		t.Fatal("no batch started within 10s")
		return 0
	}
}

// queued returns the rows waiting in the endpoint's queue.
func (ts *testServer) queued(name string) int {
	v := ts.lookup(name).cur.Load().primary
	v.batcher.mu.Lock()
	defer v.batcher.mu.Unlock()
	return v.batcher.rows
}

// waitQueued polls until the endpoint's queue holds rows rows.
func (ts *testServer) waitQueued(t *testing.T, name string, rows int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for ts.queued(name) != rows {
		if time.Now().After(deadline) {
			t.Fatalf("queue holds %d rows, want %d", ts.queued(name), rows)
		}
		time.Sleep(time.Millisecond)
	}
}
