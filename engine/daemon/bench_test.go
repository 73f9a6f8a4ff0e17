package daemon

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"sluice/internal/testgit"
	"sluice/runtime/store"
)

// BenchmarkRecheckUnchanged is the daemon's periodic re-check of a
// revision in force that nothing has changed: read the commit, load its
// CUE, plan it against the state, find no work. The resource mix is
// engine's BenchmarkPlan's: a quarter sources, a quarter entities, half
// feature views, applied for real before the timer starts.
func BenchmarkRecheckUnchanged(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("resources=%d", n), func(b *testing.B) {
			repo := testgit.New(b)
			var spec strings.Builder
			spec.WriteString("package sluice\n\n")
			k := n / 4
			for i := 0; i < k; i++ {
				fmt.Fprintf(&spec, "sources: \"s%d\": {path: \"data/d.csv\", timestamp: \"ts\"}\n", i)
				fmt.Fprintf(&spec, "entities: \"e%d\": {join_key: \"id\"}\n", i)
			}
			for i := 0; i < n-2*k; i++ {
				fmt.Fprintf(&spec, "features: \"v%d\": {entities: [\"e%d\"], source: \"s%d\", ttl: \"87600h\", fields: {a: {type: \"float64\"}, b: {type: \"float64\", expr: \"a * 2\"}}}\n", i, i%k, i%k)
			}
			repo.Write("specs/main.cue", spec.String())
			repo.Write("data/d.csv", "id,ts,a\n1,2026-01-01T00:00:00Z,1.5\n")
			commit := repo.Commit("generated")
			ctx := context.Background()
			db, err := store.Open(ctx, b.TempDir()+"/state.db")
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			d, err := Start(ctx, Config{DB: db, Drivers: drivers(b, db), Repo: repo.Dir(), Branch: "main", Path: "specs", Parallelism: 4})
			if err != nil {
				b.Fatal(err)
			}
			defer d.Close(ctx)
			if err := d.Sync(ctx); err != nil {
				b.Fatal(err)
			}
			revs, _ := store.Revisions(ctx, db, 0)
			b.ResetTimer()
			for b.Loop() {
				if err := d.recheckNow(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if after, _ := store.Revisions(ctx, db, 0); len(after) != len(revs) {
				b.Fatalf("a re-check of unchanged %s applied something: %d revisions, was %d", short(commit), len(after), len(revs))
			}
		})
	}
}
