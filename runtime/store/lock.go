package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

// lockMigrations hold the write lock: at most one row, naming its holder.
// Append only.
var lockMigrations = []string{
	`CREATE TABLE state_lock (
		id INTEGER PRIMARY KEY CHECK (id = 1),
		token TEXT NOT NULL, -- which Lease holds it, so a taken-over lease can tell
		host TEXT NOT NULL,
		pid INTEGER NOT NULL,
		command TEXT NOT NULL,
		since TEXT NOT NULL,
		heartbeat TEXT NOT NULL
	);`,
	// addr is where a daemon holder serves its operator API, so that
	// clients of the state (sluice status) can find it.
	`ALTER TABLE state_lock ADD COLUMN addr TEXT NOT NULL DEFAULT '';`,
}

// ReasonLockTakenOver is the event recorded when a writer takes the lock
// from a holder whose process is gone or whose heartbeat stopped.
const ReasonLockTakenOver = "LockTakenOver"

const (
	// heartbeatEvery is how often a lease shows that its holder is alive.
	heartbeatEvery = 5 * time.Second
	// staleAfter is how long a heartbeat may be missing before another
	// writer takes the lock. It is generous because a heartbeat waits
	// behind the holder's own write transactions.
	staleAfter = 2 * time.Minute
	// waitPoll is how often WaitLock looks again.
	waitPoll = 250 * time.Millisecond
)

// Holder says who holds the state's write lock.
type Holder struct {
	Host    string `json:"host"`
	PID     int    `json:"pid"`
	Command string `json:"command"` // daemon, apply
}

// Self is this process as a holder running command.
func Self(command string) Holder {
	host, _ := os.Hostname()
	return Holder{Host: host, PID: os.Getpid(), Command: command}
}

func (h Holder) String() string {
	return fmt.Sprintf("%s pid %d on host %s", h.Command, h.PID, h.Host)
}

// LockedError is a refused Lock: another writer holds the state.
type LockedError struct {
	Path      string
	Holder    Holder
	Since     time.Time
	Heartbeat time.Time
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("state %s is locked by %s since %s", e.Path, e.Holder, clock(e.Since))
}

// clock shows a time of today as 09:14:02 and an older one with its date.
func clock(t time.Time) string {
	t = t.Local()
	if y, m, d := t.Date(); y == time.Now().Year() && m == time.Now().Month() && d == time.Now().Day() {
		return t.Format(time.TimeOnly)
	}
	return t.Format(time.DateTime)
}

// Lease is the state's write lock, held until Release. While held, a
// heartbeat shows the holder is alive.
type Lease struct {
	db     *DB
	token  string
	holder Holder
	since  time.Time

	stop     context.CancelFunc
	done     chan struct{}
	lost     chan struct{}
	lostOnce sync.Once
	release  sync.Once
}

// Lock takes the state's write lock for holder, or refuses with a
// *LockedError naming who holds it. A lock whose holder's process is gone
// (same host, pid not alive) or whose heartbeat is stale is taken over,
// with an event saying from whom.
func Lock(ctx context.Context, db *DB, holder Holder) (*Lease, error) {
	if db.ReadOnly {
		return nil, fmt.Errorf("lock state %s: opened read-only", db.Path)
	}
	if err := db.Migrate(ctx, "lock", lockMigrations); err != nil {
		return nil, err
	}
	l := &Lease{db: db, token: newToken(), holder: holder, since: time.Now(), done: make(chan struct{}), lost: make(chan struct{})}
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		cur, err := lockHolder(ctx, tx)
		if err != nil {
			return err
		}
		if cur != nil {
			why := stale(cur, l.since)
			if why == "" {
				return &LockedError{Path: db.Path, Holder: cur.Holder, Since: cur.Since, Heartbeat: cur.Heartbeat}
			}
			if err := AddEvent(ctx, tx, Event{At: l.since, Type: "Warning", Reason: ReasonLockTakenOver,
				Message: fmt.Sprintf("%s took over the state lock from %s (held since %s): %s", holder, cur.Holder, clock(cur.Since), why)}); err != nil {
				return err
			}
		}
		now := l.since.UTC().Format(timeFormat)
		_, err = tx.ExecContext(ctx, `INSERT INTO state_lock(id, token, host, pid, command, since, heartbeat) VALUES (1, ?, ?, ?, ?, ?, ?)
			ON CONFLICT(id) DO UPDATE SET token = excluded.token, host = excluded.host, pid = excluded.pid,
				command = excluded.command, since = excluded.since, heartbeat = excluded.heartbeat, addr = ''`,
			l.token, holder.Host, holder.PID, holder.Command, now, now)
		return err
	})
	var locked *LockedError
	if errors.As(err, &locked) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("lock state %s: %w", db.Path, err)
	}
	hctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	l.stop = stop
	go l.heartbeat(hctx)
	return l, nil
}

// WaitLock is Lock that waits, while another writer holds the state,
// until the lock is free or ctx is done.
func WaitLock(ctx context.Context, db *DB, holder Holder) (*Lease, error) {
	for {
		l, err := Lock(ctx, db, holder)
		var locked *LockedError
		if !errors.As(err, &locked) {
			return l, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for the lock: %w (%v)", context.Cause(ctx), err)
		case <-time.After(waitPoll):
		}
	}
}

// LockInfo is the lock's row as recorded.
type LockInfo struct {
	Holder    Holder    `json:"holder"`
	Since     time.Time `json:"since"`
	Heartbeat time.Time `json:"heartbeat"`
	// Addr is the holder's operator API (http://host:port), "" when it
	// serves none.
	Addr string `json:"addr,omitempty"`
}

// LockHolder returns who holds the state's write lock, or nil when nobody
// does (or the state predates the lock).
func LockHolder(ctx context.Context, q Querier) (*LockInfo, error) {
	return lockHolder(ctx, q)
}

func lockHolder(ctx context.Context, q Querier) (*LockInfo, error) {
	var li LockInfo
	var since, beat string
	err := q.QueryRowContext(ctx, `SELECT host, pid, command, since, heartbeat, addr FROM state_lock WHERE id = 1`).
		Scan(&li.Holder.Host, &li.Holder.PID, &li.Holder.Command, &since, &beat, &li.Addr)
	if err != nil && strings.Contains(err.Error(), "no such column") {
		// A state locked by an older sluice, read without migrating it.
		err = q.QueryRowContext(ctx, `SELECT host, pid, command, since, heartbeat FROM state_lock WHERE id = 1`).
			Scan(&li.Holder.Host, &li.Holder.PID, &li.Holder.Command, &since, &beat)
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil && isNoTable(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("read state lock: %w", err)
	}
	li.Since, _ = time.Parse(timeFormat, since)
	li.Heartbeat, _ = time.Parse(timeFormat, beat)
	return &li, nil
}

// isNoTable reports a state whose lock table was never made: nobody has
// locked it yet.
func isNoTable(err error) bool {
	return strings.Contains(err.Error(), "no such table")
}

// stale says why a recorded holder no longer holds the lock, or "" when it
// still does.
func stale(cur *LockInfo, now time.Time) string {
	self := Self("")
	if cur.Holder.Host == self.Host && !alive(cur.Holder.PID) {
		return fmt.Sprintf("process %d is gone", cur.Holder.PID)
	}
	if age := now.Sub(cur.Heartbeat); age > staleAfter {
		return fmt.Sprintf("no heartbeat for %s", age.Round(time.Second))
	}
	return ""
}

// alive reports whether a process with pid exists on this host. A process
// of another user (EPERM) exists; only a definite "no such process" is gone.
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return !(errors.Is(err, os.ErrProcessDone) || errors.Is(err, syscall.ESRCH))
}

func newToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Holder is who the lease was taken for.
func (l *Lease) Holder() Holder { return l.holder }

// Advertise records where the holder serves its operator API, for
// clients that find it through the state file.
func (l *Lease) Advertise(ctx context.Context, addr string) error {
	err := l.db.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE state_lock SET addr = ? WHERE id = 1 AND token = ?`, addr, l.token)
		return err
	})
	if err != nil {
		return fmt.Errorf("advertise %s in the state lock: %w", addr, err)
	}
	return nil
}

// Lost is closed when the lease finds that another writer took the lock
// over (its heartbeat stopped for longer than the others wait).
func (l *Lease) Lost() <-chan struct{} { return l.lost }

// Release gives the lock up. It is safe to call more than once.
func (l *Lease) Release(ctx context.Context) error {
	var err error
	l.release.Do(func() {
		l.stop()
		<-l.done
		err = l.db.Tx(context.WithoutCancel(ctx), func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `DELETE FROM state_lock WHERE id = 1 AND token = ?`, l.token)
			return err
		})
		if err != nil {
			err = fmt.Errorf("release state lock: %w", err)
		}
	})
	return err
}

func (l *Lease) heartbeat(ctx context.Context) {
	defer close(l.done)
	t := time.NewTicker(heartbeatEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			// A failed beat (the database busy behind a long step) is
			// tried again at the next tick; only a lost row ends the lease.
			if held, err := l.beat(ctx); err == nil && !held {
				l.lostOnce.Do(func() { close(l.lost) })
				return
			}
		}
	}
}

// beat records that the holder is alive, reporting whether it still holds
// the lock.
func (l *Lease) beat(ctx context.Context) (held bool, err error) {
	err = l.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE state_lock SET heartbeat = ? WHERE id = 1 AND token = ?`,
			time.Now().UTC().Format(timeFormat), l.token)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		held = n == 1
		return err
	})
	return held, err
}
