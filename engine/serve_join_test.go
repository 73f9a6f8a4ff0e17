package engine

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"sluice/internal/ortlib"
	"sluice/runtime/features"
	"sluice/runtime/store"
)

// joinEndpoint serves fraud@production joining the user's score from the
// online store; the request sends the segment.
const joinEndpoint = `
endpoints: fraud: {
	model: "fraud", alias: "production"
	inputs: [{name: "segment", type: "string", shape: [1]}]
	entity_keys: ["user_id"]
	features: ["user_stats:score"]
	on_missing_entity: "error"
}
`

// post sends body to the fraud endpoint's predict route.
func postFraud(t *testing.T, base, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(base+"/v1/models/fraud:predict", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%d %s: %v", resp.StatusCode, raw, err)
	}
	return resp.StatusCode, out
}

func TestAnEndpointWithFeaturesJoinsTheOnlineStoreThroughRealHTTP(t *testing.T) {
	ortlib.Need(t)
	db := openState(t)
	d := newTrainingDrivers(t, db)
	srv, base := newServer(t)
	d.Serving = srv
	d.Online = d.Features.(*features.Store)

	_, res := applyServing(t, db, d.Drivers, servingRepo(1, "1.0", joinEndpoint), "c1")
	if s := stepOf(t, res, "endpoints.fraud"); s.Status != store.Ready || s.Reason != ReasonServing {
		t.Fatalf("endpoint step %+v, want Ready/Serving", s)
	}
	// u1 and u2 score 9.25 and 8.5 in the store (fraudRepo): a request naming them must
	// score as one that sends those scores itself.
	code, joined := postFraud(t, base, `{"instances":[{"user_id":"u1","segment":"b"},{"user_id":"u2","segment":"a"}]}`)
	if code != 200 {
		t.Fatalf("joined predict: %d %v", code, joined)
	}
	code, sent := postFraud(t, base, `{"instances":[{"segment":["b"],"score":[9.25]},{"segment":["a"],"score":[8.5]}]}`)
	if code != 200 {
		t.Fatalf("plain predict: %d %v", code, sent)
	}
	j, s := mustJSON(t, joined["predictions"]), mustJSON(t, sent["predictions"])
	if j != s {
		t.Errorf("joined predictions %s, want those of the stored features %s", j, s)
	}
	if joined["model_version"] != "1" {
		t.Errorf("model_version %v, want 1", joined["model_version"])
	}

	code, bad := postFraud(t, base, `{"instances":[{"user_id":"u1","segment":"a"},{"user_id":"nobody","segment":"a"}]}`)
	if msg, _ := bad["error"].(string); code != 400 || !strings.Contains(msg, "entity user_id=nobody: feature user_stats:score not found in the online store") {
		t.Errorf("unknown user: %d %v, want 400 naming user_id=nobody", code, bad)
	}
}

func TestAnEndpointJoiningFeaturesDefaultsAMissingEntityWhenTheSpecSaysSo(t *testing.T) {
	ortlib.Need(t)
	db := openState(t)
	d := newTrainingDrivers(t, db)
	srv, base := newServer(t)
	d.Serving = srv
	d.Online = d.Features.(*features.Store)
	applyServing(t, db, d.Drivers, servingRepo(1, "1.0", strings.Replace(joinEndpoint, `"error"`, `"default"`, 1)), "c1")
	code, joined := postFraud(t, base, `{"instances":[{"user_id":"nobody","segment":"a"}]}`)
	if code != 200 {
		t.Fatalf("predict for a missing user: %d %v", code, joined)
	}
	_, sent := postFraud(t, base, `{"instances":[{"segment":["a"],"score":[0]}]}`)
	if j, s := mustJSON(t, joined["predictions"]), mustJSON(t, sent["predictions"]); j != s {
		t.Errorf("missing user scored %s, want the zero score's %s", j, s)
	}
}

func TestAnEndpointFillsAMissingEntityWithTheDeclaredDefault(t *testing.T) {
	ortlib.Need(t)
	db := openState(t)
	d := newTrainingDrivers(t, db)
	srv, base := newServer(t)
	d.Serving = srv
	d.Online = d.Features.(*features.Store)
	spec := strings.Replace(joinEndpoint, `on_missing_entity: "error"`, `on_missing_entity: "default"
	feature_defaults: "user_stats:score": 9`, 1)
	if _, res := applyServing(t, db, d.Drivers, servingRepo(1, "1.0", spec), "c1"); stepOf(t, res, "endpoints.fraud").Status != store.Ready {
		t.Fatalf("endpoint step %+v", stepOf(t, res, "endpoints.fraud"))
	}
	code, joined := postFraud(t, base, `{"instances":[{"user_id":"nobody","segment":"a"}]}`)
	if code != 200 {
		t.Fatalf("predict for a missing user: %d %v", code, joined)
	}
	_, nine := postFraud(t, base, `{"instances":[{"segment":["a"],"score":[9]}]}`)
	_, zero := postFraud(t, base, `{"instances":[{"segment":["a"],"score":[0]}]}`)
	j, n, z := mustJSON(t, joined["predictions"]), mustJSON(t, nine["predictions"]), mustJSON(t, zero["predictions"])
	if j != n || n == z {
		t.Errorf("missing user scored %s, want the declared default 9's %s (a score of 0 gives %s)", j, n, z)
	}
}

func TestAnEndpointJoiningFeaturesFailsWithoutAnOnlineStore(t *testing.T) {
	ortlib.Need(t)
	db := openState(t)
	d := newTrainingDrivers(t, db)
	srv, _ := newServer(t)
	d.Serving = srv
	_, res := applyServing(t, db, d.Drivers, servingRepo(1, "1.0", joinEndpoint), "c1")
	if s := stepOf(t, res, "endpoints.fraud"); s.Status != store.Failed || !strings.Contains(s.Message, "no online store") {
		t.Fatalf("endpoint step %+v, want Failed for want of an online store", s)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
