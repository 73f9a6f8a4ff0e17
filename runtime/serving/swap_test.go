package serving

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sluice/schema"
)

// stopped reports whether a version's batcher has been closed.
func stopped(v *version) bool {
	v.batcher.mu.Lock()
	defer v.batcher.mu.Unlock()
	return v.batcher.stopped
}

func TestHotSwapUnderLoadFailsNoRequest(t *testing.T) {
	ts := newServer(t)
	ts.deploy(t, regressor(1))
	row := testRows(1, 4)
	body := `{"instances":` + rowsJSON(row) + `}`
	want := map[string][]float64{
		"1": reference(t, model("regressor_v1.onnx"), row),
		"2": reference(t, model("regressor_v2.onnx"), row),
	}

	// floor is the version every request started from now on must get.
	var floor atomic.Int32
	floor.Store(1)
	var stop atomic.Bool
	var served, failed atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for c := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load() && i < 5000; i++ {
				min := floor.Load()
				r, err := send(context.Background(), "POST", ts.url+"/v1/models/reg:predict", body)
				switch {
				case err != nil || r.code != 200:
					failed.Add(1)
					select {
					case errs <- fmt.Sprintf("client %d: %v %d %s", c, err, r.code, r.raw):
					default:
					}
				case r.version < fmt.Sprint(min):
					failed.Add(1)
					errs <- fmt.Sprintf("client %d: request started after the swap to %d answered by version %s", c, min, r.version)
				case !near(floats(t, r.body["predictions"]), want[r.version]):
					failed.Add(1)
					errs <- fmt.Sprintf("client %d: version %s answered %v, which is not its output", c, r.version, r.raw)
				default:
					served.Add(1)
				}
			}
		}()
	}
	waitServed := func(n int64) {
		for start := served.Load(); served.Load() < start+n && failed.Load() == 0 && !stop.Load(); {
			time.Sleep(time.Millisecond)
		}
	}
	waitServed(200)
	swaps := []func(*Config){
		func(c *Config) {},                     // v2
		func(c *Config) { c.MaxBatchSize = 2 }, // a batch-size change
		func(c *Config) { c.Instances = []schema.InstanceGroup{{Count: 2, Kind: "cpu", IntraOpThreads: 1}} },
		func(c *Config) { c.Batching.MaxQueueDelay = time.Millisecond },
	}
	for i, change := range swaps {
		cfg := regressor(2)
		change(&cfg)
		ts.deploy(t, cfg)
		floor.Store(2)
		if st, _ := ts.Status("reg"); st.State != StateReady || st.Serving != 2 {
			t.Errorf("after swap %d: status %+v", i, st)
		}
		waitServed(200)
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if failed.Load() > 0 || served.Load() < 1000 {
		t.Errorf("%d requests served, %d failed; want 0 failed", served.Load(), failed.Load())
	}
}

func TestDeployingTheSameConfigIsANoOp(t *testing.T) {
	ts := newServer(t)
	ts.deploy(t, regressor(1))
	before := ts.lookup("reg").cur.Load().primary
	ts.deploy(t, regressor(1))
	if after := ts.lookup("reg").cur.Load().primary; after != before || stopped(before) {
		t.Error("redeploying the same config replaced the serving version")
	}

	// A batch-size change is a swap: new sessions, the old closed.
	cfg := regressor(1)
	cfg.MaxBatchSize = 3
	ts.deploy(t, cfg)
	after := ts.lookup("reg").cur.Load().primary
	if after == before || !stopped(before) || after.batch.maxRows != 3 {
		t.Errorf("batch-size change: swapped %v, old closed %v, max rows %d", after != before, stopped(before), after.batch.maxRows)
	}
}

func TestRefusedDeployKeepsTheOldVersionServing(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.onnx")
	if err := os.WriteFile(garbage, []byte("this is not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		change func(*Config)
		reason string
		says   string
	}{
		{"missing file", func(c *Config) { c.Path = filepath.Join(dir, "absent.onnx") }, ReasonModelLoadFailed, "no such file"},
		{"not a model", func(c *Config) { c.Path = garbage }, ReasonModelLoadFailed, "onnx runtime cannot load the model"},
		{"checksum", func(c *Config) { c.SHA256 = strings.Repeat("0", 64) }, ReasonChecksumMismatch, "want 0000"},
		{"signature", func(c *Config) {
			c.Path = model("wide.onnx")
			c.Inputs = []schema.Input{{Name: "input", Type: "float32", Shape: []int64{4}}}
		}, ReasonSignatureMismatch, "declared row shape [4], the model takes [6]"},
		{"config", func(c *Config) { c.Endpoint = "Bad Name" }, ReasonConfigInvalid, "endpoint name"},
	}
	ts := newServer(t)
	ts.deploy(t, regressor(1))
	serving := ts.lookup("reg").cur.Load().primary
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := regressor(2)
			tt.change(&cfg)
			err := ts.Deploy(context.Background(), cfg)
			if ReasonOf(err) != tt.reason || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("deploy: %v; want reason %s saying %q", err, tt.reason, tt.says)
			}
			if tt.reason == ReasonConfigInvalid {
				return // names no endpoint that exists
			}
			st, _ := ts.Status("reg")
			if st.State != StateFailed || st.Reason != tt.reason || st.Serving != 1 || !strings.Contains(st.Message, "version 1 keeps serving") {
				t.Errorf("status %+v, want Failed/%s with version 1 serving", st, tt.reason)
			}
			if ts.lookup("reg").cur.Load().primary != serving || stopped(serving) {
				t.Error("a refused deploy touched the serving version")
			}
			if r := ts.post(t, "/v1/models/reg:predict", `{"instances":[[1,2,3,4]]}`); r.code != 200 || r.version != "1" {
				t.Errorf("request after the refused deploy: %d version %q %s", r.code, r.version, r.raw)
			}
		})
	}
	// The next good deploy recovers.
	ts.deploy(t, regressor(2))
	if st, _ := ts.Status("reg"); st.State != StateReady || st.Serving != 2 {
		t.Errorf("after a good deploy: %+v", st)
	}
}

func TestInFlightRequestFinishesOnTheOldVersion(t *testing.T) {
	g := newGate(1)
	ts := newGatedServer(t, g)
	ts.deploy(t, regressor(1))
	old := ts.lookup("reg").cur.Load().primary
	g.armed.Store(true)
	held := ts.postAsync(context.Background(), "/v1/models/reg:predict", `{"instances":[[1,2,3,4]]}`)
	g.wait(t)

	deployed := make(chan error, 1)
	go func() { deployed <- ts.Deploy(context.Background(), regressor(2)) }()
	for {
		if st, _ := ts.Status("reg"); st.Serving == 2 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if r := ts.post(t, "/v1/models/reg:predict", `{"instances":[[1,2,3,4]]}`); r.code != 200 || r.version != "2" {
		t.Errorf("request after the switch: %d version %q", r.code, r.version)
	}
	if stopped(old) {
		t.Fatal("the old version closed with a request in flight")
	}
	g.release()
	if res := <-held; res.err != nil || res.r.code != 200 || res.r.version != "1" {
		t.Errorf("in-flight request: %v %d version %q, want 200 from version 1", res.err, res.r.code, res.r.version)
	}
	if err := <-deployed; err != nil {
		t.Fatal(err)
	}
	if !stopped(old) {
		t.Error("Deploy returned before the drained old version closed")
	}
}

func TestRemovedEndpointAnswers404(t *testing.T) {
	ts := newServer(t)
	ts.deploy(t, regressor(1))
	v := ts.lookup("reg").cur.Load().primary
	if err := ts.Remove(context.Background(), "reg"); err != nil {
		t.Fatal(err)
	}
	if !stopped(v) {
		t.Error("removed endpoint's sessions still open")
	}
	if r := ts.post(t, "/v1/models/reg:predict", `{"instances":[[1,2,3,4]]}`); r.code != 404 {
		t.Errorf("removed endpoint: %d %s", r.code, r.raw)
	}
	if _, ok := ts.Status("reg"); ok {
		t.Error("removed endpoint still has a status")
	}
}

func TestCloseDrainsRequestsAndRefusesLaterDeploys(t *testing.T) {
	g := newGate(1)
	ts := newGatedServer(t, g)
	ts.deploy(t, regressor(1))
	v := ts.lookup("reg").cur.Load().primary
	g.armed.Store(true)
	held := ts.postAsync(context.Background(), "/v1/models/reg:predict", `{"instances":[[1,2,3,4]]}`)
	g.wait(t)
	closed := make(chan error, 1)
	go func() { closed <- ts.Close(context.Background()) }()
	for !ts.closed.Load() {
		time.Sleep(time.Millisecond)
	}
	if err := ts.Deploy(context.Background(), regressor(2)); err == nil || !strings.Contains(err.Error(), "server closed") {
		t.Errorf("deploy during Close: %v", err)
	}
	if stopped(v) {
		t.Fatal("Close closed the sessions under a request in flight")
	}
	g.release()
	if res := <-held; res.err != nil || res.r.code != 200 {
		t.Errorf("request in flight during Close: %v %d %s", res.err, res.r.code, res.r.raw)
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if !stopped(v) || len(ts.Statuses()) != 0 {
		t.Error("Close left an endpoint open")
	}
}
