package onnx

import (
	"math"
	"strings"
	"testing"
)

func TestConstructorsRefuseBadParametersNamingThePart(t *testing.T) {
	dense := Features{Dense: &Dense{Name: "x", Width: 2}}
	ok := Layer{In: 2, Out: 1, Weights: []float32{1, 2}, Bias: []float32{0}}
	nan := float32(math.NaN())
	stump := []Tree{{Nodes: []TreeNode{branch(0, 0, 1, 2), leaf(1, 0), leaf(0, 1)}}}
	for _, tc := range []struct {
		name  string
		build func() (*Model, error)
		want  []string
	}{
		{"no features", func() (*Model, error) { return LinearRegression(Features{}, ok) },
			[]string{"linear regression: features: no input"}},
		{"dense and columns", func() (*Model, error) {
			return LinearRegression(Features{Dense: dense.Dense, Columns: mixedColumns.Columns}, ok)
		}, []string{"set Dense or Columns, not both"}},
		{"short mean", func() (*Model, error) {
			return LinearRegression(Features{Dense: &Dense{Name: "x", Width: 2, Mean: []float32{0}, Std: []float32{1, 1}}}, ok)
		}, []string{`dense input "x": mean and std need 2 values each, have 1 and 2`}},
		{"negative std", func() (*Model, error) {
			return LinearRegression(Features{Columns: []Column{{Name: "a", Std: -1}, {Name: "b", Mean: nan}}}, ok)
		}, []string{`column 0 "a": mean 0 and std -1`, `column 1 "b": mean NaN`}},
		{"categories", func() (*Model, error) {
			return LinearRegression(Features{Columns: []Column{
				{Name: "a", Kind: Categorical},
				{Name: "b", Kind: Categorical, Categories: []string{"x", "y", "x"}},
			}}, Layer{In: 3, Out: 1, Weights: []float32{1, 1, 1}, Bias: []float32{0}})
		}, []string{`column 0 "a": categorical column without categories`, `column 1 "b": category "x" listed twice`}},
		{"same column twice", func() (*Model, error) {
			return LinearRegression(Features{Columns: []Column{{Name: "a"}, {Name: "a"}}}, ok)
		}, []string{`column input "a": the name is taken`}},
		{"column named like an output", func() (*Model, error) {
			return LogisticRegression(Features{Columns: []Column{{Name: "label"}, {Name: "b"}}}, ok, nil)
		}, []string{`column input "label": the name is taken`}},
		{"weights", func() (*Model, error) {
			return LinearRegression(dense, Layer{In: 2, Out: 1, Weights: []float32{1, 2, 3}, Bias: []float32{0}})
		}, []string{"layer 0: 2×1 needs 2 weights and 1 biases, have 3 and 1"}},
		{"NaN weight", func() (*Model, error) {
			return LinearRegression(dense, Layer{In: 2, Out: 1, Weights: []float32{1, nan}, Bias: []float32{0}})
		}, []string{"layer 0: weight 1 (input 1, output 0) is NaN"}},
		{"layers do not chain", func() (*Model, error) {
			return MLPRegressor(dense, []Layer{ok, {In: 3, Out: 1, Weights: make([]float32, 3), Bias: []float32{0}}})
		}, []string{"mlp regressor: layer 1: takes 3 inputs, gets 1"}},
		{"no layers", func() (*Model, error) { return MLPClassifier(dense, nil, nil) },
			[]string{"mlp classifier: no layers"}},
		{"classes", func() (*Model, error) { return LogisticRegression(dense, ok, []int64{1, 2, 3}) },
			[]string{"classes: 3 labels for 2 classes"}},
		{"class twice", func() (*Model, error) { return MLPClassifier(dense, []Layer{ok}, []int64{4, 4}) },
			[]string{"classes: label 4 listed twice"}},
		{"no trees", func() (*Model, error) { return ForestRegressor(dense, nil) },
			[]string{"forest regressor: no trees"}},
		{"bad trees", func() (*Model, error) {
			return ForestClassifier(dense, []Tree{
				{Nodes: []TreeNode{branch(0, 0, 1, 5), leaf(1, 0)}},
				{Nodes: []TreeNode{branch(2, 0, 1, 2), leaf(1, 0), leaf(0, 1)}},
				{Nodes: []TreeNode{branch(0, nan, 1, 2), leaf(1, 0), leaf(0, 1)}},
				{Nodes: []TreeNode{branch(0, 0, 1, 2), leaf(1, 0), leaf(0, 1, 0)}},
				{Nodes: []TreeNode{branch(0, 0, 1, 2), branch(1, 0, 2, 3), leaf(0, 1), leaf(1, 0)}},
				{},
			}, nil)
		}, []string{
			"tree 0: node 0: children 1 and 5 must come after the node and before 2",
			"tree 1: node 0: feature 2 is outside the 2 features",
			"tree 2: node 0: threshold is NaN",
			"tree 3: node 2: leaf has 3 values, want 2",
			"tree 4: node 2 has 2 parents, want 1",
			"tree 5: no nodes",
		}},
		{"one class", func() (*Model, error) {
			return ForestClassifier(dense, []Tree{{Nodes: []TreeNode{leaf(1)}}}, nil)
		}, []string{"1 classes, want at least 2"}},
		{"classes for a forest", func() (*Model, error) { return ForestClassifier(dense, stump, []int64{1, 2, 3}) },
			[]string{"tree 0: node 1: leaf has 2 values, want 3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := tc.build()
			if err == nil {
				t.Fatal("no error")
			}
			if m != nil {
				t.Error("a model came back with the error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestMarshalRefusesBrokenGraphsNamingTheNode(t *testing.T) {
	x := TensorInfo("x", Float, Batch, Fixed(2))
	y := TensorInfo("y", Float, Batch, Fixed(2))
	relu := func(in, out string) Node {
		return Node{Name: "r", OpType: "Relu", Inputs: []string{in}, Outputs: []string{out}}
	}
	for _, tc := range []struct {
		name string
		g    Graph
		want []string
	}{
		{"undefined input", Graph{Inputs: []ValueInfo{x}, Outputs: []ValueInfo{y}, Nodes: []Node{relu("z", "y")}},
			[]string{`node 0 "r" (Relu): input "z" is not defined`}},
		{"output twice", Graph{Inputs: []ValueInfo{x}, Outputs: []ValueInfo{y}, Nodes: []Node{relu("x", "y"), relu("x", "y")}},
			[]string{`node 1 "r" (Relu): output "y" is already defined by node 0 "r" (Relu)`}},
		{"output not produced", Graph{Inputs: []ValueInfo{x}, Outputs: []ValueInfo{y}},
			[]string{`graph output "y": no node produces it`}},
		{"unimported domain", Graph{Inputs: []ValueInfo{x}, Outputs: []ValueInfo{y},
			Nodes: []Node{{Name: "c", OpType: "Custom", Domain: "com.example", Inputs: []string{"x"}, Outputs: []string{"y"}}}},
			[]string{`node 0 "c" (Custom): domain "com.example" is not among the model's opsets`}},
		{"tensor size", Graph{Initializers: []Tensor{FloatTensor("w", []float32{1, 2, 3}, 2, 2)}},
			[]string{`tensor "w": shape [2 2] needs 4 elements, have 3`}},
		{"tensor mixed data", Graph{Initializers: []Tensor{{Name: "w", Elem: Int64, Dims: []int64{1}, Int64s: []int64{1}, Floats: []float32{1}}}},
			[]string{`tensor "w": INT64 tensor also holds FLOAT data`}},
		{"attributes", Graph{Inputs: []ValueInfo{x}, Outputs: []ValueInfo{y}, Nodes: []Node{{
			Name: "s", OpType: "Softmax", Inputs: []string{"x"}, Outputs: []string{"y"},
			Attrs: []Attribute{IntAttr("axis", 1), IntAttr("axis", 1), {Kind: AttrInt}, {Name: "t", Kind: AttrTensor}},
		}}}, []string{`attribute "axis" given twice`, "attribute without a name", `attribute "t": tensor attribute without a tensor`}},
		{"input type", Graph{Inputs: []ValueInfo{{Name: "x"}, {Name: "s", Kind: SequenceValue}}},
			[]string{`graph input: "x": no element type`, `graph input: "s": only tensor values can be written, not sequence`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &Model{Graph: tc.g}
			data, err := m.Marshal()
			if err == nil {
				t.Fatal("no error")
			}
			if data != nil {
				t.Error("bytes came back with the error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestMarshalIsDeterministic(t *testing.T) {
	m, err := RandomMLP(3, 4, 8, 2)
	if err != nil {
		t.Fatal(err)
	}
	m.Metadata = map[string]string{"b": "2", "a": "1", "c": "3"}
	first, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		again, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if string(again) != string(first) {
			t.Fatal("marshalling the same model twice gave different bytes")
		}
	}
}
