package drift

import (
	"encoding/json"
	"fmt"
)

// storedRow is a row's JSON in the capture table before chunks.
type storedRow struct {
	N map[string]Number `json:"n,omitempty"`
	C map[string]string `json:"c,omitempty"`
	P []Number          `json:"p,omitempty"`
}

// legacyRow is the body migration 3 gave each row of that table: its
// request id beside its JSON, a chunk of one row captured at first_at.
type legacyRow struct {
	ID  string    `json:"id"`
	Row storedRow `json:"row"`
}

// readChunk decodes a chunk's body, a chunk or a migrated JSON row, whose
// first row was captured at first (unix ns).
func readChunk(body []byte, first int64) (*chunk, error) {
	if len(body) == 0 || body[0] != '{' {
		return decodeChunk(body)
	}
	var l legacyRow
	if err := json.Unmarshal(body, &l); err != nil {
		return nil, fmt.Errorf("%w: JSON row: %v", errCorruptChunk, err)
	}
	c := &chunk{times: []int64{first}, ids: []string{l.ID}}
	for k, v := range l.Row.N {
		c.numeric = append(c.numeric, numberColumn{name: k, values: []float64{float64(v)}})
	}
	for k, v := range l.Row.C {
		c.category = append(c.category, stringColumn{name: k, values: []string{v}})
	}
	for _, v := range l.Row.P {
		c.preds = append(c.preds, float64(v))
	}
	c.predEnds = []int{len(c.preds)}
	c.sortColumns()
	return c, nil
}

// since is the chunk's rows captured at or after at (unix ns), in order.
func (c *chunk) since(at int64) *chunk {
	keep := make([]int, 0, c.rows())
	for i, t := range c.times {
		if t >= at {
			keep = append(keep, i)
		}
	}
	if len(keep) == c.rows() {
		return c
	}
	out := &chunk{times: make([]int64, len(keep)), ids: make([]string, len(keep)), predEnds: make([]int, len(keep))}
	for j, i := range keep {
		out.times[j], out.ids[j] = c.times[i], c.ids[i]
		out.preds = append(out.preds, c.prediction(i)...)
		out.predEnds[j] = len(out.preds)
	}
	for _, col := range c.numeric {
		v := make([]float64, len(keep))
		for j, i := range keep {
			v[j] = col.values[i]
		}
		out.numeric = append(out.numeric, numberColumn{name: col.name, values: v})
	}
	for _, col := range c.category {
		v := make([]string, len(keep))
		for j, i := range keep {
			v[j] = col.values[i]
		}
		out.category = append(out.category, stringColumn{name: col.name, values: v})
	}
	return out
}
