package training

import (
	"os"
	"path/filepath"
	"testing"

	"sluice/internal/ortlib"
)

func TestMain(m *testing.M) {
	code := ortlib.Run(m)
	if runsBench.db != nil {
		runsBench.db.Close()
	}
	if runsBench.dir != "" {
		os.RemoveAll(runsBench.dir)
	}
	os.Exit(code)
}

// needORT skips t when ONNX Runtime is unavailable outside CI.
func needORT(t *testing.T) {
	t.Helper()
	ortlib.Need(t)
}

// loadSession opens testdata/models/name.onnx, closing it with the test.
func loadSession(t *testing.T, name string, opts SessionOptions) *Session {
	t.Helper()
	needORT(t)
	data, err := os.ReadFile(filepath.Join("testdata", "models", name+".onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if opts.Threads == 0 {
		opts.Threads = 1 // two cores are shared by every test binary
	}
	s, err := NewSession(data, opts)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
