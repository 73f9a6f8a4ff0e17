package serving

import (
	"strings"
	"testing"
)

func TestBadInputGetsTheProtocolsErrorAndChangesNothing(t *testing.T) {
	ts := newServer(t, func(o *Options, _ *Server) { o.MaxBodyBytes = 4096 })
	ts.deploy(t, regressor(1))
	ts.deploy(t, Config{Endpoint: "types", Version: 1, Path: model("types.onnx")})
	v2 := func(in string) string { return `{"inputs":[` + in + `]}` }
	tests := []struct {
		name, path, body string
		code             int
		says             string
	}{
		{"malformed json", "/v1/models/reg:predict", "{\"instances\": [[1,2,3,4]\n", 400, "malformed JSON: line 2, column 1"},
		{"malformed json v2", "/v2/models/reg/infer", `{"inputs": [}`, 400, "malformed JSON: line 1, column 13"},
		{"neither format", "/v1/models/reg:predict", `{"signature_name":"x"}`, 400, `neither "instances" nor "inputs"`},
		{"both formats", "/v1/models/reg:predict", `{"instances":[],"inputs":[]}`, 400, "not both"},
		{"no rows", "/v1/models/reg:predict", `{"instances":[]}`, 400, "no rows"},
		{"instances not a list", "/v1/models/reg:predict", `{"instances":{"input":[1,2,3,4]}}`, 400, `"instances" must be a list`},
		{"wrong width", "/v1/models/reg:predict", `{"instances":[[1,2,3]]}`, 400, `input "input": shape [1 3], the model takes [-1 4]`},
		{"ragged rows", "/v1/models/reg:predict", `{"instances":[[1,2,3,4],[1,2]]}`, 400, "instances[1]: ragged array: 2 values where the first row has 4"},
		{"value where a row is", "/v1/models/reg:predict", `{"instances":[[1,2,3,4],5]}`, 400, "instances[1]: ragged array"},
		{"string for a float", "/v1/models/reg:predict", `{"instances":[[1,"x",3,4]]}`, 400, `instances[0][1]: "x" is not a number; input is float32`},
		{"bool for a float", "/v1/models/reg:predict", `{"instances":[[1,true,3,4]]}`, 400, "instances[0][1]: true is not a float32"},
		{"null", "/v1/models/reg:predict", `{"instances":[[1,null,3,4]]}`, 400, "null is not a float32"},
		{"NaN", "/v1/models/reg:predict", `{"instances":[[1,"NaN",3,4]]}`, 400, `instances[0][1]: "NaN" is not finite as a float32; the endpoint refuses NaN and infinities`},
		{"float32 overflow", "/v1/models/reg:predict", `{"instances":[[1,2,1e39,4]]}`, 400, "1e39 is not finite as a float32"},
		{"infinity v2", "/v2/models/reg/infer", v2(`{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,"-Infinity"]}`), 400, "inputs[0] (input).data[3]"},
		{"fraction for an int64", "/v1/models/types:predict", `{"instances":[{"x":[1,2],"n":[1.5],"tag":["a"]}]}`, 400, "instances[0].n[0]: 1.5 is not an int64"},
		{"number for a string", "/v1/models/types:predict", `{"instances":[{"x":[1,2],"n":[1],"tag":[7]}]}`, 400, `7 is a number; input is a string tensor (send "7")`},
		{"unknown input", "/v1/models/types:predict", `{"instances":[{"x":[1,2],"n":[1],"tag":["a"],"y":[1]}]}`, 400, `unknown input "y": the model takes x, n, tag`},
		{"missing input", "/v1/models/types:predict", `{"inputs":{"x":[[1,2]],"n":[[1]]}}`, 400, "missing input tag: the model takes x, n, tag"},
		{"uneven rows", "/v1/models/types:predict", `{"inputs":{"x":[[1,2],[3,4]],"n":[[1]],"tag":[["a"]]}}`, 400, "rows"},
		{"instances differ", "/v1/models/types:predict", `{"instances":[{"x":[1,2],"n":[1],"tag":["a"]},{"x":[1,2],"n":[1]}]}`, 400, `instances[1]: no "tag"`},
		{"unnamed rows for many inputs", "/v1/models/types:predict", `{"instances":[[1,2]]}`, 400, "the model takes 3 inputs (x, n, tag): send objects of named inputs"},
		{"v2 shape and data disagree", "/v2/models/reg/infer", v2(`{"name":"input","shape":[2,4],"datatype":"FP32","data":[1,2,3,4]}`), 400, "shape [2 4] needs 8 elements, data has 4"},
		{"v2 wrong datatype", "/v2/models/reg/infer", v2(`{"name":"input","shape":[1,4],"datatype":"FP64","data":[1,2,3,4]}`), 400, "datatype FP64, the model takes FP32"},
		{"v2 unknown datatype", "/v2/models/reg/infer", v2(`{"name":"input","shape":[1,4],"datatype":"FP16","data":[1,2,3,4]}`), 400, `unknown datatype "FP16"`},
		{"v2 no shape", "/v2/models/reg/infer", v2(`{"name":"input","datatype":"FP32","data":[1,2,3,4]}`), 400, "needs 1 elements"},
		{"v2 negative shape", "/v2/models/reg/infer", v2(`{"name":"input","shape":[-1,4],"datatype":"FP32","data":[1,2,3,4]}`), 400, "negative dimension"},
		{"v2 duplicate input", "/v2/models/reg/infer", v2(`{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]},{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}`), 400, "given twice"},
		{"v2 no inputs", "/v2/models/reg/infer", `{"inputs":[]}`, 400, `no "inputs"`},
		{"oversized body", "/v1/models/reg:predict", `{"instances":[` + strings.Repeat("[1,2,3,4],", 1000) + `[1,2,3,4]]}`, 413, "request body larger than the limit of 4096 bytes"},
		{"oversized body v2", "/v2/models/reg/infer", strings.Repeat(" ", 5000), 413, "larger than the limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ts.post(t, tt.path, tt.body)
			msg, _ := r.body["error"].(string)
			if r.code != tt.code || !strings.Contains(msg, tt.says) {
				t.Errorf("%d %s\nwant %d containing %s", r.code, r.raw, tt.code, tt.says)
			}
			if r.body["error"] == nil {
				t.Errorf("no {\"error\": ...} body: %s", r.raw)
			}
		})
	}
	// The server kept serving everyone else.
	if r := ts.post(t, "/v1/models/reg:predict", `{"instances":[[1,2,3,4]]}`); r.code != 200 {
		t.Errorf("good request after the bad ones: %d %s", r.code, r.raw)
	}
}

func TestNonFiniteNumbersPassWhenTheEndpointAllowsThem(t *testing.T) {
	ts := newServer(t)
	cfg := Config{Endpoint: "types", Version: 1, Path: model("types.onnx"), AllowNonFinite: true}
	ts.deploy(t, cfg)
	r := ts.post(t, "/v1/models/types:predict", `{"instances":[{"x":["NaN",1],"n":[1],"tag":["a"]},{"x":["Infinity",1],"n":[1],"tag":["a"]},{"x":[1e999,1],"n":[1],"tag":["a"]}]}`)
	if r.code != 200 {
		t.Fatalf("status %d: %s", r.code, r.raw)
	}
	// JSON has no NaN or Infinity: they come back as strings, as they went in.
	for _, want := range []string{`"total":["NaN"]`, `"total":["Infinity"]`} {
		if !strings.Contains(r.raw, want) {
			t.Errorf("response lacks %s: %s", want, r.raw)
		}
	}
}
