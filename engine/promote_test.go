package engine

import (
	"context"
	"strings"
	"testing"

	"sluice/engine/planjson"
	"sluice/internal/ortlib"
	"sluice/runtime/store"
)

func withAliases(spec, model string) string {
	return strings.Replace(spec, "models: fraud: aliases: {}", model, 1)
}

func TestPlanRefusesAPromotionToAVersionThatDoesNotExist(t *testing.T) {
	db := openState(t)
	// The plan's one experiment will register v1; nothing registers v2.
	fsys := fraudRepo(withAliases(fraudSpec, "models: fraud: aliases: production: 2"))
	p := planRevision(t, db, fsys, "c1")
	if len(p.Diagnostics) > 0 {
		t.Fatalf("diagnostics: %+v", p.Diagnostics)
	}
	c := changeOf(p, "models.fraud")
	if len(c.Runtime) != 1 || c.Runtime[0] != planjson.ActionPromote || !strings.Contains(c.Refused, "production") {
		t.Fatalf("model change %s %v refused %q, want promote refused for production", c.Action, c.Runtime, c.Refused)
	}
	if !p.JSON().Refused() {
		t.Fatal("plan JSON does not say it holds a refused change (--detailed-exitcode would not exit 3)")
	}
}

func TestApplyPromotesOnlyWhenTheVersionPassesItsGates(t *testing.T) {
	ortlib.Need(t)
	ctx := context.Background()
	db := openState(t)
	d := newTrainingDrivers(t, db)
	// Train v1 first, with no alias.
	applyWith(t, db, d.Drivers, fraudRepo(fraudSpec), "c1")

	failing := fraudRepo(withAliases(fraudSpec, `models: fraud: {aliases: production: 1, gates: roc_auc: ">= 1.01"}`))
	p, res := applyWith(t, db, d.Drivers, failing, "c2")
	c := changeOf(p, "models.fraud")
	if c.Action != planjson.ActionUpdate || !strings.Contains(c.Refused, "roc_auc") || !strings.Contains(c.Detail, "✗") {
		t.Fatalf("plan %s detail %q refused %q, want the failing roc_auc gate named", c.Action, c.Detail, c.Refused)
	}
	if s := stepOf(t, res, "models.fraud"); s.Status != store.Failed || s.Reason != ReasonPromotionRefused {
		t.Fatalf("step %+v, want Failed/PromotionRefused", s)
	}
	if v, err := d.registry.Aliases(ctx, db, "fraud"); err != nil || len(v) != 0 {
		t.Fatalf("aliases %v (%v) after a refused promotion, want none", v, err)
	}

	passing := fraudRepo(withAliases(fraudSpec, `models: fraud: {aliases: production: 1, gates: roc_auc: ">= 0.5"}`))
	p, res = applyWith(t, db, d.Drivers, passing, "c3")
	if c := changeOf(p, "models.fraud"); c.Refused != "" || !strings.Contains(c.Detail, "promote fraud production") {
		t.Fatalf("plan detail %q refused %q, want an allowed promotion", c.Detail, c.Refused)
	}
	if s := stepOf(t, res, "models.fraud"); s.Status != store.Ready || s.Reason != ReasonPromoted {
		t.Fatalf("step %+v, want Ready/Promoted", s)
	}
	if v, _ := d.registry.Aliases(ctx, db, "fraud"); v["production"] != 1 {
		t.Fatalf("aliases %v, want production → 1", v)
	}
	if p := planRevision(t, db, passing, "c3"); p.hasWork() {
		t.Fatalf("plan after promoting still has work: %+v", changeOf(p, "models.fraud"))
	}
}

// A refused promotion must not hold back training: the model waits for its
// experiments, never the other way round.
func TestRefusedPromotionDoesNotHoldBackTraining(t *testing.T) {
	ortlib.Need(t)
	db := openState(t)
	d := newTrainingDrivers(t, db)
	fsys := fraudRepo(withAliases(fraudSpec, "models: fraud: aliases: production: 7"))
	_, res := applyWith(t, db, d.Drivers, fsys, "c1")
	for _, s := range res.Steps {
		if s.Addr.Kind == "experiments" && s.Status != store.Ready {
			t.Errorf("%s: %s (%s: %s), want trained despite the refused promotion", s.Addr, s.Status, s.Reason, s.Message)
		}
	}
	if s := stepOf(t, res, "models.fraud"); s.Status != store.Failed || s.Reason != ReasonPromotionRefused {
		t.Errorf("model step %+v, want Failed/PromotionRefused", s)
	}
}

func TestPlanWaitsForAVersionThisPlansTrainingWillRegister(t *testing.T) {
	db := openState(t)
	fsys := fraudRepo(withAliases(fraudSpec, `models: fraud: {aliases: production: 1, gates: roc_auc: ">= 0.5"}`))
	p := planRevision(t, db, fsys, "c1")
	c := changeOf(p, "models.fraud")
	if c.Refused != "" || !contains(c.Runtime, planjson.ActionPromote) {
		t.Fatalf("model change %s %v refused %q, want a promotion waiting for training", c.Action, c.Runtime, c.Refused)
	}
	if want := "gates checked when v1 is registered by experiments.lr: roc_auc >= 0.5"; !strings.Contains(c.Detail, want) {
		t.Fatalf("detail %q, want %q", c.Detail, want)
	}
	if p.JSON().Refused() {
		t.Fatal("plan JSON says a change is refused; --detailed-exitcode would exit 3")
	}
}

func TestOneApplyTrainsGatesAndPromotesOnAFreshState(t *testing.T) {
	ortlib.Need(t)
	ctx := context.Background()
	db := openState(t)
	d := newTrainingDrivers(t, db)
	_, res := applyWith(t, db, d.Drivers, fraudRepo(withAliases(fraudSpec, `models: fraud: {aliases: production: 1, gates: roc_auc: ">= 0.5"}`)), "c1")
	if s := stepOf(t, res, "models.fraud"); s.Status != store.Ready || s.Reason != ReasonPromoted || !strings.Contains(s.Message, "✓") {
		t.Fatalf("model step %+v, want Ready/Promoted with the gate's verdict", s)
	}
	if v, _ := d.registry.Aliases(ctx, db, "fraud"); v["production"] != 1 {
		t.Fatalf("aliases %v, want production → 1", v)
	}
}

func TestOneApplyRefusesThePromotionWhenTheNewVersionMissesAGate(t *testing.T) {
	ortlib.Need(t)
	ctx := context.Background()
	db := openState(t)
	d := newTrainingDrivers(t, db)
	_, res := applyWith(t, db, d.Drivers, fraudRepo(withAliases(fraudSpec, `models: fraud: {aliases: production: 1, gates: roc_auc: ">= 1.01"}`)), "c1")
	if s := stepOf(t, res, "experiments.lr"); s.Status != store.Ready {
		t.Fatalf("training step %+v, want the version registered anyway", s)
	}
	s := stepOf(t, res, "models.fraud")
	if s.Status != store.Failed || s.Reason != ReasonPromotionRefused || !strings.Contains(s.Message, "gate roc_auc >= 1.01") {
		t.Fatalf("model step %+v, want Failed/PromotionRefused naming the gate", s)
	}
	if v, _ := d.registry.Aliases(ctx, db, "fraud"); len(v) != 0 {
		t.Fatalf("aliases %v after a refused promotion, want none", v)
	}
}

func TestPlanJSONCarriesEachPromotionsVerdictsAgainstTheIncumbent(t *testing.T) {
	ortlib.Need(t)
	ctx := context.Background()
	db := openState(t)
	d := newTrainingDrivers(t, db)
	first := fraudRepo(withAliases(fraudSpec, "models: fraud: aliases: production: 1"))
	applyWith(t, db, d.Drivers, first, "c1")
	if _, err := Train(ctx, db, d.Drivers, TrainRequest{Spec: loadSpec(t, first), FS: first, Experiment: "lr"}); err != nil {
		t.Fatal(err)
	}
	next := fraudRepo(withAliases(fraudSpec, `models: fraud: {aliases: production: 2, gates: roc_auc: ">= incumbent - 0.5"}`))
	var rc planjson.ResourceChange
	for _, c := range planRevision(t, db, next, "c2").JSON().ResourceChanges {
		if c.Address == "models.fraud" {
			rc = c
		}
	}
	if len(rc.Promotions) != 1 {
		t.Fatalf("promotions %+v, want the production move", rc.Promotions)
	}
	p := rc.Promotions[0]
	if p.From != 1 || p.To != 2 || p.Refused != "" || len(p.Verdicts) != 1 || p.Gates[0] != "roc_auc >= incumbent - 0.5" {
		t.Fatalf("promotion %+v, want production 1 → 2 with the roc_auc gate", p)
	}
	v := p.Verdicts[0]
	if !v.Pass || v.Incumbent == nil || v.Candidate == nil || v.Delta == nil || *v.Delta != *v.Candidate-*v.Incumbent ||
		v.IncumbentVersion != 1 || v.DeclaredBy != "models.fraud" || *v.Bound != *v.Incumbent-0.5 {
		t.Fatalf("verdict %+v, want both values, their delta, the bound and who declared it", v)
	}
}

func TestAnAliasRemovedFromGitIsUnsetWithItsHistoryKept(t *testing.T) {
	ortlib.Need(t)
	ctx := context.Background()
	db := openState(t)
	d := newTrainingDrivers(t, db)
	applyWith(t, db, d.Drivers, fraudRepo(withAliases(fraudSpec, "models: fraud: aliases: {production: 1, staging: 1}")), "c1")

	p, res := applyWith(t, db, d.Drivers, fraudRepo(withAliases(fraudSpec, "models: fraud: aliases: production: 1")), "c2")
	c := changeOf(p, "models.fraud")
	if len(c.Promotions) != 1 || c.Promotions[0].To != 0 || c.Promotions[0].Alias != "staging" || !contains(c.Runtime, planjson.ActionPromote) {
		t.Fatalf("plan %s %v promotions %+v, want staging unset", c.Action, c.Runtime, c.Promotions)
	}
	if !strings.Contains(c.Detail, "unset fraud staging (was 1)") {
		t.Fatalf("detail %q", c.Detail)
	}
	if s := stepOf(t, res, "models.fraud"); s.Status != store.Ready {
		t.Fatalf("step %+v", s)
	}
	if a, _ := d.registry.Aliases(ctx, db, "fraud"); len(a) != 1 || a["production"] != 1 {
		t.Fatalf("aliases %v, want only production", a)
	}
	h, err := d.registry.History(ctx, db, "fraud", "staging")
	if err != nil || len(h) != 2 || h[1].To != 0 || h[1].From != 1 || h[1].Commit != "c2" {
		t.Fatalf("staging history %+v (%v), want set at c1 and unset at c2", h, err)
	}

	// A model removed from git (with its experiment) leaves no alias behind.
	gone := fraudRepo(strings.Split(fraudSpec, "models: fraud:")[0])
	applyWith(t, db, d.Drivers, gone, "c3")
	if a, _ := d.registry.Aliases(ctx, db, "fraud"); len(a) != 0 {
		t.Fatalf("aliases %v after the model left git, want none", a)
	}
	if vs, _ := d.registry.Versions(ctx, db, "fraud"); len(vs) != 1 {
		t.Fatalf("%d versions, want v1 kept", len(vs))
	}
}
