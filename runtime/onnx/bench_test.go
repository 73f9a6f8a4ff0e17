package onnx

import "testing"

// The serving benchmarks' large model: 64→1024→1024→1024→1, 2.1M weights.
var benchSizes = []int{64, 1024, 1024, 1024, 1}

func BenchmarkMarshalMLP64x1024x3(b *testing.B) {
	m, err := RandomMLP(1, benchSizes...)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		data, err := m.Marshal()
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(data)))
	}
}

func BenchmarkReadSignatureMLP64x1024x3(b *testing.B) {
	m, err := RandomMLP(1, benchSizes...)
	if err != nil {
		b.Fatal(err)
	}
	data, err := m.Marshal()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ReadSignature(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkForestClassifier100Trees(b *testing.B) {
	// 100 trees of 255 nodes (depth 7) over 20 features, 3 classes.
	trees := make([]Tree, 100)
	for t := range trees {
		var nodes []TreeNode
		for i := range 255 {
			if i < 127 {
				nodes = append(nodes, branch((t+i)%20, float32(i%7)-3, 2*i+1, 2*i+2))
			} else {
				nodes = append(nodes, leaf(0.2, 0.3, 0.5))
			}
		}
		trees[t] = Tree{Nodes: nodes}
	}
	f := Features{Dense: &Dense{Name: "input", Width: 20}}
	for b.Loop() {
		m, err := ForestClassifier(f, trees, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := m.Marshal(); err != nil {
			b.Fatal(err)
		}
	}
}
