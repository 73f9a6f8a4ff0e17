package daemon

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestUnreachableRemoteKeepsTheLastGoodRevisionAndSaysSo(t *testing.T) {
	bare, work := remote(t)
	h := start(t, bare.URL(), "", func(c *Config) { c.CacheDir, c.Poll = t.TempDir(), 50*time.Millisecond })
	good := work.Head()
	h.waitCurrent(good)

	gone := bare.Dir() + ".gone"
	if err := os.Rename(bare.Dir(), gone); err != nil {
		t.Fatal(err)
	}
	var s *Status
	eventually(t, "the failed fetch in status", func() bool { s = h.status(); return s.FetchError != "" })
	if s.Revision.Commit != good || !s.Ready || s.LastError != nil {
		t.Errorf("with the remote gone: revision %s, ready %v, last error %+v", short(s.Revision.Commit), s.Ready, s.LastError)
	}
	if evs := h.events(ReasonFetchFailed); len(evs) != 1 || !strings.Contains(evs[0].Message, "read the cached clone at "+short(good)) {
		t.Errorf("fetch failures recorded as %+v, want one event however often it is polled", evs)
	}

	if err := os.Rename(gone, bare.Dir()); err != nil {
		t.Fatal(err)
	}
	next := commitView(work, 1)
	work.Git("push", "-q", bare.URL(), "main")
	h.waitCurrent(next)
	if s := h.status(); s.FetchError != "" {
		t.Errorf("fetch error after the remote came back: %s", s.FetchError)
	}
}

func TestUnreachableRemoteWithoutACloneIsNotReadyAndRetried(t *testing.T) {
	dead := "http://127.0.0.1:1/nobody/specs.git"
	h := start(t, dead, "", func(c *Config) {
		c.CacheDir, c.RetryMin, c.RetryMax = t.TempDir(), 20*time.Millisecond, 100*time.Millisecond
	})
	var s *Status
	eventually(t, "a few retries", func() bool { s = h.status(); return s.Failures >= 3 })
	if s.Ready || s.Revision != nil || s.LastError == nil || s.LastError.Reason != ReasonSourceUnavailable ||
		!strings.Contains(s.LastError.Message, "connection refused") || s.NextRetry == nil {
		t.Errorf("status %+v, last error %+v", s, s.LastError)
	}
	if evs := h.events(ReasonSourceUnavailable); len(evs) != 1 {
		t.Errorf("%d SourceUnavailable events for one failure retried, want 1", len(evs))
	}
	if code := request(t, "GET", h.url+"/readyz", ""); code != http.StatusServiceUnavailable {
		t.Errorf("readyz %d, want 503", code)
	}
}

func TestTruncatedPackKeepsTheLastGoodRevisionInForce(t *testing.T) {
	repo := newRepo(t)
	good := repo.Head()
	h := start(t, repo.Dir(), "", nil)
	h.waitCurrent(good)
	h.close()

	bad := commitView(repo, 1)
	repo.Git("repack", "-a", "-d", "-q")
	packs, err := filepath.Glob(filepath.Join(repo.Dir(), ".git", "objects", "pack", "*.pack"))
	if err != nil || len(packs) != 1 {
		t.Fatalf("packs %v (%v)", packs, err)
	}
	info, err := os.Stat(packs[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(packs[0], info.Size()/2); err != nil {
		t.Fatal(err)
	}

	h = start(t, repo.Dir(), h.path, func(c *Config) { c.RetryMin, c.RetryMax = 20*time.Millisecond, 100*time.Millisecond })
	var s *Status
	// The failure shows in status a moment before the first pass is
	// marked done and its event written: wait for the whole of it.
	eventually(t, "the unreadable head in status", func() bool {
		s = h.status()
		return s.LastError != nil && s.Ready && len(h.events(ReasonSourceUnavailable)) > 0
	})
	if s.LastError.Reason != ReasonSourceUnavailable || s.Revision.Commit != good || !s.Ready || s.Head == bad {
		t.Errorf("with a truncated pack: %+v, revision %s, ready %v, head %s", s.LastError, short(s.Revision.Commit), s.Ready, short(s.Head))
	}
	if evs := h.events(ReasonSourceUnavailable); len(evs) != 1 {
		t.Errorf("%d SourceUnavailable events, want 1", len(evs))
	}
}
