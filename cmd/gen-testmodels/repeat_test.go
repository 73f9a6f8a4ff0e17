package main

import (
	"strings"
	"testing"
)

// TestRepeatAddsComputeNotWeights checks what -repeat is for: more layers
// to run per row in a file that does not grow with them.
func TestRepeatAddsComputeNotWeights(t *testing.T) {
	size := func(repeat int) (int, int) {
		m, err := repeatedMLP(1, []int{2, 64, 64, 1}, repeat)
		if err != nil {
			t.Fatal(err)
		}
		data, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		gemms := 0
		for _, n := range m.Graph.Nodes {
			if n.OpType == "Gemm" {
				gemms++
			}
		}
		return len(data), gemms
	}
	one, gemmsOne := size(1)
	many, gemmsMany := size(100)
	if gemmsOne != 3 || gemmsMany != 102 {
		t.Errorf("Gemm nodes: %d with -repeat 1, %d with -repeat 100; want 3 and 102", gemmsOne, gemmsMany)
	}
	if many > one+100*200 {
		t.Errorf("the file grew from %d to %d bytes with 99 more repeats: the weights are copied, not shared", one, many)
	}
}

func TestRepeatRefusesAModelWithoutAHiddenLayer(t *testing.T) {
	_, err := repeatedMLP(1, []int{2, 1}, 10)
	if err == nil || !strings.Contains(err.Error(), "hidden layer") {
		t.Errorf("repeatedMLP of 2→1: %v", err)
	}
}
