package reliability

import (
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// loadClients is how many requests the overload keeps in flight at most.
// A few dozen are busy at a time; the rest absorb the moments when the
// machine stalls the server and answers pile up, which would otherwise
// leave the generator short of ten times the capacity.
const loadClients = 1024

// capacityClients is how many clients measure the capacity: two batches'
// worth, one running and one queued, so that every batch is full and
// none is refused. More would be refused and retry at once, and that
// spinning would take CPU from the model it measures.
const capacityClients = 16

// loadBody is one one-row request for the slow model: the server's cost
// is the model's, and the generator's stays small.
const loadBody = `{"instances":[[20]]}`

// TestEndpointAtTenTimesItsCapacityShedsLoadAndStaysHealthy serves a slow
// model (see slowModelRepo) with `sluice serve`, one scheduler thread and
// one ONNX Runtime thread, measures how many one-row predictions a second
// it answers to capacityClients in a closed loop, then offers more than ten
// times that rate in an open loop through a pool of clients, and checks:
// the generator did offer ten times the capacity (in full mode; five in
// short mode, see below); every answer is a prediction, a 429 (no room in
// the queue) or a 503 (queue timeout), never a 500 or a dropped
// connection; some are 429s and some are predictions; the server's memory
// stays bounded; and after the load the endpoint is ready and predicts. The latencies are figures for
// RELIABILITY.md, measured by a client sharing the server's CPUs, and
// never asserted.
func TestEndpointAtTenTimesItsCapacityShedsLoadAndStaysHealthy(t *testing.T) {
	needORT(t)
	repo := slowModelRepo(t)
	dir := t.TempDir()
	srv := start(t, sluiceCmd(dir, []string{"GOMAXPROCS=1"}, "serve", "--repo", repo.Dir(), "--path", "specs",
		"--listen", "127.0.0.1:0", "--allow-command-trainers"))
	const say = "listening on "
	if !srv.waitFor(say, time.Minute) || !srv.waitFor("Serving 1 endpoints", 3*time.Minute) {
		t.Fatalf("serve did not come up:\n%s", srv.output())
	}
	_, rest, _ := strings.Cut(srv.output(), say)
	base := strings.Fields(rest)[0]
	url := base + "/v1/models/slow:predict"
	body := []byte(loadBody)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: loadClients, MaxConnsPerHost: loadClients}}

	// The full run, whose figures RELIABILITY.md reports, fails unless the
	// generator offered ten times the capacity. The short run in `make
	// test` shares the machine with every other package's tests under the
	// race detector; there a stall of the whole machine can keep the
	// generator's clients busy past ten times, so it asks only for a clear
	// overload, and its assertions stay invariants of the server.
	measure, overload, least := 2*time.Second, 2*time.Second, 5.0
	if full() {
		measure, overload, least = 5*time.Second, 30*time.Second, 10
	}
	pid := srv.cmd.Process.Pid
	loadBefore := loadAverage()
	s0 := readServerSide(client, base, pid)
	capacity, capRes := closedLoop(client, url, body, capacityClients, measure)
	s1 := readServerSide(client, base, pid)
	if capacity < 1 || len(capRes.errs) > 0 {
		t.Fatalf("measuring capacity: %v %v\n%s", capRes.codes, capRes.errs, srv.output())
	}
	idle := rss(pid)

	// The schedule aims 10% above ten times the capacity so that a
	// generator a little behind it still offers ten times.
	target := 11 * capacity
	res := newLoadResult()
	stopMem := make(chan struct{})
	peakC := peakRSS(pid, stopMem)
	stallC := watchStalls(stopMem)
	began, genCPU := time.Now(), selfCPU()
	offered, sent, unsent := openLoop(client, url, body, target, overload, loadClients, res)
	s2, took := readServerSide(client, base, pid), time.Since(began)
	genCPU = selfCPU() - genCPU
	close(stopMem)
	peak, stall := <-peakC, <-stallC

	if srv.exited() {
		t.Fatalf("the server died under load:\n%s", srv.output())
	}
	if offered < least*capacity {
		t.Errorf("the generator offered %.0f requests/s, %.1f times the capacity of %.0f, less than %.0f times (%d due while all %d clients were busy): the load test did not test what it says",
			offered, offered/capacity, capacity, least, unsent, loadClients)
	} else if offered < 10*capacity {
		t.Logf("the generator offered %.1f times the capacity, not ten (%d due while all %d clients were busy): other work on the machine held the generator back", offered/capacity, unsent, loadClients)
	}
	for code, n := range res.codes {
		if code != http.StatusOK && code != http.StatusTooManyRequests && code != http.StatusServiceUnavailable {
			t.Errorf("%d answers with status %d under load", n, code)
		}
	}
	if len(res.errs) > 0 {
		t.Errorf("requests failed without an answer under load: %v", res.errs)
	}
	if res.codes[http.StatusTooManyRequests] == 0 {
		t.Errorf("at %.0f requests/s against a capacity of %.0f, nothing was refused with 429: %v", offered, capacity, res.codes)
	}
	if res.codes[http.StatusOK] == 0 {
		t.Errorf("nothing was answered under load: %v", res.codes)
	}
	const memBound = 1 << 30
	if peak > memBound {
		t.Errorf("the server's memory peaked at %d MiB under load, over the %d MiB bound", peak>>20, memBound>>20)
	}
	if resp, err := client.Post(url, "application/json", strings.NewReader(loadBody)); err != nil {
		t.Errorf("after the load, a predict failed: %v", err)
	} else {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(b), `{"predictions":[[`) {
			t.Errorf("after the load, a predict answered %d: %s", resp.StatusCode, b)
		}
		t.Logf("after the load: %s", b)
	}
	if resp, err := client.Get(base + "/v2/health/ready"); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("after the load, the server is not ready: %v %v", resp, err)
	}
	t.Logf("load: capacity %.0f req/s (one row each, %d clients, %s; %s; %d 429); target %.0f req/s, offered %.0f req/s = %.1fx capacity for %s through %d clients (%d due while all were busy): %d sent, %d ok (%s; queue timeout %s), %d 429 (%s), %d 503 (%s), %d other, %d without answer; RSS %d MiB idle, %d MiB peak",
		capacity, capacityClients, measure, latencies(capRes.okLat), capRes.codes[http.StatusTooManyRequests], target, offered, offered/capacity, overload, loadClients, unsent, sent,
		res.codes[200], latencies(res.okLat), loadTimeout,
		res.codes[429], latencies(res.rejectLat), res.codes[503], latencies(res.otherLat),
		int(sent)-res.codes[200]-res.codes[429]-res.codes[503]-res.failed(), res.failed(), idle>>20, peak>>20)
	t.Logf("server while measuring capacity: %s; under the overload: %s; load generator CPU %.2f s/s; its 5ms sleeps overslept p99 %.1f ms, at most %.1f ms; machine load average %s before, %s after",
		s1.since(s0, measure), s2.since(s1, took), genCPU.Seconds()/took.Seconds(),
		float64(stall[0])/1e6, float64(stall[1])/1e6, loadBefore, loadAverage())
	srv.cmd.Process.Signal(os.Interrupt)
	if err := srv.wait(time.Minute); err != nil {
		t.Errorf("serve after SIGINT: %v", err)
	}
}
