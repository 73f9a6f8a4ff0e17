package features

import (
	"cmp"
	"math"
	"slices"
	"strings"
)

// chunk holds parsed rows until they are sorted and inserted: row-major
// tags and values and one arena for text, so a ten-million-row file costs
// nine bytes a value and no allocation per cell.
type chunk struct {
	width int
	rows  int
	tags  []uint8
	nums  []uint64
	arena []byte
	// order is the rows sorted by entity key and time, filled by sort.
	order []sortKey
}

// sortKey is one row's place in a chunk's order. k is the first entity key
// when it is an integer, the common case, so most comparisons never leave
// the slice being sorted.
type sortKey struct {
	k   int64
	ts  int64
	row uint32
}

func newChunk(width, rows int) *chunk {
	return &chunk{width: width, tags: make([]uint8, 0, width*rows), nums: make([]uint64, 0, width*rows)}
}

// value is the j-th value of row r.
func (c *chunk) value(r, j int) (uint8, uint64) {
	i := r*c.width + j
	return c.tags[i], c.nums[i]
}

// boxed is the j-th value of row r as SQLite binds it.
func (c *chunk) boxed(r, j int) any {
	i := r*c.width + j
	switch c.tags[i] {
	case tagInt:
		return int64(c.nums[i])
	case tagFloat:
		return math.Float64frombits(c.nums[i])
	case tagText:
		return text(c.arena, c.nums[i])
	}
	return nil
}

// layout is how rows order: by entity keys (columns 0..keys-1, text or
// integer), event time (column keys) and creation time (column keys+1,
// when the source has one). Ties keep file order, so the last of two rows
// with the same key and times is inserted last and wins.
type layout struct {
	textKey []bool
	created bool
	// textCols are the columns that may hold text.
	textCols []int
}

func (l *layout) keys() int { return len(l.textKey) }

// sort puts the chunk's rows in order: it sorts their keys, then moves
// the rows themselves, so that inserting them later reads memory in
// sequence instead of missing the cache on every row.
func (c *chunk) sort(l *layout) {
	c.sortKeys(l)
	tags := make([]uint8, len(c.tags))
	nums := make([]uint64, len(c.nums))
	arena := make([]byte, 0, len(c.arena))
	w := c.width
	for i := range c.order {
		r := int(c.order[i].row)
		copy(tags[i*w:i*w+w], c.tags[r*w:r*w+w])
		copy(nums[i*w:i*w+w], c.nums[r*w:r*w+w])
		for _, j := range l.textCols {
			if n := nums[i*w+j]; tags[i*w+j] == tagText {
				off := len(arena)
				arena = append(arena, text(c.arena, n)...)
				nums[i*w+j] = uint64(off)<<32 | n&0xffffffff
			}
		}
		c.order[i].row = uint32(i)
	}
	c.tags, c.nums, c.arena = tags, nums, arena
}

// sortKeys fills c.order. Event logs are mostly written in time order:
// then rows with one integer key need only a stable sort by key, which a
// radix sort does in a few linear passes.
func (c *chunk) sortKeys(l *layout) {
	c.order = make([]sortKey, c.rows)
	intFirst := !l.textKey[0]
	nk := l.keys()
	inTimeOrder := true
	for r := range c.rows {
		sk := sortKey{ts: int64(c.nums[r*c.width+nk]), row: uint32(r)}
		if intFirst {
			sk.k = int64(c.nums[r*c.width])
		}
		if r > 0 && inTimeOrder {
			prev := c.order[r-1]
			inTimeOrder = sk.ts > prev.ts || sk.ts == prev.ts && (!l.created || c.nums[r*c.width+nk+1] >= c.nums[(r-1)*c.width+nk+1])
		}
		c.order[r] = sk
	}
	if intFirst && nk == 1 && inTimeOrder {
		radixByKey(c.order)
		return
	}
	slices.SortFunc(c.order, func(a, b sortKey) int {
		if d := l.compare(c, a, c, b); d != 0 {
			return d
		}
		return cmp.Compare(a.row, b.row)
	})
}

// radixByKey sorts by k, stably, in passes of 11 bits over the bits in
// which the keys differ.
func radixByKey(keys []sortKey) {
	if len(keys) < 2 {
		return
	}
	lo, hi := keys[0].k, keys[0].k
	for _, s := range keys {
		lo, hi = min(lo, s.k), max(hi, s.k)
	}
	span := uint64(hi) - uint64(lo)
	src, dst := keys, make([]sortKey, len(keys))
	for shift := 0; shift < 64 && span>>shift != 0; shift += 11 {
		var count [1 << 11]int
		for _, s := range src {
			count[(uint64(s.k)-uint64(lo))>>shift&(1<<11-1)]++
		}
		sum := 0
		for i, n := range count {
			count[i], sum = sum, sum+n
		}
		for _, s := range src {
			d := (uint64(s.k) - uint64(lo)) >> shift & (1<<11 - 1)
			dst[count[d]] = s
			count[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &keys[0] {
		copy(keys, src)
	}
}

// compare orders row a of chunk ca against row b of chunk cb.
func (l *layout) compare(ca *chunk, a sortKey, cb *chunk, b sortKey) int {
	nk := l.keys()
	for j := range nk {
		if j == 0 && !l.textKey[0] {
			if a.k != b.k {
				return cmp.Compare(a.k, b.k)
			}
			continue
		}
		_, va := ca.value(int(a.row), j)
		_, vb := cb.value(int(b.row), j)
		var d int
		if l.textKey[j] {
			d = strings.Compare(text(ca.arena, va), text(cb.arena, vb))
		} else {
			d = cmp.Compare(int64(va), int64(vb))
		}
		if d != 0 {
			return d
		}
	}
	if a.ts != b.ts {
		return cmp.Compare(a.ts, b.ts)
	}
	if l.created {
		_, va := ca.value(int(a.row), nk+1)
		_, vb := cb.value(int(b.row), nk+1)
		return cmp.Compare(int64(va), int64(vb))
	}
	return 0
}

// sameKey reports whether two rows have the same entity key.
func (l *layout) sameKey(ca *chunk, a sortKey, cb *chunk, b sortKey) bool {
	for j := range l.keys() {
		_, va := ca.value(int(a.row), j)
		_, vb := cb.value(int(b.row), j)
		if l.textKey[j] {
			if text(ca.arena, va) != text(cb.arena, vb) {
				return false
			}
		} else if va != vb {
			return false
		}
	}
	return true
}

// merger walks sorted chunks in one order, earlier chunks first on ties.
type merger struct {
	l     *layout
	heads []cursor // a binary min-heap
}

type cursor struct {
	c   *chunk
	idx int // chunk's place in the file, for ties
	pos int
}

func newMerger(l *layout, chunks []*chunk) *merger {
	m := &merger{l: l}
	for i, c := range chunks {
		if c.rows > 0 {
			m.heads = append(m.heads, cursor{c: c, idx: i})
		}
	}
	for i := len(m.heads)/2 - 1; i >= 0; i-- {
		m.down(i)
	}
	return m
}

// next returns the next row, or false when every chunk is done.
func (m *merger) next() (*chunk, sortKey, bool) {
	if len(m.heads) == 0 {
		return nil, sortKey{}, false
	}
	h := &m.heads[0]
	c, sk := h.c, h.c.order[h.pos]
	h.pos++
	if h.pos == h.c.rows {
		last := len(m.heads) - 1
		m.heads[0] = m.heads[last]
		m.heads = m.heads[:last]
	}
	if len(m.heads) > 1 {
		m.down(0)
	}
	return c, sk, true
}

func (m *merger) less(i, j int) bool {
	a, b := &m.heads[i], &m.heads[j]
	if d := m.l.compare(a.c, a.c.order[a.pos], b.c, b.c.order[b.pos]); d != 0 {
		return d < 0
	}
	return a.idx < b.idx
}

func (m *merger) down(i int) {
	n := len(m.heads)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		j := l
		if r := l + 1; r < n && m.less(r, l) {
			j = r
		}
		if !m.less(j, i) {
			return
		}
		m.heads[i], m.heads[j] = m.heads[j], m.heads[i]
		i = j
	}
}
