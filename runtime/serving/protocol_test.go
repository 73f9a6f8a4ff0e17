package serving

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

func TestTFServingRoutes(t *testing.T) {
	ts := newServer(t)
	ts.deploy(t, regressor(1))
	tests := []struct {
		name, method, path, body string
		code                     int
		says                     string // a substring of the body
	}{
		{"predict", "POST", "/v1/models/reg:predict", `{"instances":[[1,2,3,4]]}`, 200, `"predictions":[[`},
		{"predict by version", "POST", "/v1/models/reg/versions/1:predict", `{"instances":[[1,2,3,4]]}`, 200, `"model_version":"1"`},
		{"predict by label", "POST", "/v1/models/reg/labels/production:predict", `{"instances":[[1,2,3,4]]}`, 200, `"predictions"`},
		{"columnar", "POST", "/v1/models/reg:predict", `{"inputs":[[1,2,3,4],[0,0,0,0]]}`, 200, `"outputs":[[`},
		{"named columnar", "POST", "/v1/models/reg:predict", `{"inputs":{"input":[[1,2,3,4]]}}`, 200, `"outputs":[[`},
		{"status", "GET", "/v1/models/reg", "", 200, `"model_version_status":[{"version":"1","state":"AVAILABLE"`},
		{"status of version", "GET", "/v1/models/reg/versions/1", "", 200, `"AVAILABLE"`},
		{"metadata", "GET", "/v1/models/reg/metadata", "", 200, `"input":{"dtype":"DT_FLOAT","tensor_shape":{"dim":[{"size":"-1","name":""},{"size":"4","name":""}]`},
		{"unknown model", "POST", "/v1/models/nope:predict", `{"instances":[[1]]}`, 404, `model "nope" not found (serving: reg)`},
		{"unknown version", "POST", "/v1/models/reg/versions/7:predict", `{"instances":[[1,2,3,4]]}`, 404, `version 7 not found: serving version 1`},
		{"unknown label", "GET", "/v1/models/reg/labels/staging", "", 404, `no label "staging": it serves version 1 through label "production"`},
		{"classify", "POST", "/v1/models/reg:classify", `{}`, 400, `Sluice serves :predict`},
		{"bad path", "GET", "/v1/models/reg/x/y/z", "", 404, `want /v1/models/{name}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ts.do(t, tt.method, tt.path, tt.body)
			text := r.raw
			if msg, ok := r.body["error"].(string); ok {
				text = msg
			}
			if r.code != tt.code || !strings.Contains(text, tt.says) {
				t.Errorf("%s %s: %d %s\nwant %d containing %s", tt.method, tt.path, r.code, r.raw, tt.code, tt.says)
			}
			if tt.code != 200 && r.body["error"] == nil {
				t.Errorf("error without TF Serving's {\"error\": ...} shape: %s", r.raw)
			}
			if tt.code == 200 && r.version != "1" {
				t.Errorf("response does not name the version: header %q", r.version)
			}
		})
	}
}

func TestOpenInferenceProtocolRoutes(t *testing.T) {
	ts := newServer(t)
	ts.deploy(t, regressor(1))
	infer := `{"inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","data":[[1,2,3,4],[4,3,2,1]]}]}`
	tests := []struct {
		name, method, path, body string
		code                     int
		says                     string
	}{
		{"server metadata", "GET", "/v2", "", 200, `"name":"sluice"`},
		{"live", "GET", "/v2/health/live", "", 200, `"live":true`},
		{"ready", "GET", "/v2/health/ready", "", 200, `"ready":true`},
		{"model metadata", "GET", "/v2/models/reg", "", 200, `"inputs":[{"name":"input","datatype":"FP32","shape":[-1,4]}],"outputs":[{"name":"variable","datatype":"FP32","shape":[-1,1]}]`},
		{"version metadata", "GET", "/v2/models/reg/versions/1", "", 200, `"versions":["1"]`},
		{"model ready", "GET", "/v2/models/reg/ready", "", 200, `"ready":true`},
		{"infer", "POST", "/v2/models/reg/infer", infer, 200, `"model_name":"reg","model_version":"1","outputs":[{"name":"variable","datatype":"FP32","shape":[2,1],"data":[`},
		{"infer by version", "POST", "/v2/models/reg/versions/1/infer", infer, 200, `"model_version":"1"`},
		{"requested output", "POST", "/v2/models/reg/infer", strings.TrimSuffix(infer, "}") + `,"outputs":[{"name":"variable"}]}`, 200, `"name":"variable"`},
		{"unknown output", "POST", "/v2/models/reg/infer", strings.TrimSuffix(infer, "}") + `,"outputs":[{"name":"score"}]}`, 400, `unknown output "score"`},
		{"unknown model", "POST", "/v2/models/nope/infer", infer, 404, `model "nope" not found`},
		{"unknown version", "GET", "/v2/models/reg/versions/2/ready", "", 404, `version 2 not found`},
		{"no route", "GET", "/v3", "", 404, `no route for GET /v3`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ts.do(t, tt.method, tt.path, tt.body)
			text := r.raw
			if msg, ok := r.body["error"].(string); ok {
				text = msg
			}
			if r.code != tt.code || !strings.Contains(text, tt.says) {
				t.Errorf("%s %s: %d %s\nwant %d containing %s", tt.method, tt.path, r.code, r.raw, tt.code, tt.says)
			}
			if tt.code != 200 && r.body["error"] == nil {
				t.Errorf("error without the v2 {\"error\": ...} shape: %s", r.raw)
			}
		})
	}
}

func TestHealthSaysWhetherEveryEndpointHasAModel(t *testing.T) {
	ts := newServer(t)
	ts.deploy(t, regressor(1))
	if r := ts.get(t, "/healthz"); r.code != 200 || r.body["ready"] != true {
		t.Errorf("healthz with every endpoint loaded: %d %s", r.code, r.raw)
	}
	bad := Config{Endpoint: "broken", Version: 1, Path: model("absent.onnx")}
	if err := ts.Deploy(t.Context(), bad); err == nil {
		t.Fatal("deploying a missing file succeeded")
	}
	r := ts.get(t, "/healthz")
	if r.code != 503 || r.body["ready"] != false || !strings.Contains(r.raw, `"name":"broken","loaded":false`) {
		t.Errorf("healthz with an endpoint that never loaded: %d %s", r.code, r.raw)
	}
	if r := ts.get(t, "/v2/health/ready"); r.code != 503 {
		t.Errorf("v2 ready with an endpoint not loaded: %d %s", r.code, r.raw)
	}
}

func TestSlowClientIsCutOffByTheReadTimeout(t *testing.T) {
	ts := newServer(t, func(o *Options, _ *Server) {
		o.ReadHeaderTimeout = 50 * time.Millisecond
		o.ReadTimeout = 100 * time.Millisecond
	})
	ts.deploy(t, regressor(1))
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Headers that never end: the server must hang up, not wait forever.
	if _, err := io.WriteString(conn, "POST /v1/models/reg:predict HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadAll(conn); err != nil {
		t.Fatalf("the server kept a slow client's connection open: %v", err)
	}
	if r := ts.post(t, "/v1/models/reg:predict", `{"instances":[[1,2,3,4]]}`); r.code != 200 {
		t.Errorf("request after the slow client: %d %s", r.code, r.raw)
	}
}
