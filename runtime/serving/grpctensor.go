package serving

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"
)

// Tensors in and out of the gRPC ModelInfer: typed contents, or raw
// little-endian bytes as Triton's clients send them.

// grpcInputs turns the request's tensors, typed or raw, into named tensors.
func (v *version) grpcInputs(req *inferRequest) (map[string]Tensor, error) {
	if len(req.inputs) == 0 {
		return nil, badInput("request has no inputs")
	}
	if req.raw != nil && len(req.raw) != len(req.inputs) {
		return nil, badInput("%d raw_input_contents for %d inputs", len(req.raw), len(req.inputs))
	}
	named := getNamed()
	for i, in := range req.inputs {
		where := "inputs[" + strconv.Itoa(i) + "] (" + in.name + ")"
		dt, err := ParseDType(in.datatype)
		if err != nil {
			return nil, badInput("%s: %v", where, err)
		}
		if want, ok := v.typeOf(in.name); !ok {
			return nil, v.unknownInput(in.name)
		} else if want != dt && !(want == String && dt == Int64) {
			return nil, badInput("%s: datatype %s, the model takes %s", where, in.datatype, want.v2())
		}
		t := Tensor{Name: in.name, DType: dt, Shape: in.shape}
		if req.raw != nil {
			if err := t.fromRaw(req.raw[i]); err != nil {
				return nil, badInput("%s: raw_input_contents: %v", where, err)
			}
		} else {
			t.F32, t.F64, t.I64, t.Str = in.contents.F32, in.contents.F64, in.contents.I64, in.contents.Str
		}
		n := int64(1)
		for _, d := range in.shape {
			if d < 0 || (d > 0 && n > maxElements/d) {
				return nil, badInput("%s: shape %v is not a tensor shape", where, in.shape)
			}
			n *= d
		}
		if in.shape == nil || n != int64(t.Len()) {
			return nil, badInput("%s: shape %v needs %d elements, the contents have %d", where, in.shape, n, t.Len())
		}
		if !v.cfg.AllowNonFinite && !t.finite() {
			return nil, badInput("%s: NaN or infinity; the endpoint refuses non-finite numbers", where)
		}
		if dt == Int64 {
			if want, _ := v.typeOf(in.name); want == String {
				t = int64sAsText(t)
			}
		}
		named[in.name] = t
	}
	return named, nil
}

// finite reports whether every float element is finite.
func (t *Tensor) finite() bool {
	for _, f := range t.F32 {
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			return false
		}
	}
	for _, f := range t.F64 {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return false
		}
	}
	return true
}

// fromRaw reads the little-endian row-major elements of raw, as Triton's
// clients send them; a BYTES element is a 4-byte length and its bytes.
func (t *Tensor) fromRaw(raw []byte) error {
	size := map[DType]int{Float32: 4, Float64: 8, Int64: 8}[t.DType]
	if t.DType == String {
		for len(raw) > 0 {
			if len(raw) < 4 {
				return fmt.Errorf("truncated BYTES element length")
			}
			n := binary.LittleEndian.Uint32(raw)
			if uint64(len(raw)-4) < uint64(n) {
				return fmt.Errorf("BYTES element of %d bytes, %d left", n, len(raw)-4)
			}
			t.Str = append(t.Str, string(raw[4:4+n]))
			raw = raw[4+n:]
		}
		return nil
	}
	if len(raw)%size != 0 {
		return fmt.Errorf("%d bytes are not whole %s elements", len(raw), t.DType.v2())
	}
	for i := 0; i < len(raw); i += size {
		switch t.DType {
		case Float32:
			t.F32 = append(t.F32, math.Float32frombits(binary.LittleEndian.Uint32(raw[i:])))
		case Float64:
			t.F64 = append(t.F64, math.Float64frombits(binary.LittleEndian.Uint64(raw[i:])))
		case Int64:
			t.I64 = append(t.I64, int64(binary.LittleEndian.Uint64(raw[i:])))
		}
	}
	return nil
}

// rawBytes is t's elements as raw_output_contents.
func rawBytes(t *Tensor) []byte {
	var b []byte
	switch t.DType {
	case Float32:
		for _, f := range t.F32 {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(f))
		}
	case Float64:
		for _, f := range t.F64 {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
		}
	case Int64:
		for _, n := range t.I64 {
			b = binary.LittleEndian.AppendUint64(b, uint64(n))
		}
	case String:
		for _, s := range t.Str {
			b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
			b = append(b, s...)
		}
	}
	return b
}

// contentsOf is t's elements as InferTensorContents.
func contentsOf(t *Tensor) []byte {
	var p []byte
	switch t.DType {
	case Float32:
		for _, f := range t.F32 {
			p = protowire.AppendFixed32(p, math.Float32bits(f))
		}
		return appendMsg(nil, 6, p)
	case Float64:
		for _, f := range t.F64 {
			p = protowire.AppendFixed64(p, math.Float64bits(f))
		}
		return appendMsg(nil, 7, p)
	case Int64:
		for _, n := range t.I64 {
			p = protowire.AppendVarint(p, uint64(n))
		}
		return appendMsg(nil, 3, p)
	}
	var b []byte
	for _, s := range t.Str {
		b = protowire.AppendString(protowire.AppendTag(b, 8, protowire.BytesType), s)
	}
	return b
}
