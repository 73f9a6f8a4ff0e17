package serving

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// rssMiB is this process's resident size.
func rssMiB(b *testing.B) float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skip("no /proc: ", err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	b.Skip("no VmRSS")
	return 0
}

// BenchmarkSwapMemory hot-swaps one endpoint b.N times between two
// versions of a model (SLUICE_SWAP_MODEL, e.g. the example's forest; the
// test regressor by default) and reports the resident size before and
// after: a swap frees the old sessions, so the size must level off.
//
//	SLUICE_SWAP_MODEL=path/model.onnx go test -run '^$' -bench SwapMemory -benchtime 150x ./runtime/serving
func BenchmarkSwapMemory(b *testing.B) {
	if ortErr != nil {
		b.Skip(ortErr)
	}
	srv, err := New(Options{ORTLibrary: ortLib})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close(b.Context())
	before := rssMiB(b)
	for i := 0; b.Loop(); i++ {
		cfg := regressor(1 + i%2)
		if p := os.Getenv("SLUICE_SWAP_MODEL"); p != "" {
			cfg.Path, cfg.Inputs = p, nil
		}
		cfg.Version = i + 1
		if err := srv.Deploy(b.Context(), cfg); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(before, "rss-before-MiB")
	b.ReportMetric(rssMiB(b), "rss-after-MiB")
}
