package onnx

import (
	"os"
	"testing"

	ort "github.com/yalue/onnxruntime_go"

	"sluice/internal/ortlib"
)

func TestMain(m *testing.M) {
	code := ortlib.Run(m)
	os.Exit(code)
}

// needORT skips t when ONNX Runtime is unavailable outside CI.
func needORT(t *testing.T) {
	t.Helper()
	ortlib.Need(t)
}

// feed is one input's value: floats, doubles, integers or strings in
// row-major order.
type feed struct {
	shape   []int64
	floats  []float32
	doubles []float64
	ints    []int64
	strings []string
}

// result is one output's value.
type result struct {
	shape   []int64
	floats  []float32
	doubles []float64
	ints    []int64
}

// session is a real ONNX Runtime session over a model's graph inputs and
// outputs.
type session struct {
	s       *ort.DynamicAdvancedSession
	inputs  []string
	outputs []string
}

// load marshals m and opens it in ONNX Runtime, closing it with the test.
func load(t *testing.T, m *Model) *session {
	t.Helper()
	needORT(t)
	data, err := m.Marshal()
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	sig, err := ReadSignature(data)
	if err != nil {
		t.Fatalf("read signature: %v", err)
	}
	s := &session{}
	for _, v := range sig.Inputs {
		s.inputs = append(s.inputs, v.Name)
	}
	for _, v := range sig.Outputs {
		s.outputs = append(s.outputs, v.Name)
	}
	opts, err := ort.NewSessionOptions()
	if err != nil {
		t.Fatal(err)
	}
	defer opts.Destroy()
	// Two cores are shared by every test binary on the machine.
	if err := opts.SetIntraOpNumThreads(1); err != nil {
		t.Fatal(err)
	}
	s.s, err = ort.NewDynamicAdvancedSessionWithONNXData(data, s.inputs, s.outputs, opts)
	if err != nil {
		t.Fatalf("onnx runtime refuses the model: %v", err)
	}
	t.Cleanup(func() { s.s.Destroy() })
	return s
}

// run feeds one value per input and returns the outputs by name.
func (s *session) run(t *testing.T, feeds map[string]feed) map[string]result {
	t.Helper()
	inputs := make([]ort.Value, len(s.inputs))
	for i, name := range s.inputs {
		f, ok := feeds[name]
		if !ok {
			t.Fatalf("no feed for input %q", name)
		}
		v, err := f.value()
		if err != nil {
			t.Fatalf("input %q: %v", name, err)
		}
		defer v.Destroy()
		inputs[i] = v
	}
	outputs := make([]ort.Value, len(s.outputs))
	if err := s.s.Run(inputs, outputs); err != nil {
		t.Fatalf("run: %v", err)
	}
	results := map[string]result{}
	for i, v := range outputs {
		r := result{shape: v.GetShape()}
		switch v := v.(type) {
		case *ort.Tensor[float32]:
			r.floats = append([]float32(nil), v.GetData()...)
		case *ort.Tensor[float64]:
			r.doubles = append([]float64(nil), v.GetData()...)
		case *ort.Tensor[int64]:
			r.ints = append([]int64(nil), v.GetData()...)
		default:
			t.Fatalf("output %q: unexpected value %T", s.outputs[i], v)
		}
		v.Destroy()
		results[s.outputs[i]] = r
	}
	return results
}

func (f feed) value() (ort.Value, error) {
	if f.strings != nil {
		st, err := ort.NewStringTensor(ort.NewShape(f.shape...))
		if err != nil {
			return nil, err
		}
		if err := st.SetContents(f.strings); err != nil {
			st.Destroy()
			return nil, err
		}
		return st, nil
	}
	switch {
	case f.doubles != nil:
		return ort.NewTensor(ort.NewShape(f.shape...), f.doubles)
	case f.ints != nil:
		return ort.NewTensor(ort.NewShape(f.shape...), f.ints)
	}
	return ort.NewTensor(ort.NewShape(f.shape...), f.floats)
}
