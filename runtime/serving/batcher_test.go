package serving

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"sluice/schema"
)

// result is an HTTP answer delivered to a goroutine's channel.
type result struct {
	r   response
	err error
}

// postAsync sends a predict request in the background.
func (ts *testServer) postAsync(ctx context.Context, path, body string) chan result {
	ch := make(chan result, 1)
	go func() {
		r, err := send(ctx, "POST", ts.url+path, body)
		ch <- result{r, err}
	}()
	return ch
}

func TestBatchesCountRowsNotRequests(t *testing.T) {
	g := newGate(1)
	ts := newGatedServer(t, g)
	cfg := regressor(1)
	cfg.MaxBatchSize = 4
	ts.deploy(t, cfg)
	g.armed.Store(true)

	first := ts.postAsync(context.Background(), "/v1/models/reg:predict", `{"instances":`+rowsJSON(testRows(1, 4))+`}`)
	g.wait(t) // the one instance holds this batch
	reqs := map[int]chan result{}
	for _, n := range []int{3, 3, 2} {
		reqs[n*10+len(reqs)] = ts.postAsync(context.Background(), "/v1/models/reg:predict", `{"instances":`+rowsJSON(testRows(n, 4))+`}`)
	}
	ts.waitQueued(t, "reg", 8)
	g.release()
	for key, ch := range reqs {
		res := <-ch
		n := key / 10
		if res.err != nil || res.r.code != 200 {
			t.Fatalf("%d-row request: %v %d %s", n, res.err, res.r.code, res.r.raw)
		}
		want := reference(t, model("regressor_v1.onnx"), testRows(n, 4))
		if got := floats(t, res.r.body["predictions"]); !near(got, want) {
			t.Errorf("%d-row request split across batches: %v, want %v", n, got, want)
		}
	}
	<-first
	// 8 queued rows in requests of 3, 3 and 2 make two full batches of 4.
	if got := g.sizes(); !slices.Equal(got, []int{1, 4, 4}) {
		t.Errorf("batch rows %v, want [1 4 4]", got)
	}
}

func TestRequestLargerThanMaxBatchSizeIsSplitAndReassembled(t *testing.T) {
	g := newGate(0)
	ts := newGatedServer(t, g)
	cfg := regressor(1)
	cfg.MaxBatchSize = 4
	ts.deploy(t, cfg)
	g.armed.Store(true)
	rows := testRows(10, 4)
	r := ts.post(t, "/v1/models/reg:predict", `{"instances":`+rowsJSON(rows)+`}`)
	if r.code != 200 {
		t.Fatalf("status %d: %s", r.code, r.raw)
	}
	if got, want := floats(t, r.body["predictions"]), reference(t, model("regressor_v1.onnx"), rows); !near(got, want) {
		t.Errorf("predictions %v, want %v", got, want)
	}
	if got := g.sizes(); !slices.Equal(got, []int{4, 4, 2}) {
		t.Errorf("batch rows %v, want [4 4 2]", got)
	}
}

func TestPartialBatchWaitsForARequestStillArriving(t *testing.T) {
	g := newGate(0)
	ts := newGatedServer(t, g)
	cfg := regressor(1)
	cfg.MaxBatchSize = 2
	// Long enough that a batch of one would only go out after the test's
	// own 10s limit: the arriving request must complete the batch instead.
	cfg.Batching.MaxQueueDelay = time.Minute
	ts.deploy(t, cfg)
	g.armed.Store(true)

	// b's client sends its headers and half its body: the server is
	// reading it, so a batch can expect its row.
	pr, pw := io.Pipe()
	req, err := http.NewRequest("POST", ts.url+"/v1/models/reg:predict", pr)
	if err != nil {
		t.Fatal(err)
	}
	b := make(chan result, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b <- result{err: err}
			return
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body)
		b <- result{r: response{code: resp.StatusCode}}
	}()
	io.WriteString(pw, `{"instances":[[4,3,`)
	v := ts.lookup("reg").cur.Load().primary
	for v.batcher.arriving.Load() != 1 {
		time.Sleep(time.Millisecond)
	}
	a := ts.postAsync(context.Background(), "/v1/models/reg:predict", `{"instances":[[1,2,3,4]]}`)
	ts.waitQueued(t, "reg", 1) // a waits for b
	io.WriteString(pw, `2,1]]}`)
	pw.Close()
	for _, ch := range []chan result{a, b} {
		if res := <-ch; res.err != nil || res.r.code != 200 {
			t.Fatalf("request: %v %+v", res.err, res.r)
		}
	}
	if got := g.sizes(); !slices.Equal(got, []int{2}) {
		t.Errorf("batch rows %v, want one batch of 2", got)
	}
}

func TestLoneRequestDoesNotWaitOutTheDelay(t *testing.T) {
	g := newGate(0)
	ts := newGatedServer(t, g)
	cfg := regressor(1)
	cfg.MaxBatchSize = 8
	cfg.Batching.MaxQueueDelay = time.Hour // never reached within the test
	ts.deploy(t, cfg)
	g.armed.Store(true)
	// One connection, never idle while its request is in flight: an idle
	// keep-alive connection is a client that might send a row, and a
	// partial batch waits for those (up to the delay).
	tr := &http.Transport{MaxConnsPerHost: 1}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	for range 3 {
		resp, err := client.Post(ts.url+"/v1/models/reg:predict", "application/json", strings.NewReader(`{"instances":[[1,2,3,4]]}`))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	if got := g.sizes(); !slices.Equal(got, []int{1, 1, 1}) {
		t.Errorf("batch rows %v, want three batches of 1", got)
	}
}

func TestPreferredBatchSizeGoesWithoutWaiting(t *testing.T) {
	g := newGate(1)
	ts := newGatedServer(t, g)
	cfg := regressor(1)
	cfg.MaxBatchSize = 8
	cfg.Batching.PreferredBatchSizes = []int{2}
	cfg.Batching.MaxQueueDelay = 20 * time.Millisecond
	ts.deploy(t, cfg)
	g.armed.Store(true)
	first := ts.postAsync(context.Background(), "/v1/models/reg:predict", `{"instances":[[1,2,3,4]]}`)
	g.wait(t)
	var chs []chan result
	for range 3 {
		chs = append(chs, ts.postAsync(context.Background(), "/v1/models/reg:predict", `{"instances":[[1,2,3,4]]}`))
	}
	ts.waitQueued(t, "reg", 3)
	g.release()
	for _, ch := range append(chs, first) {
		if res := <-ch; res.err != nil || res.r.code != 200 {
			t.Fatalf("request: %v %+v", res.err, res.r)
		}
	}
	// 3 queued rows: a preferred batch of 2 at once, the last row after
	// the delay.
	if got := g.sizes(); !slices.Equal(got, []int{1, 2, 1}) {
		t.Errorf("batch rows %v, want [1 2 1]", got)
	}
}

func TestFullQueueAnswers429AtOnce(t *testing.T) {
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

	r := ts.post(t, "/v1/models/reg:predict", `{"instances":[[1,2,3,4]]}`)
	if r.code != 429 || r.header.Get("Retry-After") == "" || !strings.Contains(r.raw, "queue full") {
		t.Errorf("request to a full queue: %d Retry-After=%q %s; want 429 with Retry-After", r.code, r.header.Get("Retry-After"), r.raw)
	}
	r = ts.post(t, "/v2/models/reg/infer", `{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}`)
	if r.code != 429 || r.body["error"] == nil {
		t.Errorf("v2 request to a full queue: %d %s; want 429 {\"error\"}", r.code, r.raw)
	}
	g.release()
	for _, ch := range []chan result{held, queued} {
		if res := <-ch; res.err != nil || res.r.code != 200 {
			t.Errorf("queued request: %v %d %s", res.err, res.r.code, res.r.raw)
		}
	}
}

func TestRequestTimingOutInTheQueueAnswers503(t *testing.T) {
	g := newGate(1)
	ts := newGatedServer(t, g)
	cfg := regressor(1)
	cfg.Batching.Timeout = 20 * time.Millisecond
	ts.deploy(t, cfg)
	g.armed.Store(true)
	held := ts.postAsync(context.Background(), "/v1/models/reg:predict", `{"instances":[[1,2,3,4]]}`)
	g.wait(t)
	r := ts.post(t, "/v1/models/reg:predict", `{"instances":[[1,2,3,4]]}`)
	if r.code != 503 || !strings.Contains(r.raw, "timed out in the queue") {
		t.Errorf("queued past the timeout: %d %s, want 503", r.code, r.raw)
	}
	if n := ts.queued("reg"); n != 0 {
		t.Errorf("the timed-out request left %d rows in the queue", n)
	}
	g.release()
	// A request an instance had started on is not cut off by the timeout.
	if res := <-held; res.err != nil || res.r.code != 200 {
		t.Errorf("held request: %v %d %s", res.err, res.r.code, res.r.raw)
	}
}

// The queue has one timer, armed for its oldest request: after it fires
// it must be armed again for the next one, or a later request would wait
// past its timeout.
func TestEveryQueuedRequestTimesOutOnItsOwnDeadline(t *testing.T) {
	g := newGate(1)
	ts := newGatedServer(t, g)
	cfg := regressor(1)
	cfg.MaxBatchSize = 1
	cfg.Batching.Timeout = 50 * time.Millisecond
	ts.deploy(t, cfg)
	g.armed.Store(true)
	held := ts.postAsync(context.Background(), "/v1/models/reg:predict", `{"instances":[[1,2,3,4]]}`)
	g.wait(t) // the one instance holds this batch until the end
	first := ts.postAsync(context.Background(), "/v1/models/reg:predict", `{"instances":[[1,2,3,4]]}`)
	ts.waitQueued(t, "reg", 1)
	time.Sleep(20 * time.Millisecond)
	second := ts.postAsync(context.Background(), "/v1/models/reg:predict", `{"instances":[[4,3,2,1]]}`)
	for i, ch := range []chan result{first, second} {
		select {
		case res := <-ch:
			if res.err != nil || res.r.code != 503 || !strings.Contains(res.r.raw, "timed out in the queue") {
				t.Errorf("queued request %d: %v %d %s, want 503", i+1, res.err, res.r.code, res.r.raw)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("queued request %d was never timed out", i+1)
		}
	}
	if n := ts.queued("reg"); n != 0 {
		t.Errorf("the timed-out requests left %d rows in the queue", n)
	}
	g.release()
	if res := <-held; res.err != nil || res.r.code != 200 {
		t.Errorf("held request: %v %d %s", res.err, res.r.code, res.r.raw)
	}
}

// The timeout counts from the request's arrival, not from when it enters
// the queue (Triton's timeout semantics): a request whose body took longer
// than the timeout to arrive answers 503 though an instance is free, so
// what an accepted request waits is bounded by the timeout and one batch,
// however long reading and decoding it took.
func TestTimeoutCountsFromArrivalNotFromTheQueue(t *testing.T) {
	ts := newServer(t)
	cfg := regressor(1)
	cfg.Batching.Timeout = 50 * time.Millisecond
	ts.deploy(t, cfg)

	pr, pw := io.Pipe()
	req, err := http.NewRequest("POST", ts.url+"/v1/models/reg:predict", pr)
	if err != nil {
		t.Fatal(err)
	}
	slow := make(chan result, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			slow <- result{err: err}
			return
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		slow <- result{r: response{code: resp.StatusCode, raw: string(raw)}}
	}()
	io.WriteString(pw, `{"instances":[[4,3,`)
	v := ts.lookup("reg").cur.Load().primary
	for v.batcher.arriving.Load() != 1 { // the server has begun reading it
		time.Sleep(time.Millisecond)
	}
	time.Sleep(2 * cfg.Batching.Timeout)
	io.WriteString(pw, `2,1]]}`)
	pw.Close()
	res := <-slow
	if res.err != nil || res.r.code != 503 || !strings.Contains(res.r.raw, "timed out in the queue") {
		t.Errorf("request whose body took twice the timeout: %v %d %s; want 503 timed out", res.err, res.r.code, res.r.raw)
	}
	if n := ts.queued("reg"); n != 0 {
		t.Errorf("the timed-out request left %d rows in the queue", n)
	}
	if r := ts.post(t, "/v1/models/reg:predict", `{"instances":[[4,3,2,1]]}`); r.code != 200 {
		t.Errorf("a prompt request after it: %d %s; want 200", r.code, r.raw)
	}
}

func TestSlowInstanceDoesNotBlockTheOthers(t *testing.T) {
	g := newGate(1)
	ts := newGatedServer(t, g)
	cfg := regressor(1)
	cfg.Instances = []schema.InstanceGroup{{Count: 2, Kind: "cpu", IntraOpThreads: 1}}
	ts.deploy(t, cfg)
	g.armed.Store(true)
	stuck := ts.postAsync(context.Background(), "/v1/models/reg:predict", `{"instances":[[1,2,3,4]]}`)
	g.wait(t) // one instance now holds its batch until the test ends
	for i := range 20 {
		if r := ts.post(t, "/v1/models/reg:predict", `{"instances":[[1,2,3,4]]}`); r.code != 200 {
			t.Fatalf("request %d while one instance is stuck: %d %s", i, r.code, r.raw)
		}
	}
	g.release()
	if res := <-stuck; res.err != nil || res.r.code != 200 {
		t.Errorf("stuck request: %v %+v", res.err, res.r)
	}
}

func TestClientDisconnectLeavesOthersServed(t *testing.T) {
	g := newGate(2)
	ts := newGatedServer(t, g)
	cfg := regressor(1)
	cfg.MaxBatchSize = 2
	ts.deploy(t, cfg)
	g.armed.Store(true)
	held := ts.postAsync(context.Background(), "/v1/models/reg:predict", `{"instances":[[9,9,9,9]]}`)
	g.wait(t) // the instance holds this batch

	// Queued: a request whose client leaves before any batch takes it is
	// dropped from the queue.
	ctx, cancel := context.WithCancel(context.Background())
	gone := ts.postAsync(ctx, "/v1/models/reg:predict", `{"instances":[[5,5,5,5]]}`)
	ts.waitQueued(t, "reg", 1)
	cancel()
	if res := <-gone; !errors.Is(res.err, context.Canceled) {
		t.Fatalf("cancelled client: %v", res.err)
	}
	ts.waitQueued(t, "reg", 0)

	// Mid-batch: a and gone2 share the next batch, which the instance
	// holds; gone2's client disconnects; a still gets its answer.
	a := ts.postAsync(context.Background(), "/v1/models/reg:predict", `{"instances":[[1,2,3,4]]}`)
	ctx2, cancel2 := context.WithCancel(context.Background())
	gone2 := ts.postAsync(ctx2, "/v1/models/reg:predict", `{"instances":[[4,3,2,1]]}`)
	ts.waitQueued(t, "reg", 2)
	g.step()
	if n := g.wait(t); n != 2 {
		t.Fatalf("held batch has %d rows, want 2", n)
	}
	cancel2()
	if res := <-gone2; !errors.Is(res.err, context.Canceled) {
		t.Fatalf("cancelled client: %v", res.err)
	}
	g.release()
	for _, ch := range []chan result{held, a} {
		if res := <-ch; res.err != nil || res.r.code != 200 {
			t.Fatalf("request sharing the server with disconnected ones: %v %d %s", res.err, res.r.code, res.r.raw)
		}
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r, err := send(context.Background(), "POST", ts.url+"/v1/models/reg:predict", `{"instances":[[1,1,1,1]]}`); err != nil || r.code != 200 {
				t.Errorf("request after the disconnects: %v %d %s", err, r.code, r.raw)
			}
		}()
	}
	wg.Wait()
}
