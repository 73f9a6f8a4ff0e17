package daemon

import (
	"context"
	"net"
	"testing"
	"time"

	"sluice/runtime/store"
)

// closeAsync runs Close in the background and returns its result's channel.
func closeAsync(d *Daemon, ctx context.Context) <-chan error {
	done := make(chan error, 1)
	go func() { done <- d.Close(ctx) }()
	return done
}

func awaitClose(t *testing.T, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("close: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("close did not return")
	}
}

func TestCloseDrainsTheApplyInProgressAndRestartResumesNothing(t *testing.T) {
	repo := newRepo(t)
	g := newGate()
	h := start(t, repo.Dir(), "", func(c *Config) { c.Hooks = append(c.Hooks, g) })
	h.waitCurrent(repo.Head())
	addr := h.d.Addr()

	g.close()
	change := commitView(repo, 1)
	g.waitEntered(t)
	done := closeAsync(h.d, context.Background())
	g.open()
	awaitClose(t, done)

	ctx := context.Background()
	cur, err := store.CurrentRevision(ctx, h.db)
	if err != nil || cur == nil || cur.Commit != change || cur.Outcome != "applied" {
		t.Fatalf("after a drained close the revision in force is %+v, %v; want %s applied", cur, err, short(change))
	}
	if li, _ := store.LockHolder(ctx, h.db); li != nil {
		t.Errorf("lock still held after close: %+v", li)
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Errorf("the API still accepts connections after close")
	}

	// A restart on the same state finds nothing to do.
	before, _ := store.Revisions(ctx, h.db, 0)
	again := start(t, repo.Dir(), h.path, nil)
	allReady(t, again.waitCurrent(change))
	if after := again.revisions(); len(after) != len(before) {
		t.Errorf("a restart with nothing new recorded %d revision(s)", len(after)-len(before))
	}
}

func TestCloseAfterItsDeadlineInterruptsTheApplyAndRestartResumesIt(t *testing.T) {
	repo := newRepo(t)
	g := newGate()
	h := start(t, repo.Dir(), "", func(c *Config) { c.Hooks = append(c.Hooks, g) })
	first := repo.Head()
	h.waitCurrent(first)

	g.close()
	change := commitView(repo, 1)
	g.waitEntered(t)
	expired, cancel := context.WithCancel(context.Background())
	cancel()
	done := closeAsync(h.d, expired)
	g.open()
	awaitClose(t, done)

	ctx := context.Background()
	revs, _ := store.Revisions(ctx, h.db, 1)
	cur, _ := store.CurrentRevision(ctx, h.db)
	if len(revs) != 1 || revs[0].Commit != change || revs[0].Outcome != "interrupted" || cur.Commit != first {
		t.Fatalf("after an interrupted apply: newest %+v, in force %s; want %s interrupted, %s in force", revs, short(cur.Commit), short(change), short(first))
	}

	again := start(t, repo.Dir(), h.path, nil)
	allReady(t, again.waitCurrent(change))
}
