package registry

import (
	"database/sql"
	"fmt"
	"testing"
	"time"
)

// BenchmarkRegisterVersion registers one version per committed transaction.
func BenchmarkRegisterVersion(b *testing.B) {
	f := newFixture(b)
	in := input("run-1", Metrics{"f1": 0.9, "roc_auc": 0.95, "accuracy": 0.97})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		err := f.db.Tx(f.ctx, func(tx *sql.Tx) error {
			_, err := f.r.RegisterVersion(f.ctx, tx, "fraud", in)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// benchHistory is a model with 100 versions and 10,000 moves of production.
func benchHistory(b *testing.B) *fixture {
	f := newFixture(b)
	err := f.db.Tx(f.ctx, func(tx *sql.Tx) error {
		for i := 0; i < 100; i++ {
			if _, err := f.r.RegisterVersion(f.ctx, tx, "fraud", input(fmt.Sprint(i), Metrics{"f1": float64(i) / 100})); err != nil {
				return err
			}
		}
		for i := 0; i < 10000; i++ {
			if _, err := f.r.Promote(f.ctx, tx, Move{Model: "fraud", Alias: "production", Version: i%100 + 1, Reason: ReasonGit}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return f
}

// BenchmarkAliasAt asks which version was in production at a time in the
// middle of 10,000 moves.
func BenchmarkAliasAt(b *testing.B) {
	f := benchHistory(b)
	at := t0.Add(5100 * time.Minute)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := f.r.AliasAt(f.ctx, f.db, "fraud", "production", at); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPlanPromotion plans a gated move of a model with 100 versions.
func BenchmarkPlanPromotion(b *testing.B) {
	f := benchHistory(b)
	gates, err := ParseGates("models.fraud", map[string]string{"f1": ">= incumbent - 0.5", "recall": ">= 0"})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := f.r.PlanPromotion(f.ctx, f.db, "fraud", "production", 50, gates); err != nil {
			b.Fatal(err)
		}
	}
}
