package registry

import (
	"database/sql"
	"strings"
	"testing"

	"sluice/runtime/store"
)

// readOnly opens the fixture's state file as plan does, so a test shows
// that planning needs nothing but reads.
func (f *fixture) readOnly() *store.DB {
	f.t.Helper()
	db, err := store.OpenReadOnly(f.ctx, f.db.Path)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { db.Close() })
	if _, err := New(f.ctx, db); err != nil {
		f.t.Fatal(err)
	}
	return db
}

func (f *fixture) plan(alias string, to int, gates ...Gate) *Promotion {
	f.t.Helper()
	p, err := f.r.PlanPromotion(f.ctx, f.readOnly(), "fraud", alias, to, gates)
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

func modelGates(t *testing.T, gates map[string]string) []Gate {
	t.Helper()
	gs, err := ParseGates("models.fraud", gates)
	if err != nil {
		t.Fatal(err)
	}
	return gs
}

func TestPlanPromotionShowsEveryGatesVerdictAgainstTheIncumbent(t *testing.T) {
	f := newFixture(t)
	f.register("fraud", Metrics{"f1": 0.87, "recall": 0.8})
	f.register("fraud", Metrics{"f1": 0.91, "recall": 0.78})
	f.promote("fraud", "production", 1, false)
	p := f.plan("production", 2, modelGates(t, map[string]string{"f1": ">= 0.85", "recall": ">= incumbent - 0.05"})...)
	if p.Refused != "" || p.From != 1 || p.To != 2 || len(p.Verdicts) != 2 {
		t.Fatalf("plan %+v, want an allowed move 1 → 2 with two verdicts", p)
	}
	if got, want := p.String(), "promote fraud production 1 → 2"; got != want {
		t.Errorf("String %q, want %q", got, want)
	}
	want := "f1 0.87 → 0.91 (gate f1 >= 0.85 ✓), recall 0.8 → 0.78 (gate recall >= incumbent - 0.05 ✓)"
	if got := p.Detail(); got != want {
		t.Errorf("Detail\n got %s\nwant %s", got, want)
	}
	if a := f.aliases("fraud"); a["production"] != 1 {
		t.Errorf("planning moved production to %d", a["production"])
	}
}

func TestPlanPromotionRefusesAFailingGateNamingIt(t *testing.T) {
	f := newFixture(t)
	f.register("fraud", Metrics{"f1": 0.87})
	f.register("fraud", Metrics{"f1": 0.82})
	f.promote("fraud", "production", 1, false)
	gates := append(mustGates(t, "experiments.fraud-rf", map[string]string{"f1": ">= 0.80"}),
		modelGates(t, map[string]string{"f1": "> incumbent"})...)
	p := f.plan("production", 2, gates...)
	want := "gate f1 > incumbent (models.fraud) failed: 0.82 does not satisfy > 0.87 (version 1's 0.87)"
	if p.Refused != want {
		t.Errorf("refused %q, want %q", p.Refused, want)
	}
	if !p.Verdicts[0].Pass || p.Verdicts[1].Pass {
		t.Errorf("verdicts %+v: the experiment's gate passes, the model's fails", p.Verdicts)
	}
}

func mustGates(t *testing.T, from string, gates map[string]string) []Gate {
	t.Helper()
	gs, err := ParseGates(from, gates)
	if err != nil {
		t.Fatal(err)
	}
	return gs
}

func TestPlanPromotionRefusesAMissingOrFailedVersion(t *testing.T) {
	f := newFixture(t)
	if p := f.plan("production", 1); p.Refused != "model fraud has no versions" {
		t.Errorf("refused %q before any version", p.Refused)
	}
	f.register("fraud", Metrics{"f1": 0.9})
	f.register("fraud", Metrics{"f1": 0.95})
	f.tx(func(tx *sql.Tx) error {
		return f.r.SetStatus(f.ctx, tx, "fraud", 2, StatusFailed, "outputs do not match the dataset")
	})
	if p := f.plan("production", 7); p.Refused != "model fraud has no version 7 (the newest is 2)" {
		t.Errorf("refused %q for a version that does not exist", p.Refused)
	}
	p := f.plan("production", 2, modelGates(t, map[string]string{"f1": ">= 0.5"})...)
	if p.Refused != "version 2 of fraud is FAILED (outputs do not match the dataset) and cannot be promoted" {
		t.Errorf("refused %q for a failed version", p.Refused)
	}
	if p.Archives(true) != 0 {
		t.Errorf("a refused move archives version %d", p.Archives(true))
	}
}

func TestPlanPromotionWithoutIncumbentPassesRelativeGatesAndSaysSo(t *testing.T) {
	f := newFixture(t)
	f.register("fraud", Metrics{"f1": 0.5})
	p := f.plan("production", 1, modelGates(t, map[string]string{"f1": ">= incumbent - 0.01"})...)
	if p.Refused != "" || p.From != 0 || !strings.Contains(p.Verdicts[0].Message, "no incumbent") {
		t.Errorf("plan %+v, want an allowed first move whose verdict says there is no incumbent", p)
	}
	if got := p.String(); got != "promote fraud production none → 1" {
		t.Errorf("String %q", got)
	}
}

func TestPlanPromotionToWhereTheAliasPointsIsANoOp(t *testing.T) {
	f := newFixture(t)
	f.register("fraud", Metrics{"f1": 0.5})
	f.promote("fraud", "production", 1, false)
	p := f.plan("production", 1, modelGates(t, map[string]string{"f1": ">= 0.9"})...)
	if !p.NoOp() || p.Refused != "" || p.Verdicts != nil {
		t.Errorf("plan %+v, want a no-op that checks no gates", p)
	}
}

func TestPlanPromotionSaysWhatArchivePreviousWouldArchive(t *testing.T) {
	f := newFixture(t)
	for i := 0; i < 3; i++ {
		f.register("fraud", nil)
	}
	f.promote("fraud", "production", 1, false)
	p := f.plan("production", 2)
	if p.Archives(true) != 1 || p.Archives(false) != 0 {
		t.Errorf("archives %d with and %d without archive_previous, want 1 and 0", p.Archives(true), p.Archives(false))
	}
	f.promote("fraud", "champion", 1, false)
	p = f.plan("production", 2)
	if p.Archives(true) != 0 || len(p.FromShared) != 1 || p.FromShared[0] != "champion" {
		t.Errorf("plan %+v: champion still uses version 1, so nothing is archived", p)
	}
}

func TestPlanPromotionToAnArchivedVersionSaysItComesBack(t *testing.T) {
	f := newFixture(t)
	f.register("fraud", nil)
	f.register("fraud", nil)
	f.promote("fraud", "production", 1, true)
	f.promote("fraud", "production", 2, true)
	p := f.plan("production", 1)
	if p.ToStatus != StatusArchived || p.Detail() != "version 1 is ARCHIVED and becomes READY again" {
		t.Errorf("plan %+v detail %q", p, p.Detail())
	}
}

func TestPlanPromotionRejectsAReservedAlias(t *testing.T) {
	f := newFixture(t)
	f.register("fraud", nil)
	_, err := f.r.PlanPromotion(f.ctx, f.db, "fraud", "Latest", 1, nil)
	wantErr(t, err, `plan promotion of fraud: alias "Latest" is reserved`)
}
