package serving

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// tfRequest is a predict body: row ("instances") or columnar ("inputs").
type tfRequest struct {
	SignatureName string          `json:"signature_name"`
	Instances     json.RawMessage `json:"instances"`
	Inputs        json.RawMessage `json:"inputs"`
}

// decodeTF reads a predict body into named tensors.
func (v *version) decodeTF(body []byte) (map[string]Tensor, bool, error) {
	var req tfRequest
	ok := objectMembers(body, func(key, raw []byte) {
		switch string(key) {
		case "instances":
			req.Instances = raw
		case "inputs":
			req.Inputs = raw
		}
	})
	if !ok {
		// Invalid JSON, or a key with escapes: encoding/json decides, and
		// says where the JSON breaks. (Into a variable of its own: one
		// whose address goes to encoding/json lives on the heap, and req
		// need not.)
		var slow tfRequest
		if err := json.Unmarshal(body, &slow); err != nil {
			return nil, false, badInput("malformed JSON: %v", jsonErr(err, body))
		}
		req = slow
	}
	switch {
	case req.Instances != nil && req.Inputs != nil:
		return nil, false, badInput(`send "instances" (rows) or "inputs" (columns), not both`)
	case req.Instances != nil:
		named, err := v.decodeInstances(req.Instances)
		return named, true, err
	case req.Inputs != nil:
		named, err := v.decodeColumns(req.Inputs)
		return named, false, err
	}
	return nil, false, badInput(`request has neither "instances" nor "inputs"`)
}

// jsonErr adds the line and column of a syntax error.
func jsonErr(err error, body []byte) error {
	se, ok := err.(*json.SyntaxError)
	if !ok {
		return err
	}
	before := body[:min(int(se.Offset), len(body))]
	line := bytes.Count(before, []byte("\n")) + 1
	// Offset counts the bytes read, the offending one included.
	col := max(1, len(before)-bytes.LastIndexByte(before, '\n')-1)
	return fmt.Errorf("line %d, column %d: %v", line, col, err)
}

// decodeInstances reads the row format: a list of rows of the one input,
// or a list of objects naming each input.
func (v *version) decodeInstances(raw json.RawMessage) (map[string]Tensor, error) {
	trimmed := bytes.TrimLeft(raw, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '[' {
		return nil, badInput(`"instances" must be a list, one entry per example`)
	}
	if first := bytes.TrimLeft(trimmed[1:], " \t\r\n"); len(first) == 0 || first[0] != '{' {
		name, err := v.soleInput("instances")
		if err != nil {
			return nil, err
		}
		t, err := v.parse(raw, name, "instances")
		if err != nil {
			return nil, err
		}
		named := getNamed()
		named[name] = t
		return named, nil
	}
	rows, ok := rawObjects(raw)
	if !ok {
		rows = nil
		if err := json.Unmarshal(raw, &rows); err != nil {
			return nil, badInput(`"instances": every entry must be an object of named inputs when the first is: %v`, err)
		}
	}
	return v.stackRows(rows)
}

// soleInput is the input a request without names feeds.
func (v *version) soleInput(field string) (string, error) {
	if len(v.sig.Inputs) != 1 {
		return "", badInput(`%q holds unnamed values, but the model takes %d inputs (%s): send objects of named inputs`,
			field, len(v.sig.Inputs), strings.Join(v.sig.inputNames(), ", "))
	}
	return v.sig.Inputs[0].Name, nil
}

// stackRows turns row objects into one tensor per name, rows stacked.
func (v *version) stackRows(rows []map[string]json.RawMessage) (map[string]Tensor, error) {
	if len(rows) == 0 {
		return nil, badInput("no rows: send at least one example")
	}
	keys := make([]string, 0, len(rows[0]))
	for k := range rows[0] {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	named := getNamed()
	pieces := make([]Tensor, len(rows))
	for _, k := range keys {
		var first []int64
		for i, row := range rows {
			raw, ok := row[k]
			if !ok {
				return nil, badInput("instances[%d]: no %q, which instances[0] has: every instance needs the same inputs", i, k)
			}
			t, err := v.parse(raw, k, "instances["+strconv.Itoa(i)+"]."+k)
			if err != nil {
				return nil, err
			}
			if i == 0 {
				first = t.Shape
			} else if !slices.Equal(t.Shape, first) {
				return nil, badInput("instances[%d].%s has shape %v, instances[0].%s has %v", i, k, t.Shape, k, first)
			}
			t.Shape = append([]int64{1}, t.Shape...)
			pieces[i] = t
		}
		named[k] = concat(pieces)
	}
	for i, row := range rows {
		if len(row) != len(keys) {
			for k := range row {
				if _, ok := named[k]; !ok {
					return nil, badInput("instances[%d]: %q, which instances[0] lacks: every instance needs the same inputs", i, k)
				}
			}
		}
	}
	return named, nil
}

// decodeColumns reads the columnar format: the one input's rows, or an
// object of named inputs.
func (v *version) decodeColumns(raw json.RawMessage) (map[string]Tensor, error) {
	trimmed := bytes.TrimLeft(raw, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		name, err := v.soleInput("inputs")
		if err != nil {
			return nil, err
		}
		t, err := v.parse(raw, name, "inputs")
		if err != nil {
			return nil, err
		}
		named := getNamed()
		named[name] = t
		return named, nil
	}
	cols, ok := rawObject(raw)
	if !ok {
		cols = nil
		if err := json.Unmarshal(raw, &cols); err != nil {
			return nil, badInput(`"inputs": %v`, err)
		}
	}
	named := getNamed()
	for k, raw := range cols {
		t, err := v.parse(raw, k, "inputs."+k)
		if err != nil {
			return nil, err
		}
		named[k] = t
	}
	return named, nil
}
