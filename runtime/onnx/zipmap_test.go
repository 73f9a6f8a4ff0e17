package onnx

import (
	"strings"
	"testing"
)

func TestZipMapOutputIsWrittenAsASequenceOfMaps(t *testing.T) {
	n, err := ZipMap("zm", "probs", "output_probability", []int64{0, 1})
	if err != nil {
		t.Fatal(err)
	}
	m := &Model{Graph: Graph{
		Name:    "zipmap",
		Inputs:  []ValueInfo{TensorInfo("probs", Float, Batch, Fixed(2))},
		Outputs: []ValueInfo{ZipMapOutput("output_probability", Int64)},
		Nodes:   []Node{n},
	}}
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	sig, err := ReadSignature(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(sig.Outputs) != 1 || sig.Outputs[0].Kind != SequenceValue || sig.Outputs[0].Name != "output_probability" {
		t.Fatalf("outputs %v, want one sequence output_probability", sig.Outputs)
	}

	if _, err := ZipMap("zm", "probs", "out", []float32{1}); err == nil {
		t.Error("ZipMap took float labels")
	}
	m.Graph.Outputs[0] = ValueInfo{Name: "output_probability", Kind: SequenceValue, Elem: Float, MapKey: Float}
	if _, err := m.Marshal(); err == nil || !strings.Contains(err.Error(), "only tensor values can be written, not sequence") {
		t.Errorf("a float-keyed sequence: %v", err)
	}
}
