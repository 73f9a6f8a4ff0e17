package serving

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sluice/schema"
)

// benchModel writes a random MLP of the given sizes with cmd/gen-testmodels.
func benchModel(b *testing.B, sizes string) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "mlp.onnx")
	cmd := exec.Command("go", "run", "../../cmd/gen-testmodels", "-mlp", sizes, "-o", path)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("gen-testmodels: %v: %s", err, out)
	}
	return path
}

// BenchmarkHandlerOneRow is the in-process cost of one one-row TF Serving
// request through the handler, batcher and ONNX Runtime (no network), on
// the 20→256→256→1 MLP, from parallel callers.
func BenchmarkHandlerOneRow(b *testing.B) {
	if ortErr != nil {
		b.Skip(ortErr)
	}
	s, err := New(Options{ORTLibrary: ortLib})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close(context.Background())
	for _, delay := range []time.Duration{0, time.Millisecond} {
		cfg := Config{Endpoint: "mlp", Version: 1, Path: benchModel(b, "20,256,256,1"), MaxBatchSize: 64,
			Batching:  schema.DynamicBatching{MaxQueueDelay: delay, MaxQueueSize: 4096},
			Instances: []schema.InstanceGroup{{Count: 1, Kind: "cpu", IntraOpThreads: 1}}}
		if err := s.Deploy(context.Background(), cfg); err != nil {
			b.Fatal(err)
		}
		row := strings.Repeat("0.125,", 19) + "0.5"
		body := `{"instances":[[` + row + `]]}`
		h := s.Handler()
		b.Run("delay="+delay.String(), func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(32)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := httptest.NewRequest("POST", "/v1/models/mlp:predict", strings.NewReader(body))
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK {
						b.Fatalf("status %d: %s", rec.Code, rec.Body)
					}
				}
			})
		})
	}
}

// BenchmarkSessionLargeMLP is raw in-process ONNX Runtime on the
// compute-bound MLP 64→1024→1024→1024→1: rows/s at each batch size and
// thread count, the yardstick for end-to-end serving throughput.
func BenchmarkSessionLargeMLP(b *testing.B) {
	if ortErr != nil {
		b.Skip(ortErr)
	}
	data, err := os.ReadFile(benchModel(b, "64,1024,1024,1024,1"))
	if err != nil {
		b.Fatal(err)
	}
	sig, err := readSignature(data)
	if err != nil {
		b.Fatal(err)
	}
	for _, threads := range []int{1, 2} {
		s, err := openSession(data, sig, placement{}, threads)
		if err != nil {
			b.Fatal(err)
		}
		for _, rows := range []int{1, 8, 32, 64} {
			in := Tensor{Name: "input", DType: Float32, Shape: []int64{int64(rows), 64}, F32: make([]float32, rows*64)}
			b.Run(fmt.Sprintf("threads=%d/rows=%d", threads, rows), func(b *testing.B) {
				for b.Loop() {
					if _, err := s.run([]Tensor{in}); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
			})
		}
		s.close()
	}
}
