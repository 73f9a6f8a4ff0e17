// Command gen-testmodels writes the small ONNX models runtime/serving's
// tests load, and the large MLPs its benchmarks serve.
//
//	go run ./cmd/gen-testmodels                       # runtime/serving/testdata/*.onnx
//	go run ./cmd/gen-testmodels -mlp 20,256,256,1 -o /tmp/small.onnx
//	go run ./cmd/gen-testmodels -mlp 1,1024,1024,1 -repeat 100 -o /tmp/slow.onnx
//
// The models are deterministic: the same command writes the same bytes, so
// the committed files change only when a model's definition does.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"sluice/runtime/onnx"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "gen-testmodels:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("gen-testmodels", flag.ContinueOnError)
	dir := fs.String("dir", "runtime/serving/testdata", "directory the test models are written to")
	mlp := fs.String("mlp", "", "write one random MLP regressor with these layer sizes (\"20,256,256,1\") instead of the test models")
	out := fs.String("o", "", "file the -mlp model is written to")
	seed := fs.Uint64("seed", 1, "seed of the -mlp model's weights")
	repeat := fs.Int("repeat", 1, "apply the -mlp model's last hidden layer this many times, with the same weights (more compute per row, same file size)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *mlp != "" {
		if *out == "" {
			return fmt.Errorf("-mlp needs -o")
		}
		sizes, err := parseSizes(*mlp)
		if err != nil {
			return err
		}
		var m *onnx.Model
		if *repeat == 1 {
			m, err = onnx.RandomMLP(*seed, sizes...)
		} else {
			m, err = repeatedMLP(*seed, sizes, *repeat)
		}
		if err != nil {
			return err
		}
		return m.WriteFile(*out)
	}
	models, err := testModels()
	if err != nil {
		return err
	}
	for name, m := range models {
		if err := m.WriteFile(filepath.Join(*dir, name)); err != nil {
			return err
		}
	}
	return nil
}

func parseSizes(s string) ([]int, error) {
	var sizes []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("-mlp %q: %w", s, err)
		}
		sizes = append(sizes, n)
	}
	return sizes, nil
}

// testModels are the models runtime/serving/testdata holds, by file name.
func testModels() (map[string]*onnx.Model, error) {
	models := map[string]*onnx.Model{}
	add := func(name string, m *onnx.Model, err error) error {
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		models[name] = m
		return nil
	}
	// Two versions of one regressor: same signature, different weights, so
	// a test can tell which answered.
	for seed, name := range map[uint64]string{1: "regressor_v1.onnx", 2: "regressor_v2.onnx"} {
		m, err := onnx.RandomMLP(seed, 4, 8, 1)
		if err := add(name, m, err); err != nil {
			return nil, err
		}
	}
	// A model whose signature differs from the regressor's: six inputs.
	m, err := onnx.RandomMLP(3, 6, 8, 1)
	if err := add("wide.onnx", m, err); err != nil {
		return nil, err
	}
	layers, err := onnx.RandomLayers(4, 4, 3)
	if err != nil {
		return nil, err
	}
	classifierLayer := layers[0]
	m, err = onnx.LogisticRegression(onnx.Features{Dense: &onnx.Dense{Name: "input", Width: 4}}, classifierLayer, []int64{10, 20, 30})
	if err := add("classifier.onnx", m, err); err != nil {
		return nil, err
	}
	layers, err = onnx.RandomLayers(5, 3, 1)
	if err != nil {
		return nil, err
	}
	columns := onnx.Features{Columns: []onnx.Column{
		{Name: "amount", Kind: onnx.Numeric, Mean: 10, Std: 5},
		{Name: "country", Kind: onnx.Categorical, Categories: []string{"de", "fr"}},
	}}
	m, err = onnx.LogisticRegression(columns, layers[0], nil)
	if err := add("columns.onnx", m, err); err != nil {
		return nil, err
	}
	if err := add("types.onnx", typesModel(), nil); err != nil {
		return nil, err
	}
	// classifier.onnx as sklearn-onnx converts classifiers: probabilities
	// zipped into one map per row from class label to probability.
	for name, labels := range map[string]any{
		"zipmap_int64.onnx":  []int64{10, 20, 30},
		"zipmap_string.onnx": []string{"high", "low", "mid"},
	} {
		m, err = onnx.LogisticRegression(onnx.Features{Dense: &onnx.Dense{Name: "input", Width: 4}}, classifierLayer, []int64{10, 20, 30})
		if err == nil {
			err = zipMapped(m, labels)
		}
		if err := add(name, m, err); err != nil {
			return nil, err
		}
	}
	return models, nil
}

// typesModel takes and gives every element type Sluice serves: x DOUBLE
// [N,2] and n INT64 [N,1] in, total = x0+x1+n as DOUBLE [N,1], twice = 2n as
// INT64 [N,1], and tag, a STRING [N,1] input echoed back.
func typesModel() *onnx.Model {
	n := onnx.Batch
	return &onnx.Model{
		ProducerName: "sluice gen-testmodels",
		Graph: onnx.Graph{
			Name: "types",
			Inputs: []onnx.ValueInfo{
				onnx.TensorInfo("x", onnx.Double, n, onnx.Fixed(2)),
				onnx.TensorInfo("n", onnx.Int64, n, onnx.Fixed(1)),
				onnx.TensorInfo("tag", onnx.String, n, onnx.Fixed(1)),
			},
			Outputs: []onnx.ValueInfo{
				onnx.TensorInfo("total", onnx.Double, n, onnx.Fixed(1)),
				onnx.TensorInfo("twice", onnx.Int64, n, onnx.Fixed(1)),
				onnx.TensorInfo("tag_out", onnx.String, n, onnx.Fixed(1)),
			},
			Initializers: []onnx.Tensor{onnx.Int64Tensor("axes", []int64{1}, 1)},
			Nodes: []onnx.Node{
				{Name: "cast", OpType: "Cast", Inputs: []string{"n"}, Outputs: []string{"n_double"},
					Attrs: []onnx.Attribute{onnx.IntAttr("to", int64(onnx.Double))}},
				{Name: "concat", OpType: "Concat", Inputs: []string{"x", "n_double"}, Outputs: []string{"all"},
					Attrs: []onnx.Attribute{onnx.IntAttr("axis", 1)}},
				{Name: "sum", OpType: "ReduceSum", Inputs: []string{"all", "axes"}, Outputs: []string{"total"},
					Attrs: []onnx.Attribute{onnx.IntAttr("keepdims", 1)}},
				{Name: "double", OpType: "Add", Inputs: []string{"n", "n"}, Outputs: []string{"twice"}},
				{Name: "echo", OpType: "Identity", Inputs: []string{"tag"}, Outputs: []string{"tag_out"}},
			},
		},
	}
}

// zipMapped replaces a classifier's probabilities output by ZipMap's
// output_probability, keyed by labels ([]int64 or []string), as
// sklearn-onnx's converted classifiers give it.
func zipMapped(m *onnx.Model, labels any) error {
	g := &m.Graph
	for i, out := range g.Outputs {
		if out.Name != onnx.OutputProbabilities {
			continue
		}
		n, err := onnx.ZipMap("zipmap", out.Name, "output_probability", labels)
		if err != nil {
			return err
		}
		key := onnx.Int64
		if _, ok := labels.([]string); ok {
			key = onnx.String
		}
		g.Nodes = append(g.Nodes, n)
		g.Outputs[i] = onnx.ZipMapOutput("output_probability", key)
		return nil
	}
	return fmt.Errorf("zipmap: the model has no %s output", onnx.OutputProbabilities)
}
