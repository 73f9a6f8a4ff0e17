package reliability

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// applyMoments are the lines of apply's progress after which a trial may
// kill it, so that every phase is hit, not only the long ones: the
// materializations, each training, the registration that ends it, the
// promotion and the endpoint. "" kills at a random moment from the start.
var applyMoments = []string{
	"",
	"sources.transactions: creating…",
	"features.user_stats: materializing…",
	"features.transaction_features: materializing…",
	"features.transaction_features: Ready",
	"experiments.fraud-lr: train…",
	"experiments.fraud-rf: train…",
	"experiments.fraud-lr: Ready (Trained)",
	"experiments.fraud-rf: Ready (Trained)",
	"models.fraud-detector: ",
	"endpoints.fraud: ",
}

// crashStats are the figures a crash test reports.
type crashStats struct {
	trials, kills, midway, failures, orphans int
}

func (s crashStats) String() string {
	return fmt.Sprintf("%d trials, %d SIGKILLs (%d while working), %d failures, %d orphaned model files, 0 bytes lost",
		s.trials, s.kills, s.midway, s.failures, s.orphans)
}

// TestApplyKilledAtRandomMomentsEndsAsIfUninterrupted applies the example
// (train, register, promote production to v2) and SIGKILLs apply once or
// twice per trial at a random moment of a random phase, then applies
// again without a kill. After every trial the state file is intact, no
// run or version exists twice, versions are contiguous, every model file
// has its recorded hash, and the state equals an uninterrupted apply's.
func TestApplyKilledAtRandomMomentsEndsAsIfUninterrupted(t *testing.T) {
	needORT(t)
	repo := exampleRepo(t)
	repo.promote(t, 2)
	head := repo.Commit("promote v2")
	args := []string{"apply", "--repo", repo.Dir(), "--path", specPath, "--rev", head, "--auto-approve"}

	cleanDir := t.TempDir()
	began := time.Now()
	clean := start(t, sluiceCmd(cleanDir, nil, args...))
	if err := clean.wait(2 * time.Minute); err != nil {
		t.Fatalf("uninterrupted apply: %v\n%s", err, clean.output())
	}
	took := time.Since(began)
	want := canonical(t, cleanDir)
	if bad := checkInvariants(t, cleanDir); len(bad) > 0 {
		t.Fatalf("an uninterrupted apply breaks the invariants:\n%s", strings.Join(bad, "\n"))
	}

	rng := newRand(t)
	var st crashStats
	n := trials(2, 150)
	for i := range n {
		st.trials++
		dir := t.TempDir()
		var story []string
		for range 1 + rng.IntN(2) {
			what, killed := killApply(t, rng, dir, args, took)
			st.kills++
			if killed {
				st.midway++
			}
			story = append(story, what)
		}
		p := start(t, sluiceCmd(dir, nil, args...))
		err := p.wait(2 * time.Minute)
		var bad []string
		if out := p.output(); err != nil || !strings.Contains(out, "Apply applied") && !strings.Contains(out, "No changes") {
			bad = append(bad, fmt.Sprintf("apply after the kills: %v\n%s", err, p.output()))
		}
		bad = append(bad, checkInvariants(t, dir)...)
		if got := canonical(t, dir); got != want {
			bad = append(bad, "state differs from an uninterrupted apply's:\n"+diffLines(want, got))
		}
		st.orphans += orphanArtifacts(t, dir)
		if len(bad) > 0 {
			st.failures++
			t.Errorf("trial %d (%s):\n%s", i+1, strings.Join(story, "; "), strings.Join(bad, "\n"))
		}
	}
	t.Logf("crash apply: %s (uninterrupted apply took %s)", st, took.Round(time.Millisecond))
}

// killApply starts apply in dir and SIGKILLs it after a random moment,
// saying which, and whether it was still working when killed.
func killApply(t *testing.T, rng *rand.Rand, dir string, args []string, took time.Duration) (string, bool) {
	t.Helper()
	p := start(t, sluiceCmd(dir, nil, args...))
	mark := applyMoments[rng.IntN(len(applyMoments))]
	var delay time.Duration
	if mark == "" {
		delay = time.Duration(rng.Int64N(int64(took)))
	} else {
		delay = time.Duration(rng.Int64N(int64(300 * time.Millisecond)))
		if !p.waitFor(mark, 2*time.Minute) {
			p.kill()
			return fmt.Sprintf("apply ended before %q", mark), false
		}
	}
	time.Sleep(delay)
	working := !p.exited()
	p.kill()
	return fmt.Sprintf("killed %s after %q", delay.Round(time.Millisecond), mark), working
}
