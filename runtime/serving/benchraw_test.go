package serving

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"sluice/schema"
)

// benchRaw is raw in-process ONNX Runtime with the settings the serving
// benchmark gives Sluice, for bench/serving/run.sh (SLUICE_BENCH_RAW=<how
// long>): SLUICE_BENCH_INSTANCES sessions of SLUICE_BENCH_THREADS intra-op
// threads each (spinning off, as instances are opened), each running
// batches of SLUICE_BENCH_MAX_BATCH rows of zeros back to back on its own
// goroutine, as the instances of a busy endpoint do. It prints
// "rows/s N": the yardstick for end-to-end rows/s at that batch size.
func benchRaw(d time.Duration) int {
	path := os.Getenv("SLUICE_BENCH_MODEL")
	rows, instances, threads := benchNum("SLUICE_BENCH_MAX_BATCH", 64), benchNum("SLUICE_BENCH_INSTANCES", 1), benchNum("SLUICE_BENCH_THREADS", 1)
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "bench raw:", err)
		return 1
	}
	lib, err := findORT()
	if err != nil {
		return fail(err)
	}
	if err := InitORT(lib); err != nil {
		return fail(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fail(err)
	}
	sig, err := readSignature(data)
	if err != nil {
		return fail(err)
	}
	group := []schema.InstanceGroup{{Count: instances, Kind: "cpu", IntraOpThreads: threads}}
	insts, err := openInstances(data, sig, group)
	if err != nil {
		return fail(err)
	}
	defer closeInstances(insts)
	inputs := zeroInputs(sig, rows)
	for _, inst := range insts { // the first run of a session is slow
		if _, err := inst.r.run(inputs); err != nil {
			return fail(err)
		}
	}
	var done atomic.Int64
	var failed atomic.Value
	stop := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for _, inst := range insts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				if _, err := inst.r.run(inputs); err != nil {
					failed.Store(err)
					return
				}
				done.Add(int64(rows))
			}
		}()
	}
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
		return fail(err)
	}
	fmt.Printf("rows/s %.0f\n", float64(done.Load())/time.Since(start).Seconds())
	return 0
}

// benchNum reads a number from the environment, or gives def.
func benchNum(key string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(key)); err == nil {
		return n
	}
	return def
}
