package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers from onnx/onnx.proto, one block per message.
const (
	modelIRVersion       = 1
	modelProducerName    = 2
	modelProducerVersion = 3
	modelDocString       = 6
	modelGraph           = 7
	modelOpsetImport     = 8
	modelMetadataProps   = 14

	opsetDomain  = 1
	opsetVersion = 2

	entryKey   = 1
	entryValue = 2

	graphNode        = 1
	graphName        = 2
	graphInitializer = 5
	graphInput       = 11
	graphOutput      = 12

	nodeInput     = 1
	nodeOutput    = 2
	nodeName      = 3
	nodeOpType    = 4
	nodeAttribute = 5
	nodeDomain    = 7

	attrName    = 1
	attrF       = 2
	attrI       = 3
	attrS       = 4
	attrT       = 5
	attrFloats  = 7
	attrInts    = 8
	attrStrings = 9
	attrType    = 20

	tensorDims       = 1
	tensorDataType   = 2
	tensorStringData = 6
	tensorName       = 8
	tensorRawData    = 9

	valueInfoName = 1
	valueInfoType = 2

	typeTensor       = 1
	typeSequence     = 4
	typeMap          = 5
	typeOpaque       = 7
	typeSparseTensor = 8
	typeOptional     = 9

	tensorTypeElem  = 1
	tensorTypeShape = 2

	shapeDim = 1

	dimValue = 1
	dimParam = 2
)

// maxModelBytes is protobuf's limit on a message; ONNX Runtime refuses
// larger models.
const maxModelBytes = math.MaxInt32

// Marshal checks m and serializes it as an ONNX ModelProto. The bytes are
// deterministic: the same model always gives the same bytes.
func (m *Model) Marshal() ([]byte, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	ir := m.IRVersion
	if ir == 0 {
		ir = DefaultIRVersion
	}
	opsets := m.Opsets
	if opsets == nil {
		opsets = defaultOpsets()
	}
	graph := encodeGraph(&m.Graph)
	b := make([]byte, 0, len(graph)+1024)
	b = appendInt(b, modelIRVersion, ir)
	b = appendString(b, modelProducerName, m.ProducerName)
	b = appendString(b, modelProducerVersion, m.ProducerVersion)
	b = appendString(b, modelDocString, m.DocString)
	b = appendMessage(b, modelGraph, graph)
	for _, o := range opsets {
		var ob []byte
		ob = appendString(ob, opsetDomain, o.Domain)
		ob = appendInt(ob, opsetVersion, o.Version)
		b = appendMessage(b, modelOpsetImport, ob)
	}
	keys := make([]string, 0, len(m.Metadata))
	for k := range m.Metadata {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		var eb []byte
		eb = appendString(eb, entryKey, k)
		eb = appendString(eb, entryValue, m.Metadata[k])
		b = appendMessage(b, modelMetadataProps, eb)
	}
	if len(b) > maxModelBytes {
		return nil, fmt.Errorf("model is %d bytes, over protobuf's 2 GiB limit", len(b))
	}
	return b, nil
}

func encodeGraph(g *Graph) []byte {
	// Weights dominate a model's size; room for them spares regrowing.
	size := 1024
	for i := range g.Initializers {
		t := &g.Initializers[i]
		size += 4*len(t.Floats) + 8*(len(t.Doubles)+len(t.Int64s)) + 64
	}
	b := make([]byte, 0, size)
	for i := range g.Nodes {
		b = appendMessage(b, graphNode, encodeNode(&g.Nodes[i]))
	}
	b = appendString(b, graphName, g.Name)
	for i := range g.Initializers {
		b = appendMessage(b, graphInitializer, encodeTensor(&g.Initializers[i]))
	}
	for _, v := range g.Inputs {
		b = appendMessage(b, graphInput, encodeValueInfo(v))
	}
	for _, v := range g.Outputs {
		b = appendMessage(b, graphOutput, encodeValueInfo(v))
	}
	return b
}

func encodeNode(n *Node) []byte {
	var b []byte
	for _, in := range n.Inputs {
		b = appendEach(b, nodeInput, in)
	}
	for _, out := range n.Outputs {
		b = appendEach(b, nodeOutput, out)
	}
	b = appendString(b, nodeName, n.Name)
	b = appendString(b, nodeOpType, n.OpType)
	for i := range n.Attrs {
		b = appendMessage(b, nodeAttribute, encodeAttribute(&n.Attrs[i]))
	}
	return appendString(b, nodeDomain, n.Domain)
}

// encodeAttribute writes repeated scalars unpacked, as proto2 declares
// them in onnx.proto.
func encodeAttribute(a *Attribute) []byte {
	var b []byte
	b = appendString(b, attrName, a.Name)
	switch a.Kind {
	case AttrFloat:
		b = protowire.AppendTag(b, attrF, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, math.Float32bits(a.Float))
	case AttrInt:
		b = appendInt(b, attrI, a.Int)
	case AttrString:
		b = appendEach(b, attrS, a.String)
	case AttrTensor:
		b = appendMessage(b, attrT, encodeTensor(a.Tensor))
	case AttrFloats:
		for _, f := range a.Floats {
			b = protowire.AppendTag(b, attrFloats, protowire.Fixed32Type)
			b = protowire.AppendFixed32(b, math.Float32bits(f))
		}
	case AttrInts:
		for _, v := range a.Ints {
			b = appendInt(b, attrInts, v)
		}
	case AttrStrings:
		for _, s := range a.Strings {
			b = appendEach(b, attrStrings, s)
		}
	}
	return appendInt(b, attrType, int64(a.Kind))
}

// encodeTensor stores numbers as little-endian raw_data, the compact form
// ONNX Runtime reads directly; strings must go in string_data.
func encodeTensor(t *Tensor) []byte {
	var b []byte
	for _, d := range t.Dims {
		b = appendInt(b, tensorDims, d)
	}
	b = appendInt(b, tensorDataType, int64(t.Elem))
	for _, s := range t.Strings {
		b = appendEach(b, tensorStringData, s)
	}
	b = appendString(b, tensorName, t.Name)
	var raw []byte
	switch t.Elem {
	case Float:
		raw = make([]byte, 0, 4*len(t.Floats))
		for _, f := range t.Floats {
			raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(f))
		}
	case Double:
		raw = make([]byte, 0, 8*len(t.Doubles))
		for _, f := range t.Doubles {
			raw = binary.LittleEndian.AppendUint64(raw, math.Float64bits(f))
		}
	case Int64:
		raw = make([]byte, 0, 8*len(t.Int64s))
		for _, v := range t.Int64s {
			raw = binary.LittleEndian.AppendUint64(raw, uint64(v))
		}
	default:
		return b
	}
	return appendBytes(b, tensorRawData, raw)
}

func encodeValueInfo(v ValueInfo) []byte {
	if v.Kind == SequenceValue {
		b := appendString(nil, valueInfoName, v.Name)
		return appendMessage(b, valueInfoType, encodeSequenceOfMaps(v))
	}
	var shape []byte
	for _, d := range v.Shape {
		var db []byte
		if d.Param != "" {
			db = appendString(db, dimParam, d.Param)
		} else if d.Value != 0 {
			db = appendInt(db, dimValue, d.Value)
		}
		shape = appendMessage(shape, shapeDim, db)
	}
	var tt []byte
	tt = appendInt(tt, tensorTypeElem, int64(v.Elem))
	if v.Shape != nil {
		tt = appendMessage(tt, tensorTypeShape, shape)
	}
	var b []byte
	b = appendString(b, valueInfoName, v.Name)
	return appendMessage(b, valueInfoType, appendMessage(nil, typeTensor, tt))
}

func appendInt(b []byte, num protowire.Number, v int64) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(v))
}

// appendString writes a string field, leaving it out when empty as an unset
// optional field reads the same.
func appendString(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	return appendEach(b, num, s)
}

// appendEach writes a string field even when empty: a repeated element (an
// optional node input "", an empty category) must keep its place.
func appendEach(b []byte, num protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendBytes(b []byte, num protowire.Number, v []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

func appendMessage(b []byte, num protowire.Number, msg []byte) []byte {
	return appendBytes(b, num, msg)
}
