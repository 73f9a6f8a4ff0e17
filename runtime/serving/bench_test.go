package serving

import (
	"context"
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
	_ = os.Getenv
}
