package engine

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"sluice/engine/planjson"
	"sluice/internal/ortlib"
	"sluice/runtime/serving"
	"sluice/runtime/store"
)

const fraudEndpoint = `
endpoints: fraud: {model: "fraud", alias: "production", instance_groups: [{count: 1}]}
`

// servingRepo is fraudRepo with an endpoint on fraud@production, the
// production alias at version prod (0: none) and the trainer's C.
func servingRepo(prod int, c string, endpoint string) fstest.MapFS {
	spec := strings.Replace(fraudSpec, "C: 1.0", "C: "+c, 1)
	if prod > 0 {
		spec = withAliases(spec, "models: fraud: aliases: production: "+string(rune('0'+prod)))
	}
	return fraudRepo(spec + endpoint)
}

// newServer starts a real data-plane server on 127.0.0.1:0 and returns
// its base URL.
func newServer(t *testing.T) (*serving.Server, string) {
	t.Helper()
	lib, err := ortlib.Library()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := serving.New(serving.Options{ORTLibrary: lib})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close(context.Background()) })
	return srv, "http://" + ln.Addr().String()
}

func planServing(t *testing.T, db *store.DB, srv ServingStatus, fsys fstest.MapFS, commit string) *Plan {
	t.Helper()
	p, err := MakePlan(context.Background(), db, Input{Spec: loadSpec(t, fsys), FS: fsys, Serving: srv,
		Revision: planjson.Revision{Commit: commit, Ref: "refs/heads/main", Path: "specs"}, StatePath: "state.db"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func applyServing(t *testing.T, db *store.DB, d Drivers, fsys fstest.MapFS, commit string) (*Plan, *Result) {
	t.Helper()
	p := planServing(t, db, d.Serving, fsys, commit)
	res, err := Apply(context.Background(), db, p, d, Options{Now: fixedClock})
	if err != nil {
		t.Fatal(err)
	}
	return p, res
}

// predict sends one row to a version of the fraud endpoint and returns the
// status code and body.
func predict(t *testing.T, base, version string) (int, string) {
	t.Helper()
	resp, err := http.Post(base+"/v1/models/fraud/versions/"+version+":predict", "application/json",
		strings.NewReader(`{"instances":[{"segment":["a"],"score":[9.0]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestApplyServesTheEndpointAndAPromotionSwapsTheServedVersion(t *testing.T) {
	ortlib.Need(t)
	db := openState(t)
	d := newTrainingDrivers(t, db)
	srv, base := newServer(t)
	d.Serving = srv

	_, res := applyServing(t, db, d.Drivers, servingRepo(1, "1.0", fraudEndpoint), "c1")
	if s := stepOf(t, res, "endpoints.fraud"); s.Status != store.Ready || s.Reason != ReasonServing || !strings.Contains(s.Message, "v1") {
		t.Fatalf("endpoint step %+v, want Ready/Serving v1", s)
	}
	if code, body := predict(t, base, "1"); code != 200 || !strings.Contains(body, `"model_version":"1"`) {
		t.Fatalf("predict v1: %d %s", code, body)
	}

	// Retraining registers v2; the alias has not moved, so nothing swaps.
	p, _ := applyServing(t, db, d.Drivers, servingRepo(1, "2.0", fraudEndpoint), "c2")
	if c := changeOf(p, "endpoints.fraud"); c.Action != planjson.ActionNoOp {
		t.Fatalf("endpoint planned %s %v (%s) after a retrain that moved no alias", c.Action, c.Reasons, c.Detail)
	}

	p, res = applyServing(t, db, d.Drivers, servingRepo(2, "2.0", fraudEndpoint), "c3")
	c := changeOf(p, "endpoints.fraud")
	if c.Action != planjson.ActionSwap || c.Detail != "fraud@production v1 → v2" {
		t.Fatalf("endpoint planned %s %q, want swap fraud@production v1 → v2", c.Action, c.Detail)
	}
	if s := stepOf(t, res, "endpoints.fraud"); s.Status != store.Ready || s.Reason != ReasonServing {
		t.Fatalf("endpoint step %+v, want Ready/Serving", s)
	}
	if code, body := predict(t, base, "2"); code != 200 || !strings.Contains(body, `"model_version":"2"`) {
		t.Fatalf("predict v2 after the promotion: %d %s", code, body)
	}
	if code, _ := predict(t, base, "1"); code != 404 {
		t.Fatalf("predict v1 after the swap: %d, want 404", code)
	}
	if p := planServing(t, db, srv, servingRepo(2, "2.0", fraudEndpoint), "c3"); p.hasWork() {
		t.Fatalf("plan after serving still has work: %+v", changeOf(p, "endpoints.fraud"))
	}

	// A server that restarted empty is a fact the plan sees: it deploys again.
	srv2, base2 := newServer(t)
	d.Serving = srv2
	p, res = applyServing(t, db, d.Drivers, servingRepo(2, "2.0", fraudEndpoint), "c3")
	if c := changeOf(p, "endpoints.fraud"); c.Action != planjson.ActionSwap || !contains(c.Reasons, planReasonNotServing) {
		t.Fatalf("plan against an empty server: %s %v, want swap not_serving", c.Action, c.Reasons)
	}
	if code, _ := predict(t, base2, "2"); code != 200 {
		t.Fatalf("restarted server does not serve v2: %d", code)
	}

	// Removing the endpoint from git stops serving it.
	_, res = applyServing(t, db, d.Drivers, servingRepo(2, "2.0", ""), "c4")
	if s := stepOf(t, res, "endpoints.fraud"); s.Status != store.Ready {
		t.Fatalf("delete step %+v", s)
	}
	if code, _ := predict(t, base2, "2"); code != 404 {
		t.Fatalf("predict after the endpoint left git: %d, want 404", code)
	}
}

func TestARefusedDeployFailsTheStepAndTheOldVersionKeepsServing(t *testing.T) {
	ortlib.Need(t)
	ctx := context.Background()
	db := openState(t)
	d := newTrainingDrivers(t, db)
	srv, base := newServer(t)
	d.Serving = srv
	applyServing(t, db, d.Drivers, servingRepo(1, "1.0", fraudEndpoint), "c1")
	applyServing(t, db, d.Drivers, servingRepo(1, "2.0", fraudEndpoint), "c2")
	v2, err := d.registry.Version(ctx, db, "fraud", 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(v2.ArtifactPath, []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, res := applyServing(t, db, d.Drivers, servingRepo(2, "2.0", fraudEndpoint), "c3")
	if s := stepOf(t, res, "endpoints.fraud"); s.Status != store.Failed || s.Reason != ReasonDeployFailed || s.Message == "" {
		t.Fatalf("endpoint step %+v, want Failed/DeployFailed with the server's reason", s)
	}
	if code, body := predict(t, base, "1"); code != 200 {
		t.Fatalf("v1 after a refused deploy: %d %s, want it still serving", code, body)
	}
}

func TestPlainApplyRecordsEndpointsWithoutPretendingToServeThem(t *testing.T) {
	ortlib.Need(t)
	db := openState(t)
	d := newTrainingDrivers(t, db)
	fsys := servingRepo(1, "1.0", fraudEndpoint)
	_, res := applyServing(t, db, d.Drivers, fsys, "c1")
	s := stepOf(t, res, "endpoints.fraud")
	if s.Status != store.Held || !strings.Contains(s.Message, "run `sluice serve` or `sluice daemon` to serve it") {
		t.Fatalf("endpoint step %+v, want held with a hint to serve it", s)
	}
	if p := planServing(t, db, nil, fsys, "c1"); p.hasWork() {
		t.Fatalf("plain plan after plain apply has work: %+v", changeOf(p, "endpoints.fraud"))
	}
}

func TestAnEndpointWhoseAliasPointsNowhereIsHeldWithAWarning(t *testing.T) {
	ortlib.Need(t)
	db := openState(t)
	d := newTrainingDrivers(t, db)
	srv, _ := newServer(t)
	d.Serving = srv
	p, res := applyServing(t, db, d.Drivers, servingRepo(0, "1.0", fraudEndpoint), "c1")
	if len(p.Diagnostics) != 1 || p.Diagnostics[0].Severity != "warning" || !strings.Contains(p.Diagnostics[0].Summary, "fraud@production points at no registered version") {
		t.Fatalf("diagnostics %+v, want one warning naming fraud@production", p.Diagnostics)
	}
	if s := stepOf(t, res, "endpoints.fraud"); s.Status != store.Held || s.Reason != ReasonVersionMissing {
		t.Fatalf("endpoint step %+v, want Held/VersionMissing", s)
	}
}
