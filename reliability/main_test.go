package reliability

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"sluice/internal/ortlib"
)

// sluiceBin is the binary every test drives, built once by TestMain (or
// given as SLUICE_BIN, as `make reliability` does with bin/sluice).
var sluiceBin string

// ortLib is the ONNX Runtime library the children load, or "" with
// ortErr saying why there is none.
var (
	ortLib string
	ortErr error
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "sluice-reliability-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if sluiceBin = os.Getenv("SLUICE_BIN"); sluiceBin == "" {
		sluiceBin = filepath.Join(dir, "sluice")
		// Built without -race even under `go test -race`: the children are
		// the system under test, and the race detector would only slow the
		// trials without checking this process.
		out, err := exec.Command("go", "build", "-o", sluiceBin, "sluice/cmd/sluice").CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "build sluice: %v\n%s", err, out)
			return 1
		}
	} else if sluiceBin, err = filepath.Abs(sluiceBin); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ortLib, ortErr = ortlib.Library()
	if ortErr != nil && os.Getenv("CI") == "true" {
		fmt.Fprintf(os.Stderr, "onnx runtime is required under CI: %v\n", ortErr)
		return 1
	}
	return m.Run()
}

// needORT skips t when there is no ONNX Runtime library (never under CI).
func needORT(t *testing.T) {
	t.Helper()
	if ortErr != nil {
		t.Skipf("onnx runtime unavailable: %v", ortErr)
	}
}

// full says whether the suite runs in full mode (SLUICE_RELIABILITY=full).
func full() bool { return os.Getenv("SLUICE_RELIABILITY") == "full" }

// trials is how many trials a test runs: short in `go test`, the given
// full count under SLUICE_RELIABILITY=full, or SLUICE_RELIABILITY_TRIALS.
func trials(short, fullN int) int {
	if n, err := strconv.Atoi(os.Getenv("SLUICE_RELIABILITY_TRIALS")); err == nil && n > 0 {
		return n
	}
	if full() {
		return fullN
	}
	return short
}

// newRand returns a generator seeded from SLUICE_RELIABILITY_SEED, or from
// the clock; the seed is logged so a failing run can be repeated.
func newRand(t *testing.T) *rand.Rand {
	seed, err := strconv.ParseUint(os.Getenv("SLUICE_RELIABILITY_SEED"), 10, 64)
	if err != nil {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with SLUICE_RELIABILITY_SEED=%d)", seed, seed)
	return rand.New(rand.NewPCG(seed, seed^0x5eed))
}
