package serving

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
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

// TestRequestsBeyondWhatTheQueueCouldHoldAreRefusedAtOnce holds requests
// in flight before the queue (their bodies never arrive, as a server
// busy decoding would hold them): once more are in flight than the queue
// and the instances could take at one row each, the next is refused with
// 429 at once, although the queue is empty; when they go, requests are
// served again.
func TestRequestsBeyondWhatTheQueueCouldHoldAreRefusedAtOnce(t *testing.T) {
	ts := newServer(t)
	cfg := regressor(1)
	cfg.Batching.MaxQueueSize = 2 // and max_batch_size 8, one instance: 10 in flight
	ts.deploy(t, cfg)
	addr := strings.TrimPrefix(ts.url, "http://")
	var stalled []net.Conn
	for range 10 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "POST /v1/models/reg:predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n")
		stalled = append(stalled, c)
	}
	deadline := time.Now().Add(10 * time.Second)
	var r response
	for time.Now().Before(deadline) {
		if r = ts.post(t, "/v1/models/reg:predict", `{"instances":[[1,2,3,4]]}`); r.code == 429 {
			break
		}
		time.Sleep(10 * time.Millisecond) // the stalled requests are still reaching the handler
	}
	if r.code != 429 {
		t.Fatalf("with 10 requests in flight and room for 10, a request got %d %s; want 429", r.code, r.raw)
	}
	for _, c := range stalled {
		c.Close()
	}
	for time.Now().Before(deadline) {
		if r = ts.post(t, "/v1/models/reg:predict", `{"instances":[[1,2,3,4]]}`); r.code == 200 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("after the stalled requests went, a request got %d %s; want 200", r.code, r.raw)
}
