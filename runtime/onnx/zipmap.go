package onnx

import "errors"

// ZipMap's output, seq(map(label, float)), is what scikit-learn classifiers
// converted by sklearn-onnx give as "output_probability": one map per row
// from class label to probability. The writer describes it with
// ZipMapOutput and makes it with ZipMap.

// Fields of TypeProto.Sequence and TypeProto.Map.
const (
	sequenceElem = 1
	mapKey       = 1
	mapValue     = 2
)

// ZipMapOutput describes a graph output of ZipMap: a sequence of maps from
// key (Int64 or String class labels) to Float.
func ZipMapOutput(name string, key ElemType) ValueInfo {
	return ValueInfo{Name: name, Kind: SequenceValue, Elem: Float, MapKey: key}
}

// ZipMap is the ai.onnx.ml node that turns probabilities [N, C] into one
// map per row, keyed by the C class labels: labels holds []int64 or
// []string.
func ZipMap(name, input, output string, labels any) (Node, error) {
	n := Node{Name: name, OpType: "ZipMap", Domain: MLDomain, Inputs: []string{input}, Outputs: []string{output}}
	switch l := labels.(type) {
	case []int64:
		n.Attrs = []Attribute{IntsAttr("classlabels_int64s", l)}
	case []string:
		n.Attrs = []Attribute{StringsAttr("classlabels_strings", l)}
	default:
		return Node{}, errors.New("zipmap: class labels must be []int64 or []string")
	}
	return n, nil
}

// checkSequenceOfMaps reports a sequence value the writer cannot write:
// anything but ZipMapOutput's seq(map(Int64|String, Float)).
func (v ValueInfo) checkSequenceOfMaps() error {
	if v.Kind != SequenceValue || (v.MapKey != Int64 && v.MapKey != String) || v.Elem != Float {
		return errors.New("only ZipMap's seq(map(INT64|STRING, FLOAT)) can be written besides tensors")
	}
	return nil
}

// encodeSequenceOfMaps is the TypeProto of a ZipMapOutput.
func encodeSequenceOfMaps(v ValueInfo) []byte {
	value := appendMessage(nil, typeTensor, appendInt(nil, tensorTypeElem, int64(v.Elem)))
	m := appendInt(nil, mapKey, int64(v.MapKey))
	m = appendMessage(m, mapValue, value)
	seq := appendMessage(nil, sequenceElem, appendMessage(nil, typeMap, m))
	return appendMessage(nil, typeSequence, seq)
}
