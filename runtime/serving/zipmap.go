package serving

import (
	"fmt"
	"slices"

	ort "github.com/yalue/onnxruntime_go"
)

// Classifiers converted by sklearn-onnx end in ai.onnx.ml's ZipMap: their
// "output_probability" is a sequence with one map per row from class label
// (int64 or string) to probability. Sluice serves it as the plain float32
// tensor [N, C] of the probabilities, classes in the maps' key order
// (ZipMap's maps are ordered by label, as scikit-learn's classes_ are),
// so every protocol answers per-class numbers.

// zipMapSpec is the served spec of a sequence output: float32 [N, C].
func zipMapSpec(name string) TensorSpec {
	return TensorSpec{Name: name, DType: Float32, Dims: []int64{-1, -1}}
}

// tensorOfSequence turns a sequence of maps, one per row, into float32
// [N, C]. Every map must have the same keys.
func tensorOfSequence(name string, s *ort.Sequence) (Tensor, error) {
	maps, err := s.GetValues()
	if err != nil {
		return Tensor{}, fmt.Errorf("output %q: %w", name, err)
	}
	t := Tensor{Name: name, DType: Float32, Shape: []int64{int64(len(maps)), 0}}
	var first []string
	for r, v := range maps {
		m, ok := v.(*ort.Map)
		if !ok {
			return Tensor{}, fmt.Errorf("output %q: row %d is a %s; Sluice serves sequences of maps (ZipMap's)", name, r, v.GetONNXType())
		}
		keys, probs, err := mapRow(m)
		if err != nil {
			return Tensor{}, fmt.Errorf("output %q: row %d: %w", name, r, err)
		}
		if r == 0 {
			first = keys
			t.Shape[1] = int64(len(keys))
			t.F32 = make([]float32, 0, len(maps)*len(keys))
		} else if !slices.Equal(keys, first) {
			return Tensor{}, fmt.Errorf("output %q: row %d has classes %v, row 0 has %v", name, r, keys, first)
		}
		t.F32 = append(t.F32, probs...)
	}
	return t, nil
}

// mapRow reads one ZipMap map: its keys as text and its float values.
func mapRow(m *ort.Map) ([]string, []float32, error) {
	k, v, err := m.GetKeysAndValues()
	if err != nil {
		return nil, nil, err
	}
	var keys []string
	switch k := k.(type) {
	case *ort.Tensor[int64]:
		for _, x := range k.GetData() {
			keys = append(keys, fmt.Sprint(x))
		}
	case *ort.StringTensor:
		if keys, err = k.GetContents(); err != nil {
			return nil, nil, err
		}
	default:
		return nil, nil, fmt.Errorf("map keys are %T; ZipMap's are int64 or string", k)
	}
	var probs []float32
	switch v := v.(type) {
	case *ort.Tensor[float32]:
		probs = v.GetData()
	case *ort.Tensor[float64]:
		for _, x := range v.GetData() {
			probs = append(probs, float32(x))
		}
	default:
		return nil, nil, fmt.Errorf("map values are %T; ZipMap's are float", v)
	}
	if len(probs) != len(keys) {
		return nil, nil, fmt.Errorf("map has %d keys and %d values", len(keys), len(probs))
	}
	return keys, probs, nil
}
