package serving

import (
	"context"
	"strings"
	"sync"
	"testing"
)

// lookupTable answers a join's lookups from a map of entity → values: the
// engine wires the online store's reader as a plain function, which is all
// the server sees (the engine's tests join through the real store).
type lookupTable struct {
	mu    sync.Mutex
	rows  map[string][]FeatureValue
	width int
	calls [][][]string
}

func (s *lookupTable) lookup(_ context.Context, entities [][]string) ([][]FeatureValue, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, entities)
	out := make([][]FeatureValue, len(entities))
	for i, e := range entities {
		out[i] = s.rows[strings.Join(e, "/")]
		if out[i] == nil {
			out[i] = make([]FeatureValue, s.width)
			for j := range out[i] {
				out[i][j].Missing = "not found in the online store"
			}
		}
	}
	return out, nil
}

// typesJoin serves types.onnx with n (int64) and tag (string) joined by
// user_id; a request sends x.
func typesJoin(st *lookupTable, onMissing string) Config {
	return Config{Endpoint: "types", Version: 1, Path: model("types.onnx"), Join: &FeatureJoin{
		EntityKeys: []string{"user_id"},
		Features: []JoinedFeature{
			{Ref: "user_stats:n", Input: "n", Type: "int64", Keys: []string{"user_id"}},
			{Ref: "user_stats:tag", Input: "tag", Type: "string", Keys: []string{"user_id"}},
		},
		Lookup: st.lookup, OnMissing: onMissing,
	}}
}

func TestFeatureJoinFillsTheModelsInputsBesideTheRequestsFields(t *testing.T) {
	st := &lookupTable{width: 2, rows: map[string][]FeatureValue{
		"1001": {{Value: int64(5)}, {Value: "gold"}},
		"1002": {{Value: int64(7)}, {Value: "silver"}},
	}}
	ts := newServer(t)
	ts.deploy(t, typesJoin(st, "error"))
	r := ts.post(t, "/v1/models/types:predict", `{"instances":[{"user_id":1001,"x":[1,2]},{"user_id":"1002","x":[0.5,0]}]}`)
	if r.code != 200 {
		t.Fatalf("status %d: %s", r.code, r.raw)
	}
	if !strings.Contains(r.raw, `"total":[8],"twice":[10],"tag_out":["gold"]`) || !strings.Contains(r.raw, `"total":[7.5],"twice":[14],"tag_out":["silver"]`) {
		t.Errorf("predictions %s, want each row's joined n and tag", r.raw)
	}
	if len(st.calls) != 1 || len(st.calls[0]) != 2 || st.calls[0][0][0] != "1001" || st.calls[0][1][0] != "1002" {
		t.Errorf("lookups %v, want one call for both rows", st.calls)
	}

	// The v2 protocol sends an entity key as INT64.
	r = ts.post(t, "/v2/models/types/infer", `{"inputs":[{"name":"user_id","shape":[1],"datatype":"INT64","data":[1002]},{"name":"x","shape":[1,2],"datatype":"FP64","data":[1,1]}]}`)
	if r.code != 200 || !strings.Contains(r.raw, `"name":"total","datatype":"FP64","shape":[1,1],"data":[9]`) {
		t.Fatalf("v2: %d %s", r.code, r.raw)
	}

	// A request that sends the joined inputs itself needs no entity.
	if r := ts.post(t, "/v1/models/types:predict", `{"instances":[{"x":[1,2],"n":[1],"tag":["t"]}]}`); r.code != 200 {
		t.Errorf("plain request to a joining endpoint: %d %s", r.code, r.raw)
	}
	// Unknown fields name what the endpoint takes: the request's inputs and
	// the entity keys, not the joined inputs.
	r = ts.post(t, "/v1/models/types:predict", `{"instances":[{"user_id":1001,"amount":1}]}`)
	if msg, _ := r.body["error"].(string); r.code != 400 || !strings.Contains(msg, `unknown input "amount": the model takes x, user_id`) {
		t.Errorf("unknown field: %d %s", r.code, r.raw)
	}
}

func TestFeatureJoinRefusesAMissingEntityNamingItAndTheFeature(t *testing.T) {
	st := &lookupTable{width: 2, rows: map[string][]FeatureValue{
		"1001": {{Value: int64(5)}, {Value: "gold"}},
		"1003": {{Value: int64(1)}, {Missing: "older than the view's ttl"}},
	}}
	ts := newServer(t)
	ts.deploy(t, typesJoin(st, "error"))
	for body, want := range map[string]string{
		`{"instances":[{"user_id":1001,"x":[1,2]},{"user_id":999,"x":[1,2]}]}`: "entity user_id=999: feature user_stats:n not found in the online store (on_missing_entity: error)",
		`{"instances":[{"user_id":1003,"x":[1,2]}]}`:                           "entity user_id=1003: feature user_stats:tag older than the view's ttl (on_missing_entity: error)",
		`{"instances":[{"x":[1,2],"n":[1]}]}`:                                  "missing input tag",
	} {
		r := ts.post(t, "/v1/models/types:predict", body)
		if msg, _ := r.body["error"].(string); r.code != 400 || !strings.Contains(msg, want) {
			t.Errorf("%s: %d %s, want 400 with %q", body, r.code, r.raw, want)
		}
	}
}

func TestFeatureJoinDefaultFillsAMissingEntityWithZeroValues(t *testing.T) {
	st := &lookupTable{width: 2, rows: map[string][]FeatureValue{"1001": {{Value: int64(5)}, {Value: "gold"}}}}
	ts := newServer(t)
	ts.deploy(t, typesJoin(st, "default"))
	r := ts.post(t, "/v1/models/types:predict", `{"instances":[{"user_id":999,"x":[1,2]},{"user_id":1001,"x":[1,2]}]}`)
	if r.code != 200 {
		t.Fatalf("status %d: %s", r.code, r.raw)
	}
	if !strings.Contains(r.raw, `{"total":[3],"twice":[0],"tag_out":[""]},{"total":[8]`) {
		t.Errorf("predictions %s, want zeros for 999 and 1001's features", r.raw)
	}
}

func TestFeatureJoinDefaultFillsAMissingEntityWithTheDeclaredDefaults(t *testing.T) {
	st := &lookupTable{width: 2, rows: map[string][]FeatureValue{"1001": {{Value: int64(5)}, {Missing: "older than the view's ttl"}}}}
	ts := newServer(t)
	cfg := typesJoin(st, "default")
	cfg.Join.Features[0].Default = int64(4)
	cfg.Join.Features[1].Default = "bronze"
	ts.deploy(t, cfg)
	r := ts.post(t, "/v1/models/types:predict", `{"instances":[{"user_id":999,"x":[1,2]},{"user_id":1001,"x":[1,2]}]}`)
	if r.code != 200 {
		t.Fatalf("status %d: %s", r.code, r.raw)
	}
	if !strings.Contains(r.raw, `{"total":[7],"twice":[8],"tag_out":["bronze"]},{"total":[8],"twice":[10],"tag_out":["bronze"]}`) {
		t.Errorf("predictions %s, want 999 filled with n 4 and tag bronze, and 1001's stale tag with bronze", r.raw)
	}

	bad := typesJoin(st, "default")
	bad.Join.Features[0].Default = "four"
	if err := bad.check(); err == nil || !strings.Contains(err.Error(), "user_stats:n: default four (string) is not a int64") {
		t.Errorf("a string default for an int64 feature: %v", err)
	}
}

func TestFeatureJoinFillsADenseInputInFeatureOrder(t *testing.T) {
	st := &lookupTable{width: 4, rows: map[string][]FeatureValue{
		"1001": {{Value: 1.0}, {Value: int64(2)}, {Value: true}, {Value: 4.0}},
	}}
	cfg := regressor(1)
	cfg.Join = &FeatureJoin{EntityKeys: []string{"user_id"}, Lookup: st.lookup, OnMissing: "error", Features: []JoinedFeature{
		{Ref: "u:a", Input: "a", Type: "float64"}, {Ref: "u:b", Input: "b", Type: "int64"},
		{Ref: "u:c", Input: "c", Type: "bool"}, {Ref: "u:d", Input: "d", Type: "float64"},
	}}
	ts := newServer(t)
	ts.deploy(t, cfg)
	r := ts.post(t, "/v1/models/reg:predict", `{"instances":[{"user_id":1001}]}`)
	if r.code != 200 {
		t.Fatalf("status %d: %s", r.code, r.raw)
	}
	want := reference(t, model("regressor_v1.onnx"), [][]float64{{1, 2, 1, 4}})
	if got := floats(t, r.body["predictions"]); !near(got, want) {
		t.Errorf("joined predictions %v, want %v", got, want)
	}
}

func TestDeployRefusesAJoinWhoseFeaturesDoNotFitTheModel(t *testing.T) {
	ts := newServer(t)
	st := &lookupTable{width: 2}
	cfg := typesJoin(st, "error")
	cfg.Join.Features[0].Type = "string" // into int64 n
	cfg.Join.Features[1].Input = "country"
	err := ts.Deploy(context.Background(), cfg)
	if ReasonOf(err) != ReasonSignatureMismatch {
		t.Fatalf("deploy: %v, want SignatureMismatch", err)
	}
	for _, want := range []string{
		`features[0] feature user_stats:n is string; input "n" takes int64`,
		`features[1] feature user_stats:tag fills input "country"; the model has no such input (it has x, n, tag)`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}

	dense := regressor(1)
	dense.Join = &FeatureJoin{EntityKeys: []string{"user_id"}, Lookup: st.lookup, Input: "input", Features: []JoinedFeature{{Ref: "u:a", Type: "float64"}}}
	if err := ts.Deploy(context.Background(), dense); ReasonOf(err) != ReasonSignatureMismatch || !strings.Contains(err.Error(), `feature join has 1 features; input "input" takes 4 per row`) {
		t.Errorf("dense join of the wrong width: %v", err)
	}
}

func TestAnEntityKeyTheModelAlsoTakesFeedsBoth(t *testing.T) {
	st := &lookupTable{width: 1, rows: map[string][]FeatureValue{"5": {{Value: "gold"}}}}
	ts := newServer(t)
	ts.deploy(t, Config{Endpoint: "types", Version: 1, Path: model("types.onnx"), Join: &FeatureJoin{
		EntityKeys: []string{"n"}, Lookup: st.lookup, OnMissing: "error",
		Features: []JoinedFeature{{Ref: "users:tag", Input: "tag", Type: "string", Keys: []string{"n"}}},
	}})
	r := ts.post(t, "/v1/models/types:predict", `{"instances":[{"n":[5],"x":[1,2]}]}`)
	if r.code != 200 || !strings.Contains(r.raw, `"total":[8],"twice":[10],"tag_out":["gold"]`) {
		t.Fatalf("%d %s, want n=5 fed to the model and used as the key", r.code, r.raw)
	}
	if len(st.calls) != 1 || st.calls[0][0][0] != "5" {
		t.Errorf("lookups %v, want key \"5\"", st.calls)
	}
}
