package drift

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// A chunk is the rows of one endpoint version that one capture write
// stored, column by column, as one row of drift_capture_chunks: the writer
// pays SQLite's per-row costs (a B-tree insert per index, a cgo call per
// bound value) once per chunk instead of once per captured request.
type chunk struct {
	times []int64 // unix ns, per row
	ids   []string
	// numeric and category hold a column per feature any row has; a row
	// without the feature holds NaN or "", which every reader takes as
	// missing, as it took an absent key of the row JSON before.
	numeric  []numberColumn
	category []stringColumn
	// preds holds every row's prediction, row after row; row i's ends at
	// predEnds[i].
	preds    []float64
	predEnds []int
}

type numberColumn struct {
	name   string
	values []float64
}

type stringColumn struct {
	name   string
	values []string
}

func (c *chunk) rows() int { return len(c.times) }

// span is the earliest and latest time of a chunk of at least one row.
func (c *chunk) span() (first, last int64) {
	first, last = c.times[0], c.times[0]
	for _, t := range c.times {
		first, last = min(first, t), max(last, t)
	}
	return first, last
}

// prediction is row i's prediction.
func (c *chunk) prediction(i int) []float64 {
	start := 0
	if i > 0 {
		start = c.predEnds[i-1]
	}
	return c.preds[start:c.predEnds[i]]
}

func (c *chunk) numberColumn(name string) []float64 {
	for i := range c.numeric {
		if c.numeric[i].name == name {
			return c.numeric[i].values
		}
	}
	return nil
}

func (c *chunk) stringColumn(name string) []string {
	for i := range c.category {
		if c.category[i].name == name {
			return c.category[i].values
		}
	}
	return nil
}

// chunkFormat is the first byte of an encoded chunk. A body that starts
// with '{' is a row the JSON capture table held before chunks (see
// migrations), read by decodeLegacyChunk.
const chunkFormat = 1

// maxChunkRows bounds a chunk's rows: drift_capture_ids keys a request id
// by chunk id << 16 | row.
const maxChunkRows = 1<<16 - 1

// appendChunk appends c's encoding to b: the format byte, the row count,
// the first time (8 bytes) and the others as zig-zag varint deltas, the
// request ids front-coded (shared prefix length with the previous id, then
// the rest), each numeric column as its name and its values as
// little-endian float32 when every value is exactly one (float32 tensors,
// most models' inputs and outputs) or float64, each string column as its
// name and its length-prefixed values, then the predictions' lengths and
// values in the same float32-or-float64 form.
func appendChunk(b []byte, c *chunk) []byte {
	n := c.rows()
	b = append(b, chunkFormat)
	b = binary.AppendUvarint(b, uint64(n))
	if n == 0 {
		return b
	}
	b = binary.LittleEndian.AppendUint64(b, uint64(c.times[0]))
	for i := 1; i < n; i++ {
		b = binary.AppendVarint(b, c.times[i]-c.times[i-1])
	}
	prev := ""
	for _, id := range c.ids {
		k := sharedPrefix(prev, id)
		b = binary.AppendUvarint(b, uint64(k))
		b = appendString(b, id[k:])
		prev = id
	}
	b = binary.AppendUvarint(b, uint64(len(c.numeric)))
	for i := range c.numeric {
		b = appendString(b, c.numeric[i].name)
		b = appendFloats(b, c.numeric[i].values)
	}
	b = binary.AppendUvarint(b, uint64(len(c.category)))
	for i := range c.category {
		b = appendString(b, c.category[i].name)
		for _, v := range c.category[i].values {
			b = appendString(b, v)
		}
	}
	start := 0
	for _, end := range c.predEnds {
		b = binary.AppendUvarint(b, uint64(end-start))
		start = end
	}
	return appendFloats(b, c.preds)
}

func sharedPrefix(a, b string) int {
	n := min(len(a), len(b), 255)
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendFloats appends a width byte (4 or 8) and the values.
func appendFloats(b []byte, v []float64) []byte {
	narrow := true
	for _, x := range v {
		if float64(float32(x)) != x && x == x {
			narrow = false
			break
		}
	}
	if narrow {
		b = append(b, 4)
		for _, x := range v {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(x)))
		}
		return b
	}
	b = append(b, 8)
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	}
	return b
}

// errCorruptChunk is wrapped by every decoding error of a chunk's body.
var errCorruptChunk = errors.New("corrupt capture chunk")

// decodeChunk decodes an encoded chunk. A body that does not decode is an
// error naming what was wrong and where, never a panic, and never an
// allocation larger than the body could hold.
func decodeChunk(body []byte) (*chunk, error) {
	d, c, err := decodeHead(body)
	if err != nil || c.rows() == 0 {
		return c, err
	}
	n := c.rows()
	for range d.count("numeric columns", 2+n*4) {
		c.numeric = append(c.numeric, numberColumn{name: string(d.bytes()), values: d.floats(n)})
	}
	for range d.count("string columns", 1+n) {
		col := stringColumn{name: string(d.bytes()), values: make([]string, n)}
		for i := range col.values {
			// Categories repeat: a value equal to the previous row's
			// shares its string instead of allocating another.
			if v := d.bytes(); i > 0 && string(v) == col.values[i-1] {
				col.values[i] = col.values[i-1]
			} else {
				col.values[i] = string(v)
			}
		}
		c.category = append(c.category, col)
	}
	c.predEnds = make([]int, n)
	total := 0
	for i := range c.predEnds {
		k := d.uvarint()
		if k > uint64(len(d.b)) {
			d.fail("row %d's prediction has %d values", i, k)
			return nil, d.error()
		}
		total += int(k)
		c.predEnds[i] = total
	}
	c.preds = d.floats(total)
	if d.err == nil && d.off != len(d.b) {
		d.fail("%d bytes after the last column", len(d.b)-d.off)
	}
	if d.err != nil {
		return nil, d.error()
	}
	return c, nil
}

// decodeHead decodes a chunk's times and request ids, and returns the
// decoder at its columns.
func decodeHead(body []byte) (*decoder, *chunk, error) {
	if len(body) == 0 || body[0] != chunkFormat {
		if len(body) > 0 && body[0] == '{' {
			return nil, nil, fmt.Errorf("%w: a JSON row, not a chunk", errCorruptChunk)
		}
		return nil, nil, fmt.Errorf("%w: unknown format %v (this sluice reads %d)", errCorruptChunk, body[:min(len(body), 1)], chunkFormat)
	}
	d := &decoder{b: body, off: 1}
	n := d.count("rows", 2) // a row takes at least a time delta and an id prefix length
	c := &chunk{}
	if n == 0 && d.err == nil && d.off != len(d.b) {
		d.fail("%d bytes after an empty chunk", len(d.b)-d.off)
	}
	if d.err != nil {
		return nil, nil, d.error()
	}
	if n == 0 {
		return d, c, nil
	}
	c.times = make([]int64, n)
	c.times[0] = int64(d.uint64())
	for i := 1; i < n; i++ {
		c.times[i] = c.times[i-1] + d.varint()
	}
	c.ids = make([]string, n)
	prev := ""
	for i := range c.ids {
		k := d.uvarint()
		if k > uint64(len(prev)) {
			d.fail("request id %d shares %d bytes with one of %d", i, k, len(prev))
			return nil, nil, d.error()
		}
		c.ids[i] = prev[:k] + string(d.bytes())
		prev = c.ids[i]
	}
	if d.err != nil {
		return nil, nil, d.error()
	}
	return d, c, nil
}

// decoder reads a chunk's body; the first problem stops it and is kept.
type decoder struct {
	b   []byte
	off int
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: at byte %d: %s", errCorruptChunk, d.off, fmt.Sprintf(format, args...))
	}
}

func (d *decoder) error() error { return d.err }

func (d *decoder) left() int { return len(d.b) - d.off }

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, k := binary.Uvarint(d.b[d.off:])
	if k <= 0 {
		d.fail("bad unsigned varint")
		return 0
	}
	d.off += k
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, k := binary.Varint(d.b[d.off:])
	if k <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.off += k
	return v
}

func (d *decoder) uint64() uint64 {
	if d.err != nil || d.left() < 8 {
		d.fail("truncated")
		return 0
	}
	v := binary.LittleEndian.Uint64(d.b[d.off:])
	d.off += 8
	return v
}

// count reads a count of things that each take at least each bytes,
// refusing one the rest of the body cannot hold.
func (d *decoder) count(what string, each int) int {
	v := d.uvarint()
	if d.err != nil {
		return 0
	}
	if v > maxChunkRows || int(v)*max(each, 1) > d.left() {
		d.fail("%d %s cannot fit in %d bytes", v, what, d.left())
		return 0
	}
	return int(v)
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(d.left()) {
		d.fail("string of %d bytes in %d", n, d.left())
		return nil
	}
	v := d.b[d.off : d.off+int(n)]
	d.off += int(n)
	return v
}

// floats reads a width byte and n values of that width.
func (d *decoder) floats(n int) []float64 {
	if d.err != nil {
		return nil
	}
	if d.left() < 1 {
		d.fail("truncated")
		return nil
	}
	w := int(d.b[d.off])
	d.off++
	if w != 4 && w != 8 {
		d.fail("float width %d", w)
		return nil
	}
	if n*w > d.left() {
		d.fail("%d floats of %d bytes in %d", n, w, d.left())
		return nil
	}
	v := make([]float64, n)
	src := d.b[d.off : d.off+n*w]
	if w == 4 {
		for i := range v {
			v[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:])))
		}
	} else {
		for i := range v {
			v[i] = math.Float64frombits(binary.LittleEndian.Uint64(src[8*i:]))
		}
	}
	d.off += n * w
	return v
}

// sortColumns orders a chunk's columns by name, so that the same rows
// always encode to the same bytes.
func (c *chunk) sortColumns() {
	slices.SortFunc(c.numeric, func(a, b numberColumn) int { return strings.Compare(a.name, b.name) })
	slices.SortFunc(c.category, func(a, b stringColumn) int { return strings.Compare(a.name, b.name) })
}
