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
