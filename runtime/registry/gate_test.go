package registry

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"sluice/schema"
)

func TestParseGateReadsEveryForm(t *testing.T) {
	cases := []struct {
		expr     string
		op       string
		relative bool
		value    float64
	}{
		{">= 0.85", ">=", false, 0.85},
		{"<= 0.2", "<=", false, 0.2},
		{"> incumbent - 0.01", ">", true, -0.01},
		{">= incumbent", ">=", true, 0},
		{"== 1", "==", false, 1},
		{">=0.85", ">=", false, 0.85},
		{"  <  1e-3 ", "<", false, 0.001},
		{"> -1", ">", false, -1},
		{">= incumbent + .5", ">=", true, 0.5},
		{"<incumbent-0.02", "<", true, -0.02},
	}
	for _, c := range cases {
		g, err := ParseGate("f1", c.expr)
		if err != nil {
			t.Errorf("%q: %v", c.expr, err)
			continue
		}
		if g.Op != c.op || g.Relative != c.relative || g.Value != c.value || g.Metric != "f1" || g.Expr != strings.TrimSpace(c.expr) {
			t.Errorf("%q parsed as %+v", c.expr, g)
		}
	}
}

func TestParseGateErrorsNameTheMetricAndColumn(t *testing.T) {
	cases := []struct {
		expr   string
		column int
		msg    string
	}{
		{"", 1, "the gate is empty"},
		{"   ", 4, "the gate is empty"},
		{"=> 0.8", 1, `expected a comparison (>=, <=, >, <, ==), found "=>"`},
		{"0.85", 1, "expected a comparison"},
		{"!= 1", 1, "expected a comparison"},
		{">= O.85", 4, `expected a number or "incumbent", found "O"`},
		{">= 1.2.3", 7, `unexpected ".3" after the gate`},
		{">= incumbant - 0.01", 4, `expected a number or "incumbent", found "incumbant"`},
		{">= incumbent 0.01", 14, `expected + or - after "incumbent", found "0.01"`},
		{">= incumbent -", 15, "expected a number, found the end"},
		{">= incumbent - -0.01", 16, `expected a number, found "-0.01"`},
		{"> 0.8 or > 0.9", 7, `unexpected "or" after the gate`},
		{">= 1e999", 4, `"1e999" is out of range`},
		{">=", 3, "expected a number, found the end"},
	}
	for _, c := range cases {
		_, err := ParseGate("recall", c.expr)
		var ge *GateError
		if !errors.As(err, &ge) {
			t.Errorf("%q: error %v, want a *GateError", c.expr, err)
			continue
		}
		if ge.Column != c.column || ge.Metric != "recall" || !strings.Contains(ge.Msg, c.msg) {
			t.Errorf("%q: column %d %q, want column %d %q", c.expr, ge.Column, ge.Msg, c.column, c.msg)
		}
		want := `gate recall "` + c.expr + `": column `
		if !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%q: error %q does not start %q", c.expr, err, want)
		}
	}
	_, err := ParseGate("", ">= 1")
	wantErr(t, err, "the metric name is empty")
}

func TestParseGatesReportsEveryBadGate(t *testing.T) {
	gates, err := ParseGates("models.fraud", map[string]string{"f1": ">= 0.8", "recall": ">= x", "auc": "> incumbent +"})
	wantErr(t, err, `models.fraud: gate auc "> incumbent +": column 14`, `models.fraud: gate recall ">= x": column 4`)
	if len(gates) != 1 || gates[0].Metric != "f1" || gates[0].From != "models.fraud" {
		t.Errorf("good gates %+v, want f1 from models.fraud", gates)
	}
}

// loadSpec loads CUE files through Sluice's schema.
func loadSpec(t *testing.T, files map[string]string) *schema.Spec {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, src := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(src)}
	}
	spec, err := schema.Load(schema.LoadOptions{FS: fsys})
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

func TestGatesForPutsMistakesAtTheirFileLineAndColumn(t *testing.T) {
	spec := loadSpec(t, map[string]string{"models.cue": `package sluice

models: fraud: {
	gates: {
		f1:      ">= 0.8"
		recall:  ">= 1.2.3"
		"p-at-k": "> incumbent - 0.1.2"
	}
}
`})
	_, err := GatesFor(nil, spec.Models["fraud"])
	// The schema lets "1.2.3" through as number-like; the parser does not.
	wantErr(t, err,
		`models.cue:6:19: models.fraud: gate recall ">= 1.2.3": column 7: unexpected ".3"`,
		`models.cue:7:31: models.fraud: gate p-at-k "> incumbent - 0.1.2": column 18: unexpected ".2"`)
}

func TestGatesForAppliesTheExperimentsAndTheModels(t *testing.T) {
	exp := &schema.Experiment{Gates: map[string]string{"f1": ">= 0.8", "precision": ">= 0.7"}}
	exp.Addr = schema.Addr{Kind: schema.KindExperiment, Name: "fraud-rf"}
	model := &schema.Model{Gates: map[string]string{"f1": ">= incumbent - 0.01"}}
	model.Addr = schema.Addr{Kind: schema.KindModel, Name: "fraud"}
	gates, err := GatesFor(exp, model)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, g := range gates {
		got = append(got, g.From+": "+g.String())
	}
	want := "experiments.fraud-rf: f1 >= 0.8|experiments.fraud-rf: precision >= 0.7|models.fraud: f1 >= incumbent - 0.01"
	if strings.Join(got, "|") != want {
		t.Errorf("gates\n%s\nwant\n%s", strings.Join(got, "|"), want)
	}
}
