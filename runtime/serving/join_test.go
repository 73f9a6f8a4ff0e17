package serving

import (
	"context"
	"strings"
	"sync"
	"testing"
)

// store is an online store stand-in: the engine wires the real one's
// lookup as a plain function, which is all the join sees.
type store struct {
	mu    sync.Mutex
	rows  map[string][]float64
	calls [][][]string
}

func (s *store) lookup(_ context.Context, entities [][]string) ([][]float64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, entities)
	out := make([][]float64, len(entities))
	for i, e := range entities {
		out[i] = s.rows[strings.Join(e, "/")]
	}
	return out, nil
}

func joinConfig(s *store, onMissing string) Config {
	cfg := regressor(1)
	cfg.Join = &FeatureJoin{EntityKeys: []string{"user_id"}, Input: "input", Lookup: s.lookup, OnMissing: onMissing, Default: []float64{0, 0, 0, 1}}
	return cfg
}

func TestFeatureJoinFillsTheInputFromTheLookup(t *testing.T) {
	st := &store{rows: map[string][]float64{"1001": {1, 2, 3, 4}, "1002": {4, 3, 2, 1}}}
	ts := newServer(t)
	ts.deploy(t, joinConfig(st, "error"))
	r := ts.post(t, "/v1/models/reg:predict", `{"instances":[{"user_id":1001},{"user_id":"1002"}]}`)
	if r.code != 200 {
		t.Fatalf("status %d: %s", r.code, r.raw)
	}
	want := reference(t, model("regressor_v1.onnx"), [][]float64{{1, 2, 3, 4}, {4, 3, 2, 1}})
	if got := floats(t, r.body["predictions"]); !near(got, want) {
		t.Errorf("joined predictions %v, want %v", got, want)
	}
	if len(st.calls) != 1 || len(st.calls[0]) != 2 || st.calls[0][0][0] != "1001" {
		t.Errorf("lookups %v, want one call for both entities", st.calls)
	}

	// The v2 protocol sends entity keys as an INT64 input.
	r = ts.post(t, "/v2/models/reg/infer", `{"inputs":[{"name":"user_id","shape":[1],"datatype":"INT64","data":[1002]}]}`)
	if r.code != 200 {
		t.Fatalf("v2 status %d: %s", r.code, r.raw)
	}

	// A request with the features themselves still works.
	if r := ts.post(t, "/v1/models/reg:predict", `{"instances":[[1,2,3,4]]}`); r.code != 200 {
		t.Errorf("plain request to a joining endpoint: %d %s", r.code, r.raw)
	}

	r = ts.post(t, "/v1/models/reg:predict", `{"instances":[{"user_id":1001},{"user_id":999}]}`)
	if msg, _ := r.body["error"].(string); r.code != 400 || !strings.Contains(msg, "entity user_id=999 not found in the online store (on_missing_entity: error)") {
		t.Errorf("missing entity: %d %s", r.code, r.raw)
	}
}

func TestFeatureJoinDefaultFillsMissingEntities(t *testing.T) {
	st := &store{rows: map[string][]float64{"1001": {1, 2, 3, 4}}}
	ts := newServer(t)
	ts.deploy(t, joinConfig(st, "default"))
	r := ts.post(t, "/v1/models/reg:predict", `{"instances":[{"user_id":999},{"user_id":1001}]}`)
	if r.code != 200 {
		t.Fatalf("status %d: %s", r.code, r.raw)
	}
	want := reference(t, model("regressor_v1.onnx"), [][]float64{{0, 0, 0, 1}, {1, 2, 3, 4}})
	if got := floats(t, r.body["predictions"]); !near(got, want) {
		t.Errorf("predictions %v, want the default vector's then 1001's: %v", got, want)
	}
}
