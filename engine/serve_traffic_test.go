package engine

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"sluice/engine/planjson"
	"sluice/internal/ortlib"
	"sluice/runtime/store"
)

const trafficEndpoint = `
endpoints: fraud: {
	model: "fraud", alias: "production"
	canary: {version: 2, weight: 50}
	shadow: {version: 3}
}
`

// okCount reads sluice_serving_requests_total{outcome="ok"} of a version
// of the fraud endpoint from /metrics.
func okCount(t *testing.T, base, version string) int {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	want := fmt.Sprintf(`sluice_serving_requests_total{endpoint="fraud",outcome="ok",version=%q} `, version)
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), want); ok {
			var n int
			fmt.Sscan(rest, &n)
			return n
		}
	}
	return 0
}

func TestCanaryAndShadowFromTheSpecSplitAndMirrorTrafficByVersion(t *testing.T) {
	ortlib.Need(t)
	db := openState(t)
	d := newTrainingDrivers(t, db)
	srv, base := newServer(t)
	d.Serving = srv
	// Three trainings register v1, v2 and v3.
	applyServing(t, db, d.Drivers, servingRepo(1, "1.0", ""), "c1")
	applyServing(t, db, d.Drivers, servingRepo(1, "2.0", ""), "c2")
	applyServing(t, db, d.Drivers, servingRepo(1, "3.0", ""), "c3")
	_, res := applyServing(t, db, d.Drivers, servingRepo(1, "3.0", trafficEndpoint), "c4")
	if s := stepOf(t, res, "endpoints.fraud"); s.Status != store.Ready || !strings.Contains(s.Message, "canary v2 on 50% of requests, shadow v3") {
		t.Fatalf("endpoint step %+v, want serving v1 with canary v2 and shadow v3", s)
	}
	st, _ := srv.Status("fraud")
	if st.Serving != 1 || st.Canary == nil || st.Canary.Version != 2 || st.Shadow == nil || st.Shadow.Version != 3 {
		t.Fatalf("status %+v, want v1 with canary v2 and shadow v3", st)
	}

	const n = 100
	answered := map[string]int{}
	for range n {
		resp, err := http.Post(base+"/v1/models/fraud:predict", "application/json", strings.NewReader(`{"instances":[{"segment":["a"],"score":[9.0]}]}`))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		v := resp.Header.Get("Sluice-Model-Version")
		if resp.StatusCode != 200 || !strings.Contains(string(body), `"model_version":"`+v+`"`) {
			t.Fatalf("predict: %d %s (header version %q)", resp.StatusCode, body, v)
		}
		answered[v]++
	}
	// With a 50% split, 100 requests all on one side has odds of 2^-99.
	if answered["1"] == 0 || answered["2"] == 0 || answered["1"]+answered["2"] != n {
		t.Fatalf("answers by version %v, want both v1 and v2 and never the shadow", answered)
	}
	// The shadow's answers are recorded in its own series, never returned.
	deadline := time.Now().Add(10 * time.Second)
	for okCount(t, base, "3") < n {
		if time.Now().After(deadline) {
			t.Fatalf("shadow v3 counted %d ok requests, want %d", okCount(t, base, "3"), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if v1, v2 := okCount(t, base, "1"), okCount(t, base, "2"); v1 != answered["1"] || v2 != answered["2"] {
		t.Errorf("metrics count v1 %d and v2 %d, answers were %v", v1, v2, answered)
	}
}

func TestACanaryOnTheServedVersionSplitsNothing(t *testing.T) {
	ortlib.Need(t)
	db := openState(t)
	d := newTrainingDrivers(t, db)
	srv, _ := newServer(t)
	d.Serving = srv
	applyServing(t, db, d.Drivers, servingRepo(1, "1.0", ""), "c1")
	_, res := applyServing(t, db, d.Drivers, servingRepo(1, "1.0", strings.Replace(fraudEndpoint, `instance_groups`, `canary: {version: 1, weight: 10}, instance_groups`, 1)), "c2")
	if s := stepOf(t, res, "endpoints.fraud"); s.Status != store.Ready || !strings.Contains(s.Message, "canary fraud@v1 is v1, the version served: no canary") {
		t.Fatalf("endpoint step %+v, want Ready with a note that the canary splits nothing", s)
	}
}

// stagingRepo is fraud v3's training repository with production at v1,
// staging at stage, and an endpoint whose canary follows staging.
func stagingRepo(stage int) fstest.MapFS {
	spec := strings.Replace(fraudSpec, "C: 1.0", "C: 3.0", 1)
	spec = withAliases(spec, fmt.Sprintf("models: fraud: aliases: {production: 1, staging: %d}", stage))
	return fraudRepo(spec + `
endpoints: fraud: {model: "fraud", alias: "production", canary: {alias: "staging", weight: 20}}
`)
}

func TestMovingTheCanarysAliasInGitSwapsTheCanary(t *testing.T) {
	ortlib.Need(t)
	db := openState(t)
	d := newTrainingDrivers(t, db)
	srv, _ := newServer(t)
	d.Serving = srv
	applyServing(t, db, d.Drivers, servingRepo(1, "1.0", ""), "c1")
	applyServing(t, db, d.Drivers, servingRepo(1, "2.0", ""), "c2")
	applyServing(t, db, d.Drivers, servingRepo(1, "3.0", ""), "c3")

	applyServing(t, db, d.Drivers, stagingRepo(2), "c4")
	if st, _ := srv.Status("fraud"); st.Serving != 1 || st.Canary == nil || st.Canary.Version != 2 {
		t.Fatalf("status %+v, want v1 with canary v2", st)
	}
	if p := planServing(t, db, srv, stagingRepo(2), "c4"); p.hasWork() {
		t.Fatalf("plan after serving the canary still has work: %+v", changeOf(p, "endpoints.fraud"))
	}

	// Only the staging alias moves; the endpoint's spec is the same.
	p, res := applyServing(t, db, d.Drivers, stagingRepo(3), "c5")
	c := changeOf(p, "endpoints.fraud")
	if c.Action != planjson.ActionSwap || !contains(c.Reasons, planReasonVariantChanged) || c.Detail != "fraud@production → v1, canary v3" {
		t.Fatalf("endpoint planned %s %v %q, want a swap of the canary to v3", c.Action, c.Reasons, c.Detail)
	}
	if s := stepOf(t, res, "endpoints.fraud"); s.Status != store.Ready {
		t.Fatalf("endpoint step %+v", s)
	}
	if st, _ := srv.Status("fraud"); st.Serving != 1 || st.Canary == nil || st.Canary.Version != 3 {
		t.Fatalf("status %+v, want v1 with canary v3", st)
	}
}
