package registry

import (
	"database/sql"
	"path/filepath"
	"reflect"
	"testing"

	"sluice/runtime/store"
)

func TestLineageLeadsFromVersionToCommit(t *testing.T) {
	f := newFixture(t)
	in := input("run-42", Metrics{"f1": 0.9})
	in.Lineage = Facts{
		Experiment: "fraud-rf",
		SpecHash:   "spec-9",
		Label:      "labels",
		FeatureViews: []ViewFact{
			{Name: "user_stats", Source: "transactions", Fields: []string{"total_purchases", "refund_rate"}},
			{Name: "merchant_stats", Source: "merchants", Fields: []string{"risk_score"}},
		},
		Sources: []SourceFact{
			{Name: "transactions", Path: "data/transactions.csv", Fingerprint: "sha256:aa"},
			{Name: "merchants", Path: "data/merchants.parquet", Fingerprint: "sha256:bb"},
			{Name: "labels", Path: "data/labels.csv", Fingerprint: "sha256:cc"},
		},
	}
	f.tx(func(tx *sql.Tx) error { _, err := f.r.RegisterVersion(f.ctx, tx, "fraud", in); return err })
	l, err := f.r.Lineage(f.ctx, f.db, "fraud", 1)
	if err != nil {
		t.Fatal(err)
	}
	if l.RunID != "run-42" || l.DatasetFingerprint != in.DatasetFingerprint || l.Commit != in.Commit ||
		l.Experiment != "fraud-rf" || l.SpecHash != "spec-9" || l.Label != "labels" || !l.RegisteredAt.Equal(t0) {
		t.Errorf("lineage %+v does not hold what was registered", l)
	}
	if !reflect.DeepEqual(l.FeatureViews, in.Lineage.FeatureViews) || !reflect.DeepEqual(l.Sources, in.Lineage.Sources) {
		t.Errorf("views %+v sources %+v", l.FeatureViews, l.Sources)
	}
	_, err = f.r.Lineage(f.ctx, f.db, "fraud", 2)
	wantErr(t, err, "lineage: model fraud has no version 2 (the newest is 1)")
}

func TestPlanningBeforeTheFirstApplyRefusesForLackOfVersions(t *testing.T) {
	f := newFixture(t)
	db, err := store.OpenReadOnly(f.ctx, filepath.Join(t.TempDir(), "never-applied.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r, err := New(f.ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	p, err := r.PlanPromotion(f.ctx, db, "fraud", "production", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Refused != "model fraud has no versions" {
		t.Errorf("refused %q", p.Refused)
	}
}

func TestAReadOnlyStateWithoutRegistryTablesAsksForAnApply(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	f := newFixture(t)
	db, err := store.Open(f.ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	ro, err := store.OpenReadOnly(f.ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	_, err = New(f.ctx, ro)
	wantErr(t, err, "registry tables at version 0, want 1", "run apply once")
}
