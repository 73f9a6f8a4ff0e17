package serving

import (
	"strings"
	"testing"
)

// The zipmap models are classifier.onnx with its probabilities zipped into
// one map per row, as sklearn-onnx converts classifiers (testdata/README.md):
// served, the maps must come back as the very probabilities classifier.onnx
// gives, plain numbers per class.
func TestZipMapOutputsAreServedAsPerClassProbabilities(t *testing.T) {
	ts := newServer(t)
	ts.deploy(t, Config{Endpoint: "cls", Version: 1, Path: model("classifier.onnx")})
	body := `{"instances":` + rowsJSON(testRows(3, 4)) + `}`
	plain := ts.post(t, "/v1/models/cls:predict", body)
	if plain.code != 200 {
		t.Fatalf("classifier: %d %s", plain.code, plain.raw)
	}
	for _, file := range []string{"zipmap_int64.onnx", "zipmap_string.onnx"} {
		t.Run(file, func(t *testing.T) {
			name := strings.TrimSuffix(strings.ReplaceAll(file, "_", "-"), ".onnx")
			ts.deploy(t, Config{Endpoint: name, Version: 1, Path: model(file)})
			r := ts.post(t, "/v1/models/"+name+":predict", body)
			if r.code != 200 {
				t.Fatalf("status %d: %s", r.code, r.raw)
			}
			zipped, want := r.body["predictions"].([]any), plain.body["predictions"].([]any)
			for i := range want {
				got := floats(t, zipped[i].(map[string]any)["output_probability"])
				exp := floats(t, want[i].(map[string]any)["probabilities"])
				if len(got) != 3 || !near(got, exp) {
					t.Errorf("row %d: output_probability %v, want classifier.onnx's %v", i, got, exp)
				}
			}

			// v2 and metadata describe it as the tensor it is served as.
			r = ts.post(t, "/v2/models/"+name+"/infer", `{"inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","data":[1,2,3,4,5,6,7,8]}]}`)
			if r.code != 200 || !strings.Contains(r.raw, `"name":"output_probability","datatype":"FP32","shape":[2,3]`) {
				t.Errorf("v2: %d %s", r.code, r.raw)
			}
			m := ts.get(t, "/v2/models/"+name)
			if !strings.Contains(m.raw, `{"name":"output_probability","datatype":"FP32","shape":[-1,-1]}`) {
				t.Errorf("metadata: %s", m.raw)
			}
		})
	}
}
