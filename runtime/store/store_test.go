package store

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func openTemp(t *testing.T) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "nested", "state.db")
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

func TestOpenUsesWALAndForeignKeys(t *testing.T) {
	db, _ := openTemp(t)
	var mode string
	var fk int
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`PRAGMA foreign_keys`).Scan(&fk); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" || fk != 1 {
		t.Errorf("journal_mode %s, foreign_keys %d; want wal and 1", mode, fk)
	}
	// A resource pointing at a revision that does not exist is refused.
	err := db.Tx(context.Background(), func(tx *sql.Tx) error {
		return PutResource(context.Background(), tx, Resource{Kind: "sources", Name: "x", Spec: []byte("{}"), Hash: "h", RevisionID: 99, AppliedAt: time.Now()})
	})
	if err == nil || !strings.Contains(err.Error(), "FOREIGN KEY") {
		t.Errorf("dangling revision accepted: %v", err)
	}
}

func TestMigrateRunsEachStepOnceAndRefusesNewerState(t *testing.T) {
	db, path := openTemp(t)
	ctx := context.Background()
	steps := []string{`CREATE TABLE t1 (x)`, `CREATE TABLE t2 (y)`}
	for i := 0; i < 2; i++ {
		if err := db.Migrate(ctx, "test", steps[:1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Migrate(ctx, "test", steps); err != nil {
		t.Fatal(err)
	}
	var v int
	db.QueryRow(`SELECT version FROM schema_migrations WHERE component = 'test'`).Scan(&v)
	if v != 2 {
		t.Errorf("version %d, want 2", v)
	}
	err := db.Migrate(ctx, "test", steps[:1])
	if err == nil || !strings.Contains(err.Error(), "newer than this sluice knows") {
		t.Errorf("an older sluice opened a newer state: %v", err)
	}
	db.Close()
	ro, err := OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if err := ro.Migrate(ctx, "test", append(steps, `CREATE TABLE t3 (z)`)); err == nil {
		t.Error("a read-only state that predates a migration was accepted")
	}
}

func TestOpenReadOnlyOfMissingFileIsEmptyAndCreatesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent.db")
	db, err := OpenReadOnly(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n, err := Serial(context.Background(), db)
	if err != nil || n != 0 {
		t.Errorf("serial %d, %v; want 0", n, err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("read-only open created %s", path)
	}
}

func TestConditionSinceMovesOnlyWhenStatusOrReasonChanges(t *testing.T) {
	db, _ := openTemp(t)
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	set := func(status, reason, msg string, at time.Time) {
		t.Helper()
		if err := db.Tx(ctx, func(tx *sql.Tx) error {
			return SetCondition(ctx, tx, Condition{Kind: "features", Name: "v", Status: status, Reason: reason, Message: msg, Since: at})
		}); err != nil {
			t.Fatal(err)
		}
	}
	set(Failed, "DataInvalid", "row 3", t0)
	set(Failed, "DataInvalid", "row 4", t0.Add(time.Hour))
	cs, _ := Conditions(ctx, db)
	if !cs[0].Since.Equal(t0) || cs[0].Message != "row 4" {
		t.Errorf("same failure moved since or kept the old message: %+v", cs[0])
	}
	set(Ready, "Materialized", "", t0.Add(2*time.Hour))
	cs, _ = Conditions(ctx, db)
	if !cs[0].Since.Equal(t0.Add(2 * time.Hour)) {
		t.Errorf("recovery did not move since: %+v", cs[0])
	}
}

func TestCurrentRevisionIsTheLastAppliedNotTheLastFailed(t *testing.T) {
	db, _ := openTemp(t)
	ctx := context.Background()
	now := time.Now()
	var good int64
	db.Tx(ctx, func(tx *sql.Tx) error {
		good, _ = BeginRevision(ctx, tx, "aaa", "main", ".", now)
		return FinishRevision(ctx, tx, good, "applied", "", now)
	})
	db.Tx(ctx, func(tx *sql.Tx) error {
		bad, _ := BeginRevision(ctx, tx, "bbb", "main", ".", now)
		return FinishRevision(ctx, tx, bad, "failed", "boom", now)
	})
	cur, err := CurrentRevision(ctx, db)
	if err != nil || cur == nil || cur.Commit != "aaa" {
		t.Errorf("current revision %+v, %v; want aaa", cur, err)
	}
	revs, _ := Revisions(ctx, db, 0)
	if len(revs) != 2 || revs[0].Commit != "bbb" || revs[0].Outcome != "failed" {
		t.Errorf("history %+v", revs)
	}
}

func TestEmptyStatesOpenedTogetherAreSeparate(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a, err := OpenReadOnly(ctx, filepath.Join(dir, "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := OpenReadOnly(ctx, filepath.Join(dir, "b.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := a.Exec(`UPDATE state_meta SET serial = 7`); err != nil {
		t.Fatal(err)
	}
	if n, _ := Serial(ctx, b); n != 0 {
		t.Errorf("a change to one empty state shows in another: serial %d", n)
	}
}
