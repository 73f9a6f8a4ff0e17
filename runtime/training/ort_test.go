package training

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	ort "github.com/yalue/onnxruntime_go"
)

// ortErr is why ONNX Runtime could not start; tests that need it skip with
// it outside CI. Under CI=true TestMain fails instead.
var ortErr error

func TestMain(m *testing.M) {
	lib, err := ortLibrary()
	if err == nil {
		ort.SetSharedLibraryPath(lib)
		err = ort.InitializeEnvironment(ort.WithLogLevelError())
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			fmt.Fprintf(os.Stderr, "onnx runtime is required under CI: %v\n", err)
			os.Exit(1)
		}
		ortErr = err
	}
	code := m.Run()
	if err == nil {
		ort.DestroyEnvironment()
	}
	if runsBench.db != nil {
		runsBench.db.Close()
	}
	if runsBench.dir != "" {
		os.RemoveAll(runsBench.dir)
	}
	os.Exit(code)
}

// ortLibrary finds the ONNX Runtime library: SLUICE_ORT_LIB, else the path
// scripts/fetch-ort.sh prints.
func ortLibrary() (string, error) {
	if lib := os.Getenv("SLUICE_ORT_LIB"); lib != "" {
		if _, err := os.Stat(lib); err != nil {
			return "", fmt.Errorf("SLUICE_ORT_LIB: %w", err)
		}
		return lib, nil
	}
	script, err := filepath.Abs("../../scripts/fetch-ort.sh")
	if err != nil {
		return "", err
	}
	out, err := exec.Command(script).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("%s: %w: %s", script, err, ee.Stderr)
		}
		return "", fmt.Errorf("%s: %w", script, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// needORT skips t when ONNX Runtime is unavailable outside CI.
func needORT(t *testing.T) {
	t.Helper()
	if ortErr != nil {
		t.Skipf("onnx runtime unavailable: %v", ortErr)
	}
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
