package serving

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// metric returns the value of the series line that starts with prefix in
// a /metrics page, and whether there is one.
func metric(page, prefix string) (float64, bool) {
	for _, line := range strings.Split(page, "\n") {
		if strings.HasPrefix(line, prefix+" ") {
			f, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimPrefix(line, prefix)), 64)
			return f, err == nil
		}
	}
	return 0, false
}

func TestMetricsCountRequestsBatchesAndInstanceTime(t *testing.T) {
	ts := newServer(t)
	ts.deploy(t, regressor(1))
	for range 3 {
		ts.post(t, "/v1/models/reg:predict", `{"instances":[[1,2,3,4],[1,2,3,4]]}`)
	}
	ts.post(t, "/v2/models/reg/infer", `{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}`)
	ts.post(t, "/v1/models/reg:predict", `{"instances":[[1,2,3]]}`)
	page := ts.get(t, "/metrics").raw

	want := map[string]float64{
		`sluice_serving_requests_total{endpoint="reg",outcome="ok",version="1"}`:          4,
		`sluice_serving_requests_total{endpoint="reg",outcome="bad_request",version="1"}`: 1,
		`sluice_serving_batch_rows_sum{endpoint="reg",version="1"}`:                       7,
		`sluice_serving_batch_rows_count{endpoint="reg",version="1"}`:                     4,
		`sluice_serving_request_duration_seconds_count{endpoint="reg",version="1"}`:       4,
		`sluice_serving_queue_duration_seconds_count{endpoint="reg",version="1"}`:         4,
		`sluice_serving_compute_duration_seconds_count{endpoint="reg",version="1"}`:       4,
		`sluice_serving_queue_rows{endpoint="reg",version="1"}`:                           0,
		`sluice_serving_endpoint_loaded{endpoint="reg"}`:                                  1,
	}
	for series, w := range want {
		if got, ok := metric(page, series); !ok || got != w {
			t.Errorf("%s = %v (present %v), want %v", series, got, ok, w)
		}
	}
	if busy, ok := metric(page, `sluice_serving_instance_busy_seconds_total{endpoint="reg",instance="0-0",version="1"}`); !ok || busy <= 0 {
		t.Errorf("instance busy time %v (present %v), want > 0", busy, ok)
	}

	// After a swap the old version's series go; the new version's count.
	ts.deploy(t, regressor(2))
	ts.post(t, "/v1/models/reg:predict", `{"instances":[[1,2,3,4]]}`)
	page = ts.get(t, "/metrics").raw
	if regexp.MustCompile(`version="1"`).MatchString(page) {
		t.Error("version 1's series outlive its sessions")
	}
	if got, _ := metric(page, `sluice_serving_requests_total{endpoint="reg",outcome="ok",version="2"}`); got != 1 {
		t.Errorf("version 2 ok requests = %v, want 1", got)
	}
}
