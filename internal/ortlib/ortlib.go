// Package ortlib starts ONNX Runtime for tests. The library is found the
// way the Makefile provides it: SLUICE_ORT_LIB, else the path that
// scripts/fetch-ort.sh prints (fetching it into the cache once). Under
// CI=true a missing library fails the test binary; elsewhere the tests that
// need it skip, saying why.
package ortlib

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

// startErr is why ONNX Runtime could not start in this test binary.
var startErr error

// Run starts ONNX Runtime, runs the tests and returns their exit code;
// call it from TestMain: os.Exit(ortlib.Run(m)).
func Run(m *testing.M) int {
	lib, err := Library()
	if err == nil {
		ort.SetSharedLibraryPath(lib)
		err = ort.InitializeEnvironment(ort.WithLogLevelError())
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			fmt.Fprintf(os.Stderr, "onnx runtime is required under CI: %v\n", err)
			os.Exit(1)
		}
		startErr = err
	}
	code := m.Run()
	if err == nil {
		ort.DestroyEnvironment()
	}
	return code
}

// Need skips t when ONNX Runtime did not start (never under CI, where Main
// has already failed).
func Need(t testing.TB) {
	t.Helper()
	if startErr != nil {
		t.Skipf("onnx runtime unavailable: %v", startErr)
	}
}

// Library returns the path of the ONNX Runtime shared library.
func Library() (string, error) {
	if lib := os.Getenv("SLUICE_ORT_LIB"); lib != "" {
		if _, err := os.Stat(lib); err != nil {
			return "", fmt.Errorf("SLUICE_ORT_LIB: %w", err)
		}
		return lib, nil
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	script := filepath.Join(root, "scripts", "fetch-ort.sh")
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

// moduleRoot finds the directory holding go.mod above the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}
