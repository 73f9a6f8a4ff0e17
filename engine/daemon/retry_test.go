package daemon

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestBackoffDoublesFromMinToMaxWithJitter(t *testing.T) {
	lo, hi := DefaultRetryMin, DefaultRetryMax
	nominal := lo
	for n := 1; n <= 30; n++ {
		want := min(nominal, hi)
		distinct := map[time.Duration]bool{}
		for i := 0; i < 50; i++ {
			d := backoff(n, lo, hi)
			distinct[d] = true
			if d < lo || d > hi || float64(d) < 0.8*float64(want) || float64(d) > 1.2*float64(want) {
				t.Fatalf("retry %d waits %s; want %s ± 20%% within [%s, %s]", n, d, want, lo, hi)
			}
		}
		if len(distinct) < 2 {
			t.Errorf("retry %d always waits %s: no jitter", n, want)
		}
		nominal *= 2
	}
}

// waitPass pokes the loop and waits until it has run a pass for it.
func (h *harness) waitPass() {
	h.t.Helper()
	h.d.mu.Lock()
	before := h.d.st.passes
	h.d.mu.Unlock()
	h.d.poke()
	eventually(h.t, "a pass", func() bool {
		h.d.mu.Lock()
		defer h.d.mu.Unlock()
		return h.d.st.passes > before && h.d.st.phase == phaseIdle
	})
}

func TestFailedApplyWaitsForItsRetryInsteadOfATightLoop(t *testing.T) {
	repo := newRepo(t)
	repo.Write("data/tx.csv", txCSV+"3,2026-11-03T00:00:00Z,not-a-number\n")
	bad := repo.Commit("bad data")
	h := start(t, repo.Dir(), "", func(c *Config) { c.RetryMin, c.RetryMax = time.Hour, 10*time.Hour })

	var s *Status
	eventually(t, "the failed apply in status", func() bool {
		s = h.status()
		return s.LastError != nil
	})
	if s.LastError.Reason != ReasonApplyIncomplete || s.LastError.Stalled || s.Failures != 1 || s.NextRetry == nil ||
		time.Until(*s.NextRetry) < 45*time.Minute || !contains(s.LastError.Errors, "DataInvalid") {
		t.Fatalf("after a failed step: last error %+v, failures %d, next retry %v", s.LastError, s.Failures, s.NextRetry)
	}
	attempts := len(h.revisions())
	for i := 0; i < 3; i++ {
		h.waitPass()
	}
	if n := len(h.revisions()); n != attempts || h.status().Failures != 1 {
		t.Errorf("pokes before the retry is due applied the failed revision again: %d attempts, want %d", n, attempts)
	}

	// A sync goes past the backoff, and the next wait doubles.
	if code, _ := h.call("POST", "/api/sync?wait=true", nil, nil); code != http.StatusConflict {
		t.Errorf("sync of a failing revision: %d, want 409", code)
	}
	s = h.status()
	if len(h.revisions()) != attempts+1 || s.Failures != 2 || time.Until(*s.NextRetry) < 90*time.Minute {
		t.Errorf("after a sync: failures %d, next retry %v", s.Failures, s.NextRetry)
	}

	// A new commit is not held back by the failure of an older one.
	repo.Write("data/tx.csv", txCSV)
	fixed := repo.Commit("fix the data")
	s = h.waitCurrent(fixed)
	if s.LastError != nil || s.NextRetry != nil {
		t.Errorf("after the fix: last error %+v, next retry %v", s.LastError, s.NextRetry)
	}
	allReady(t, s)
	if evs := h.events(ReasonRevisionApplied); !strings.Contains(evs[len(evs)-1].Message, "after 2 failed attempt(s)") {
		t.Errorf("recovery event %+v", evs[len(evs)-1])
	}
	_ = bad
}

// dataRootRepo makes a repository whose source reads a file in a data
// root outside it, and returns the file's path.
func dataRootRepo(t *testing.T, data string) (repoDir, root, file string) {
	t.Helper()
	root = t.TempDir()
	file = filepath.Join(root, "tx.csv")
	writeFile(t, file, data)
	r := newRepo(t)
	r.Write("specs/main.cue", strings.Replace(viewSpec(""), `"data/tx.csv"`, `"`+file+`"`, 1))
	r.Commit("read the data root")
	return r.Dir(), root, file
}

func TestRetryReappliesAFailedRevisionOnceItsBackoffIsDue(t *testing.T) {
	dir, root, file := dataRootRepo(t, txCSV+"3,2026-11-03T00:00:00Z,not-a-number\n")
	h := start(t, dir, "", func(c *Config) {
		c.DataRoots, c.RetryMin, c.RetryMax = []string{root}, 20*time.Millisecond, 200*time.Millisecond
	})
	eventually(t, "a failed apply", func() bool {
		s := h.status()
		return s.LastError != nil && s.LastError.Reason == ReasonApplyIncomplete
	})
	writeFile(t, file, txCSV)
	eventually(t, "the retry to apply the fixed data", func() bool {
		s := h.status()
		return s.LastError == nil && s.Failures == 0 && len(s.Resources) == 3
	})
	allReady(t, h.status())
}

func TestRecheckHealsDriftOfTheRevisionInForce(t *testing.T) {
	dir, root, file := dataRootRepo(t, txCSV)
	h := start(t, dir, "", func(c *Config) { c.DataRoots, c.Recheck = []string{root}, 50*time.Millisecond })
	eventually(t, "the first apply", func() bool { return h.status().Revision != nil })
	revs := len(h.revisions())
	if s := h.status(); s.NextRecheck == nil {
		t.Errorf("status shows no next re-check")
	}

	f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("4,2026-11-04T00:00:00Z,8\n")
	f.Close()
	eventually(t, "the re-check to heal the drift", func() bool { return len(h.events(ReasonDriftHealed)) > 0 })
	ev := h.events(ReasonDriftHealed)[0]
	if !strings.Contains(ev.Message, "sources.tx") || !strings.Contains(ev.Message, "features.spend") {
		t.Errorf("drift event %q does not name what it healed", ev.Message)
	}
	allReady(t, h.status())
	if n := len(h.revisions()); n != revs+1 {
		t.Errorf("%d revisions after one heal, want %d", n, revs+1)
	}
}

func TestDeletedBranchKeepsTheLastGoodRevisionAndIsRetried(t *testing.T) {
	repo := newRepo(t)
	repo.Git("branch", "release")
	h := start(t, repo.Dir(), "", func(c *Config) {
		c.Branch, c.RetryMin, c.RetryMax = "release", 20*time.Millisecond, 200*time.Millisecond
	})
	good := repo.Head()
	h.waitCurrent(good)

	repo.Git("branch", "-D", "release")
	var s *Status
	eventually(t, "the deleted branch in status", func() bool {
		s = h.status()
		return s.LastError != nil
	})
	if s.LastError.Reason != ReasonSourceUnavailable || s.Revision.Commit != good || !s.Ready || s.LastError.Stalled {
		t.Errorf("after the branch was deleted: %+v, revision %s, ready %v", s.LastError, short(s.Revision.Commit), s.Ready)
	}
	if evs := h.events(ReasonSourceUnavailable); len(evs) != 1 {
		t.Errorf("%d SourceUnavailable events for one failure retried, want 1", len(evs))
	}

	next := commitView(repo, 1)
	repo.Git("branch", "release")
	allReady(t, h.waitCurrent(next))
	if s := h.status(); s.LastError != nil {
		t.Errorf("last error after the branch came back: %+v", s.LastError)
	}
}

func TestRewrittenBranchIsFollowed(t *testing.T) {
	repo := newRepo(t)
	first := repo.Head()
	h := start(t, repo.Dir(), "", nil)
	h.waitCurrent(first)
	h.waitCurrent(commitView(repo, 1))
	repo.Git("reset", "-q", "--hard", first)
	allReady(t, h.waitCurrent(first))
}
