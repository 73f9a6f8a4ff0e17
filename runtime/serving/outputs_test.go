package serving

import (
	"encoding/json"
	"math"
	"testing"
)

func TestClassifierAnswersLabelAndProbabilitiesPerRow(t *testing.T) {
	ts := newServer(t)
	ts.deploy(t, Config{Endpoint: "cls", Model: "classifier", Version: 3, Path: model("classifier.onnx")})
	r := ts.post(t, "/v1/models/cls:predict", `{"instances":`+rowsJSON(testRows(3, 4))+`}`)
	if r.code != 200 {
		t.Fatalf("status %d: %s", r.code, r.raw)
	}
	preds := r.body["predictions"].([]any)
	if len(preds) != 3 {
		t.Fatalf("%d predictions, want 3", len(preds))
	}
	for i, p := range preds {
		obj := p.(map[string]any)
		label, _ := obj["label"].(json.Number).Int64()
		probs := floats(t, obj["probabilities"])
		if len(probs) != 3 {
			t.Fatalf("row %d: %d probabilities, want 3", i, len(probs))
		}
		sum, best := 0.0, 0
		for c, p := range probs {
			sum += p
			if p > probs[best] {
				best = c
			}
		}
		if math.Abs(sum-1) > 1e-5 {
			t.Errorf("row %d: probabilities sum to %v", i, sum)
		}
		if want := []int64{10, 20, 30}[best]; label != want {
			t.Errorf("row %d: label %d, want %d (the most probable class)", i, label, want)
		}
	}

	// The same outputs through the Open Inference Protocol: flat data with
	// its shape and datatype.
	r = ts.post(t, "/v2/models/cls/infer", `{"id":"a1","inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","data":[1,2,3,4,5,6,7,8]}]}`)
	if r.code != 200 {
		t.Fatalf("v2 status %d: %s", r.code, r.raw)
	}
	if r.body["model_version"] != "3" || r.body["id"] != "a1" || r.body["model_name"] != "cls" {
		t.Errorf("v2 response names %v %v %v, want cls 3 a1", r.body["model_name"], r.body["model_version"], r.body["id"])
	}
	outs := r.body["outputs"].([]any)
	label := outs[0].(map[string]any)
	probs := outs[1].(map[string]any)
	if label["datatype"] != "INT64" || len(floats(t, label["shape"])) != 1 || len(floats(t, label["data"])) != 2 {
		t.Errorf("label output %v, want INT64 [2]", label)
	}
	if probs["datatype"] != "FP32" || !near(floats(t, probs["shape"]), []float64{2, 3}) {
		t.Errorf("probabilities output %v, want FP32 [2,3]", probs)
	}
}

func TestTypesModelServesDoubleInt64AndStringTensors(t *testing.T) {
	ts := newServer(t)
	ts.deploy(t, Config{Endpoint: "types", Version: 1, Path: model("types.onnx")})
	r := ts.post(t, "/v1/models/types:predict",
		`{"instances":[{"x":[0.5,1.25],"n":[9007199254740993],"tag":["über"]},{"x":[1,2],"n":[-4],"tag":["b"]}]}`)
	if r.code != 200 {
		t.Fatalf("status %d: %s", r.code, r.raw)
	}
	var body struct {
		Predictions []struct {
			Total  []float64 `json:"total"`
			Twice  []int64   `json:"twice"`
			TagOut []string  `json:"tag_out"`
		}
	}
	if err := json.Unmarshal([]byte(r.raw), &body); err != nil {
		t.Fatal(err)
	}
	p := body.Predictions
	if len(p) != 2 {
		t.Fatalf("%d predictions, want 2: %s", len(p), r.raw)
	}
	// int64 beyond 2^53 survives decoding and encoding exactly.
	if p[0].Twice[0] != 2*9007199254740993 || p[1].Twice[0] != -8 {
		t.Errorf("twice = %v %v", p[0].Twice, p[1].Twice)
	}
	if p[1].Total[0] != -1 {
		t.Errorf("total of row 1 = %v, want 1+2-4 = -1", p[1].Total)
	}
	if p[0].TagOut[0] != "über" || p[1].TagOut[0] != "b" {
		t.Errorf("tags = %v %v", p[0].TagOut, p[1].TagOut)
	}

	// Columnar: one object of named inputs, outputs keyed by name.
	r = ts.post(t, "/v1/models/types:predict", `{"inputs":{"x":[[1,1]],"n":[[1]],"tag":[["c"]]}}`)
	if r.code != 200 {
		t.Fatalf("columnar status %d: %s", r.code, r.raw)
	}
	outs := r.body["outputs"].(map[string]any)
	if got := floats(t, outs["total"]); !near(got, []float64{3}) {
		t.Errorf("columnar total %v, want [[3]]", got)
	}
}

func TestRowObjectsOfScalarsFeedColumnInputs(t *testing.T) {
	ts := newServer(t)
	ts.deploy(t, Config{Endpoint: "cols", Version: 1, Path: model("columns.onnx")})
	r := ts.post(t, "/v1/models/cols:predict", `{"instances":[{"amount":12.5,"country":"de"},{"amount":3,"country":"xx"}]}`)
	if r.code != 200 {
		t.Fatalf("status %d: %s", r.code, r.raw)
	}
	preds := r.body["predictions"].([]any)
	if len(preds) != 2 {
		t.Fatalf("%d predictions, want 2", len(preds))
	}
	for _, p := range preds {
		if probs := floats(t, p.(map[string]any)["probabilities"]); len(probs) != 2 {
			t.Errorf("probabilities %v, want 2 classes", probs)
		}
	}
}
