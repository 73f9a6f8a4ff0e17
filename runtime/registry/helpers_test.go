package registry

import (
	"context"
	"crypto/sha1"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sluice/runtime/store"
)

// fixture is a state file with the registry's tables and a clock that
// moves one minute per reading, so every stamp is distinct and known.
type fixture struct {
	t   testing.TB
	ctx context.Context
	db  *store.DB
	r   *Registry
	now time.Time
	// runs counts registrations, to give each a distinct run id.
	runs int
}

// t0 is the fixture clock's first reading.
var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r, err := New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, ctx: ctx, db: db, r: r, now: t0}
	r.Now = func() time.Time {
		now := f.now
		f.now = f.now.Add(time.Minute)
		return now
	}
	return f
}

// tx runs fn in a transaction that must succeed.
func (f *fixture) tx(fn func(tx *sql.Tx) error) {
	f.t.Helper()
	if err := f.db.Tx(f.ctx, fn); err != nil {
		f.t.Fatal(err)
	}
}

// input is a valid registration of run id with metrics.
func input(run string, metrics Metrics) VersionInput {
	return VersionInput{
		RunID:              run,
		Metrics:            metrics,
		ArtifactPath:       "artifacts/" + run + "/model.onnx",
		ArtifactSHA256:     strings.Repeat(fmt.Sprintf("%02x", len(run)), 32),
		Signature:          []byte(`{"inputs":[{"name":"amount","type":"float32","shape":[-1]}]}`),
		DatasetFingerprint: "ds-" + run,
		Commit:             fmt.Sprintf("%x", sha1.Sum([]byte(run))),
		Lineage: Facts{
			Experiment:   "fraud-rf",
			FeatureViews: []ViewFact{{Name: "user_stats", Source: "transactions", Fields: []string{"amount_7d"}}},
			Sources:      []SourceFact{{Name: "transactions", Path: "data/tx.csv", Fingerprint: "src-1"}},
		},
	}
}

// register registers a version of model and returns its number.
func (f *fixture) register(model string, metrics Metrics) int {
	f.t.Helper()
	var v int
	f.tx(func(tx *sql.Tx) error {
		var err error
		f.runs++
		v, err = f.r.RegisterVersion(f.ctx, tx, model, input(fmt.Sprintf("run-%d", f.runs), metrics))
		return err
	})
	return v
}

// promote moves an alias by git at commit "c-<alias>-<version>".
func (f *fixture) promote(model, alias string, v int, archive bool) Moved {
	f.t.Helper()
	var m Moved
	f.tx(func(tx *sql.Tx) error {
		var err error
		m, err = f.r.Promote(f.ctx, tx, Move{Model: model, Alias: alias, Version: v,
			Commit: fmt.Sprintf("c-%s-%d", alias, v), Reason: ReasonGit, ArchivePrevious: archive})
		return err
	})
	return m
}

// version reads a version that must exist.
func (f *fixture) version(model string, n int) *Version {
	f.t.Helper()
	v, err := f.r.Version(f.ctx, f.db, model, n)
	if err != nil {
		f.t.Fatal(err)
	}
	return v
}

// aliases reads model's aliases.
func (f *fixture) aliases(model string) map[string]int {
	f.t.Helper()
	a, err := f.r.Aliases(f.ctx, f.db, model)
	if err != nil {
		f.t.Fatal(err)
	}
	return a
}

// wantErr fails unless err is not nil and holds every fragment.
func wantErr(t testing.TB, err error, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one holding %q", fragments)
	}
	for _, s := range fragments {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not hold %q", err, s)
		}
	}
}
