package source_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"sluice/engine/source"
	"sluice/internal/testgit"
)

// watch runs a watcher of branch in r and returns the channel its calls
// arrive on.
func watch(t *testing.T, dir, branch string) <-chan struct{} {
	t.Helper()
	w, err := source.NewWatcher(dir, branch)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	fired := make(chan struct{}, 16)
	done := make(chan error)
	go func() { done <- w.Run(ctx, func() { fired <- struct{}{} }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return fired
}

// await fails the test unless the watcher fires; the long limit is a
// liveness bound for slow machines, not a timing assertion.
func await(t *testing.T, fired <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-fired:
	case <-time.After(20 * time.Second):
		t.Fatalf("the watcher did not fire after %s", what)
	}
}

// quiet fails the test if the watcher fired for something that did not
// move the branch. It waits well past the debounce; a watcher slower than
// that could slip a wrong call past it, never fail a right one.
func quiet(t *testing.T, fired <-chan struct{}, what string) {
	t.Helper()
	time.Sleep(500 * time.Millisecond)
	select {
	case <-fired:
		t.Errorf("the watcher fired after %s, which did not move the branch", what)
	default:
	}
}

func TestWatchFiresWhenBranchMoves(t *testing.T) {
	r := testgit.New(t)
	r.Write("a.cue", "a: 1\n")
	first := r.Commit("first")
	r.Git("branch", "feature")
	fired := watch(t, r.Dir(), "main")

	r.Write("a.cue", "a: 2\n")
	r.Commit("second")
	await(t, fired, "a commit on main")

	r.Git("checkout", "-q", "feature")
	r.Write("b.cue", "b: 1\n")
	r.Commit("on feature")
	r.Git("pack-refs", "--all")
	quiet(t, fired, "a checkout, a commit on another branch and pack-refs")

	r.Git("update-ref", "refs/heads/main", first)
	await(t, fired, "update-ref of main")
}

func TestWatchSeesBranchMovedInPackedRefs(t *testing.T) {
	r := testgit.New(t)
	r.Write("a.cue", "a: 1\n")
	first := r.Commit("first")
	r.Write("a.cue", "a: 2\n")
	second := r.Commit("second")
	r.Git("pack-refs", "--all")
	fired := watch(t, r.Dir(), "refs/heads/main")

	// What a server-side gc or a fetch into a packed repository does:
	// packed-refs replaced by rename, no loose ref written.
	packed := r.Path(".git/packed-refs")
	data, err := os.ReadFile(packed)
	if err != nil || !strings.Contains(string(data), second+" refs/heads/main") {
		t.Fatalf("packed-refs = %q, %v", data, err)
	}
	moved := strings.Replace(string(data), second+" refs/heads/main", first+" refs/heads/main", 1)
	if err := os.WriteFile(packed+".new", []byte(moved), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(packed+".new", packed); err != nil {
		t.Fatal(err)
	}
	await(t, fired, "packed-refs moved main")
}

func TestWatchFollowsHead(t *testing.T) {
	r := testgit.New(t)
	r.Write("a.cue", "a: 1\n")
	r.Commit("first")
	r.Git("checkout", "-q", "-b", "feature")
	r.Write("a.cue", "a: 2\n")
	r.Commit("on feature")
	fired := watch(t, r.Dir(), "")

	r.Git("checkout", "-q", "main")
	await(t, fired, "a checkout of another branch")
	r.Write("a.cue", "a: 3\n")
	r.Commit("on main")
	await(t, fired, "a commit on the checked-out branch")
}

func TestWatchSeesPushToBareRepository(t *testing.T) {
	r := newRemote(t)
	r.push(t, "version: 1\n")
	fired := watch(t, r.origin.Dir(), "main")
	r.push(t, "version: 2\n")
	await(t, fired, "a push")
}

func TestWatchSeesNewNestedBranch(t *testing.T) {
	r := testgit.New(t)
	r.Write("a.cue", "a: 1\n")
	r.Commit("first")
	fired := watch(t, r.Dir(), "team/feature")
	r.Git("branch", "team/feature")
	await(t, fired, "the branch was created")
}

func TestWatchRefusesRemote(t *testing.T) {
	_, err := source.NewWatcher("https://example.invalid/repo.git", "main")
	if err == nil || !strings.Contains(err.Error(), "cannot be watched; poll it") {
		t.Errorf("error = %v", err)
	}
}
