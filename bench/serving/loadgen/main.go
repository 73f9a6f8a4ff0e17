// Command loadgen is a closed-loop HTTP load generator: each of N clients
// sends a request, waits for the answer, and sends the next, for a fixed
// time. Each request carries -rows rows (default 1). It prints one
// tab-separated line per client count:
//
//	clients  requests/s  p50_ms  p95_ms  p99_ms  errors  total  cpu_us
//
// where requests/s counts requests, not rows (rows/s is that times
// -rows), total counts the requests answered over the whole run, warm-up
// included, and cpu_us is the load generator's own CPU time (user +
// system) per request over that run: with the server's CPU over the same
// run, the cost of a request on each side.
//
// Only loopback targets make sense here: it is for bench/serving/run.sh.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	url := flag.String("url", "", "endpoint to POST to")
	width := flag.Int("width", 20, "features per row of the request body")
	rows := flag.Int("rows", 1, "rows per request (each row the same random features)")
	format := flag.String("format", "tf", "request: tf ({\"instances\": [[...]]}), v2 (REST), or grpc (v2 ModelInfer to -url's host, model -model)")
	modelName := flag.String("model", "bench", "model name for -format grpc")
	clients := flag.String("clients", "1,2,4,8,16,64", "client counts to run, one after another")
	duration := flag.Duration("duration", 5*time.Second, "measured time per client count")
	warmup := flag.Duration("warmup", time.Second, "unmeasured time before each count")
	client := flag.String("client", "nethttp", "HTTP client for tf and v2: nethttp (Go's) or fasthttp (github.com/valyala/fasthttp's, cheaper)")
	bodyFile := flag.String("body", "", "POST this file's bytes instead of a one-row predict request")
	flag.Parse()
	if !strings.HasPrefix(*url, "http://127.") && !strings.HasPrefix(*url, "http://localhost") {
		fmt.Fprintln(os.Stderr, "loadgen: -url must be a loopback http:// address")
		os.Exit(2)
	}
	if *client != "nethttp" && *client != "fasthttp" {
		fmt.Fprintln(os.Stderr, "loadgen: -client must be nethttp or fasthttp")
		os.Exit(2)
	}
	if *rows < 1 {
		fmt.Fprintln(os.Stderr, "loadgen: -rows must be at least 1")
		os.Exit(2)
	}
	body := requestBody(*format, *width, *rows)
	if *bodyFile != "" {
		b, err := os.ReadFile(*bodyFile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			os.Exit(2)
		}
		body = b
	}
	for _, f := range strings.Split(*clients, ",") {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "loadgen: bad client count %q\n", f)
			os.Exit(2)
		}
		var r result
		if *format == "grpc" {
			r, err = runGRPC(strings.TrimPrefix(*url, "http://"), inferRequest(*modelName, *width, *rows), n, *warmup, *duration)
			if err != nil {
				fmt.Fprintln(os.Stderr, "loadgen:", err)
				os.Exit(1)
			}
		} else if *client == "fasthttp" {
			r = runFast(*url, body, n, *warmup, *duration)
		} else {
			r = run(*url, body, n, *warmup, *duration)
		}
		fmt.Printf("%d\t%.0f\t%.2f\t%.2f\t%.2f\t%d\t%d\t%.1f\n", n, r.rps, r.p(50), r.p(95), r.p(99), r.errors, r.total, r.cpuPerRequest())
	}
}

// requestBody is rows rows of the same width random features.
func requestBody(format string, width, rows int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	vals := make([]string, width)
	for i := range vals {
		vals[i] = strconv.FormatFloat(rng.Float64()*2-1, 'f', 4, 64)
	}
	row := strings.Join(vals, ",")
	if format == "v2" {
		data := strings.Repeat(row+",", rows)
		return []byte(fmt.Sprintf(`{"inputs":[{"name":"input","shape":[%d,%d],"datatype":"FP32","data":[%s]}]}`, rows, width, data[:len(data)-1]))
	}
	all := strings.Repeat("["+row+"],", rows)
	return []byte(`{"instances":[` + all[:len(all)-1] + `]}`)
}

type result struct {
	rps       float64
	latencies []time.Duration
	errors    int
	total     int64         // requests answered in the whole run
	cpu       time.Duration // the process's CPU time over the whole run
}

// cpuPerRequest is the load generator's CPU in µs per answered request.
func (r result) cpuPerRequest() float64 {
	if r.total == 0 {
		return 0
	}
	return float64(r.cpu.Microseconds()) / float64(r.total)
}

// cpuTime is the process's user + system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (r result) p(q float64) float64 {
	if len(r.latencies) == 0 {
		return 0
	}
	i := int(float64(len(r.latencies)-1) * q / 100)
	return float64(r.latencies[i]) / float64(time.Millisecond)
}

// run drives n clients for warmup+duration and measures the last part.
func run(url string, body []byte, n int, warmup, duration time.Duration) result {
	tr := &http.Transport{MaxIdleConns: n, MaxIdleConnsPerHost: n, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	return closedLoop(n, warmup, duration, func(int) func() error {
		return func() error { return post(client, url, body) }
	})
}

func post(c *http.Client, url string, body []byte) error {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, msg)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}
