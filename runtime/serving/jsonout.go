package serving

import (
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf8"
)

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	simple := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			simple = false
			break
		}
	}
	if simple {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}

// appendFloat appends f, or "NaN", "Infinity", "-Infinity" as strings,
// which JSON has no numbers for.
func appendFloat(b []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, bits)
}

// appendElem appends element i of t.
func appendElem(b []byte, t *Tensor, i int) []byte {
	switch t.DType {
	case Float32:
		return appendFloat(b, float64(t.F32[i]), 32)
	case Float64:
		return appendFloat(b, t.F64[i], 64)
	case Int64:
		return strconv.AppendInt(b, t.I64[i], 10)
	case String:
		return appendString(b, t.Str[i])
	}
	return append(b, "null"...)
}

// appendFlat appends every element of t as one flat array.
func appendFlat(b []byte, t *Tensor) []byte {
	b = append(b, '[')
	for i, n := 0, t.Len(); i < n; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendElem(b, t, i)
	}
	return append(b, ']')
}

// appendNested appends the elements of t from offset on as arrays nested by
// dims; with no dims, the single element at offset.
func appendNested(b []byte, t *Tensor, offset int, dims []int64) []byte {
	if len(dims) == 0 {
		return appendElem(b, t, offset)
	}
	stride := 1
	for _, d := range dims[1:] {
		stride *= int(d)
	}
	b = append(b, '[')
	for i := 0; i < int(dims[0]); i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendNested(b, t, offset+i*stride, dims[1:])
	}
	return append(b, ']')
}

// appendRow appends row r of t, nested by its row dimensions.
func appendRow(b []byte, t *Tensor, r int) []byte {
	return appendNested(b, t, r*t.rowLen(), t.Shape[1:])
}

// appendInts appends a JSON array of integers.
func appendInts(b []byte, v []int64) []byte {
	b = append(b, '[')
	for i, n := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, n, 10)
	}
	return append(b, ']')
}
