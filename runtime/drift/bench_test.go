package drift

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"sluice/schema"
)

// benchData is the KS + PSI benchmark's input: bench/drift/gen's files in
// $SLUICE_BENCH_DRIFT_DIR (bench/drift/run.sh), or one 1M × 1M feature.
func benchData(b *testing.B) (ref, cur [][]float64) {
	dir := os.Getenv("SLUICE_BENCH_DRIFT_DIR")
	if dir == "" {
		return [][]float64{genSpec{Seed: 1, N: 1000000, Scale: 1}.sample()},
			[][]float64{genSpec{Seed: 2, N: 1000000, Scale: 1, Shift: 0.002}.sample()}
	}
	features, _ := strconv.Atoi(os.Getenv("SLUICE_BENCH_DRIFT_FEATURES"))
	if features == 0 {
		features = 20
	}
	read := func(name string) [][]float64 {
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			b.Fatal(err)
		}
		all := make([]float64, len(raw)/8)
		for i := range all {
			all[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
		}
		cols := make([][]float64, features)
		n := len(all) / features
		for i := range cols {
			cols[i] = all[i*n : (i+1)*n]
		}
		return cols
	}
	return read("ref.f64"), read("cur.f64")
}

type ksPSI struct {
	KSStatistic float64 `json:"ks_statistic"`
	KSPValue    float64 `json:"ks_pvalue"`
	PSI         float64 `json:"psi"`
}

// coldKSPSI is everything scipy and numpy do for one feature: sort both
// samples, KS, reference deciles, both histograms, PSI.
func coldKSPSI(ref, cur []float64) ksPSI {
	r, c := append([]float64(nil), ref...), append([]float64(nil), cur...)
	sortFloats(r)
	sortFloats(c)
	ks := KS2Samp(r, c)
	edges := QuantileEdges(r, DefaultBins)
	return ksPSI{ks.Statistic, ks.PValue, PSI(histogramSorted(edges, r), histogramSorted(edges, c))}
}

// fittedKSPSI is the work left per check once the reference is fitted.
func fittedKSPSI(ref []float64, edges []float64, refCounts []int64, cur []float64) ksPSI {
	c := append([]float64(nil), cur...)
	sortFloats(c)
	ks := KS2Samp(ref, c)
	return ksPSI{ks.Statistic, ks.PValue, PSI(refCounts, histogramSorted(edges, c))}
}

// parallel runs f for every feature on workers goroutines.
func parallel(n, workers int, f func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}

// BenchmarkKSPSI measures KS and PSI over every feature, as the peer
// scipy.stats.ks_2samp + numpy PSI does, and checks the numbers against the
// peer's ($SLUICE_BENCH_DRIFT_PEER, bench/drift/peer.py's JSON) to 1e-9.
func BenchmarkKSPSI(b *testing.B) {
	ref, cur := benchData(b)
	out := make([]ksPSI, len(ref))
	check := func(b *testing.B) {
		path := os.Getenv("SLUICE_BENCH_DRIFT_PEER")
		if path == "" {
			return
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		var peer struct{ Features []ksPSI }
		if err := json.Unmarshal(raw, &peer); err != nil {
			b.Fatal(err)
		}
		worst := 0.0
		for i, p := range peer.Features {
			for _, d := range [][2]float64{{out[i].KSStatistic, p.KSStatistic}, {out[i].KSPValue, p.KSPValue}, {out[i].PSI, p.PSI}} {
				if !near(d[0], d[1]) {
					b.Errorf("feature %d: %.17g, peer %.17g", i, d[0], d[1])
				}
				worst = math.Max(worst, math.Abs(d[0]-d[1]))
			}
		}
		b.ReportMetric(worst, "max-abs-diff")
	}
	b.Run("cold-1cpu", func(b *testing.B) {
		for b.Loop() {
			for i := range ref {
				out[i] = coldKSPSI(ref[i], cur[i])
			}
		}
		check(b)
	})
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			parallel(len(ref), runtime.GOMAXPROCS(0), func(i int) { out[i] = coldKSPSI(ref[i], cur[i]) })
		}
		check(b)
	})
	b.Run("fitted", func(b *testing.B) {
		sorted, edges, counts := make([][]float64, len(ref)), make([][]float64, len(ref)), make([][]int64, len(ref))
		for i := range ref {
			sorted[i] = append([]float64(nil), ref[i]...)
			sortFloats(sorted[i])
			edges[i] = QuantileEdges(sorted[i], DefaultBins)
			counts[i] = histogramSorted(edges[i], sorted[i])
		}
		b.ResetTimer()
		for b.Loop() {
			parallel(len(ref), runtime.GOMAXPROCS(0), func(i int) { out[i] = fittedKSPSI(sorted[i], edges[i], counts[i], cur[i]) })
		}
		check(b)
	})
}

// genSource makes columns on demand, so a report over many wide columns
// never holds more than the one being judged.
type genSource struct {
	rows  int
	seed  uint64
	shift float64
}

func (g genSource) Rows() int64 { return int64(g.rows) }

func (g genSource) Column(name string) (Column, bool, error) {
	var i int
	if _, err := fmt.Sscanf(name, "f%d", &i); err != nil {
		return Column{}, false, nil
	}
	shift := 0.0
	if i%2 == 1 {
		shift = g.shift // every other feature drifts
	}
	return Column{Name: name, Numbers: genSpec{Seed: g.seed + uint64(i)*7919, N: g.rows, Scale: 1, Shift: shift}.sample()}, true, nil
}

// BenchmarkReport evaluates a policy over ROWS current rows × COLS columns
// ($SLUICE_BENCH_DRIFT_REPORT="ROWSxCOLS", default 100000x20) against a
// reference of as many rows, reporting fit and report time and peak RSS.
func BenchmarkReport(b *testing.B) {
	rows, cols := 100000, 20
	if v := os.Getenv("SLUICE_BENCH_DRIFT_REPORT"); v != "" {
		if _, err := fmt.Sscanf(v, "%dx%d", &rows, &cols); err != nil {
			b.Fatalf("SLUICE_BENCH_DRIFT_REPORT=%q: want ROWSxCOLS", v)
		}
	}
	p := &schema.Drift{Endpoint: "bench", MinSamples: 500, DatasetDriftShare: 0.5}
	for i := 0; i < cols; i++ {
		p.Features = append(p.Features, fmt.Sprintf("f%d", i))
	}
	start := time.Now()
	refSrc := genSource{rows: rows, seed: 1}
	ref := &Reference{Model: "bench", Version: 1, Rows: int64(rows), Features: map[string]*FeatureReference{}}
	for _, name := range p.Features {
		c, _, _ := refSrc.Column(name)
		ref.Features[name] = FitColumn(c)
	}
	fit := time.Since(start)
	b.ResetTimer()
	var r *Report
	for b.Loop() {
		var err error
		r, err = Evaluate(p, ref, genSource{rows: rows, seed: 1 << 40, shift: 0.1}, Options{})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if r.DriftedFeatures != cols/2 {
		b.Errorf("%d of %d features drifted, want every other one", r.DriftedFeatures, cols)
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	b.ReportMetric(fit.Seconds(), "fit-s")
	b.ReportMetric(float64(ru.Maxrss)/1024, "peak-rss-MB")
}

// BenchmarkCaptureWrite is the capture writer's cost per row: encoding
// and the batched insert, the CPU a serving process spends off the
// request path for each captured request (ns/row is wall time, cpu-ns/row
// the CPU). Each row is a request of its own, with a new id: "server"
// ids are the serving runtime's (a prefix and a zero-padded counter, so
// each sorts after the one before), "random" ones are what a client may
// send (UUIDv4-like, 32 random hex digits), and "same" gives every row one
// id, as this benchmark did before it had these cases.
func BenchmarkCaptureWrite(b *testing.B) {
	for _, ids := range []string{"server", "random", "same"} {
		b.Run("ids="+ids, func(b *testing.B) { benchmarkCaptureWrite(b, ids) })
	}
}

func benchmarkCaptureWrite(b *testing.B, ids string) {
	db := openStoreB(b)
	c := NewCapture(db, CaptureOptions{Buffer: 1 << 20})
	defer c.Close(context.Background())
	// A request of one row as the serving runtime hands it over: the
	// version's name slices, shared by every request, and its values.
	nums, cats := []string{"amount", "hour_of_day", "total_purchases"}, []string{"channel"}
	reqs := make([]Batch, 1000)
	for i := range reqs {
		reqs[i] = Batch{Endpoint: "fraud", RequestID: "0123456789abcdef-1a2b", Version: 3, Time: time.Now(), Rows: 1,
			NumericNames: nums, Numbers: []float64{12.5, 14, 31}, CategoryNames: cats, Categories: []string{"web"},
			Width: 2, Predictions: []float64{0.93, 0.07}}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var n uint64
	var gen time.Duration // making the ids, which is not the writer's
	before := cpuNow()
	b.ResetTimer()
	for b.Loop() {
		g := cpuNow()
		for i := range reqs {
			switch ids {
			case "server":
				n++
				reqs[i].RequestID = fmt.Sprintf("0123456789abcdef-%012x", n)
			case "random":
				reqs[i].RequestID = fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64())
			}
		}
		gen += cpuNow() - g
		for i := range reqs {
			c.CaptureBatch(reqs[i])
		}
		c.Flush(context.Background())
	}
	cpu := cpuNow() - before - gen
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(reqs)), "ns/row")
	// The process's CPU (user and system) per row: what capture takes
	// from the cores that also serve.
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*len(reqs)), "cpu-ns/row")
}

// cpuNow is the process's user and system CPU so far.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkFeedbackIndex is what the capture writer no longer pays: the
// first feedback after 100,000 captured requests indexes all their ids
// (cpu-ns/row is the process's CPU for that feedback, per indexed id).
func BenchmarkFeedbackIndex(b *testing.B) {
	for _, ids := range []string{"server", "random"} {
		b.Run("ids="+ids, func(b *testing.B) {
			const n = 100_000
			rng := rand.New(rand.NewPCG(1, 2))
			var cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				db := openStoreB(b)
				c := NewCapture(db, CaptureOptions{Buffer: n})
				nums := []string{"amount"}
				var last string
				for i := range n {
					id := fmt.Sprintf("0123456789abcdef-%012x", i)
					if ids == "random" {
						id = fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64())
					}
					last = id
					c.CaptureBatch(Batch{Endpoint: "fraud", RequestID: id, Version: 1, Time: time.Now(), Rows: 1,
						NumericNames: nums, Numbers: []float64{float64(i)}})
				}
				c.Close(context.Background())
				b.StartTimer()
				before := cpuNow()
				if err := AddFeedback(context.Background(), db, "fraud", last, 1, time.Now()); err != nil {
					b.Fatal(err)
				}
				cpu += cpuNow() - before
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/row")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*n), "cpu-ns/row")
		})
	}
}

// BenchmarkCaptureWindow is a drift check's read of its window: 200,000
// captured rows (three numbers, a category, two outputs) into a Frame.
func BenchmarkCaptureWindow(b *testing.B) {
	const n = 200_000
	db := openStoreB(b)
	c := NewCapture(db, CaptureOptions{Buffer: n})
	at := time.Now().Add(-time.Minute)
	rows := make([]Row, n)
	for i := range rows {
		f := float64(i)
		rows[i] = Row{Endpoint: "fraud", RequestID: fmt.Sprintf("0123456789abcdef-%012x", i), Version: 1, Time: at,
			Numeric:    map[string]float64{"amount": f / 7, "hour_of_day": float64(i % 24), "total_purchases": f},
			Category:   map[string]string{"channel": []string{"web", "app", "store"}[i%3]},
			Prediction: []float64{f / n, 1 - f/n}}
	}
	c.Capture(rows)
	if err := c.Close(context.Background()); err != nil || c.Written() != n {
		b.Fatalf("wrote %d of %d rows: %v", c.Written(), n, err)
	}
	q := WindowQuery{Endpoint: "fraud", Version: 1, From: at.Add(-time.Hour), To: at.Add(time.Hour),
		Numerical: []string{"amount", "hour_of_day", "total_purchases"}, Categorical: []string{"channel"}, Outputs: 2}
	b.ResetTimer()
	for b.Loop() {
		f, err := Window(context.Background(), db, q)
		if err != nil || f.N != n {
			b.Fatalf("window of %d rows: %v", f.N, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/row")
}
