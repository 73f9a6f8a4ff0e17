package onnx

import (
	"fmt"
	"strings"
)

// The output names every constructor uses, as scikit-learn's ONNX converters
// do, so that a server can tell a classifier from a regressor by name.
const (
	// OutputLabel is a classifier's predicted class, INT64 [N].
	OutputLabel = "label"
	// OutputProbabilities is a classifier's class probabilities, FLOAT [N,C].
	OutputProbabilities = "probabilities"
	// OutputVariable is a regressor's prediction, FLOAT [N,K].
	OutputVariable = "variable"
)

// producerName is written into every model the constructors build.
const producerName = "sluice"

// builder assembles a graph, handing out value names that collide neither
// with each other nor with the names of the graph's inputs and outputs.
type builder struct {
	g     Graph
	taken map[string]bool
}

// newBuilder starts a graph whose outputs will carry the given names.
func newBuilder(name string, outputs ...string) *builder {
	b := &builder{g: Graph{Name: name}, taken: map[string]bool{}}
	for _, o := range outputs {
		b.taken[o] = true
	}
	return b
}

// input adds a graph input; its name must be free.
func (b *builder) input(v ValueInfo) error {
	if b.taken[v.Name] {
		return fmt.Errorf("input %q: the name is taken by another input or an output", v.Name)
	}
	b.taken[v.Name] = true
	b.g.Inputs = append(b.g.Inputs, v)
	return nil
}

// output declares a graph output, which a node must produce under its name.
func (b *builder) output(v ValueInfo) {
	b.g.Outputs = append(b.g.Outputs, v)
}

// fresh returns an unused value name built from base.
func (b *builder) fresh(base string) string {
	name := base
	for i := 1; b.taken[name]; i++ {
		name = fmt.Sprintf("%s_%d", base, i)
	}
	b.taken[name] = true
	return name
}

// constant adds an initializer named after base and returns its name.
func (b *builder) constant(base string, t Tensor) string {
	t.Name = b.fresh(base)
	b.g.Initializers = append(b.g.Initializers, t)
	return t.Name
}

// node adds an operator whose outputs already have names.
func (b *builder) node(opType, domain string, inputs, outputs []string, attrs ...Attribute) {
	b.g.Nodes = append(b.g.Nodes, Node{
		Name: outputs[0], OpType: opType, Domain: domain,
		Inputs: inputs, Outputs: outputs, Attrs: attrs,
	})
}

// op adds a standard operator with one output and returns that output's
// name: out when given (a graph output), else a fresh one.
func (b *builder) op(opType, out string, inputs []string, attrs ...Attribute) string {
	if out == "" {
		out = b.fresh(strings.ToLower(opType))
	}
	b.node(opType, "", inputs, []string{out}, attrs...)
	return out
}

// model wraps the graph in a model with the default opsets.
func (b *builder) model(doc string) *Model {
	return &Model{ProducerName: producerName, DocString: doc, Graph: b.g}
}
