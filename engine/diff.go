package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"

	"sluice/engine/planjson"
	"sluice/schema"
)

// diffSpecs compares two canonical specs field by field. Classes come from
// the new spec for fields it has and from the recorded one for fields it
// dropped, so removing a description is still metadata.
func diffSpecs(before, after []byte, beforeClasses, afterClasses map[string]string) ([]planjson.FieldChange, error) {
	var b, a any
	if err := decodeJSON(before, &b); err != nil {
		return nil, fmt.Errorf("recorded spec: %w", err)
	}
	if err := decodeJSON(after, &a); err != nil {
		return nil, fmt.Errorf("new spec: %w", err)
	}
	var out []planjson.FieldChange
	walkDiff("", b, a, func(path string, bv, av any) {
		classes := afterClasses
		if av == nil {
			classes = beforeClasses
		}
		out = append(out, planjson.FieldChange{
			Path:   path,
			Before: raw(bv),
			After:  raw(av),
			Class:  schema.ClassOf(classes, path),
		})
	})
	return out, nil
}

// walkDiff calls fn for every leaf (or whole subtree, when the shapes differ)
// that is not equal in b and a. Lists are compared element by element.
func walkDiff(path string, b, a any, fn func(path string, b, a any)) {
	switch bt := b.(type) {
	case map[string]any:
		at, ok := a.(map[string]any)
		if !ok {
			break
		}
		keys := map[string]bool{}
		for k := range bt {
			keys[k] = true
		}
		for k := range at {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			walkDiff(joinPath(path, k), bt[k], at[k], fn)
		}
		return
	case []any:
		at, ok := a.([]any)
		if !ok {
			break
		}
		for i := 0; i < len(bt) || i < len(at); i++ {
			var bv, av any
			if i < len(bt) {
				bv = bt[i]
			}
			if i < len(at) {
				av = at[i]
			}
			walkDiff(fmt.Sprintf("%s[%d]", path, i), bv, av, fn)
		}
		return
	}
	if !bytes.Equal(raw(b), raw(a)) {
		fn(path, b, a)
	}
}

func joinPath(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

func decodeJSON(data []byte, v any) error {
	if len(data) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return dec.Decode(v)
}

// raw is v as JSON for a field diff, with < > & as they are: a gate
// reads ">= 0.85" in a plan, not "\u003e= 0.85".
func raw(v any) json.RawMessage {
	if v == nil {
		return nil
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}
