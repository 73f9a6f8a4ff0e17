package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// second opens another handle on the same state file, as a second process would.
func second(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustLock(t *testing.T, db *DB, h Holder) *Lease {
	t.Helper()
	l, err := Lock(context.Background(), db, h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Release(context.Background()) })
	return l
}

// plant records a lock row as another process would have left it.
func plant(t *testing.T, db *DB, h Holder, heartbeat time.Time) {
	t.Helper()
	ctx := context.Background()
	if err := db.Migrate(ctx, "lock", lockMigrations); err != nil {
		t.Fatal(err)
	}
	since := heartbeat.Add(-time.Hour).UTC().Format(timeFormat)
	if _, err := db.ExecContext(ctx, `INSERT INTO state_lock(id, token, host, pid, command, since, heartbeat) VALUES (1, 'planted', ?, ?, ?, ?, ?)`,
		h.Host, h.PID, h.Command, since, heartbeat.UTC().Format(timeFormat)); err != nil {
		t.Fatal(err)
	}
}

func lockEvents(t *testing.T, db *DB) []Event {
	t.Helper()
	var out []Event
	evs, err := Events(context.Background(), db, EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.Reason == ReasonLockTakenOver {
			out = append(out, e)
		}
	}
	return out
}

func TestLockRefusesSecondWriterNamingHolderAndSince(t *testing.T) {
	db, path := openTemp(t)
	mustLock(t, db, Self("daemon"))
	_, err := Lock(context.Background(), second(t, path), Self("apply"))
	var locked *LockedError
	if !errors.As(err, &locked) {
		t.Fatalf("second writer got %v, want a *LockedError", err)
	}
	host, _ := os.Hostname()
	want := regexp.MustCompile(fmt.Sprintf(`^state %s is locked by daemon pid %d on host %s since \d\d:\d\d:\d\d$`,
		regexp.QuoteMeta(path), os.Getpid(), regexp.QuoteMeta(host)))
	if !want.MatchString(err.Error()) {
		t.Errorf("error %q does not match %s", err, want)
	}
	if n := len(lockEvents(t, db)); n != 0 {
		t.Errorf("a refused lock recorded %d takeover events", n)
	}
}

func TestLockReleasedIsFreeForTheNextWriter(t *testing.T) {
	db, path := openTemp(t)
	l := mustLock(t, db, Self("daemon"))
	if err := l.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(context.Background()); err != nil {
		t.Errorf("second release: %v", err)
	}
	if li, _ := LockHolder(context.Background(), db); li != nil {
		t.Errorf("released lock still held by %+v", li)
	}
	mustLock(t, second(t, path), Self("apply"))
}

func TestLockOfProcessThatIsGoneIsTakenOverWithEvent(t *testing.T) {
	db, _ := openTemp(t)
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	gone := Self("daemon")
	gone.PID = cmd.Process.Pid // exited and reaped
	plant(t, db, gone, time.Now())
	mustLock(t, db, Self("apply"))
	li, err := LockHolder(context.Background(), db)
	if err != nil || li == nil || li.Holder.PID != os.Getpid() || li.Holder.Command != "apply" {
		t.Fatalf("holder after takeover %+v, %v", li, err)
	}
	evs := lockEvents(t, db)
	if len(evs) != 1 || evs[0].Type != "Warning" || !strings.Contains(evs[0].Message, fmt.Sprintf("process %d is gone", gone.PID)) ||
		!strings.Contains(evs[0].Message, "from daemon pid") {
		t.Errorf("takeover events %+v", evs)
	}
}

func TestLockOnAnotherHostIsHeldUntilItsHeartbeatIsStale(t *testing.T) {
	db, _ := openTemp(t)
	other := Holder{Host: "elsewhere.invalid", PID: 1, Command: "daemon"}
	plant(t, db, other, time.Now())
	_, err := Lock(context.Background(), db, Self("apply"))
	var locked *LockedError
	if !errors.As(err, &locked) || locked.Holder != other {
		t.Fatalf("a live holder on another host was not respected: %v", err)
	}
	if _, err := db.Exec(`UPDATE state_lock SET heartbeat = ?`, time.Now().Add(-staleAfter-time.Minute).UTC().Format(timeFormat)); err != nil {
		t.Fatal(err)
	}
	mustLock(t, db, Self("apply"))
	evs := lockEvents(t, db)
	if len(evs) != 1 || !strings.Contains(evs[0].Message, "no heartbeat for") || !strings.Contains(evs[0].Message, "elsewhere.invalid") {
		t.Errorf("takeover events %+v", evs)
	}
}

func TestLeaseTakenOverNoticesAndItsReleaseLeavesTheNewHolder(t *testing.T) {
	db, path := openTemp(t)
	ctx := context.Background()
	first := mustLock(t, db, Self("daemon"))
	if _, err := db.Exec(`UPDATE state_lock SET heartbeat = ?`, time.Now().Add(-staleAfter-time.Minute).UTC().Format(timeFormat)); err != nil {
		t.Fatal(err)
	}
	mustLock(t, second(t, path), Self("apply"))
	if held, err := first.beat(ctx); err != nil || held {
		t.Errorf("beat of a taken-over lease: held %v, %v", held, err)
	}
	if err := first.Release(ctx); err != nil {
		t.Fatal(err)
	}
	li, _ := LockHolder(ctx, db)
	if li == nil || li.Holder.Command != "apply" {
		t.Errorf("the old holder's release removed the new holder's lock: %+v", li)
	}
}

func TestWaitLockGetsTheLockOnceReleased(t *testing.T) {
	db, path := openTemp(t)
	l := mustLock(t, db, Self("daemon"))
	got := make(chan error, 1)
	go func() {
		w, err := WaitLock(context.Background(), second(t, path), Self("apply"))
		if err == nil {
			defer w.Release(context.Background())
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("WaitLock returned while the lock was held: %v", err)
	case <-time.After(3 * waitPoll):
	}
	l.Release(context.Background())
	if err := <-got; err != nil {
		t.Errorf("WaitLock after release: %v", err)
	}
}

func TestWaitLockGivesUpWhenContextEnds(t *testing.T) {
	db, path := openTemp(t)
	mustLock(t, db, Self("daemon"))
	// Long enough for the first try (a migration, a transaction) to end
	// under a loaded CI machine; the wait must still give up.
	ctx, cancel := context.WithTimeout(context.Background(), 8*waitPoll)
	defer cancel()
	_, err := WaitLock(ctx, second(t, path), Self("apply"))
	if err == nil || !strings.Contains(err.Error(), "is locked by daemon") {
		t.Errorf("WaitLock past its context: %v", err)
	}
}

func TestLockOfReadOnlyStateIsRefused(t *testing.T) {
	_, path := openTemp(t)
	ro, err := OpenReadOnly(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := Lock(context.Background(), ro, Self("apply")); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("read-only lock: %v", err)
	}
}

func TestAdvertisedAddressIsReadByOthersAndClearedByTheNextHolder(t *testing.T) {
	ctx := context.Background()
	db, path := openTemp(t)
	l := mustLock(t, db, Self("daemon"))
	if err := l.Advertise(ctx, "http://127.0.0.1:8080"); err != nil {
		t.Fatal(err)
	}
	li, err := LockHolder(ctx, second(t, path))
	if err != nil || li == nil || li.Addr != "http://127.0.0.1:8080" {
		t.Fatalf("another reader sees holder %+v (%v), want addr http://127.0.0.1:8080", li, err)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	mustLock(t, db, Self("apply"))
	if li, _ := LockHolder(ctx, db); li == nil || li.Addr != "" {
		t.Errorf("the next holder inherited addr: %+v", li)
	}
}
