package training

import (
	"runtime"
	"sync"
)

// chunkRows is how many rows one unit of parallel work covers. Results are
// combined chunk by chunk in order, so sums come out bit-for-bit the same
// whatever the number of threads.
const chunkRows = 4096

// chunks returns the number of chunks n rows divide into.
func chunks(n int) int { return (n + chunkRows - 1) / chunkRows }

// forChunks calls fn(c, lo, hi) for every chunk c of rows [lo, hi) of n,
// on up to threads goroutines (all cores when threads < 1).
func forChunks(n, threads int, fn func(c, lo, hi int)) {
	forEach(chunks(n), threads, func(c int) {
		lo := c * chunkRows
		fn(c, lo, min(lo+chunkRows, n))
	})
}

// forEach calls fn(i) for i in [0, count) on up to threads goroutines.
func forEach(count, threads int, fn func(i int)) {
	if threads < 1 {
		threads = runtime.GOMAXPROCS(0)
	}
	threads = min(threads, count)
	if threads <= 1 {
		for i := range count {
			fn(i)
		}
		return
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	next := 0
	for range threads {
		wg.Go(func() {
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= count {
					return
				}
				fn(i)
			}
		})
	}
	wg.Wait()
}
