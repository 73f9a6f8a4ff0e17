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
	"syscall"
	"time"
)

// loadResult counts the answers of a load run.
type loadResult struct {
	mu        sync.Mutex
	codes     map[int]int
	errs      map[string]int
	okLat     []time.Duration
	rejectLat []time.Duration
	otherLat  []time.Duration // 503s
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
	default:
		r.otherLat = append(r.otherLat, took)
	}
}

// failed is how many requests got no answer.
func (r *loadResult) failed() int {
	n := 0
	for _, c := range r.errs {
		n += c
	}
	return n
}

func quantile(xs []time.Duration, q float64) time.Duration {
	if len(xs) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), xs...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// latencies formats p50 and p99 of xs in milliseconds.
func latencies(xs []time.Duration) string {
	ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 1, 64) }
	return fmt.Sprintf("p50 %s ms, p99 %s ms", ms(quantile(xs, .5)), ms(quantile(xs, .99)))
}

// post sends one predict and records its answer, timed from the send to
// the last byte of the answer.
func post(c *http.Client, url string, body []byte, res *loadResult) {
	began := time.Now()
	resp, err := c.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		res.add(0, err, time.Since(began))
		return
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	res.add(resp.StatusCode, err, time.Since(began))
}

// closedLoop keeps clients requests in flight for d and returns the
// predictions answered per second.
func closedLoop(c *http.Client, url string, body []byte, clients int, d time.Duration) (float64, *loadResult) {
	res := newLoadResult()
	var wg sync.WaitGroup
	end := time.Now().Add(d)
	for range clients {
		wg.Go(func() {
			for time.Now().Before(end) {
				post(c, url, body, res)
			}
		})
	}
	wg.Wait()
	return float64(res.codes[http.StatusOK]) / d.Seconds(), res
}

// openLoop offers rate requests a second for d through a pool of clients:
// a request falls due every 1/rate and is handed to an idle client; one
// due while every client is busy is counted in unsent, not sent. It
// returns the rate actually offered: sent over the time it took, which is
// d when the generator kept its schedule. An unbounded generator (a
// goroutine and a connection per request) on the server's own CPUs
// measures its own thrashing more than the server.
func openLoop(c *http.Client, url string, body []byte, rate float64, d time.Duration, clients int, res *loadResult) (offered float64, sent, unsent int64) {
	interval := time.Duration(float64(time.Second) / rate)
	tickets := make(chan struct{})
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for range tickets {
				post(c, url, body, res)
			}
		})
	}
	began := time.Now()
	end := began.Add(d)
	for next := began; next.Before(end); next = next.Add(interval) {
		time.Sleep(time.Until(next))
		select {
		case tickets <- struct{}{}:
			sent++
		default:
			unsent++
		}
	}
	took := max(time.Since(began), d)
	close(tickets)
	wg.Wait()
	return float64(sent) / took.Seconds(), sent, unsent
}

// peakRSS samples the resident memory of process pid every 20ms until
// stop is closed, and then returns the highest seen on done.
func peakRSS(pid int, stop <-chan struct{}) <-chan int64 {
	done := make(chan int64, 1)
	go func() {
		var peak int64
		for {
			peak = max(peak, rss(pid))
			select {
			case <-stop:
				done <- peak
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return done
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

// serverSide is what the server says of itself: its batches, from its
// metrics, and the CPU time its process used.
type serverSide struct {
	batches, rows, compute float64 // count, rows and seconds of ONNX Runtime batches
	cpu                    time.Duration
}

// readServerSide reads base's /metrics and pid's CPU time.
func readServerSide(c *http.Client, base string, pid int) serverSide {
	var s serverSide
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		// utime and stime are fields 14 and 15, after the parenthesised name.
		if i := strings.LastIndexByte(string(b), ')'); i >= 0 {
			if f := strings.Fields(string(b[i+1:])); len(f) > 12 {
				ut, _ := strconv.ParseInt(f[11], 10, 64)
				st, _ := strconv.ParseInt(f[12], 10, 64)
				s.cpu = time.Duration(ut+st) * time.Second / 100 // USER_HZ
			}
		}
	}
	resp, err := c.Get(base + "/metrics")
	if err != nil {
		return s
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, l := range strings.Split(string(b), "\n") {
		name, rest, _ := strings.Cut(l, "{")
		f := strings.Fields(rest)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseFloat(f[len(f)-1], 64)
		switch name {
		case "sluice_serving_compute_duration_seconds_sum":
			s.compute += v
		case "sluice_serving_compute_duration_seconds_count":
			s.batches += v
		case "sluice_serving_batch_rows_sum":
			s.rows += v
		}
	}
	return s
}

// since formats what the server did between s0 and s over d: its batches'
// mean rows and compute time, and its CPU use.
func (s serverSide) since(s0 serverSide, d time.Duration) string {
	n := s.batches - s0.batches
	if n == 0 {
		return "no batches"
	}
	return fmt.Sprintf("%.0f batches of %.1f rows, %.1f ms each in ONNX Runtime; server CPU %.2f s/s",
		n, (s.rows-s0.rows)/n, 1000*(s.compute-s0.compute)/n, (s.cpu-s0.cpu).Seconds()/d.Seconds())
}

// loadAverage is the machine's one-minute load average, for the figures:
// the server shares its CPUs with whatever else runs.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}

// selfCPU is the CPU time this process (the load generator) has used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// watchStalls measures how late this process wakes from 5ms sleeps until
// stop is closed, and then sends the p99 and the longest delay: when the
// machine holds the generator back it holds back the server too (a child
// in the same session, which the kernel schedules as one group), and a
// latency figure is then the machine's as much as the server's.
func watchStalls(stop <-chan struct{}) <-chan [2]time.Duration {
	done := make(chan [2]time.Duration, 1)
	go func() {
		var late []time.Duration
		for {
			select {
			case <-stop:
				done <- [2]time.Duration{quantile(late, .99), quantile(late, 1)}
				return
			default:
			}
			began := time.Now()
			time.Sleep(5 * time.Millisecond)
			late = append(late, time.Since(began)-5*time.Millisecond)
		}
	}()
	return done
}
