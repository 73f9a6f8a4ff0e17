package main

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// runFast is run with fasthttp's client: the same closed loop, about half
// the CPU per request of net/http's client, so the generator takes less of
// the cores it shares with the server under test (whichever server that
// is: every one gets the same client).
func runFast(url string, body []byte, n int, warmup, duration time.Duration) result {
	addr := strings.TrimPrefix(url, "http://")
	addr, _, _ = strings.Cut(addr, "/")
	hc := &fasthttp.HostClient{Addr: addr, MaxConns: n, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
	defer hc.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), warmup+duration)
	defer cancel()
	start := time.Now()
	cpu0 := cpuTime()
	measureFrom := start.Add(warmup)
	var mu sync.Mutex
	var all []time.Duration
	errors := 0
	var total atomic.Int64
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			req.SetRequestURI(url)
			req.Header.SetMethod(fasthttp.MethodPost)
			req.Header.SetContentType("application/json")
			req.SetBodyRaw(body)
			var lat []time.Duration
			errs := 0
			for ctx.Err() == nil {
				t0 := time.Now()
				err := hc.Do(req, resp)
				ok := err == nil && resp.StatusCode() == fasthttp.StatusOK
				t1 := time.Now()
				if ok {
					total.Add(1)
				}
				if t0.Before(measureFrom) || ctx.Err() != nil {
					continue
				}
				if ok {
					lat = append(lat, t1.Sub(t0))
				} else {
					errs++
				}
			}
			mu.Lock()
			all = append(all, lat...)
			errors += errs
			mu.Unlock()
		}()
	}
	wg.Wait()
	slices.Sort(all)
	return result{rps: float64(len(all)) / duration.Seconds(), latencies: all, errors: errors, total: total.Load(), cpu: cpuTime() - cpu0}
}
