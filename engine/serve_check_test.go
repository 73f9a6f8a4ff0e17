package engine

import (
	"strings"
	"testing"

	"sluice/internal/ortlib"
)

// lineOf is the 1-based line of the first line of the repository's spec
// that contains s.
func lineOf(t *testing.T, spec, s string) int {
	t.Helper()
	for i, l := range strings.Split(spec, "\n") {
		if strings.Contains(l, s) {
			return i + 1
		}
	}
	t.Fatalf("spec has no line with %q", s)
	return 0
}

func TestPlanRefusesAnEndpointWhoseInputsDoNotFitTheRecordedSignatureAndTheOldVersionKeepsServing(t *testing.T) {
	ortlib.Need(t)
	db := openState(t)
	d := newTrainingDrivers(t, db)
	srv, base := newServer(t)
	d.Serving = srv
	applyServing(t, db, d.Drivers, servingRepo(1, "1.0", fraudEndpoint), "c1")

	// v1 takes segment (string) and score (float32), and the join fills score.
	bad := `
endpoints: fraud: {
	model: "fraud", alias: "production"
	entity_keys: ["user_id"]
	features: ["user_stats:score"]
	inputs: [
		{name: "segment", type: "float32"},
		{name: "score", type: "float32"},
		{name: "amount", type: "float32"},
	]
}
`
	fsys := servingRepo(1, "1.0", bad)
	p := planServing(t, db, srv, fsys, "c2")
	if !p.JSON().Errored {
		t.Fatalf("plan of an endpoint that does not fit its model has no error: %+v", p.Diagnostics)
	}
	spec := string(fsys["specs/main.cue"].Data)
	want := map[string]int{
		`fraud v1 does not fit this endpoint: inputs[0] "segment": declared float32, the model takes string`:              lineOf(t, spec, `{name: "segment"`),
		`fraud v1 does not fit this endpoint: inputs[1] "score": the feature join fills it; a request cannot send it too`: lineOf(t, spec, `{name: "score"`),
		`fraud v1 does not fit this endpoint: inputs[2] "amount": the model has no such input (it has segment, score)`:    lineOf(t, spec, `{name: "amount"`),
	}
	for _, d := range p.Diagnostics {
		line, ok := want[d.Summary]
		if !ok {
			t.Errorf("unexpected diagnostic %s:%d: %s", d.File, d.Line, d.Summary)
			continue
		}
		if d.Severity != "error" || d.File != "specs/main.cue" || d.Line != line || d.Address != "endpoints.fraud" {
			t.Errorf("diagnostic %+v, want an error at specs/main.cue:%d", d, line)
		}
		delete(want, d.Summary)
	}
	for s := range want {
		t.Errorf("no diagnostic %q", s)
	}
	// The errored plan is never applied, so v1 keeps serving.
	if st, _ := srv.Status("fraud"); st.Serving != 1 || st.State != "Ready" {
		t.Errorf("status %+v, want v1 still Ready", st)
	}
	if code, _ := predict(t, base, "1"); code != 200 {
		t.Errorf("v1 after the refused plan: %d", code)
	}
}

func TestPlanRefusesAJoinWhoseViewIsNotKeyedByTheEndpointsEntityKeys(t *testing.T) {
	db := openState(t)
	spec := `
endpoints: fraud: {
	model: "fraud", alias: "production"
	entity_keys: ["account_id"]
	features: ["user_stats:score"]
}
`
	fsys := servingRepo(0, "1.0", spec)
	p := planServing(t, db, nil, fsys, "c1")
	if len(p.Diagnostics) != 1 {
		t.Fatalf("diagnostics %+v, want one", p.Diagnostics)
	}
	d := p.Diagnostics[0]
	if d.Severity != "error" || d.Summary != "feature view user_stats is keyed by user_id, which entity_keys (account_id) lacks" ||
		d.Line != lineOf(t, string(fsys["specs/main.cue"].Data), `features: ["user_stats:score"]`) {
		t.Errorf("diagnostic %+v", d)
	}
}

func TestPlanRefusesAJoinedFeatureTheRecordedModelHasNoInputFor(t *testing.T) {
	ortlib.Need(t)
	db := openState(t)
	d := newTrainingDrivers(t, db)
	applyServing(t, db, d.Drivers, servingRepo(1, "1.0", ""), "c1")
	// bonus is a new field of the view; fraud v1 was trained without it.
	spec := strings.Replace(fraudSpec, `segment: type: "string"`, `segment: type: "string"
	bonus: {type: "float64", expr: "score * 2"}`, 1)
	spec = withAliases(spec, "models: fraud: aliases: production: 1")
	fsys := fraudRepo(spec + `
endpoints: fraud: {
	model: "fraud", alias: "production"
	entity_keys: ["user_id"]
	features: ["user_stats:score", "user_stats:bonus"]
}
`)
	p := planServing(t, db, nil, fsys, "c2")
	want := `fraud v1 does not fit this endpoint: features[1] feature user_stats:bonus fills input "bonus"; the model has no such input (it has segment, score)`
	var found bool
	for _, d := range p.Diagnostics {
		if d.Summary == want && d.Severity == "error" && d.Line == lineOf(t, string(fsys["specs/main.cue"].Data), `features: ["user_stats:score", "user_stats:bonus"]`) {
			found = true
		} else {
			t.Errorf("unexpected diagnostic %+v", d)
		}
	}
	if !found {
		t.Errorf("no error %q in %+v", want, p.Diagnostics)
	}
}

func TestPlanRefusesFeatureDefaultsThatCannotApplyAtTheirLine(t *testing.T) {
	db := openState(t)
	spec := `
endpoints: fraud: {
	model: "fraud", alias: "production"
	entity_keys: ["user_id"]
	features: ["user_stats:score", "user_stats:segment"]
	on_missing_entity: "default"
	feature_defaults: {
		"user_stats:score":   "high"
		"user_stats:segment": 3
		"user_stats:bonus":   1.5
	}
}
`
	fsys := servingRepo(0, "1.0", spec)
	p := planServing(t, db, nil, fsys, "c1")
	text := string(fsys["specs/main.cue"].Data)
	want := map[string]int{
		"default high is a string, the feature is float64":                                              lineOf(t, text, `"user_stats:score":   "high"`),
		"default 3 is a number, the feature is string":                                                  lineOf(t, text, `"user_stats:segment": 3`),
		"user_stats:bonus is not one of the endpoint's features (user_stats:score, user_stats:segment)": lineOf(t, text, `"user_stats:bonus":   1.5`),
	}
	for _, d := range p.Diagnostics {
		line, ok := want[d.Summary]
		if !ok || d.Severity != "error" || d.Line != line || d.Address != "endpoints.fraud" {
			t.Errorf("unexpected diagnostic %+v", d)
			continue
		}
		delete(want, d.Summary)
	}
	for s := range want {
		t.Errorf("no diagnostic %q", s)
	}

	// A default under on_missing_entity: "error" would never be used.
	unused := strings.Replace(spec, `on_missing_entity: "default"`, `on_missing_entity: "error"`, 1)
	unused = strings.Replace(strings.Replace(unused, `"high"`, `0.5`, 1), `"user_stats:segment": 3`, `"user_stats:segment": "none"`, 1)
	unused = strings.Replace(unused, `"user_stats:bonus":   1.5`, "", 1)
	fsys = servingRepo(0, "1.0", unused)
	p = planServing(t, db, nil, fsys, "c2")
	if len(p.Diagnostics) != 2 || !strings.Contains(p.Diagnostics[0].Summary, `a default for user_stats:score is never used: on_missing_entity is "error"`) {
		t.Errorf("diagnostics %+v, want the two unused defaults refused", p.Diagnostics)
	}
}
