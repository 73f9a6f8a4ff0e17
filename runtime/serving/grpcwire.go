package serving

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// The Open Inference Protocol's gRPC messages (inference package of
// KServe's grpc_predict_v2.proto), read and written with protowire: the
// few the server takes and gives, without generated code. Field numbers
// are the .proto's; parameters maps are skipped.

// wireMessage is a message the gRPC codec can read or write.
type wireMessage interface {
	unmarshal([]byte) error
	marshal() []byte
}

// emptyRequest is ServerLiveRequest, ServerReadyRequest and
// ServerMetadataRequest.
type emptyRequest struct{}

func (*emptyRequest) unmarshal(b []byte) error {
	return eachField(b, func(protowire.Number, protowire.Type, []byte, uint64) error { return nil })
}
func (*emptyRequest) marshal() []byte { return nil }

// modelRequest is ModelReadyRequest and ModelMetadataRequest.
type modelRequest struct{ name, version string }

func (m *modelRequest) unmarshal(b []byte) error {
	return eachField(b, func(n protowire.Number, _ protowire.Type, v []byte, _ uint64) error {
		switch n {
		case 1:
			m.name = string(v)
		case 2:
			m.version = string(v)
		}
		return nil
	})
}
func (m *modelRequest) marshal() []byte { return appendStr(appendStr(nil, 1, m.name), 2, m.version) }

// boolResponse is ServerLiveResponse, ServerReadyResponse and
// ModelReadyResponse: field 1.
type boolResponse bool

func (*boolResponse) unmarshal([]byte) error { return errors.New("not a request") }
func (r *boolResponse) marshal() []byte {
	if !*r {
		return nil
	}
	return protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), 1)
}

// rawResponse is a response already encoded.
type rawResponse []byte

func (*rawResponse) unmarshal([]byte) error { return errors.New("not a request") }
func (r *rawResponse) marshal() []byte      { return *r }

// inferInput is ModelInferRequest.InferInputTensor with its contents.
type inferInput struct {
	name, datatype string
	shape          []int64
	contents       Tensor // typed contents, when given
	hasContents    bool
}

// inferRequest is ModelInferRequest.
type inferRequest struct {
	modelName, modelVersion, id string
	inputs                      []inferInput
	outputs                     []string
	raw                         [][]byte
}

func (*inferRequest) marshal() []byte { return nil }

func (r *inferRequest) unmarshal(b []byte) error {
	return eachField(b, func(n protowire.Number, _ protowire.Type, v []byte, _ uint64) error {
		switch n {
		case 1:
			r.modelName = string(v)
		case 2:
			r.modelVersion = string(v)
		case 3:
			r.id = string(v)
		case 5:
			var in inferInput
			if err := in.unmarshal(v); err != nil {
				return fmt.Errorf("inputs[%d]: %w", len(r.inputs), err)
			}
			r.inputs = append(r.inputs, in)
		case 6:
			var out modelRequest // InferRequestedOutputTensor: name is field 1
			if err := out.unmarshal(v); err != nil {
				return err
			}
			r.outputs = append(r.outputs, out.name)
		case 7:
			r.raw = append(r.raw, v)
		}
		return nil
	})
}

func (in *inferInput) unmarshal(b []byte) error {
	return eachField(b, func(n protowire.Number, t protowire.Type, v []byte, x uint64) error {
		switch n {
		case 1:
			in.name = string(v)
		case 2:
			in.datatype = string(v)
		case 3:
			return eachVarint(t, v, x, func(d uint64) { in.shape = append(in.shape, int64(d)) })
		case 5:
			in.hasContents = true
			return in.contents.unmarshalContents(v)
		}
		return nil
	})
}

// unmarshalContents reads InferTensorContents into t's slices; the
// request's datatype later says which one is meant.
func (t *Tensor) unmarshalContents(b []byte) error {
	return eachField(b, func(n protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch n {
		case 3: // int64_contents
			return eachVarint(typ, v, x, func(d uint64) { t.I64 = append(t.I64, int64(d)) })
		case 6: // fp32_contents
			return eachFixed(typ, v, x, 4, func(d uint64) { t.F32 = append(t.F32, math.Float32frombits(uint32(d))) })
		case 7: // fp64_contents
			return eachFixed(typ, v, x, 8, func(d uint64) { t.F64 = append(t.F64, math.Float64frombits(d)) })
		case 8: // bytes_contents
			t.Str = append(t.Str, string(v))
		case 1, 2, 4, 5:
			return fmt.Errorf("contents field %d (bool, int32 or unsigned) is not a type Sluice serves (FP32, FP64, INT64, BYTES)", n)
		}
		return nil
	})
}

// eachField calls fn for every field of message b: v holds a
// length-delimited value or a fixed one's bytes, x a varint.
func eachField(b []byte, fn func(n protowire.Number, t protowire.Type, v []byte, x uint64) error) error {
	for len(b) > 0 {
		n, typ, k := protowire.ConsumeTag(b)
		if k < 0 {
			return protowire.ParseError(k)
		}
		b = b[k:]
		var v []byte
		var x uint64
		switch typ {
		case protowire.VarintType:
			x, k = protowire.ConsumeVarint(b)
		case protowire.BytesType:
			v, k = protowire.ConsumeBytes(b)
		case protowire.Fixed32Type:
			var f uint32
			f, k = protowire.ConsumeFixed32(b)
			x = uint64(f)
		case protowire.Fixed64Type:
			x, k = protowire.ConsumeFixed64(b)
		default:
			k = protowire.ConsumeFieldValue(n, typ, b)
		}
		if k < 0 {
			return fmt.Errorf("field %d: %w", n, protowire.ParseError(k))
		}
		b = b[k:]
		if err := fn(n, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}

// eachVarint reads a repeated varint field, packed or not.
func eachVarint(typ protowire.Type, v []byte, x uint64, fn func(uint64)) error {
	if typ == protowire.VarintType {
		fn(x)
		return nil
	}
	if typ != protowire.BytesType {
		return fmt.Errorf("wire type %d for a varint field", typ)
	}
	for len(v) > 0 {
		d, k := protowire.ConsumeVarint(v)
		if k < 0 {
			return protowire.ParseError(k)
		}
		fn(d)
		v = v[k:]
	}
	return nil
}

// eachFixed reads a repeated fixed32 or fixed64 field, packed or not.
func eachFixed(typ protowire.Type, v []byte, x uint64, size int, fn func(uint64)) error {
	if typ == protowire.Fixed32Type || typ == protowire.Fixed64Type {
		fn(x)
		return nil
	}
	if typ != protowire.BytesType || len(v)%size != 0 {
		return fmt.Errorf("packed field of %d bytes is not a multiple of %d", len(v), size)
	}
	for i := 0; i < len(v); i += size {
		if size == 4 {
			fn(uint64(binary.LittleEndian.Uint32(v[i:])))
		} else {
			fn(binary.LittleEndian.Uint64(v[i:]))
		}
	}
	return nil
}

func appendStr(b []byte, n protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	return protowire.AppendString(protowire.AppendTag(b, n, protowire.BytesType), s)
}

func appendMsg(b []byte, n protowire.Number, msg []byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(b, n, protowire.BytesType), msg)
}

func appendPackedInts(b []byte, n protowire.Number, v []int64) []byte {
	if len(v) == 0 {
		return b
	}
	var p []byte
	for _, d := range v {
		p = protowire.AppendVarint(p, uint64(d))
	}
	return appendMsg(b, n, p)
}
