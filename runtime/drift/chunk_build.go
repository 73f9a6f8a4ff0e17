package drift

import (
	"math"
	"slices"
)

// chunkBuilder turns the capture writer's rows into a chunk, reusing the
// columns' memory from one chunk to the next: the writer runs on the cores
// that serve, so what it allocates per row is paid by the requests.
type chunkBuilder struct {
	c              chunk
	numIdx, catIdx map[string]int
}

// build makes the chunk of rows, which share an endpoint and version. The
// chunk is valid until the next build.
func (b *chunkBuilder) build(rows []Row) *chunk {
	if b.numIdx == nil {
		b.numIdx, b.catIdx = map[string]int{}, map[string]int{}
	}
	clear(b.numIdx)
	clear(b.catIdx)
	c := &b.c
	n := len(rows)
	c.times, c.ids = c.times[:0], c.ids[:0]
	c.numeric, c.category = c.numeric[:0], c.category[:0]
	c.preds, c.predEnds = c.preds[:0], c.predEnds[:0]
	for i := range rows {
		r := &rows[i]
		c.times = append(c.times, r.Time.UnixNano())
		c.ids = append(c.ids, r.RequestID)
		for k, v := range r.Numeric {
			b.numbers(k, n)[i] = v
		}
		for k, v := range r.Category {
			b.strings(k, n)[i] = v
		}
		c.preds = append(c.preds, r.Prediction...)
		c.predEnds = append(c.predEnds, len(c.preds))
	}
	c.sortColumns()
	return c
}

// numbers is the values of the numeric column name, all NaN (missing) when
// it is new to the chunk.
func (b *chunkBuilder) numbers(name string, n int) []float64 {
	if j, ok := b.numIdx[name]; ok {
		return b.c.numeric[j].values
	}
	j := len(b.c.numeric)
	b.numIdx[name] = j
	var v []float64
	if j < cap(b.c.numeric) {
		v = b.c.numeric[:j+1][j].values[:0]
	}
	v = slices.Grow(v, n)[:n]
	for i := range v {
		v[i] = math.NaN()
	}
	b.c.numeric = append(b.c.numeric, numberColumn{name: name, values: v})
	return v
}

// strings is the values of the string column name, all "" (missing) when
// it is new to the chunk.
func (b *chunkBuilder) strings(name string, n int) []string {
	if j, ok := b.catIdx[name]; ok {
		return b.c.category[j].values
	}
	j := len(b.c.category)
	b.catIdx[name] = j
	var v []string
	if j < cap(b.c.category) {
		v = b.c.category[:j+1][j].values[:0]
	}
	v = slices.Grow(v, n)[:n]
	clear(v)
	b.c.category = append(b.c.category, stringColumn{name: name, values: v})
	return v
}
