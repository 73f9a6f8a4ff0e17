package main

import (
	"fmt"
	"strings"
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
	return closedLoop(n, warmup, duration, func(int) func() error {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		req.SetRequestURI(url)
		req.Header.SetMethod(fasthttp.MethodPost)
		req.Header.SetContentType("application/json")
		req.SetBodyRaw(body)
		return func() error {
			if err := hc.Do(req, resp); err != nil {
				return err
			}
			if code := resp.StatusCode(); code != fasthttp.StatusOK {
				return fmt.Errorf("HTTP %d: %.200s", code, resp.Body())
			}
			return nil
		}
	})
}
