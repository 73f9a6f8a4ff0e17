package serving

import (
	"math"
	"os"
	"strings"
	"testing"

	"sluice/schema"
)

// reference runs each row through its own session run, one row at a time,
// with no batcher: what a served batch must reproduce.
func reference(t *testing.T, path string, rows [][]float64) []float64 {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := readSignature(data)
	if err != nil {
		t.Fatal(err)
	}
	s, err := openSession(data, sig, placement{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	var out []float64
	for _, row := range rows {
		in := Tensor{Name: sig.Inputs[0].Name, DType: Float32, Shape: []int64{1, int64(len(row))}}
		for _, f := range row {
			in.F32 = append(in.F32, float32(f))
		}
		outs, err := s.run([]Tensor{in})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range outs[0].F32 {
			out = append(out, float64(f))
		}
	}
	return out
}

func near(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-5*(1+math.Abs(b[i])) {
			return false
		}
	}
	return true
}

func TestSignatureReadsBatchDimensionAndTypes(t *testing.T) {
	if ortErr != nil {
		t.Skip(ortErr)
	}
	data, err := os.ReadFile(model("types.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	sig, err := readSignature(data)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range append(sig.Inputs, sig.Outputs...) {
		got = append(got, v.String())
	}
	want := "x: float64[-1,2] n: int64[-1,1] tag: string[-1,1] total: float64[-1,1] twice: int64[-1,1] tag_out: string[-1,1]"
	if strings.Join(got, " ") != want {
		t.Errorf("signature\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	if sig.MaxRows != 0 {
		t.Errorf("MaxRows = %d, want 0 (free batch)", sig.MaxRows)
	}
}

func TestUnloadableModelIsRefusedAsLoadFailure(t *testing.T) {
	if ortErr != nil {
		t.Skip(ortErr)
	}
	_, err := readSignature([]byte("not an onnx model"))
	if err == nil || !strings.Contains(err.Error(), "onnx runtime cannot load the model") {
		t.Errorf("err = %v, want a load failure", err)
	}
}

func TestCheckSignatureReportsEveryDifference(t *testing.T) {
	model := []TensorSpec{
		{Name: "input", DType: Float32, Dims: []int64{-1, 4}},
		{Name: "tag", DType: String, Dims: []int64{-1, 1}},
	}
	tests := []struct {
		name     string
		declared []schema.Input
		want     []string // substrings of the error; none means no error
	}{
		{"none declared matches anything", nil, nil},
		{"exact", []schema.Input{{Name: "input", Type: "float32", Shape: []int64{4}}, {Name: "tag", Type: "string"}}, nil},
		{"free dimension", []schema.Input{{Name: "input", Type: "float32", Shape: []int64{-1}}, {Name: "tag", Type: "string", Shape: []int64{1}}}, nil},
		{"every problem", []schema.Input{
			{Name: "input", Type: "float64", Shape: []int64{5}},
			{Name: "amount", Type: "float32"},
		}, []string{
			`inputs[0] "input": declared float64, the model takes float32`,
			`inputs[0] "input": declared row shape [5], the model takes [4]`,
			`inputs[1] "amount": the model has no such input (it has input, tag)`,
			`the model's input "tag" (tag: string[-1,1]) is not declared`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckSignature(tt.declared, model)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestBatchedRowsMatchSingleRowRuns(t *testing.T) {
	ts := newServer(t)
	ts.deploy(t, regressor(1))
	rows := testRows(5, 4)
	r := ts.post(t, "/v1/models/reg:predict", `{"instances":`+rowsJSON(rows)+`}`)
	if r.code != 200 {
		t.Fatalf("status %d: %s", r.code, r.raw)
	}
	got := floats(t, r.body["predictions"])
	want := reference(t, model("regressor_v1.onnx"), rows)
	if !near(got, want) {
		t.Errorf("predictions %v, want %v", got, want)
	}
	if r.version != "1" || r.body["model_version"] != "1" {
		t.Errorf("version header %q, body %v; want 1", r.version, r.body["model_version"])
	}
}
