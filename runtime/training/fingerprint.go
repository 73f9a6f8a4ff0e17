package training

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"sort"
)

// fingerprintVersion starts every encoding; a change to the encoding
// changes it, so old and new fingerprints never collide.
const fingerprintVersion = "sluice-dataset-v1"

// Fingerprint returns the hex SHA-256 of f's canonical encoding: the
// label's name, the row count, then every column in name order (its name,
// kind and values) and the event times. Column order does not change it;
// row order, values, names and times do. NaNs all encode alike, and -0 as
// 0, so equal data read twice fingerprints the same. A run is keyed by
// (experiment spec hash, dataset fingerprint).
func Fingerprint(f *Frame) string {
	h := sha256.New()
	w := bufio.NewWriterSize(h, 64<<10)
	e := encoder{w: w}
	e.str(fingerprintVersion)
	e.str(f.Label)
	e.uint(uint64(f.Rows()))
	cols := make([]*Column, len(f.Columns))
	for i := range f.Columns {
		cols[i] = &f.Columns[i]
	}
	sort.SliceStable(cols, func(i, j int) bool { return cols[i].Name < cols[j].Name })
	e.uint(uint64(len(cols)))
	for _, c := range cols {
		e.str(c.Name)
		if c.IsString() {
			e.byte('s')
			e.uint(uint64(len(c.Strings)))
			for _, s := range c.Strings {
				e.str(s)
			}
			continue
		}
		e.byte('f')
		e.uint(uint64(len(c.Floats)))
		for _, v := range c.Floats {
			e.float(v)
		}
	}
	if f.Time == nil {
		e.byte('-')
	} else {
		e.byte('t')
		e.uint(uint64(len(f.Time)))
		for _, t := range f.Time {
			e.uint(uint64(t.UnixNano()))
		}
	}
	w.Flush()
	return hex.EncodeToString(h.Sum(nil))
}

// encoder writes length-prefixed values, so no two different sequences of
// values encode alike.
type encoder struct {
	w   *bufio.Writer
	buf [binary.MaxVarintLen64]byte
}

func (e *encoder) byte(b byte) { e.w.WriteByte(b) }

func (e *encoder) uint(v uint64) {
	e.w.Write(binary.AppendUvarint(e.buf[:0], v))
}

func (e *encoder) str(s string) {
	e.uint(uint64(len(s)))
	e.w.WriteString(s)
}

func (e *encoder) float(v float64) {
	bits := math.Float64bits(v)
	switch {
	case math.IsNaN(v):
		bits = 0x7ff8000000000001
	case v == 0:
		bits = 0
	}
	e.w.Write(binary.LittleEndian.AppendUint64(e.buf[:0], bits))
}
