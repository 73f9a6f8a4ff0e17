package drift

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
)

// rowEncoder writes a row's stored JSON by hand, byte for byte what
// encoding/json writes for storedRow (keys sorted, NaN as null, infinities
// as "inf" and "-inf", strings escaped as encoding/json escapes them), at a
// fraction of the CPU: no reflection, no map of Number, and one reused
// buffer and key slice for every row the writer encodes.
type rowEncoder struct {
	keys []string
}

// appendRow appends r's stored JSON to b.
func (e *rowEncoder) appendRow(b []byte, r *Row) []byte {
	b = append(b, '{')
	sep := false
	if len(r.Numeric) > 0 {
		b = append(b, `"n":{`...)
		e.keys = sortedKeys(e.keys[:0], r.Numeric)
		for i, k := range e.keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			b = appendNumber(b, r.Numeric[k])
		}
		b = append(b, '}')
		sep = true
	}
	if len(r.Category) > 0 {
		if sep {
			b = append(b, ',')
		}
		b = append(b, `"c":{`...)
		e.keys = sortedKeys(e.keys[:0], r.Category)
		for i, k := range e.keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			b = appendJSONString(b, r.Category[k])
		}
		b = append(b, '}')
		sep = true
	}
	if len(r.Prediction) > 0 {
		if sep {
			b = append(b, ',')
		}
		b = append(b, `"p":[`...)
		for i, v := range r.Prediction {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendNumber(b, v)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// sortedKeys appends m's keys to keys in the order encoding/json writes
// a map's keys.
func sortedKeys[V any](keys []string, m map[string]V) []string {
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// appendNumber appends f as Number.MarshalJSON writes it.
func appendNumber(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "null"...)
	case math.IsInf(f, 1):
		return append(b, `"inf"`...)
	case math.IsInf(f, -1):
		return append(b, `"-inf"`...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}

// appendJSONString appends s quoted. Plain printable ASCII, which feature
// names and most categories are, is copied as is; anything encoding/json
// would escape (quotes, backslashes, control characters, <, >, &, non-ASCII
// bytes whose validity and U+2028/U+2029 it checks) goes through
// encoding/json itself, so the two can never disagree.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
