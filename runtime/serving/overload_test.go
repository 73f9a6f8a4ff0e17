package serving

import (
	"context"
	"strings"
	"testing"
)

// TestFullQueueRefusesBeforeDecodingTheBody fills an endpoint's queue,
// then sends a body that does not even parse: it is refused with 429, not
// 400, because a full queue answers before the body is decoded, so that
// under overload refusing costs no decoding.
func TestFullQueueRefusesBeforeDecodingTheBody(t *testing.T) {
	g := newGate(1)
	ts := newGatedServer(t, g)
	cfg := regressor(1)
	cfg.Batching.MaxQueueSize = 2
	ts.deploy(t, cfg)
	g.armed.Store(true)
	held := ts.postAsync(context.Background(), "/v1/models/reg:predict", `{"instances":[[1,2,3,4]]}`)
	g.wait(t)
	queued := ts.postAsync(context.Background(), "/v1/models/reg:predict", `{"instances":[[1,2,3,4],[1,2,3,4]]}`)
	ts.waitQueued(t, "reg", 2)

	r := ts.post(t, "/v1/models/reg:predict", `{"instances": not json`)
	if r.code != 429 || !strings.Contains(r.raw, "queue full") {
		t.Errorf("undecodable request to a full queue: %d %s; want 429 queue full", r.code, r.raw)
	}
	g.release()
	for _, ch := range []chan result{held, queued} {
		if res := <-ch; res.err != nil || res.r.code != 200 {
			t.Errorf("queued request: %v %d %s", res.err, res.r.code, res.r.raw)
		}
	}
	if r := ts.post(t, "/v1/models/reg:predict", `{"instances": not json`); r.code != 400 {
		t.Errorf("undecodable request to a queue with room: %d %s; want 400", r.code, r.raw)
	}
}

// TestRequestsBeyondWhatTheQueueCouldHoldAreRefusedAtOnce: a version
// admits as many requests in flight as its queue and its instances'
// batches could hold at one row each (here 2 + 8), refuses the next at
// once, and admits again when one is answered. (The reliability suite's
// load test shows it over real HTTP: without it, an overload waits to be
// decoded and nothing is refused.)
func TestRequestsBeyondWhatTheQueueCouldHoldAreRefusedAtOnce(t *testing.T) {
	v := &version{batch: batchConfig{maxQueue: 2, maxRows: 8}, insts: make([]*instance, 1)}
	var dones []func()
	for i := range 10 {
		done, ok := v.admit()
		if !ok {
			t.Fatalf("request %d of 10 refused", i+1)
		}
		dones = append(dones, done)
	}
	if _, ok := v.admit(); ok {
		t.Fatal("an 11th request in flight was admitted; want it refused")
	}
	dones[0]()
	if _, ok := v.admit(); !ok {
		t.Fatal("after one was answered, a request was refused")
	}
}
