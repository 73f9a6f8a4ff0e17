package onnx

import "fmt"

// Tensor is a constant tensor: an initializer or an attribute value. The
// data slice that matches Elem holds the elements in row-major order; the
// others are nil.
type Tensor struct {
	Name    string
	Elem    ElemType
	Dims    []int64
	Floats  []float32
	Doubles []float64
	Int64s  []int64
	Strings []string
}

// FloatTensor returns a FLOAT tensor of the given shape.
func FloatTensor(name string, data []float32, dims ...int64) Tensor {
	return Tensor{Name: name, Elem: Float, Dims: dims, Floats: data}
}

// DoubleTensor returns a DOUBLE tensor of the given shape.
func DoubleTensor(name string, data []float64, dims ...int64) Tensor {
	return Tensor{Name: name, Elem: Double, Dims: dims, Doubles: data}
}

// Int64Tensor returns an INT64 tensor of the given shape.
func Int64Tensor(name string, data []int64, dims ...int64) Tensor {
	return Tensor{Name: name, Elem: Int64, Dims: dims, Int64s: data}
}

// StringTensor returns a STRING tensor of the given shape.
func StringTensor(name string, data []string, dims ...int64) Tensor {
	return Tensor{Name: name, Elem: String, Dims: dims, Strings: data}
}

// check reports a tensor whose data does not match its type and shape.
func (t *Tensor) check() error {
	want := int64(1)
	for _, d := range t.Dims {
		if d < 0 {
			return fmt.Errorf("tensor %q: negative dimension %d", t.Name, d)
		}
		want *= d
	}
	have := map[ElemType]int{Float: len(t.Floats), Double: len(t.Doubles), Int64: len(t.Int64s), String: len(t.Strings)}
	n, ok := have[t.Elem]
	if !ok {
		return fmt.Errorf("tensor %q: element type %s is not supported (FLOAT, DOUBLE, INT64, STRING)", t.Name, t.Elem)
	}
	if int64(n) != want {
		return fmt.Errorf("tensor %q: shape %v needs %d elements, have %d", t.Name, t.Dims, want, n)
	}
	for _, elem := range []ElemType{Float, Double, Int64, String} {
		if elem != t.Elem && have[elem] > 0 {
			return fmt.Errorf("tensor %q: %s tensor also holds %s data", t.Name, t.Elem, elem)
		}
	}
	return nil
}

// AttrKind is the type of an attribute's value, numbered as ONNX's
// AttributeProto.AttributeType.
type AttrKind int32

// The attribute kinds Marshal writes.
const (
	AttrFloat   AttrKind = 1
	AttrInt     AttrKind = 2
	AttrString  AttrKind = 3
	AttrTensor  AttrKind = 4
	AttrFloats  AttrKind = 6
	AttrInts    AttrKind = 7
	AttrStrings AttrKind = 8
)

// Attribute is a named operator parameter; the field that matches Kind holds
// its value.
type Attribute struct {
	Name    string
	Kind    AttrKind
	Float   float32
	Int     int64
	String  string
	Tensor  *Tensor
	Floats  []float32
	Ints    []int64
	Strings []string
}

// FloatAttr returns a float attribute.
func FloatAttr(name string, v float32) Attribute {
	return Attribute{Name: name, Kind: AttrFloat, Float: v}
}

// IntAttr returns an integer attribute.
func IntAttr(name string, v int64) Attribute {
	return Attribute{Name: name, Kind: AttrInt, Int: v}
}

// StringAttr returns a string attribute.
func StringAttr(name, v string) Attribute {
	return Attribute{Name: name, Kind: AttrString, String: v}
}

// TensorAttr returns a tensor attribute.
func TensorAttr(name string, t Tensor) Attribute {
	return Attribute{Name: name, Kind: AttrTensor, Tensor: &t}
}

// FloatsAttr returns a list-of-floats attribute.
func FloatsAttr(name string, v []float32) Attribute {
	return Attribute{Name: name, Kind: AttrFloats, Floats: v}
}

// IntsAttr returns a list-of-integers attribute.
func IntsAttr(name string, v []int64) Attribute {
	return Attribute{Name: name, Kind: AttrInts, Ints: v}
}

// StringsAttr returns a list-of-strings attribute.
func StringsAttr(name string, v []string) Attribute {
	return Attribute{Name: name, Kind: AttrStrings, Strings: v}
}

// check reports an attribute without a name or with a kind Marshal cannot
// write.
func (a *Attribute) check() error {
	if a.Name == "" {
		return fmt.Errorf("attribute without a name")
	}
	switch a.Kind {
	case AttrFloat, AttrInt, AttrString, AttrFloats, AttrInts, AttrStrings:
		return nil
	case AttrTensor:
		if a.Tensor == nil {
			return fmt.Errorf("attribute %q: tensor attribute without a tensor", a.Name)
		}
		if err := a.Tensor.check(); err != nil {
			return fmt.Errorf("attribute %q: %w", a.Name, err)
		}
		return nil
	}
	return fmt.Errorf("attribute %q: kind %d is not supported", a.Name, a.Kind)
}
