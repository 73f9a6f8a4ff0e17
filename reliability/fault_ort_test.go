package reliability

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// stateSerial is the state file's serial, which every write moves.
func stateSerial(t *testing.T, dir string) string {
	t.Helper()
	rows, err := rowsOf(openState(t, dir), `SELECT serial FROM state_meta`)
	if err != nil || len(rows) != 1 {
		t.Fatalf("read serial: %v %v", rows, err)
	}
	return rows[0]
}

// editFile replaces old with new in the fixture file at name, failing the
// test when old is not there.
func (f *fixture) editFile(t *testing.T, name, old, new string) {
	t.Helper()
	p := f.Path(name)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s does not hold %q", name, old)
	}
	if err := os.WriteFile(p, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestApplyWithoutAWorkingONNXRuntimeChangesNothing applies the example,
// then a commit that retrains fraud-lr with the ONNX Runtime library
// missing, or a file that is not a library, or a library that is not ONNX
// Runtime: each apply exits non-zero with an error naming the file, and
// the state file is as it was, serial included.
func TestApplyWithoutAWorkingONNXRuntimeChangesNothing(t *testing.T) {
	t.Parallel()
	needORT(t)
	repo := exampleRepo(t)
	dir := t.TempDir()
	args := []string{"apply", "--repo", repo.Dir(), "--path", specPath, "--auto-approve"}
	if p := start(t, sluiceCmd(dir, nil, args...)); p.wait(2*time.Minute) != nil {
		t.Fatalf("first apply failed:\n%s", p.output())
	}
	repo.editFile(t, specPath+"/training.cue", "C:        1.0", "C:        2.0")
	repo.Commit("retrain fraud-lr")
	before, serial := canonical(t, dir), stateSerial(t, dir)

	notALib := filepath.Join(t.TempDir(), "libonnxruntime.so.1")
	if err := os.WriteFile(notALib, []byte("not a shared library\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, lib := range map[string]string{
		"missing":         filepath.Join(t.TempDir(), "libonnxruntime.so.1"),
		"not a library":   notALib,
		"another library": otherSharedLibrary(t),
	} {
		t.Run(name, func(t *testing.T) {
			p := start(t, sluiceCmd(dir, []string{"SLUICE_ORT_LIB=" + lib}, args...))
			err := p.wait(2 * time.Minute)
			out := p.output()
			if err == nil {
				t.Fatalf("apply with %s succeeded:\n%s", lib, out)
			}
			if !strings.Contains(out, "experiments.fraud-lr needs onnx runtime") || !strings.Contains(out, lib) {
				t.Errorf("the error does not say that training needs onnx runtime from %s:\n%s", lib, out)
			}
			if strings.Contains(out, "materializing") || strings.Contains(out, "train…") {
				t.Errorf("apply started working before finding onnx runtime unusable:\n%s", out)
			}
			if got := canonical(t, dir); got != before {
				t.Errorf("the state changed:\n%s", diffLines(before, got))
			}
			if got := stateSerial(t, dir); got != serial {
				t.Errorf("the state serial moved from %s to %s", serial, got)
			}
		})
	}
}

// otherSharedLibrary is a shared library that is not ONNX Runtime: the
// system's zlib.
func otherSharedLibrary(t *testing.T) string {
	for _, p := range []string{"/lib/x86_64-linux-gnu/libz.so.1", "/usr/lib/x86_64-linux-gnu/libz.so.1",
		"/lib/aarch64-linux-gnu/libz.so.1", "/usr/lib/libz.so.1", "/lib/libz.so.1"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("no zlib shared library to stand in for a wrong onnx runtime")
	return ""
}
