package serving

import (
	"context"
	"strings"
	"testing"

	"sluice/schema"
)

func TestGPUInstanceWithoutCUDAIsRefusedWithTheReason(t *testing.T) {
	ts := newServer(t)
	cfg := regressor(1)
	cfg.Instances = []schema.InstanceGroup{{Count: 1, Kind: "gpu", GPUs: []int{0}}}
	err := ts.Deploy(context.Background(), cfg)
	if ReasonOf(err) != ReasonDeviceUnavailable {
		t.Fatalf("deploy error %v, want reason %s", err, ReasonDeviceUnavailable)
	}
	if !strings.Contains(err.Error(), "cuda") || !strings.Contains(err.Error(), `fallback: "cpu"`) {
		t.Errorf("error does not say CUDA is missing and how to fall back: %v", err)
	}
	st, _ := ts.Status("reg")
	if st.State != StateFailed || st.Reason != ReasonDeviceUnavailable || st.Serving != 0 {
		t.Errorf("status %+v, want Failed/%s with nothing serving", st, ReasonDeviceUnavailable)
	}
	if r := ts.post(t, "/v1/models/reg:predict", `{"instances":[[1,2,3,4]]}`); r.code != 503 || !strings.Contains(r.raw, ReasonDeviceUnavailable) {
		t.Errorf("request to an endpoint that never loaded: %d %s, want 503 naming the reason", r.code, r.raw)
	}
}

func TestGPUInstanceFallsBackToCPUAndSaysSo(t *testing.T) {
	ts := newServer(t)
	cfg := regressor(1)
	cfg.Instances = []schema.InstanceGroup{
		{Count: 1, Kind: "gpu", GPUs: []int{0}, Fallback: "cpu"},
		{Count: 2, Kind: "cpu", IntraOpThreads: 1},
	}
	ts.deploy(t, cfg)
	st, _ := ts.Status("reg")
	if st.State != StateReady || len(st.Instances) != 3 {
		t.Fatalf("status %+v, want Ready with 3 instances", st)
	}
	gpu := st.Instances[0]
	if gpu.Requested != "gpu:0" || gpu.Device != "cpu" || !strings.Contains(gpu.Fallback, "cuda") {
		t.Errorf("gpu instance %+v, want requested gpu:0, running on cpu, fallback naming cuda", gpu)
	}
	for _, inst := range st.Instances[1:] {
		if inst.Device != "cpu" || inst.Fallback != "" {
			t.Errorf("cpu instance %+v", inst)
		}
	}
	if r := ts.post(t, "/v1/models/reg:predict", `{"instances":[[1,2,3,4]]}`); r.code != 200 {
		t.Errorf("predict on the fallback: %d %s", r.code, r.raw)
	}
}

func TestGPUCountIsPerListedDevice(t *testing.T) {
	ps, _, _ := placements([]schema.InstanceGroup{{Count: 2, Kind: "gpu", GPUs: []int{0, 1}}, {Count: 1, Kind: "cpu"}})
	var got []string
	for _, p := range ps {
		got = append(got, p.String())
	}
	if strings.Join(got, " ") != "gpu:0 gpu:0 gpu:1 gpu:1 cpu" {
		t.Errorf("placements %v, want two on each listed GPU then one CPU (Triton's count)", got)
	}
}
