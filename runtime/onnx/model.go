// Package onnx writes ONNX models for Sluice's built-in trainers and reads
// back the signature of any ONNX model.
//
// A Model is a plain value: a graph of inputs, outputs, initializers and
// nodes. Marshal checks it and serializes it as an ONNX ModelProto, the
// bytes ONNX Runtime loads. The constructors (LinearRegression,
// LogisticRegression, MLPRegressor, MLPClassifier, ForestRegressor,
// ForestClassifier) build whole models from fitted parameters and the
// Features that turn raw inputs into the feature matrix the parameters were
// fitted on. ReadSignature reads the inputs and outputs of a serialized
// model, whoever wrote it.
package onnx

import "fmt"

// ElemType is the element type of a tensor, numbered as ONNX's
// TensorProto.DataType.
type ElemType int32

// The element types Sluice's models use.
const (
	Undefined ElemType = 0
	Float     ElemType = 1
	Int64     ElemType = 7
	String    ElemType = 8
	Double    ElemType = 11
)

// String returns the ONNX name of t ("FLOAT", "INT64", ...).
func (t ElemType) String() string {
	switch t {
	case Undefined:
		return "UNDEFINED"
	case Float:
		return "FLOAT"
	case Int64:
		return "INT64"
	case String:
		return "STRING"
	case Double:
		return "DOUBLE"
	}
	if name, ok := otherElemTypes[t]; ok {
		return name
	}
	return fmt.Sprintf("ELEM_TYPE_%d", int32(t))
}

// otherElemTypes names the types a model written elsewhere may carry; the
// signature reader reports them, the writer does not accept them.
var otherElemTypes = map[ElemType]string{
	2: "UINT8", 3: "INT8", 4: "UINT16", 5: "INT16", 6: "INT32", 9: "BOOL",
	10: "FLOAT16", 12: "UINT32", 13: "UINT64", 14: "COMPLEX64",
	15: "COMPLEX128", 16: "BFLOAT16",
}

// Dim is one dimension of a shape: a fixed size, a symbolic name such as
// "N" for the batch, or neither when the size is unknown.
type Dim struct {
	Value int64
	Param string
}

// Batch is the symbolic batch dimension every constructor gives its inputs
// and outputs.
var Batch = Dim{Param: "N"}

// Fixed returns a dimension of size n.
func Fixed(n int) Dim { return Dim{Value: int64(n)} }

// String returns the dimension's name, its size, or "?" when unknown.
func (d Dim) String() string {
	switch {
	case d.Param != "":
		return d.Param
	case d.Value != 0:
		return fmt.Sprint(d.Value)
	}
	return "?"
}

// ValueKind says whether a value is a tensor or one of ONNX's other types.
type ValueKind uint8

// The kinds of value; Marshal writes only tensors.
const (
	TensorValue ValueKind = iota
	SequenceValue
	MapValue
	OptionalValue
	SparseTensorValue
	OpaqueValue
)

// String returns the kind's name ("tensor", "sequence", ...).
func (k ValueKind) String() string {
	names := [...]string{"tensor", "sequence", "map", "optional", "sparse_tensor", "opaque"}
	if int(k) < len(names) {
		return names[k]
	}
	return fmt.Sprintf("kind_%d", k)
}

// ValueInfo names and types a graph input or output.
type ValueInfo struct {
	Name string
	Kind ValueKind
	Elem ElemType
	// MapKey is the key type of a ZipMapOutput's maps; Elem is their value type.
	MapKey ElemType
	// Shape is nil when the rank is unknown and empty for a scalar.
	Shape []Dim
}

// TensorInfo returns the description of a tensor input or output.
func TensorInfo(name string, elem ElemType, shape ...Dim) ValueInfo {
	if shape == nil {
		shape = []Dim{}
	}
	return ValueInfo{Name: name, Elem: elem, Shape: shape}
}

// String renders v as "name: FLOAT[N,3]".
func (v ValueInfo) String() string {
	if v.Kind != TensorValue {
		return fmt.Sprintf("%s: %s", v.Name, v.Kind)
	}
	s := fmt.Sprintf("%s: %s", v.Name, v.Elem)
	if v.Shape == nil {
		return s + "[?]"
	}
	s += "["
	for i, d := range v.Shape {
		if i > 0 {
			s += ","
		}
		s += d.String()
	}
	return s + "]"
}

// Node is one operator application.
type Node struct {
	Name   string
	OpType string
	// Domain is "" for the standard operators and MLDomain for ai.onnx.ml.
	Domain  string
	Inputs  []string
	Outputs []string
	Attrs   []Attribute
}

// Graph is a model's computation.
type Graph struct {
	Name    string
	Inputs  []ValueInfo
	Outputs []ValueInfo
	// Initializers are the constant tensors nodes read by name.
	Initializers []Tensor
	// Nodes are in topological order: a node reads only graph inputs,
	// initializers and outputs of the nodes before it.
	Nodes []Node
}

// Opset names an operator set a model uses.
type Opset struct {
	Domain  string
	Version int64
}

// MLDomain is the domain of the classical machine-learning operators.
const MLDomain = "ai.onnx.ml"

// defaultOpsets are the operator sets the constructors target: ONNX 17 and
// ai.onnx.ml 3, both served by ONNX Runtime 1.30.
func defaultOpsets() []Opset {
	return []Opset{{Domain: "", Version: 17}, {Domain: MLDomain, Version: 3}}
}

// DefaultIRVersion is the IR version written when Model.IRVersion is 0; IR 8
// goes with opset 17.
const DefaultIRVersion = 8

// Model is an ONNX model before serialization.
type Model struct {
	IRVersion       int64   // 0 means DefaultIRVersion
	Opsets          []Opset // nil means ONNX opset 17 and ai.onnx.ml 3
	ProducerName    string
	ProducerVersion string
	DocString       string
	// Metadata is written as the model's metadata_props, sorted by key.
	Metadata map[string]string
	Graph    Graph
}
