package engine

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"sluice/engine/planjson"
	"sluice/runtime/store"
	"sluice/schema"
)

// generatedRepo writes n resources: a quarter sources, a quarter entities,
// half feature views, each view reading one source and one entity.
func generatedRepo(n int) fstest.MapFS {
	var b strings.Builder
	b.WriteString("package sluice\n\n")
	k := n / 4
	for i := 0; i < k; i++ {
		fmt.Fprintf(&b, "sources: \"s%d\": {path: \"data/d.csv\", timestamp: \"ts\"}\n", i)
		fmt.Fprintf(&b, "entities: \"e%d\": {join_key: \"id\"}\n", i)
	}
	for i := 0; i < n-2*k; i++ {
		fmt.Fprintf(&b, "features: \"v%d\": {entities: [\"e%d\"], source: \"s%d\", ttl: \"48h\", fields: {a: {type: \"float64\"}, b: {type: \"int64\", expr: \"a * 2\"}}, description: \"view %d\"}\n", i, i%k, i%k, i)
	}
	return fstest.MapFS{
		"specs/main.cue": {Data: []byte(b.String())},
		"data/d.csv":     {Data: []byte("id,ts,a\n1,2026-01-01T00:00:00Z,1.5\n")},
	}
}

// recordAll writes every resource of spec into the state as applied, the
// way a finished apply leaves it, without running any runtime.
func recordAll(b testing.TB, db *store.DB, spec *schema.Spec, fsys fstest.MapFS) {
	ctx := context.Background()
	fp, err := fingerprint(fsys, "data/d.csv")
	if err != nil {
		b.Fatal(err)
	}
	err = db.Tx(ctx, func(tx *sql.Tx) error {
		id, err := store.BeginRevision(ctx, tx, "c0", "main", "specs", time.Now())
		if err != nil {
			return err
		}
		for _, r := range spec.Resources() {
			m := r.Metadata()
			if err := store.PutResource(ctx, tx, store.Resource{Kind: string(m.Addr.Kind), Name: m.Addr.Name, Spec: m.Spec, Hash: m.Hash,
				Classes: m.Classes, Outputs: map[string]string{"fingerprint": fp}, RevisionID: id, AppliedAt: time.Now()}); err != nil {
				return err
			}
		}
		// A materialized view has its tables; their contents do not
		// matter to planning.
		for name := range spec.Features {
			for _, kind := range []string{"offline", "online"} {
				if _, err := tx.ExecContext(ctx, `CREATE TABLE "features_`+kind+`_`+name+`" (x)`); err != nil {
					return err
				}
			}
		}
		return store.FinishRevision(ctx, tx, id, "applied", "", time.Now())
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkPlan measures `sluice plan` without git: loading the CUE of n
// resources and planning it against a state that already holds them (the
// daemon's periodic check). bench/plan.sh reports the 10,000/1,000 ratio.
func BenchmarkPlan(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		fsys := generatedRepo(n)
		spec, err := schema.Load(schema.LoadOptions{FS: fsys, Dir: "specs"})
		if err != nil {
			b.Fatal(err)
		}
		db, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "state.db"))
		if err != nil {
			b.Fatal(err)
		}
		recordAll(b, db, spec, fsys)
		b.Run(fmt.Sprintf("load/resources=%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := schema.Load(schema.LoadOptions{FS: fsys, Dir: "specs"}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("plan/resources=%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				p, err := MakePlan(context.Background(), db, Input{Spec: spec, FS: fsys, Revision: planjson.Revision{Commit: "c1"}})
				if err != nil {
					b.Fatal(err)
				}
				if p.hasWork() {
					b.Fatal("plan of an applied revision has work")
				}
			}
		})
		db.Close()
	}
}
