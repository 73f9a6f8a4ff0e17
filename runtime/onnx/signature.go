package onnx

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// Signature is what a caller of a model needs to know: its inputs and
// outputs with their element types and shapes.
type Signature struct {
	// Inputs are the inputs a caller must feed; graph inputs that an
	// initializer gives a default are left out, as ONNX Runtime does.
	Inputs  []ValueInfo
	Outputs []ValueInfo
}

// Field numbers the reader needs beyond those the writer uses.
const (
	graphSparseInitializer = 15
	sparseValues           = 1
)

// typeKinds maps TypeProto's oneof fields other than tensor_type to kinds.
var typeKinds = map[protowire.Number]ValueKind{
	typeSequence: SequenceValue, typeMap: MapValue, typeOptional: OptionalValue,
	typeSparseTensor: SparseTensorValue, typeOpaque: OpaqueValue,
}

// ReadSignature reads the signature of the serialized ONNX ModelProto
// data, whichever tool wrote it.
func ReadSignature(data []byte) (Signature, error) {
	var sig Signature
	var graph []byte
	hasIR := false
	err := walk(data, "model", func(f field) error {
		switch f.num {
		case modelIRVersion:
			hasIR = true
			return f.want(protowire.VarintType)
		case modelGraph:
			graph = f.bytes
			return f.want(protowire.BytesType)
		}
		return nil
	})
	switch {
	case err != nil:
		return sig, fmt.Errorf("read onnx signature: %w", err)
	case !hasIR:
		return sig, errors.New("read onnx signature: not an ONNX model: no ir_version")
	case graph == nil:
		return sig, errors.New("read onnx signature: model has no graph")
	}
	var inputs []ValueInfo
	inits := map[string]bool{}
	err = walk(graph, "model.graph", func(f field) error {
		var err error
		switch f.num {
		case graphInput:
			var v ValueInfo
			v, err = readValueInfo(f, fmt.Sprintf("model.graph.input[%d]", len(inputs)))
			inputs = append(inputs, v)
		case graphOutput:
			var v ValueInfo
			v, err = readValueInfo(f, fmt.Sprintf("model.graph.output[%d]", len(sig.Outputs)))
			sig.Outputs = append(sig.Outputs, v)
		case graphInitializer:
			err = readTensorName(f, "model.graph.initializer", inits)
		case graphSparseInitializer:
			if err = f.want(protowire.BytesType); err == nil {
				err = walk(f.bytes, "model.graph.sparse_initializer", func(f field) error {
					if f.num != sparseValues {
						return nil
					}
					return readTensorName(f, "model.graph.sparse_initializer.values", inits)
				})
			}
		}
		return err
	})
	if err != nil {
		return Signature{}, fmt.Errorf("read onnx signature: %w", err)
	}
	for _, v := range inputs {
		if !inits[v.Name] {
			sig.Inputs = append(sig.Inputs, v)
		}
	}
	return sig, nil
}

func readTensorName(f field, path string, names map[string]bool) error {
	if err := f.want(protowire.BytesType); err != nil {
		return err
	}
	return walk(f.bytes, path, func(f field) error {
		if f.num != tensorName {
			return nil
		}
		if err := f.want(protowire.BytesType); err != nil {
			return err
		}
		names[string(f.bytes)] = true
		return nil
	})
}

func readValueInfo(f field, path string) (ValueInfo, error) {
	var v ValueInfo
	if err := f.want(protowire.BytesType); err != nil {
		return v, err
	}
	err := walk(f.bytes, path, func(f field) error {
		switch f.num {
		case valueInfoName:
			v.Name = string(f.bytes)
			return f.want(protowire.BytesType)
		case valueInfoType:
			if err := f.want(protowire.BytesType); err != nil {
				return err
			}
			return readType(f.bytes, path+".type", &v)
		}
		return nil
	})
	return v, err
}

// readType fills v's kind, and for a tensor its element type and shape.
func readType(b []byte, path string, v *ValueInfo) error {
	return walk(b, path, func(f field) error {
		if k, ok := typeKinds[f.num]; ok {
			v.Kind = k
			return f.want(protowire.BytesType)
		}
		if f.num != typeTensor {
			return nil
		}
		if err := f.want(protowire.BytesType); err != nil {
			return err
		}
		v.Kind = TensorValue
		return walk(f.bytes, path+".tensor_type", func(f field) error {
			switch f.num {
			case tensorTypeElem:
				v.Elem = ElemType(int32(f.varint))
				return f.want(protowire.VarintType)
			case tensorTypeShape:
				if err := f.want(protowire.BytesType); err != nil {
					return err
				}
				shape, err := readShape(f.bytes, path+".tensor_type.shape")
				v.Shape = shape
				return err
			}
			return nil
		})
	})
}

func readShape(b []byte, path string) ([]Dim, error) {
	shape := []Dim{}
	err := walk(b, path, func(f field) error {
		if f.num != shapeDim {
			return nil
		}
		if err := f.want(protowire.BytesType); err != nil {
			return err
		}
		var d Dim
		err := walk(f.bytes, fmt.Sprintf("%s.dim[%d]", path, len(shape)), func(f field) error {
			switch f.num {
			case dimValue:
				d.Value = int64(f.varint)
				return f.want(protowire.VarintType)
			case dimParam:
				d.Param = string(f.bytes)
				return f.want(protowire.BytesType)
			}
			return nil
		})
		shape = append(shape, d)
		return err
	})
	return shape, err
}

// field is one field of a protobuf message: bytes holds a length-delimited
// value, varint a varint one.
type field struct {
	path   string
	num    protowire.Number
	typ    protowire.Type
	bytes  []byte
	varint uint64
}

// want reports a field whose wire type is not the one onnx.proto declares.
func (f field) want(typ protowire.Type) error {
	if f.typ != typ {
		return fmt.Errorf("%s: field %d has wire type %d, want %d", f.path, f.num, f.typ, typ)
	}
	return nil
}

// walk calls fn for every field of the message b, in order; path names the
// message in errors.
func walk(b []byte, path string, fn func(field) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("%s: %w", path, protowire.ParseError(n))
		}
		b = b[n:]
		f := field{path: path, num: num, typ: typ}
		switch typ {
		case protowire.BytesType:
			f.bytes, n = protowire.ConsumeBytes(b)
		case protowire.VarintType:
			f.varint, n = protowire.ConsumeVarint(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return fmt.Errorf("%s: field %d: %w", path, num, protowire.ParseError(n))
		}
		b = b[n:]
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}
