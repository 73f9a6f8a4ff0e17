package onnx

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	ort "github.com/yalue/onnxruntime_go"
	"google.golang.org/protobuf/encoding/protowire"
)

// signatureModels are the models the golden signatures describe.
func signatureModels(t *testing.T) map[string][]byte {
	t.Helper()
	dense := Features{Dense: &Dense{Name: "input", Width: 4}}
	layer := Layer{In: 10, Out: 1, Weights: make([]float32, 10), Bias: []float32{0}}
	mlp, err := RandomLayers(1, 4, 3, 3)
	if err != nil {
		t.Fatal(err)
	}
	trees := []Tree{{Nodes: []TreeNode{branch(0, 0, 1, 2), leaf(1, 0), leaf(0, 1)}}}
	build := map[string]func() (*Model, error){
		"logistic_columns":  func() (*Model, error) { return LogisticRegression(mixedColumns, layer, nil) },
		"linear_columns":    func() (*Model, error) { return LinearRegression(mixedColumns, layer) },
		"mlp_classifier":    func() (*Model, error) { return MLPClassifier(dense, mlp, []int64{3, 5, 8}) },
		"mlp_regressor":     func() (*Model, error) { return MLPRegressor(dense, mlp) },
		"forest_classifier": func() (*Model, error) { return ForestClassifier(dense, trees, nil) },
		"forest_regressor":  func() (*Model, error) { return ForestRegressor(dense, trees) },
	}
	models := map[string][]byte{"foreign": foreignModel()}
	for name, f := range build {
		m, err := f()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if models[name], err = m.Marshal(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	return models
}

// foreignModel is written field by field, as another tool might: an input
// with an initializer as its default, one of unknown rank, a scalar, a
// dimension with neither size nor name, and a ZipMap-style output (a
// sequence of maps) after a FLOAT16 one.
func foreignModel() []byte {
	str := func(b []byte, num protowire.Number, s string) []byte {
		return protowire.AppendString(protowire.AppendTag(b, num, protowire.BytesType), s)
	}
	msg := func(b []byte, num protowire.Number, m []byte) []byte {
		return protowire.AppendBytes(protowire.AppendTag(b, num, protowire.BytesType), m)
	}
	num := func(b []byte, n protowire.Number, v uint64) []byte {
		return protowire.AppendVarint(protowire.AppendTag(b, n, protowire.VarintType), v)
	}
	dim := func(shape []byte, value uint64, param string) []byte {
		var d []byte
		if value > 0 {
			d = num(d, dimValue, value)
		}
		if param != "" {
			d = str(d, dimParam, param)
		}
		return msg(shape, shapeDim, d)
	}
	tensorType := func(elem uint64, shape []byte, hasShape bool) []byte {
		tt := num(nil, tensorTypeElem, elem)
		if hasShape {
			tt = msg(tt, tensorTypeShape, shape)
		}
		return msg(nil, typeTensor, tt)
	}
	value := func(name string, typ []byte) []byte {
		return msg(str(nil, valueInfoName, name), valueInfoType, typ)
	}
	var g []byte
	g = msg(g, graphInput, value("images", tensorType(1, dim(dim(dim(nil, 0, "batch"), 0, ""), 224, ""), true)))
	g = msg(g, graphInput, value("anything", tensorType(7, nil, false)))
	g = msg(g, graphInput, value("temperature", tensorType(11, nil, true)))
	g = msg(g, graphInput, value("bias", tensorType(1, dim(nil, 3, ""), true)))
	g = msg(g, graphInitializer, str(num(dim(nil, 3, ""), tensorDataType, 1), tensorName, "bias"))
	g = msg(g, graphOutput, value("half", tensorType(10, dim(nil, 2, ""), true)))
	mapType := msg(nil, typeMap, num(nil, 1, 7))
	g = msg(g, graphOutput, value("output_probability", msg(nil, typeSequence, msg(nil, 1, mapType))))
	var m []byte
	m = num(m, modelIRVersion, 7)
	m = str(m, modelProducerName, "elsewhere")
	m = msg(m, modelGraph, g)
	return m
}

func renderSignature(s Signature) string {
	var b strings.Builder
	b.WriteString("inputs:\n")
	for _, v := range s.Inputs {
		fmt.Fprintf(&b, "  %s\n", v)
	}
	b.WriteString("outputs:\n")
	for _, v := range s.Outputs {
		fmt.Fprintf(&b, "  %s\n", v)
	}
	return b.String()
}

func TestReadSignatureMatchesGolden(t *testing.T) {
	const golden = "testdata/signature.txtar"
	models := signatureModels(t)
	got := map[string]string{}
	for name, data := range models {
		sig, err := ReadSignature(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got[name] = renderSignature(sig)
	}
	if os.Getenv("SLUICE_UPDATE") == "1" {
		if err := os.WriteFile(golden, formatTxtar(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	data, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (SLUICE_UPDATE=1 writes it)", err)
	}
	want := parseTxtar(data)
	for name := range want {
		if _, ok := got[name]; !ok {
			t.Errorf("%s: in %s but no longer made", name, golden)
		}
	}
	for name, g := range got {
		if w, ok := want[name]; !ok {
			t.Errorf("%s: not in %s (SLUICE_UPDATE=1 adds it)", name, golden)
		} else if g != w {
			t.Errorf("%s: signature\n%s\nwant\n%s", name, g, w)
		}
	}
}

// The reader and ONNX Runtime must agree on every model the constructors
// write: names, element types and shapes, a symbolic dimension being -1.
func TestReadSignatureAgreesWithONNXRuntime(t *testing.T) {
	needORT(t)
	for name, data := range signatureModels(t) {
		if name == "foreign" {
			continue // not a runnable graph
		}
		sig, err := ReadSignature(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ins, outs, err := ort.GetInputOutputInfoWithONNXData(data)
		if err != nil {
			t.Fatalf("%s: onnx runtime: %v", name, err)
		}
		compareInfo(t, name+" inputs", sig.Inputs, ins)
		compareInfo(t, name+" outputs", sig.Outputs, outs)
	}
}

func compareInfo(t *testing.T, what string, mine []ValueInfo, theirs []ort.InputOutputInfo) {
	t.Helper()
	render := func(name string, elem int, dims []int64) string { return fmt.Sprint(name, elem, dims) }
	var a, b []string
	for _, v := range mine {
		dims := make([]int64, len(v.Shape))
		for i, d := range v.Shape {
			dims[i] = d.Value
			if d.Param != "" {
				dims[i] = -1
			}
		}
		a = append(a, render(v.Name, int(v.Elem), dims))
	}
	for _, v := range theirs {
		b = append(b, render(v.Name, int(v.DataType), v.Dimensions))
	}
	if !slices.Equal(a, b) {
		t.Errorf("%s: reader says %v, onnx runtime %v", what, a, b)
	}
}

func TestReadSignatureRefusesWhatIsNotAModel(t *testing.T) {
	valid := signatureModels(t)["mlp_regressor"]
	for _, tc := range []struct {
		name, want string
		data       []byte
	}{
		{"empty", "no ir_version", nil},
		{"text", "model", []byte("hello, this is not a model")},
		{"truncated", "unexpected EOF", valid[:len(valid)/2]},
		{"graph as a number", "model: field 7 has wire type 0, want 2",
			protowire.AppendVarint(protowire.AppendTag(protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), 8), 7, protowire.VarintType), 1)},
		{"no graph", "model has no graph", protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), 8)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadSignature(tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

// parseTxtar and formatTxtar read and write the txtar archive format:
// "-- name --" lines, each followed by that file's text.
func parseTxtar(data []byte) map[string]string {
	files := map[string]string{}
	name := ""
	for _, line := range bytes.SplitAfter(data, []byte("\n")) {
		s := strings.TrimSuffix(string(line), "\n")
		if strings.HasPrefix(s, "-- ") && strings.HasSuffix(s, " --") && len(s) > 6 {
			name = s[3 : len(s)-3]
			files[name] = ""
		} else if name != "" {
			files[name] += string(line)
		}
	}
	return files
}

func formatTxtar(files map[string]string) []byte {
	var b bytes.Buffer
	b.WriteString("Signatures ReadSignature reads from the models in signature_test.go.\n")
	b.WriteString("Rewrite with SLUICE_UPDATE=1 go test ./runtime/onnx.\n")
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		fmt.Fprintf(&b, "-- %s --\n%s", name, files[name])
	}
	return b.Bytes()
}
