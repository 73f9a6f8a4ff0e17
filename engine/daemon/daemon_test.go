package daemon

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"

	"sluice/runtime/store"
)

func TestDaemonAppliesCommitsAndKeepsLastGoodRevisionOnInvalidSpec(t *testing.T) {
	repo := newRepo(t)
	h := start(t, repo.Dir(), "", nil)
	first := repo.Head()
	allReady(t, h.waitCurrent(first))

	// A change to the feature view is seen through the refs and applied.
	second := commitView(repo, 2)
	s := h.waitCurrent(second)
	allReady(t, s)
	if s.LastError != nil || !s.Ready || s.Head != second {
		t.Errorf("after a good commit: last error %+v, ready %v, head %s", s.LastError, s.Ready, s.Head)
	}
	if evs := h.events(ReasonRevisionApplied); len(evs) != 2 || !strings.Contains(evs[1].Message, short(second)) {
		t.Errorf("RevisionApplied events %+v", evs)
	}

	// An invalid spec is recorded as a failed revision; the last good one
	// stays in force and Ready.
	repo.Write("specs/main.cue", invalidSpec)
	bad := repo.Commit("break the source")
	eventually(t, "the invalid revision recorded as failed", func() bool {
		revs := h.revisions()
		return revs[0].Commit == bad && revs[0].Outcome == "failed"
	})
	s = h.status()
	if s.Revision.Commit != second || !s.Ready {
		t.Errorf("after an invalid commit the revision in force is %s (ready %v), want %s", s.Revision.Commit, s.Ready, second)
	}
	allReady(t, s)
	const want = "specs/main.cue:3:10: sources.tx.timestamp: required field is missing"
	if s.LastError == nil || s.LastError.Reason != ReasonSpecInvalid || !s.LastError.Stalled || s.NextRetry != nil ||
		!contains(s.LastError.Errors, want) {
		t.Errorf("last error %+v, next retry %v; want a stalled %s naming %q", s.LastError, s.NextRetry, ReasonSpecInvalid, want)
	}
	if evs := h.events(ReasonSpecInvalid); len(evs) == 0 || !strings.Contains(evs[0].Message, want) || evs[0].Type != "Warning" {
		t.Errorf("SpecInvalid events %+v", evs)
	}
	if code, body := h.call("GET", "/readyz", nil, nil); code != http.StatusOK {
		t.Errorf("/readyz with the last good revision in force: %d %s", code, body)
	}

	// The fix is the next commit.
	fixed := commitView(repo, 3)
	s = h.waitCurrent(fixed)
	if s.LastError != nil || s.Failures != 0 {
		t.Errorf("after the fix: last error %+v, failures %d", s.LastError, s.Failures)
	}
	allReady(t, s)
}

func TestDaemonBurstOfCommitsAppliesOnlyTheNewest(t *testing.T) {
	repo := newRepo(t)
	g := newGate()
	h := start(t, repo.Dir(), "", func(c *Config) { c.Hooks = append(c.Hooks, g) })
	h.waitCurrent(repo.Head())

	// Hold an apply, and commit five times meanwhile.
	g.close()
	held := commitView(repo, 1)
	g.waitEntered(t)
	var burst []string
	for i := 2; i <= 6; i++ {
		burst = append(burst, commitView(repo, i))
	}
	g.open()
	newest := burst[len(burst)-1]
	h.waitCurrent(newest)

	seen := map[string]string{}
	for _, r := range h.revisions() {
		seen[r.Commit] = r.Outcome
	}
	if seen[held] != "applied" || seen[newest] != "applied" {
		t.Errorf("held commit %s, newest %s; want both applied", seen[held], seen[newest])
	}
	for _, c := range burst[:len(burst)-1] {
		if o, ok := seen[c]; ok {
			t.Errorf("commit %s of the burst was reconciled (%s); only the newest should be", short(c), o)
		}
	}
}

func TestDaemonRefusesWhileAnotherWriterHoldsTheState(t *testing.T) {
	repo := newRepo(t)
	h := start(t, repo.Dir(), "", nil)
	h.waitCurrent(repo.Head())

	other := openDB(t, h.path)
	_, err := Start(context.Background(), Config{DB: other, Repo: repo.Dir(), Branch: "main", Path: "specs"})
	var locked *store.LockedError
	if !errors.As(err, &locked) || locked.Holder.Command != "daemon" ||
		!strings.Contains(err.Error(), "is locked by daemon pid") {
		t.Fatalf("a second daemon on the same state: %v", err)
	}
	if _, err := store.Lock(context.Background(), other, store.Self("apply")); !errors.As(err, &locked) {
		t.Errorf("apply while the daemon runs: %v", err)
	}
	if s := h.status(); s.Lock == nil || s.Lock.Holder.Command != "daemon" || s.Lock.Addr != h.url {
		t.Errorf("status lock %+v, want the daemon advertising %s", s.Lock, h.url)
	}
	h.close()
	l, err := store.Lock(context.Background(), other, store.Self("apply"))
	if err != nil {
		t.Fatalf("lock after the daemon closed: %v", err)
	}
	l.Release(context.Background())
}

func TestDaemonWhoseLockIsTakenOverStopsReconciling(t *testing.T) {
	repo := newRepo(t)
	h := start(t, repo.Dir(), "", nil)
	h.waitCurrent(repo.Head())

	// Another writer finds the daemon's heartbeat stale and takes over.
	other := openDB(t, h.path)
	if _, err := other.Exec(`UPDATE state_lock SET heartbeat = '2000-01-01T00:00:00Z'`); err != nil {
		t.Fatal(err)
	}
	l, err := store.Lock(context.Background(), other, store.Self("apply"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(context.Background())
	eventually(t, "the daemon to notice at its next heartbeat", func() bool { return h.status().LockLost })
	if code, _ := h.call("GET", "/readyz", nil, nil); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz after the lock was lost: %d", code)
	}
	commitView(repo, 1)
	if code, body := h.call("POST", "/api/sync?wait=true", nil, nil); code != http.StatusConflict || !strings.Contains(body, "stopped") {
		t.Errorf("sync after the lock was lost: %d %s", code, body)
	}
}

func TestStartThatFailsReleasesTheLock(t *testing.T) {
	path := t.TempDir() + "/state.db"
	db := openDB(t, path)
	_, err := Start(context.Background(), Config{DB: db, Repo: t.TempDir(), Path: "specs"})
	if err == nil || !strings.Contains(err.Error(), "not a git repository") {
		t.Fatalf("start on a directory that is no repository: %v", err)
	}
	l, err := store.Lock(context.Background(), db, store.Self("apply"))
	if err != nil {
		t.Fatalf("lock after a failed start: %v", err)
	}
	l.Release(context.Background())
}

func TestAdvertisedAddressOfAWildcardListenerIsLoopback(t *testing.T) {
	for in, want := range map[string]string{
		"0.0.0.0:8080":   "http://127.0.0.1:8080",
		"[::]:8080":      "http://[::1]:8080",
		"10.0.0.5:8080":  "http://10.0.0.5:8080",
		"127.0.0.1:9000": "http://127.0.0.1:9000",
	} {
		addr, err := net.ResolveTCPAddr("tcp", in)
		if err != nil {
			t.Fatal(err)
		}
		if got := advertised(addr); got != want {
			t.Errorf("advertised(%s) = %s, want %s", in, got, want)
		}
	}
}
