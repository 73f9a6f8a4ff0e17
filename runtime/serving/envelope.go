package serving

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Request envelopes read without reflection: the Open Inference
// Protocol's REST body (id, inputs with their name, shape, datatype and
// data, outputs, parameters) and TF Serving's row objects and named
// columns. encoding/json scanned every body twice (once to validate, once
// to decode) and built the envelope by reflection on every request. The
// fast path takes the plain form only: keys spelled as the protocol
// spells them, strings without escapes, valid UTF-8, no nulls where a
// value is expected, shapes of integers. Anything else is left to
// encoding/json, which decodes it by its own rules (such as
// case-insensitive keys) and says where a malformed body breaks, so both
// paths accept and refuse the same bodies alike (see envelope_test.go's
// fuzz targets).

// decodeV2Envelope fills req from body and reports whether body was in
// the plain form; when it was not, req is left partly filled and the
// caller decodes body with encoding/json instead.
func decodeV2Envelope(body []byte, req *v2Request) bool {
	ok := true
	valid := objectMembers(body, func(key, raw []byte) {
		if !ok {
			return
		}
		switch string(key) {
		case "id":
			req.ID, ok = plainString(raw)
		case "inputs":
			req.Inputs, ok = v2Inputs(raw)
		case "outputs":
			req.Outputs, ok = v2Outputs(raw)
		case "parameters":
			ok = !isNull(raw)
			req.Params = json.RawMessage(raw)
		default:
			ok = !foldsTo(string(key), "id", "inputs", "outputs", "parameters")
		}
	})
	return valid && ok
}

// v2Inputs reads the "inputs" array.
func v2Inputs(raw []byte) ([]v2Input, bool) {
	var ins []v2Input
	ok := arrayElements(raw, func(elem []byte) bool {
		var in v2Input
		good := true
		valid := objectMembers(elem, func(key, raw []byte) {
			if !good {
				return
			}
			switch string(key) {
			case "name":
				in.Name, good = plainString(raw)
			case "datatype":
				in.Datatype, good = plainString(raw)
			case "shape":
				in.Shape, good = intArray(raw)
			case "data":
				good = !isNull(raw)
				in.Data = json.RawMessage(raw)
			default:
				good = !foldsTo(string(key), "name", "datatype", "shape", "data")
			}
		})
		ins = append(ins, in)
		return valid && good
	})
	return ins, ok
}

// v2Outputs reads the "outputs" array of {"name": ...} objects.
func v2Outputs(raw []byte) ([]v2OutputWant, bool) {
	var outs []v2OutputWant
	ok := arrayElements(raw, func(elem []byte) bool {
		var o v2OutputWant
		good := true
		valid := objectMembers(elem, func(key, raw []byte) {
			if !good {
				return
			}
			if string(key) == "name" {
				o.Name, good = plainString(raw)
			} else {
				good = !foldsTo(string(key), "name")
			}
		})
		outs = append(outs, o)
		return valid && good
	})
	return outs, ok
}

// plainString returns the JSON string raw without its quotes, when it has
// no escapes to undo and is valid UTF-8 (encoding/json replaces invalid
// bytes).
func plainString(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	end, plain := skipString(raw, 0)
	if end != len(raw) || !plain || !utf8.Valid(raw) {
		return "", false
	}
	return string(raw[1 : len(raw)-1]), true
}

// intArray reads a JSON array of integers that fit an int64.
func intArray(raw []byte) ([]int64, bool) {
	out := []int64{}
	ok := arrayElements(raw, func(elem []byte) bool {
		n, err := strconv.ParseInt(string(elem), 10, 64)
		out = append(out, n)
		return err == nil
	})
	return out, ok
}

func isNull(raw []byte) bool { return string(raw) == "null" }

// foldsTo reports whether key matches one of names only as encoding/json
// matches keys, case-insensitively: such a body takes the slow path.
func foldsTo(key string, names ...string) bool {
	for _, n := range names {
		if strings.EqualFold(key, n) {
			return true
		}
	}
	return false
}

// rawObject reads a JSON object into its members' raw values, as
// encoding/json reads it into a map[string]json.RawMessage, when its keys
// need no unescaping and are valid UTF-8; else it reports false and the
// caller uses encoding/json.
func rawObject(b []byte) (map[string]json.RawMessage, bool) {
	m := map[string]json.RawMessage{}
	good := true
	ok := objectMembers(b, func(key, raw []byte) {
		good = good && utf8.Valid(key)
		m[string(key)] = raw
	})
	return m, ok && good
}

// rawObjects reads a JSON array of objects as rawObject reads one.
func rawObjects(b []byte) ([]map[string]json.RawMessage, bool) {
	var rows []map[string]json.RawMessage
	ok := arrayElements(b, func(elem []byte) bool {
		m, ok := rawObject(elem)
		rows = append(rows, m)
		return ok
	})
	return rows, ok
}
