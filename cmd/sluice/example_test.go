package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sluice/engine"
	"sluice/engine/planjson"
	"sluice/runtime/registry"
	"sluice/runtime/store"
	"sluice/schema"
)

// TestExampleRepositoryValidatesPlansAndApplies keeps examples/repo in step
// with the schema and the engine: it must load with no error, plan with no
// diagnostic and no refusal, and apply with every executed resource Ready;
// that one apply trains both experiments, passes version 2 through its
// gates and points production at it, which the fraud endpoint serves.
func TestExampleRepositoryValidatesPlansAndApplies(t *testing.T) {
	ctx := context.Background()
	fsys := os.DirFS("../..")
	spec, err := schema.Load(schema.LoadOptions{FS: fsys, Dir: "examples/repo"})
	if err != nil {
		var b bytes.Buffer
		schema.Print(&b, err, "")
		t.Fatalf("examples/repo does not load:\n%s", b.String())
	}
	kinds := map[schema.Kind]int{}
	for _, r := range spec.Resources() {
		kinds[r.Metadata().Addr.Kind]++
	}
	for _, k := range schema.Kinds {
		if kinds[k] == 0 {
			t.Errorf("the example has no %s", k)
		}
	}
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p, err := engine.MakePlan(ctx, db, engine.Input{Spec: spec, FS: fsys, Revision: planjson.Revision{Commit: "example", Path: "examples/repo"}})
	if err != nil {
		t.Fatal(err)
	}
	if d := p.JSON().Diagnostics; len(d) > 0 {
		t.Fatalf("plan diagnostics: %+v", d)
	}
	if p.JSON().Refused() {
		t.Fatalf("the plan of a fresh state refuses a change: %+v", p.JSON().ResourceChanges)
	}
	drivers, err := newDrivers(ctx, db, "")
	if err != nil {
		t.Fatal(err)
	}
	res, err := engine.Apply(ctx, db, p, drivers, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != "applied" {
		for _, s := range res.Steps {
			t.Logf("%s: %s %s %s", s.Addr, s.Status, s.Reason, s.Message)
		}
		t.Fatalf("apply of the example: %s", res.Outcome)
	}
	for _, s := range res.Steps {
		if s.Addr.String() == "models.fraud-detector" && (s.Reason != engine.ReasonPromoted || !strings.Contains(s.Message, "production none → 2")) {
			t.Errorf("models.fraud-detector: %s %s, want production promoted to 2 through its gates", s.Reason, s.Message)
		}
	}
	reg, err := registry.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := reg.Resolve(ctx, db, "fraud-detector", "production"); err != nil || v.Lineage.Experiment != "fraud-rf" {
		t.Fatalf("fraud-detector@production: %+v, %v; want the forest's version", v, err)
	}
}
