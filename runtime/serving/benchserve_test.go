package serving

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"syscall"
	"time"

	"sluice/schema"
)

// benchServe runs one endpoint, "bench", for bench/serving/run.sh, which
// starts the compiled test binary with SLUICE_BENCH_SERVE=<listen address>
// (the deps rule keeps runtime packages out of bench/ mains). The model and
// its batching come from the environment:
//
//	SLUICE_BENCH_MODEL      the .onnx file
//	SLUICE_BENCH_MAX_BATCH  max_batch_size (1: batching off; default 64)
//	SLUICE_BENCH_DELAY      max_queue_delay (default 0)
//	SLUICE_BENCH_INSTANCES  CPU instances (default 1)
//	SLUICE_BENCH_THREADS    intra-op threads per instance (default 1)
//	SLUICE_BENCH_CPUPROFILE where to write a CPU profile, if anywhere
//	SLUICE_BENCH_MEMPROFILE where to write an allocation profile at exit
//	SLUICE_BENCH_SWAP_EVERY hot-swap the endpoint this often (versions 1
//	                        and 2 of the same file, alternately); the count
//	                        of swaps and failed swaps goes to stderr at exit
//	SLUICE_BENCH_SWAP_AFTER wait this long before the first swap
//	SLUICE_BENCH_SWAPS      stop after this many swaps (default: no limit)
//
// It prints "listening on ADDR" and serves until SIGTERM or SIGINT.
func benchServe(addr string) int {
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "bench serve:", err)
		return 1
	}
	lib, err := findORT()
	if err != nil {
		return fail(err)
	}
	s, err := New(Options{ORTLibrary: lib})
	if err != nil {
		return fail(err)
	}
	num := func(key string, def int) int {
		if n, err := strconv.Atoi(os.Getenv(key)); err == nil {
			return n
		}
		return def
	}
	delay, _ := time.ParseDuration(os.Getenv("SLUICE_BENCH_DELAY"))
	cfg := Config{
		Endpoint: "bench", Version: 1, Path: os.Getenv("SLUICE_BENCH_MODEL"),
		MaxBatchSize: num("SLUICE_BENCH_MAX_BATCH", 64),
		Batching:     schema.DynamicBatching{MaxQueueDelay: delay, MaxQueueSize: 4096},
		Instances: []schema.InstanceGroup{{
			Count: num("SLUICE_BENCH_INSTANCES", 1), Kind: "cpu", IntraOpThreads: num("SLUICE_BENCH_THREADS", 1),
		}},
	}
	if err := s.Deploy(context.Background(), cfg); err != nil {
		return fail(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fail(err)
	}
	if path := os.Getenv("SLUICE_BENCH_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return fail(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if path := os.Getenv("SLUICE_BENCH_MEMPROFILE"); path != "" {
		defer func() {
			if f, err := os.Create(path); err == nil {
				pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	go s.Serve(ln)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	if every, _ := time.ParseDuration(os.Getenv("SLUICE_BENCH_SWAP_EVERY")); every > 0 {
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			swaps, failed := 0, 0
			var first, last time.Time
			defer func() {
				fmt.Fprintf(os.Stderr, "swaps %d failed %d over %.1fs\n", swaps, failed, last.Sub(first).Seconds())
			}()
			after, _ := time.ParseDuration(os.Getenv("SLUICE_BENCH_SWAP_AFTER"))
			select {
			case <-stop:
				return
			case <-time.After(after):
			}
			limit := num("SLUICE_BENCH_SWAPS", -1)
			for tick := time.NewTicker(every); swaps != limit; {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				cfg.Version = 3 - cfg.Version
				if first.IsZero() {
					first = time.Now()
				}
				err := s.Deploy(context.Background(), cfg)
				last = time.Now()
				if err != nil {
					failed++
					continue
				}
				swaps++
			}
		}()
		<-sig
		close(stop)
		<-done
	} else {
		<-sig
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		return fail(err)
	}
	return 0
}
