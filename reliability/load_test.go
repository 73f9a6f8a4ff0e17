package reliability

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// loadEndpoint is the fixtures' endpoint for the load test: the model's
// own inputs, a queue of 256 rows (four requests) and a 500ms queue
// timeout, so that an overload must show as 429s and 503s rather than as
// a growing queue.
const loadEndpoint = `package sluice

endpoints: fraud: {
	model: "fraud-detector"
	alias: "production"
	max_batch_size: 64
	dynamic_batching: {max_queue_delay: "2ms", max_queue_size: 256, timeout: "500ms"}
	instance_groups: [{count: 1, kind: "cpu"}]
}
`

// loadTimeout is loadEndpoint's queue timeout.
const loadTimeout = 500 * time.Millisecond

// loadClients is how many requests the overload keeps in flight at most.
const loadClients = 512

// rowsPerRequest makes each request heavy enough that the server, not the
// load generator sharing its CPUs, is what saturates.
const rowsPerRequest = 64

// loadResult counts the answers of a load run.
type loadResult struct {
	mu        sync.Mutex
	codes     map[int]int
	errs      map[string]int
	okLat     []time.Duration
	rejectLat []time.Duration
	sent      atomic.Int64
}

func newLoadResult() *loadResult {
	return &loadResult{codes: map[int]int{}, errs: map[string]int{}}
}

func (r *loadResult) add(code int, err error, took time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		msg := err.Error()
		if i := strings.LastIndex(msg, ": "); i >= 0 {
			msg = msg[i+2:]
		}
		r.errs[msg]++
		return
	}
	r.codes[code]++
	switch code {
	case http.StatusOK:
		r.okLat = append(r.okLat, took)
	case http.StatusTooManyRequests:
		r.rejectLat = append(r.rejectLat, took)
	}
}

func quantile(xs []time.Duration, q float64) time.Duration {
	if len(xs) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), xs...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// predictBody is one request of rowsPerRequest rows.
func predictBody() []byte {
	var b bytes.Buffer
	b.WriteString(`{"instances":[`)
	for i := range rowsPerRequest {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(fraudInstance)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// fraudInstance is one row of the example models' inputs.
const fraudInstance = `{"total_purchases":[3],"avg_order_value":[50],"days_since_last_order":[2],` +
	`"preferred_category":["books"],"account_age_days":[100],"refund_rate":[0.1],"category":["books"],` +
	`"risk_score":[0.2],"chargeback_rate":[0.01],"amount":[20],"channel":["web"],"hour_of_day":[3]}`

// post sends one predict and records its answer.
func post(c *http.Client, url string, body []byte, res *loadResult) {
	began := time.Now()
	resp, err := c.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		res.add(0, err, time.Since(began))
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	res.add(resp.StatusCode, nil, time.Since(began))
}

// rss is the resident memory of process pid, in bytes.
func rss(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// TestEndpointAtTenTimesItsCapacityShedsLoadAndStaysHealthy serves the
// example's forest with `sluice serve`, measures how many requests a
// second it answers with 32 clients in a closed loop, then offers ten
// times that rate in an open loop through 512 clients (what they cannot
// take is counted, not sent). Every answer is a prediction, a 429
// (queue full) or a 503 (queue timeout), never a 500 or a dropped
// connection; some are 429s; the server's memory stays bounded; and after
// the load the endpoint is ready and predicts. Figures are logged for
// RELIABILITY.md.
func TestEndpointAtTenTimesItsCapacityShedsLoadAndStaysHealthy(t *testing.T) {
	needORT(t)
	repo := exampleRepo(t)
	repo.Write(specPath+"/serving.cue", loadEndpoint)
	repo.promote(t, 2)
	repo.Commit("serve the forest with a bounded queue")
	dir := t.TempDir()
	// One scheduler thread and one ORT session keep the server's capacity
	// within what a load generator on the same machine can offer ten
	// times over.
	srv := start(t, sluiceCmd(dir, []string{"GOMAXPROCS=1"}, "serve", "--repo", repo.Dir(), "--path", specPath, "--listen", "127.0.0.1:0"))
	const say = "listening on "
	if !srv.waitFor(say, time.Minute) || !srv.waitFor("Serving 1 endpoints", 2*time.Minute) {
		t.Fatalf("serve did not come up:\n%s", srv.output())
	}
	_, rest, _ := strings.Cut(srv.output(), say)
	base := strings.Fields(rest)[0]
	url := base + "/v1/models/fraud:predict"
	body := predictBody()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: loadClients, MaxConnsPerHost: loadClients}}

	measure := time.Second
	overload := 2 * time.Second
	if full() {
		measure, overload = 5*time.Second, 30*time.Second
	}
	capRes := newLoadResult()
	var wg sync.WaitGroup
	end := time.Now().Add(measure)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) {
				post(client, url, body, capRes)
			}
		}()
	}
	wg.Wait()
	capacity := float64(capRes.codes[http.StatusOK]) / measure.Seconds()
	if capacity < 1 {
		t.Fatalf("the endpoint answered no prediction while measuring capacity: %v %v\n%s", capRes.codes, capRes.errs, srv.output())
	}
	idle := rss(srv.cmd.Process.Pid)

	rate := 10 * capacity
	res := newLoadResult()
	var peak atomic.Int64
	stopMem := make(chan struct{})
	go func() {
		for {
			if m := rss(srv.cmd.Process.Pid); m > peak.Load() {
				peak.Store(m)
			}
			select {
			case <-stopMem:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	// An open loop through a pool of clients: a request is due every
	// interval and taken by an idle client; when all are busy it is counted
	// as not sent. An unbounded generator on the same two CPUs only
	// measures its own thrashing (thousands of connections, ports and
	// goroutines), not the server.
	interval := time.Duration(float64(time.Second) / rate)
	tickets := make(chan struct{})
	var unsent atomic.Int64
	for range loadClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range tickets {
				post(client, url, body, res)
			}
		}()
	}
	began := time.Now()
	for next := began; time.Since(began) < overload; next = next.Add(interval) {
		time.Sleep(time.Until(next))
		select {
		case tickets <- struct{}{}:
			res.sent.Add(1)
		default:
			unsent.Add(1)
		}
	}
	close(tickets)
	offered := float64(res.sent.Load()) / time.Since(began).Seconds()
	wg.Wait()
	close(stopMem)

	if srv.exited() {
		t.Fatalf("the server died under load:\n%s", srv.output())
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
	if peak.Load() > memBound {
		t.Errorf("the server's memory peaked at %d MiB under load, over the %d MiB bound", peak.Load()>>20, memBound>>20)
	}
	after := newLoadResult()
	post(client, url, body, after)
	if after.codes[http.StatusOK] != 1 {
		t.Errorf("after the load, a predict answered %v %v", after.codes, after.errs)
	}
	if resp, err := client.Get(base + "/v2/health/ready"); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("after the load, the server is not ready: %v %v", resp, err)
	}
	t.Logf("load: capacity %.0f req/s (%d rows each, 32 clients, %s); target %.0f req/s, offered %.0f req/s for %s through %d clients (%d due while all were busy): %d sent, %d ok (p50 %s, p99 %s; queue timeout %s), %d 429 (p50 %s, p99 %s), %d 503, %d other, %d without answer; RSS %d MiB idle, %d MiB peak",
		capacity, rowsPerRequest, measure, rate, offered, overload, loadClients, unsent.Load(), res.sent.Load(),
		res.codes[200], quantile(res.okLat, .5).Round(time.Millisecond), quantile(res.okLat, .99).Round(time.Millisecond), loadTimeout,
		res.codes[429], quantile(res.rejectLat, .5).Round(time.Millisecond), quantile(res.rejectLat, .99).Round(time.Millisecond),
		res.codes[503], int(res.sent.Load())-res.codes[200]-res.codes[429]-res.codes[503]-len(res.errs), len(res.errs), idle>>20, peak.Load()>>20)
	srv.cmd.Process.Signal(os.Interrupt)
	if err := srv.wait(time.Minute); err != nil {
		t.Errorf("serve after SIGINT: %v", err)
	}
}
