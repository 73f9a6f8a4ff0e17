package serving

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestCanaryTakesItsShareAndShadowSeesEveryRequest(t *testing.T) {
	ts := newServer(t)
	cfg := regressor(1)
	cfg.Canary = &Variant{Version: 2, Alias: "canary", Path: model("regressor_v2.onnx"), Weight: 50}
	cfg.Shadow = &Variant{Version: 3, Path: model("regressor_v1.onnx")}
	ts.deploy(t, cfg)

	st, _ := ts.Status("reg")
	if st.Serving != 1 || st.Canary == nil || st.Canary.Version != 2 || st.Canary.Weight != 50 || st.Shadow == nil || st.Shadow.Version != 3 {
		t.Fatalf("status %+v, canary %+v, shadow %+v", st, st.Canary, st.Shadow)
	}
	row := testRows(1, 4)
	body := `{"instances":` + rowsJSON(row) + `}`
	want := map[string][]float64{
		"1": reference(t, model("regressor_v1.onnx"), row),
		"2": reference(t, model("regressor_v2.onnx"), row),
	}
	answered := map[string]int{}
	const n = 200
	for range n {
		r := ts.post(t, "/v1/models/reg:predict", body)
		if r.code != 200 || !near(floats(t, r.body["predictions"]), want[r.version]) {
			t.Fatalf("%d version %q: %s", r.code, r.version, r.raw)
		}
		answered[r.version]++
	}
	// Each side gets about half; fewer than 50 of 200 would be a 1-in-10^13 fluke.
	if answered["1"] < 50 || answered["2"] < 50 || answered["3"] > 0 {
		t.Errorf("answers by version %v, want about half each from 1 and 2, none from the shadow", answered)
	}
	// The canary and the shadow answer to their version and label.
	if r := ts.post(t, "/v1/models/reg/labels/canary:predict", body); r.version != "2" {
		t.Errorf("label canary answered by version %q", r.version)
	}
	if r := ts.post(t, "/v2/models/reg/versions/3/infer", `{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}`); r.code != 200 || r.version != "3" {
		t.Errorf("shadow by version: %d %q", r.code, r.version)
	}

	// Every request the primary or canary answered was mirrored to the
	// shadow, which counts them in its own series.
	deadline := time.Now().Add(10 * time.Second)
	for {
		page := ts.get(t, "/metrics").raw
		shadow, _ := metric(page, `sluice_serving_requests_total{endpoint="reg",outcome="ok",version="3"}`)
		v1, _ := metric(page, `sluice_serving_requests_total{endpoint="reg",outcome="ok",version="1"}`)
		v2, _ := metric(page, `sluice_serving_requests_total{endpoint="reg",outcome="ok",version="2"}`)
		if shadow == n+2 && int(v1) == answered["1"] && int(v2) == answered["2"]+1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("per-version ok counts: shadow %v (want %d), v1 %v (want %d), v2 %v (want %d)", shadow, n+2, v1, answered["1"], v2, answered["2"]+1)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestVariantWithOtherInputsIsRefused(t *testing.T) {
	ts := newServer(t)
	ts.deploy(t, regressor(1))
	for _, kind := range []string{"canary", "shadow"} {
		cfg := regressor(1)
		v := &Variant{Version: 2, Path: model("wide.onnx"), Weight: 10}
		if kind == "canary" {
			cfg.Canary = v
		} else {
			cfg.Shadow = v
		}
		err := ts.Deploy(context.Background(), cfg)
		if ReasonOf(err) != ReasonSignatureMismatch {
			t.Errorf("%s with six inputs: %v, want %s", kind, err, ReasonSignatureMismatch)
		}
		st, _ := ts.Status("reg")
		if st.State != StateFailed || st.Serving != 1 || st.Canary != nil || st.Shadow != nil {
			t.Errorf("after the refused %s: %+v", kind, st)
		}
	}
	bad := regressor(2)
	bad.Canary = &Variant{Version: 2, Path: model("regressor_v1.onnx"), Weight: 100}
	err := ts.Deploy(context.Background(), bad)
	for _, want := range []string{"canary: version 2 is the primary's", "canary: weight 100"} {
		if ReasonOf(err) != ReasonConfigInvalid || !strings.Contains(err.Error(), want) {
			t.Errorf("bad canary config: %v, want %s saying %q", err, ReasonConfigInvalid, want)
		}
	}
}
