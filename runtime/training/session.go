package training

import (
	"errors"
	"fmt"
	"strings"

	ort "github.com/yalue/onnxruntime_go"
)

// Session is a model loaded into ONNX Runtime, the runtime that will serve
// it, scoring frames as a Predictor. Its inputs take the dataset's feature
// columns by name, each [N,1] or [N] (numbers as the input's element type,
// strings as strings); a model with a single input of shape [N,D] that
// names no column takes every feature column, in the frame's order, as
// that matrix. A classifier's outputs are its probabilities, a float
// tensor [N,C] (named "probabilities" when there are several), and
// optionally its labels, an int64 tensor; a regressor's a float tensor
// [N] or [N,1].
type Session struct {
	s       *ort.DynamicAdvancedSession
	inputs  []ort.InputOutputInfo
	outputs []ort.InputOutputInfo
	opts    SessionOptions
	// Signature is the model's inputs and outputs as ONNX Runtime reads them.
	Signature Signature
	probs     int // index of the probabilities or values output
	labels    int // index of the label output, -1 without one
}

// SessionOptions say how to load and read a model.
type SessionOptions struct {
	// Task is TaskClassification or TaskRegression; empty means
	// classification when the model has an output named "probabilities".
	Task string
	// Classes are a classifier's labels in the order of its probability
	// columns; nil means 0..C-1. A built-in model's are its Classes; a
	// command trainer's model is taken to order them as scikit-learn does,
	// sorted: ClassesOf the training label.
	Classes []int64
	// Threads is ONNX Runtime's intra-op thread count; 0 leaves its default.
	Threads int
	// BatchRows caps the rows scored in one run; 0 means 65,536.
	BatchRows int
}

// Signature lists a model's inputs and outputs.
type Signature struct {
	Inputs  []Tensor `json:"inputs"`
	Outputs []Tensor `json:"outputs"`
}

// Tensor describes one input or output: its name, kind ("tensor",
// "sequence", "map"), element type ("float", "int64", "string", ...) and
// shape, -1 for a dimension of any size.
type Tensor struct {
	Name  string  `json:"name"`
	Kind  string  `json:"kind"`
	Type  string  `json:"type,omitempty"`
	Shape []int64 `json:"shape,omitempty"`
}

// NewSession loads a serialized ONNX model. ONNX Runtime must have been
// initialized (ort.InitializeEnvironment) by the process.
func NewSession(model []byte, opts SessionOptions) (*Session, error) {
	if !ort.IsInitialized() {
		return nil, errors.New("load model: onnx runtime is not initialized")
	}
	inputs, outputs, err := ort.GetInputOutputInfoWithONNXData(model)
	if err != nil {
		return nil, fmt.Errorf("load model: onnx runtime cannot read it: %w", err)
	}
	s := &Session{inputs: inputs, outputs: outputs, opts: opts, labels: -1}
	s.Signature = Signature{Inputs: describe(inputs), Outputs: describe(outputs)}
	if err := s.findOutputs(); err != nil {
		return nil, fmt.Errorf("load model: %w", err)
	}
	if s.opts.Task == "" {
		s.opts.Task = TaskRegression
		if s.outputs[s.probs].Name == "probabilities" {
			s.opts.Task = TaskClassification
		}
	}
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("load model: %w", err)
	}
	defer so.Destroy()
	if opts.Threads > 0 {
		if err := so.SetIntraOpNumThreads(opts.Threads); err != nil {
			return nil, fmt.Errorf("load model: %w", err)
		}
	}
	s.s, err = ort.NewDynamicAdvancedSessionWithONNXData(model, names(inputs), names(outputs), so)
	if err != nil {
		return nil, fmt.Errorf("load model: onnx runtime refuses it: %w", err)
	}
	return s, nil
}

// Close releases the session.
func (s *Session) Close() error {
	return s.s.Destroy()
}

func names(infos []ort.InputOutputInfo) []string {
	out := make([]string, len(infos))
	for i, v := range infos {
		out[i] = v.Name
	}
	return out
}

func describe(infos []ort.InputOutputInfo) []Tensor {
	out := make([]Tensor, len(infos))
	for i, v := range infos {
		t := Tensor{Name: v.Name, Kind: kindName(v.OrtValueType)}
		if v.OrtValueType == ort.ONNXTypeTensor {
			t.Type = elemName(v.DataType)
			t.Shape = append([]int64{}, v.Dimensions...)
		}
		out[i] = t
	}
	return out
}

func kindName(k ort.ONNXType) string {
	switch k {
	case ort.ONNXTypeTensor:
		return "tensor"
	case ort.ONNXTypeSequence:
		return "sequence"
	case ort.ONNXTypeMap:
		return "map"
	}
	return strings.ToLower(k.String())
}

func elemName(t ort.TensorElementDataType) string {
	switch t {
	case ort.TensorElementDataTypeFloat:
		return "float"
	case ort.TensorElementDataTypeDouble:
		return "double"
	case ort.TensorElementDataTypeInt64:
		return "int64"
	case ort.TensorElementDataTypeInt32:
		return "int32"
	case ort.TensorElementDataTypeString:
		return "string"
	case ort.TensorElementDataTypeBool:
		return "bool"
	}
	return strings.ToLower(strings.TrimPrefix(t.String(), "ONNX_TENSOR_ELEMENT_DATA_TYPE_"))
}

func isFloatTensor(v ort.InputOutputInfo) bool {
	return v.OrtValueType == ort.ONNXTypeTensor &&
		(v.DataType == ort.TensorElementDataTypeFloat || v.DataType == ort.TensorElementDataTypeDouble)
}

// findOutputs picks the outputs Predict reads, as the Session doc says.
func (s *Session) findOutputs() error {
	s.probs = -1
	var floats []int
	for i, v := range s.outputs {
		switch {
		case isFloatTensor(v):
			floats = append(floats, i)
		case v.OrtValueType == ort.ONNXTypeTensor && v.DataType == ort.TensorElementDataTypeInt64 && s.labels < 0:
			s.labels = i
		}
	}
	for _, i := range floats {
		if s.outputs[i].Name == "probabilities" || s.outputs[i].Name == "variable" || len(floats) == 1 {
			s.probs = i
			break
		}
	}
	if s.probs >= 0 {
		return nil
	}
	for _, v := range s.outputs {
		if v.OrtValueType != ort.ONNXTypeTensor {
			return fmt.Errorf("output %q is a %s, not a tensor (for scikit-learn's ZipMap, convert with options {'zipmap': False})",
				v.Name, kindName(v.OrtValueType))
		}
	}
	if len(floats) == 0 {
		return fmt.Errorf("no float output among %s: a classifier needs its probabilities [N,C], a regressor its values", outputList(s.outputs))
	}
	return fmt.Errorf("several float outputs (%s) and none named \"probabilities\" or \"variable\"", outputList(s.outputs))
}

func outputList(infos []ort.InputOutputInfo) string {
	parts := make([]string, len(infos))
	for i, v := range infos {
		parts[i] = v.String()
	}
	return strings.Join(parts, ", ")
}
