package engine

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"

	"sluice/engine/planjson"
	"sluice/runtime/features"
	"sluice/runtime/store"
	"sluice/schema"
)

func openState(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func loadSpec(t *testing.T, fsys fstest.MapFS) *schema.Spec {
	t.Helper()
	spec, err := schema.Load(schema.LoadOptions{FS: fsys, Dir: "specs"})
	if err != nil {
		var b bytes.Buffer
		schema.Print(&b, err, "")
		t.Fatalf("load: %s", b.String())
	}
	return spec
}

func planRevision(t *testing.T, db *store.DB, fsys fstest.MapFS, commit string) *Plan {
	t.Helper()
	p, err := MakePlan(context.Background(), db, Input{Spec: loadSpec(t, fsys), FS: fsys,
		Revision: planjson.Revision{Commit: commit, Ref: "refs/heads/main", Path: "specs"}, StatePath: "state.db"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// fixedClock makes event times and the TTL arithmetic repeatable.
func fixedClock() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) }

func realDrivers(t *testing.T, db *store.DB) Drivers {
	t.Helper()
	fs, err := features.New(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return Drivers{Features: fs}
}

func applyRevision(t *testing.T, db *store.DB, fsys fstest.MapFS, commit string) *Result {
	t.Helper()
	p := planRevision(t, db, fsys, commit)
	if len(p.Diagnostics) > 0 {
		t.Fatalf("plan of %s: %+v", commit, p.Diagnostics)
	}
	res, err := Apply(context.Background(), db, p, realDrivers(t, db), Options{Now: fixedClock})
	if err != nil {
		t.Fatal(err)
	}
	return res
}
