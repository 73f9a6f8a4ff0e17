package features

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// ReadEntityRowsCSV reads entity rows for historical retrieval: a header,
// then one row per (entity, point in time). The event_timestamp column is
// parsed as a timestamp; every other column is kept as text (join keys are
// converted to their entity's type when they are matched), so that a
// training set written back out carries them unchanged. name is the file
// name errors carry.
func ReadEntityRowsCSV(r io.Reader, name string) (*Frame, error) {
	rows, err := newCSVRows(name, r)
	if err != nil {
		return nil, err
	}
	f := &Frame{}
	ts := -1
	for i, h := range rows.header {
		typ := TypeString
		if h == EventTimestamp {
			typ, ts = TypeTimestamp, i
		}
		f.Columns = append(f.Columns, &Column{Name: h, Type: typ})
	}
	if ts < 0 {
		return nil, rows.headerFail(EventTimestamp, "missing: entity rows need a point in time (have: "+strings.Join(rows.header, ", ")+")")
	}
	cells := make([]cell, len(rows.header))
	for n := 0; ; n++ {
		if err := rows.next(cells); err == io.EOF {
			return f, nil
		} else if err != nil {
			return nil, err
		}
		for i, c := range f.Columns {
			b := cells[i].b
			if i == ts {
				if len(b) == 0 {
					return nil, rows.fail(c.Name, "empty timestamp")
				}
				v, err := parseTimestamp(b)
				if err != nil {
					return nil, rows.fail(c.Name, parseMsg(b, "timestamp")+": "+err.Error())
				}
				c.Ints = append(c.Ints, v)
				continue
			}
			c.Strings = append(c.Strings, string(b))
			if len(b) == 0 && c.Null == nil {
				c.Null = make([]bool, n)
			}
			if c.Null != nil {
				c.Null = append(c.Null, len(b) == 0)
			}
		}
	}
}

// WriteCSV writes the frame with a header: timestamps as RFC 3339 in UTC,
// missing values as empty cells.
func (f *Frame) WriteCSV(w io.Writer) error {
	if err := f.check(); err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	var b []byte
	for i, c := range f.Columns {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendCSVField(b, c.Name)
	}
	b = append(b, '\n')
	for r := range f.Len() {
		for i, c := range f.Columns {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendCell(b, c, r)
		}
		b = append(b, '\n')
		if len(b) > 1<<15 {
			if _, err := bw.Write(b); err != nil {
				return fmt.Errorf("write frame: %w", err)
			}
			b = b[:0]
		}
	}
	bw.Write(b)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write frame: %w", err)
	}
	return nil
}

func appendCell(b []byte, c *Column, r int) []byte {
	if c.IsNull(r) {
		return b
	}
	switch c.Type {
	case TypeInt64:
		return strconv.AppendInt(b, c.Ints[r], 10)
	case TypeTimestamp:
		return formatTimestamp(b, c.Ints[r])
	case TypeFloat64:
		return appendFloat(b, c.Floats[r])
	case TypeBool:
		return strconv.AppendBool(b, c.Bools[r])
	}
	return appendCSVField(b, c.Strings[r])
}

// appendFloat writes the shortest representation that reads back the same,
// without an exponent in the range people read (as Python's repr does).
func appendFloat(b []byte, v float64) []byte {
	if a := math.Abs(v); a != 0 && (a < 1e-4 || a >= 1e16) {
		return strconv.AppendFloat(b, v, 'g', -1, 64)
	}
	return strconv.AppendFloat(b, v, 'f', -1, 64)
}

func appendCSVField(b []byte, s string) []byte {
	if !strings.ContainsAny(s, ",\"\r\n") && (s == "" || (s[0] != ' ' && s[len(s)-1] != ' ')) {
		return append(b, s...)
	}
	b = append(b, '"')
	b = append(b, strings.ReplaceAll(s, `"`, `""`)...)
	return append(b, '"')
}
