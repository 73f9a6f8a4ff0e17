package main

import (
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// closedLoop runs n workers, each calling its own call back to back until
// warmup+duration has passed, and measures the calls that started after
// the warm-up and ended within the run: a call in flight at the end is not
// cut short (a client would report its own error a moment before the end)
// but finishes unmeasured. call returns nil for an answer that succeeded;
// the run's first error is printed, so that a run of failures says why.
func closedLoop(n int, warmup, duration time.Duration, newCall func(worker int) func() error) result {
	cpu0 := cpuTime()
	measureFrom := time.Now().Add(warmup)
	end := measureFrom.Add(duration)
	var (
		mu       sync.Mutex
		all      []time.Duration
		errors   int
		total    atomic.Int64
		firstErr atomic.Pointer[error]
		wg       sync.WaitGroup
	)
	for w := range n {
		call := newCall(w)
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			errs := 0
			for {
				t0 := time.Now()
				if !t0.Before(end) {
					break
				}
				err := call()
				t1 := time.Now()
				if err == nil {
					total.Add(1)
				}
				if t0.Before(measureFrom) || t1.After(end) {
					continue
				}
				if err == nil {
					lat = append(lat, t1.Sub(t0))
				} else {
					firstErr.CompareAndSwap(nil, &err)
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
	if e := firstErr.Load(); e != nil {
		fmt.Fprintln(os.Stderr, "loadgen: first error:", *e)
	}
	slices.Sort(all)
	return result{rps: float64(len(all)) / duration.Seconds(), latencies: all, errors: errors, total: total.Load(), cpu: cpuTime() - cpu0}
}
