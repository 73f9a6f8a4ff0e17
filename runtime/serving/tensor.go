package serving

import (
	"fmt"

	ort "github.com/yalue/onnxruntime_go"
)

// DType is the element type of a tensor Sluice serves.
type DType uint8

// The element types, named as schema.Input.Type names them.
const (
	Invalid DType = iota
	Float32
	Float64
	Int64
	String
)

// String returns the schema's name of d: "float32", "float64", "int64",
// "string".
func (d DType) String() string {
	switch d {
	case Float32:
		return "float32"
	case Float64:
		return "float64"
	case Int64:
		return "int64"
	case String:
		return "string"
	}
	return "invalid"
}

// ParseDType reads a schema type name ("float32") or an Open Inference
// Protocol datatype ("FP32", "BYTES").
func ParseDType(s string) (DType, error) {
	switch s {
	case "float32", "FP32":
		return Float32, nil
	case "float64", "FP64":
		return Float64, nil
	case "int64", "INT64":
		return Int64, nil
	case "string", "BYTES":
		return String, nil
	}
	return Invalid, fmt.Errorf("unknown datatype %q (want FP32, FP64, INT64 or BYTES)", s)
}

// v2 returns the Open Inference Protocol name of d.
func (d DType) v2() string {
	return [...]string{"INVALID", "FP32", "FP64", "INT64", "BYTES"}[d]
}

// tf returns the TensorFlow Serving name of d.
func (d DType) tf() string {
	return [...]string{"DT_INVALID", "DT_FLOAT", "DT_DOUBLE", "DT_INT64", "DT_STRING"}[d]
}

// fromORTType maps ONNX Runtime's element types to the ones Sluice serves.
func fromORTType(t ort.TensorElementDataType) DType {
	switch t {
	case ort.TensorElementDataTypeFloat:
		return Float32
	case ort.TensorElementDataTypeDouble:
		return Float64
	case ort.TensorElementDataTypeInt64:
		return Int64
	case ort.TensorElementDataTypeString:
		return String
	}
	return Invalid
}

// Tensor is a named, typed array in row-major order. Shape[0] is the batch:
// one row per example. The slice that matches DType holds the data; the
// others are nil.
type Tensor struct {
	Name  string
	DType DType
	Shape []int64
	F32   []float32
	F64   []float64
	I64   []int64
	Str   []string
}

// Rows returns the size of the batch dimension.
func (t *Tensor) Rows() int {
	if len(t.Shape) == 0 {
		return 1
	}
	return int(t.Shape[0])
}

// rowLen is the number of elements in one row.
func (t *Tensor) rowLen() int {
	n := 1
	for _, d := range t.Shape[min(1, len(t.Shape)):] {
		n *= int(d)
	}
	return n
}

// Len returns the number of elements the data slice holds.
func (t *Tensor) Len() int {
	switch t.DType {
	case Float32:
		return len(t.F32)
	case Float64:
		return len(t.F64)
	case Int64:
		return len(t.I64)
	case String:
		return len(t.Str)
	}
	return 0
}

// slice returns rows [from, from+n) of t, sharing its data.
func (t *Tensor) slice(from, n int) Tensor {
	return t.view(from, n, append([]int64{int64(n)}, t.Shape[1:]...))
}

// view returns rows [from, from+n) of t with the given shape, sharing
// t's data and the shape.
func (t *Tensor) view(from, n int, shape []int64) Tensor {
	r := t.rowLen()
	s := Tensor{Name: t.Name, DType: t.DType, Shape: shape}
	a, b := from*r, (from+n)*r
	switch t.DType {
	case Float32:
		s.F32 = t.F32[a:b:b]
	case Float64:
		s.F64 = t.F64[a:b:b]
	case Int64:
		s.I64 = t.I64[a:b:b]
	case String:
		s.Str = t.Str[a:b:b]
	}
	return s
}

// concat joins tensors of one name, type and row shape along the batch.
// A single part is returned as it is.
func concat(parts []Tensor) Tensor {
	if len(parts) == 1 {
		return parts[0]
	}
	first := parts[0]
	rows := 0
	for i := range parts {
		rows += parts[i].Rows()
	}
	t := Tensor{Name: first.Name, DType: first.DType, Shape: append([]int64{int64(rows)}, first.Shape[1:]...)}
	n := rows * first.rowLen()
	switch first.DType {
	case Float32:
		t.F32 = make([]float32, 0, n)
		for i := range parts {
			t.F32 = append(t.F32, parts[i].F32...)
		}
	case Float64:
		t.F64 = make([]float64, 0, n)
		for i := range parts {
			t.F64 = append(t.F64, parts[i].F64...)
		}
	case Int64:
		t.I64 = make([]int64, 0, n)
		for i := range parts {
			t.I64 = append(t.I64, parts[i].I64...)
		}
	case String:
		t.Str = make([]string, 0, n)
		for i := range parts {
			t.Str = append(t.Str, parts[i].Str...)
		}
	}
	return t
}

// concatInto is concat into dst's buffers, which it grows as needed and
// reuses otherwise; dst's name, type and shape become the result's.
func concatInto(dst *Tensor, parts []Tensor) {
	first := &parts[0]
	rows := 0
	for i := range parts {
		rows += parts[i].Rows()
	}
	dst.Name, dst.DType = first.Name, first.DType
	dst.Shape = append(append(dst.Shape[:0], int64(rows)), first.Shape[1:]...)
	switch first.DType {
	case Float32:
		dst.F32 = dst.F32[:0]
		for i := range parts {
			dst.F32 = append(dst.F32, parts[i].F32...)
		}
	case Float64:
		dst.F64 = dst.F64[:0]
		for i := range parts {
			dst.F64 = append(dst.F64, parts[i].F64...)
		}
	case Int64:
		dst.I64 = dst.I64[:0]
		for i := range parts {
			dst.I64 = append(dst.I64, parts[i].I64...)
		}
	case String:
		clear(dst.Str[:cap(dst.Str)]) // drop the last batch's strings
		dst.Str = dst.Str[:0]
		for i := range parts {
			dst.Str = append(dst.Str, parts[i].Str...)
		}
	}
}

// value makes the ONNX Runtime value of t. Numeric tensors share t's data.
func (t *Tensor) value() (ort.Value, error) {
	shape := ort.NewShape(t.Shape...)
	switch t.DType {
	case Float32:
		return ort.NewTensor(shape, t.F32)
	case Float64:
		return ort.NewTensor(shape, t.F64)
	case Int64:
		return ort.NewTensor(shape, t.I64)
	case String:
		st, err := ort.NewStringTensor(shape)
		if err != nil {
			return nil, err
		}
		if err := st.SetContents(t.Str); err != nil {
			st.Destroy()
			return nil, err
		}
		return st, nil
	}
	return nil, fmt.Errorf("tensor %q: no data type", t.Name)
}

// tensorOf copies what an ONNX Runtime output value holds into a Tensor.
// Numeric data already lives in Go memory, so it is shared, not copied.
func tensorOf(name string, v ort.Value) (Tensor, error) {
	t := Tensor{Name: name, Shape: []int64(v.GetShape().Clone())}
	switch v := v.(type) {
	case *ort.Tensor[float32]:
		t.DType, t.F32 = Float32, v.GetData()
	case *ort.Tensor[float64]:
		t.DType, t.F64 = Float64, v.GetData()
	case *ort.Tensor[int64]:
		t.DType, t.I64 = Int64, v.GetData()
	case *ort.Sequence:
		return tensorOfSequence(name, v)
	case *ort.StringTensor:
		s, err := v.GetContents()
		if err != nil {
			return t, fmt.Errorf("output %q: %w", name, err)
		}
		t.DType, t.Str = String, s
	default:
		return t, fmt.Errorf("output %q is a %s %T; Sluice serves float32, float64, int64 and string tensors", name, v.GetONNXType(), v)
	}
	return t, nil
}
