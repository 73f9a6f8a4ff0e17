package drift

import (
	"math"
	"slices"
)

// chunkBuilder turns the capture writer's batches into a chunk, reusing
// the columns' memory from one chunk to the next: the writer runs on the
// cores that serve, so what it allocates per row is paid by the requests.
type chunkBuilder struct {
	c              chunk
	numIdx, catIdx map[string]int
	// The column of each of the last batch's names, kept while the next
	// batches share its name slices (a version's requests all do).
	numNames, catNames []string
	numCols, catCols   []int
}

// build makes the chunk of the segments' rows, which share an endpoint and
// version. The chunk is valid until the next build.
func (b *chunkBuilder) build(segs []segment) *chunk {
	if b.numIdx == nil {
		b.numIdx, b.catIdx = map[string]int{}, map[string]int{}
	}
	clear(b.numIdx)
	clear(b.catIdx)
	b.numNames, b.catNames = nil, nil
	b.numCols, b.catCols = b.numCols[:0], b.catCols[:0]
	c := &b.c
	n := 0
	for _, s := range segs {
		n += s.to - s.from
	}
	c.times, c.ids = c.times[:0], c.ids[:0]
	c.numeric, c.category = c.numeric[:0], c.category[:0]
	c.preds, c.predEnds = c.preds[:0], c.predEnds[:0]
	row := 0
	for _, s := range segs {
		bt := s.b
		if !sameSlice(bt.NumericNames, b.numNames) {
			b.numNames, b.numCols = bt.NumericNames, b.numCols[:0]
			for _, name := range bt.NumericNames {
				b.numCols = append(b.numCols, b.numbers(name, n))
			}
		}
		if !sameSlice(bt.CategoryNames, b.catNames) {
			b.catNames, b.catCols = bt.CategoryNames, b.catCols[:0]
			for _, name := range bt.CategoryNames {
				b.catCols = append(b.catCols, b.strings(name, n))
			}
		}
		at := bt.Time.UnixNano()
		nn, nc := len(bt.NumericNames), len(bt.CategoryNames)
		for r := s.from; r < s.to; r++ {
			c.times = append(c.times, at)
			c.ids = append(c.ids, bt.RequestID)
			for j, col := range b.numCols {
				c.numeric[col].values[row] = bt.Numbers[r*nn+j]
			}
			for j, col := range b.catCols {
				c.category[col].values[row] = bt.Categories[r*nc+j]
			}
			c.preds = append(c.preds, bt.Predictions[r*bt.Width:(r+1)*bt.Width]...)
			c.predEnds = append(c.predEnds, len(c.preds))
			row++
		}
	}
	c.sortColumns()
	return c
}

// sameSlice says whether a and b are the same slice (not only equal).
func sameSlice(a, b []string) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// numbers is the index of the numeric column name, all NaN (missing) when
// it is new to the chunk.
func (b *chunkBuilder) numbers(name string, n int) int {
	if j, ok := b.numIdx[name]; ok {
		return j
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
	return j
}

// strings is the index of the string column name, all "" (missing) when
// it is new to the chunk.
func (b *chunkBuilder) strings(name string, n int) int {
	if j, ok := b.catIdx[name]; ok {
		return j
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
	return j
}
