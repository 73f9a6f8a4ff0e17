package features

import (
	"cmp"
	"fmt"
	"strings"
)

// keyColumns are an entity frame's join key columns converted to a view's
// entity types.
type keyColumns struct {
	ints    [][]int64  // per key, for integer keys
	strs    [][]string // per key, for text keys
	missing []bool
	textKey []bool
}

// entityKeys converts the frame's join key columns for v.
func entityKeys(v *ViewInfo, ents *Frame) (*keyColumns, error) {
	n := ents.Len()
	k := &keyColumns{missing: make([]bool, n)}
	for _, e := range v.Entities {
		c := ents.Column(e.JoinKey)
		if c == nil {
			return nil, fmt.Errorf("entity rows have no %s column", e.JoinKey)
		}
		text := e.Type == TypeString
		k.textKey = append(k.textKey, text)
		ints, strs := make([]int64, 0, n), make([]string, 0, n)
		for r := range n {
			val := c.Value(r)
			if val == nil {
				k.missing[r] = true
				ints, strs = append(ints, 0), append(strs, "")
				continue
			}
			kv, err := coerceKey(val, e.Type)
			if err != nil {
				return nil, fmt.Errorf("entity row %d: %s: %w", r+1, e.JoinKey, err)
			}
			if text {
				ints, strs = append(ints, 0), append(strs, kv.(string))
			} else {
				ints, strs = append(ints, kv.(int64)), append(strs, "")
			}
		}
		k.ints, k.strs = append(k.ints, ints), append(k.strs, strs)
	}
	return k, nil
}

func (k *keyColumns) null(r int) bool { return k.missing[r] }

// first is row r's first key when it is an integer, for fast sorting.
func (k *keyColumns) first(r int) int64 {
	if k.textKey[0] {
		return 0
	}
	return k.ints[0][r]
}

// compare orders two entity rows by their keys.
func (k *keyColumns) compare(a, b sortKey) int {
	for j, text := range k.textKey {
		var d int
		switch {
		case j == 0 && !text:
			d = cmp.Compare(a.k, b.k)
		case text:
			d = strings.Compare(k.strs[j][a.row], k.strs[j][b.row])
		default:
			d = cmp.Compare(k.ints[j][a.row], k.ints[j][b.row])
		}
		if d != 0 {
			return d
		}
	}
	return 0
}

// appendKey appends row r's keys as SQLite binds them.
func (k *keyColumns) appendKey(args []any, r int) []any {
	for j, text := range k.textKey {
		if text {
			args = append(args, k.strs[j][r])
		} else {
			args = append(args, k.ints[j][r])
		}
	}
	return args
}
