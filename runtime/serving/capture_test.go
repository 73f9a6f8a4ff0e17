package serving

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder is a Capturer that keeps what it is given, row by row; drift's
// real one buffers and drops instead of blocking, which this one never
// needs to.
type recorder struct {
	mu   sync.Mutex
	rows []capturedRow
}

// capturedRow is one row of CaptureRows by name; a missing string (an
// empty one) is absent.
type capturedRow struct {
	Endpoint, RequestID string
	Version             int
	Time                time.Time
	Numeric             map[string]float64
	Category            map[string]string
	Prediction          []float64
}

func (c *recorder) Capture(rows CaptureRows) {
	c.mu.Lock()
	defer c.mu.Unlock()
	nn, nc, w := len(rows.NumericNames), len(rows.CategoryNames), rows.PredictionWidth
	for r := range rows.Rows {
		row := capturedRow{Endpoint: rows.Endpoint, RequestID: rows.RequestID, Version: rows.Version, Time: rows.Time,
			Numeric: map[string]float64{}, Category: map[string]string{}, Prediction: rows.Prediction[r*w : (r+1)*w]}
		for j, name := range rows.NumericNames {
			row.Numeric[name] = rows.Numeric[r*nn+j]
		}
		for j, name := range rows.CategoryNames {
			if v := rows.Category[r*nc+j]; v != "" {
				row.Category[name] = v
			}
		}
		c.rows = append(c.rows, row)
	}
}

func (c *recorder) byID() map[string][]capturedRow {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := map[string][]capturedRow{}
	for _, r := range c.rows {
		m[r.RequestID] = append(m[r.RequestID], r)
	}
	return m
}

// sendWithID posts body with an X-Request-Id header, "" for none.
func (ts *testServer) sendWithID(t *testing.T, path, body, id string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, ts.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if id != "" {
		req.Header.Set(RequestIDHeader, id)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return response{code: resp.StatusCode, header: resp.Header, raw: string(raw), version: resp.Header.Get(VersionHeader)}
}

func TestEveryPredictResponseCarriesItsRequestID(t *testing.T) {
	ts := newServer(t)
	ts.deploy(t, regressor(1))
	tf := `{"instances":[[1,2,3,4]]}`
	r := ts.sendWithID(t, "/v1/models/reg:predict", tf, "")
	id := r.header.Get(RequestIDHeader)
	if r.code != 200 || id == "" || !strings.Contains(r.raw, `"request_id":"`+id+`"`) {
		t.Fatalf("generated id: header %q, body %s", id, r.raw)
	}
	if r2 := ts.sendWithID(t, "/v1/models/reg:predict", tf, ""); r2.header.Get(RequestIDHeader) == id {
		t.Errorf("two requests got the same id %q", id)
	}
	r = ts.sendWithID(t, "/v1/models/reg:predict", tf, "client-7")
	if r.header.Get(RequestIDHeader) != "client-7" || !strings.Contains(r.raw, `"request_id":"client-7"`) {
		t.Errorf("incoming X-Request-Id not honoured: header %q, body %s", r.header.Get(RequestIDHeader), r.raw)
	}
	// v2 names the id in its own "id" field; the body's id serves when no
	// header names one.
	v2 := `{"id":"body-1","inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}`
	r = ts.sendWithID(t, "/v2/models/reg/infer", v2, "")
	if r.header.Get(RequestIDHeader) != "body-1" || !strings.Contains(r.raw, `"id":"body-1"`) {
		t.Errorf("v2 body id: header %q, body %s", r.header.Get(RequestIDHeader), r.raw)
	}
	r = ts.sendWithID(t, "/v2/models/reg/infer", v2, "hdr-1")
	if r.header.Get(RequestIDHeader) != "hdr-1" || !strings.Contains(r.raw, `"id":"hdr-1"`) {
		t.Errorf("v2 header id: header %q, body %s", r.header.Get(RequestIDHeader), r.raw)
	}
	// Errors carry it too.
	r = ts.sendWithID(t, "/v1/models/reg:predict", `{"instances":[[1]]}`, "bad-1")
	if r.code != 400 || r.header.Get(RequestIDHeader) != "bad-1" {
		t.Errorf("error response: %d, header %q", r.code, r.header.Get(RequestIDHeader))
	}
}

func TestCaptureRecordsEachRowWithJoinedFeaturesAndPrediction(t *testing.T) {
	st := &lookupTable{width: 2, rows: map[string][]FeatureValue{"1001": {{Value: int64(5)}, {Value: "gold"}}}}
	rec := &recorder{}
	cfg := typesJoin(st, "default")
	cfg.Capture, cfg.CaptureRate = rec, 1
	ts := newServer(t)
	ts.deploy(t, cfg)
	r := ts.sendWithID(t, "/v1/models/types:predict", `{"instances":[{"user_id":1001,"x":[1,2]},{"user_id":999,"x":[0.5,0]}]}`, "req-1")
	if r.code != 200 {
		t.Fatalf("%d %s", r.code, r.raw)
	}
	rows := rec.byID()["req-1"]
	if len(rows) != 2 {
		t.Fatalf("captured %+v, want the request's two rows", rec.rows)
	}
	a, b := rows[0], rows[1]
	if a.Endpoint != "types" || a.Version != 1 || a.Time.IsZero() {
		t.Errorf("row names %q v%d at %v", a.Endpoint, a.Version, a.Time)
	}
	if a.Numeric["x[0]"] != 1 || a.Numeric["x[1]"] != 2 || a.Numeric["n"] != 5 || a.Category["tag"] != "gold" || len(a.Prediction) != 1 || a.Prediction[0] != 8 {
		t.Errorf("row 0: %+v, want x 1 and 2, joined n 5 and tag gold, prediction [8]", a)
	}
	// 999 is not in the store: its defaulted features are missing to drift.
	if !math.IsNaN(b.Numeric["n"]) || b.Category["tag"] != "" || len(b.Category) != 0 || b.Numeric["x[0]"] != 0.5 || b.Prediction[0] != 0.5 {
		t.Errorf("row 1: %+v, want n NaN, no tag, x[0] 0.5, prediction [0.5]", b)
	}
}

func TestCaptureSamplesTheSameRequestIDsEveryTime(t *testing.T) {
	rec := &recorder{}
	cfg := regressor(1)
	cfg.Capture, cfg.CaptureRate = rec, 0.5
	ts := newServer(t)
	ts.deploy(t, cfg)
	const n = 200
	for round := 0; round < 2; round++ {
		for i := range n {
			if r := ts.sendWithID(t, "/v1/models/reg:predict", `{"instances":[[1,2,3,4]]}`, fmt.Sprintf("r%d", i)); r.code != 200 {
				t.Fatalf("%d %s", r.code, r.raw)
			}
		}
	}
	got := rec.byID()
	for id, rows := range got {
		if len(rows) != 2 {
			t.Errorf("request %s captured %d times in two rounds, want 0 or 2", id, len(rows))
		}
		if got := rows[0].Numeric["input[3]"]; got != 4 {
			t.Errorf("request %s: input[3] = %v, want 4", id, got)
		}
	}
	// About half of r0..r199 fall in the sample, as the rate says.
	if len(got) < n*3/10 || len(got) > n*7/10 {
		t.Errorf("captured %d of %d request ids at rate 0.5", len(got), n)
	}
}

// sink is a FeedbackSink over the ids it knows.
type sink struct {
	mu     sync.Mutex
	known  map[string]bool
	labels map[string]float64
}

func (s *sink) Feedback(_ context.Context, endpoint, id string, label float64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.known[id] {
		return fmt.Errorf("feedback for %s on %s: %w", id, endpoint, ErrUnknownRequest)
	}
	s.labels[endpoint+"/"+id] = label
	return nil
}

func TestFeedbackRecordsLabelsOfServedRequests(t *testing.T) {
	ts := newServer(t)
	ts.deploy(t, regressor(1))
	if r := ts.post(t, "/v1/feedback", `{"endpoint":"reg","request_id":"a","label":1}`); r.code != 503 {
		t.Errorf("without a sink: %d %s, want 503", r.code, r.raw)
	}
	sk := &sink{known: map[string]bool{"a": true}, labels: map[string]float64{}}
	ts.SetFeedback(sk)
	for body, want := range map[string]int{
		`{"endpoint":"reg","request_id":"a","label":1}`:       204,
		`{"endpoint":"reg","request_id":"nope","label":0}`:    404,
		`{"endpoint":"other","request_id":"a","label":1}`:     404,
		`{"endpoint":"reg","request_id":"a"}`:                 400,
		`{"endpoint":"reg","request_id":"a","label":"yes"}`:   400,
		`{"endpoint":"reg","request_id":"a","label":1,"x":2}`: 400,
		`not json`: 400,
	} {
		if r := ts.post(t, "/v1/feedback", body); r.code != want {
			t.Errorf("%s: %d %s, want %d", body, r.code, r.raw, want)
		}
	}
	if sk.labels["reg/a"] != 1 || len(sk.labels) != 1 {
		t.Errorf("sink holds %v, want reg/a = 1", sk.labels)
	}
}

// TestCapturedStringsOutliveTheRequestBody: a v2 BYTES input sent as a
// number is kept as its text; the captured row must hold its own copy,
// not the pooled request body's bytes, which the next request overwrites.
func TestCapturedStringsOutliveTheRequestBody(t *testing.T) {
	rec := &recorder{}
	cfg := Config{Endpoint: "types", Version: 1, Path: model("types.onnx"), Capture: rec, CaptureRate: 1}
	ts := newServer(t)
	ts.deploy(t, cfg)
	body := func(tag string) string {
		return `{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP64","data":[1,2]},{"name":"n","shape":[1,1],"datatype":"INT64","data":[3]},` +
			`{"name":"tag","shape":[1,1],"datatype":"BYTES","data":[` + tag + `]}]}`
	}
	for i, tag := range []string{"7", "9", "5"} {
		if r := ts.sendWithID(t, "/v2/models/types/infer", body(tag), fmt.Sprint("req-", i)); r.code != 200 {
			t.Fatalf("%d %s", r.code, r.raw)
		}
	}
	got := rec.byID()
	for i, want := range []string{"7", "9", "5"} {
		if rows := got[fmt.Sprint("req-", i)]; len(rows) != 1 || rows[0].Category["tag"] != want {
			t.Errorf("request %d captured %+v, want tag %q", i, rows, want)
		}
	}
}
