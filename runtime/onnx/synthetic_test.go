package onnx

import (
	"bytes"
	"strings"
	"testing"
)

func TestRandomMLPIsTheSameForTheSameSeed(t *testing.T) {
	marshal := func(seed uint64) []byte {
		m, err := RandomMLP(seed, 20, 256, 256, 1)
		if err != nil {
			t.Fatal(err)
		}
		data, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	a, b, c := marshal(1), marshal(1), marshal(2)
	if !bytes.Equal(a, b) {
		t.Error("seed 1 gave two different models")
	}
	if bytes.Equal(a, c) {
		t.Error("seeds 1 and 2 gave the same model")
	}
}

func TestRandomMLPServesWhatItsLayersCompute(t *testing.T) {
	for _, sizes := range [][]int{{20, 256, 256, 1}, {64, 1024, 1024, 1024, 1}} {
		m, err := RandomMLP(42, sizes...)
		if err != nil {
			t.Fatal(err)
		}
		layers, err := RandomLayers(42, sizes...)
		if err != nil {
			t.Fatal(err)
		}
		f := Features{Dense: &Dense{Name: "input", Width: sizes[0]}}
		compareRegressor(t, m, f, 1, func(x []float64) []float64 { return refMLP(layers, x) })
	}
}

func TestRandomLayersRefusesImpossibleSizes(t *testing.T) {
	for _, sizes := range [][]int{nil, {4}, {4, 0, 1}, {-1, 2}} {
		if _, err := RandomLayers(1, sizes...); err == nil || !strings.HasPrefix(err.Error(), "random layers: ") {
			t.Errorf("sizes %v: error %v", sizes, err)
		}
	}
}
