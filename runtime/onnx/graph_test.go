package onnx

import (
	"math"
	"slices"
	"testing"
)

// A graph assembled from the building blocks alone, with inputs of every
// element type, initializers of every tensor type and attributes of every
// kind, runs in ONNX Runtime and computes what its operators say.
func TestHandBuiltGraphUsesEveryTensorAndAttributeKind(t *testing.T) {
	m := &Model{Graph: Graph{
		Name: "blocks",
		Inputs: []ValueInfo{
			TensorInfo("d", Double, Batch, Fixed(2)),
			TensorInfo("s", String, Batch),
			TensorInfo("i", Int64, Batch),
		},
		Initializers: []Tensor{
			DoubleTensor("dbias", []float64{0.5, -1}, 2),
			StringTensor("words", []string{"a", "b", "zz"}, 3),
			Int64Tensor("column", []int64{-1, 1}, 2),
		},
		Nodes: []Node{
			{Name: "add", OpType: "Add", Inputs: []string{"d", "dbias"}, Outputs: []string{"dsum"}},
			{Name: "codes", OpType: "LabelEncoder", Domain: MLDomain, Inputs: []string{"s"}, Outputs: []string{"scodes"},
				Attrs: labelCodes()},
			{Name: "wcodes", OpType: "LabelEncoder", Domain: MLDomain, Inputs: []string{"words"}, Outputs: []string{"wcodes"},
				Attrs: labelCodes()},
			{Name: "cast", OpType: "Cast", Inputs: []string{"i"}, Outputs: []string{"fi"}, Attrs: []Attribute{IntAttr("to", int64(Float))}},
			{Name: "reshape", OpType: "Reshape", Inputs: []string{"fi", "column"}, Outputs: []string{"fcol"}},
			{Name: "leaky", OpType: "LeakyRelu", Inputs: []string{"fcol"}, Outputs: []string{"leaky"}, Attrs: []Attribute{FloatAttr("alpha", 0.25)}},
			{Name: "three", OpType: "Constant", Outputs: []string{"three"}, Attrs: []Attribute{TensorAttr("value", FloatTensor("", []float32{3}, 1))}},
			{Name: "mul", OpType: "Mul", Inputs: []string{"leaky", "three"}, Outputs: []string{"tripled"}},
			{Name: "scaler", OpType: "Scaler", Domain: MLDomain, Inputs: []string{"fcol"}, Outputs: []string{"scaled"},
				Attrs: []Attribute{FloatsAttr("offset", []float32{1}), FloatsAttr("scale", []float32{2})}},
			{Name: "norm", OpType: "Normalizer", Domain: MLDomain, Inputs: []string{"dsum"}, Outputs: []string{"normed"},
				Attrs: []Attribute{StringAttr("norm", "L1")}},
		},
		Outputs: []ValueInfo{
			TensorInfo("dsum", Double, Batch, Fixed(2)),
			TensorInfo("scodes", Int64, Batch),
			TensorInfo("wcodes", Int64, Fixed(3)),
			TensorInfo("tripled", Float, Batch, Fixed(1)),
			TensorInfo("scaled", Float, Batch, Fixed(1)),
			TensorInfo("normed", Float, Batch, Fixed(2)),
		},
	}}
	out := load(t, m).run(t, map[string]feed{
		"d": {shape: []int64{3, 2}, doubles: []float64{1, 2, -3, 4, 0.25, 0}},
		"s": {shape: []int64{3}, strings: []string{"b", "a", "c"}},
		"i": {shape: []int64{3}, ints: []int64{-4, 0, 7}},
	})
	if got, want := out["dsum"].doubles, []float64{1.5, 1, -2.5, 3, 0.75, -1}; !slices.Equal(got, want) {
		t.Errorf("dsum %v, want %v", got, want)
	}
	if got, want := out["scodes"].ints, []int64{20, 10, -1}; !slices.Equal(got, want) {
		t.Errorf("scodes %v, want %v", got, want)
	}
	if got, want := out["wcodes"].ints, []int64{10, 20, -1}; !slices.Equal(got, want) {
		t.Errorf("wcodes %v, want %v", got, want)
	}
	checkClose(t, "tripled", out["tripled"].floats, []float64{-3, 0, 21})
	checkClose(t, "scaled", out["scaled"].floats, []float64{-10, -2, 12})
	l1 := func(a, b float64) []float64 { s := math.Abs(a) + math.Abs(b); return []float64{a / s, b / s} }
	checkClose(t, "normed", out["normed"].floats, slices.Concat(l1(1.5, 1), l1(-2.5, 3), l1(0.75, -1)))
}

// labelCodes maps "a" to 10, "b" to 20 and anything else to -1.
func labelCodes() []Attribute {
	return []Attribute{
		StringsAttr("keys_strings", []string{"a", "b"}),
		IntsAttr("values_int64s", []int64{10, 20}),
		IntAttr("default_int64", -1),
	}
}
