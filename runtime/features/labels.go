package features

import (
	"fmt"
	"io"
	"io/fs"
	"strings"

	"sluice/schema"
)

// ReadSourceFrame reads the named columns of a source's data file, in that
// order: the label rows of a training set (join keys, the event time and
// the label). The source's timestamp column is parsed as a timestamp; other
// CSV columns are text, Parquet columns keep their type. An empty cell is a
// missing value. A column the file lacks is a *DataError naming it.
func ReadSourceFrame(fsys fs.FS, src *schema.Source, columns []string) (*Frame, error) {
	format, err := sourceFormat(src)
	if err != nil {
		return nil, err
	}
	f, err := openData(fsys, src.Path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rows rowReader
	if format == "parquet" {
		ra, size, _, err := readAllAt(f)
		if err != nil {
			return nil, fmt.Errorf("read data file %s: %w", src.Path, err)
		}
		rows, err = newParquetRows(src.Path, ra, size)
		if err != nil {
			return nil, err
		}
	} else if rows, err = newCSVRows(src.Path, f); err != nil {
		return nil, err
	}
	return readColumns(rows, src.Timestamp, columns)
}

// readColumns collects columns from rows; each column's type is that of
// its first present cell, and a later cell of another kind is an error.
func readColumns(rows rowReader, timestamp string, columns []string) (*Frame, error) {
	header := rows.columns()
	idx := make([]int, len(columns))
	out := &Frame{Columns: make([]*Column, len(columns))}
	for i, name := range columns {
		idx[i] = -1
		for j, h := range header {
			if h == name {
				idx[i] = j
			}
		}
		if idx[i] < 0 {
			return nil, rows.headerFail(name, "missing (have: "+strings.Join(header, ", ")+")")
		}
		out.Columns[i] = &Column{Name: name}
	}
	cells := make([]cell, len(header))
	for n := 0; ; n++ {
		if err := rows.next(cells); err == io.EOF {
			for _, c := range out.Columns {
				if c.Type == "" { // every value missing
					c.Type = TypeString
					c.Strings = make([]string, len(c.Null))
				}
			}
			return out, nil
		} else if err != nil {
			return nil, err
		}
		for i, c := range out.Columns {
			if err := appendSourceCell(c, cells[idx[i]], c.Name == timestamp, n); err != nil {
				return nil, rows.fail(c.Name, err.Error())
			}
		}
	}
}

// appendSourceCell appends row n's cell to c, typing c by its first present cell.
func appendSourceCell(c *Column, v cell, isTime bool, n int) error {
	if v.kind == cellText && len(v.b) == 0 {
		v.kind = cellNull
	}
	if isTime && v.kind == cellText {
		t, err := parseTimestamp(v.b)
		if err != nil {
			return fmt.Errorf("%s: %v", parseMsg(v.b, "timestamp"), err)
		}
		v = cell{kind: cellTime, i: t}
	}
	if v.kind == cellNull {
		if isTime {
			return fmt.Errorf("empty timestamp")
		}
		if c.Type == "" {
			// Untyped so far: remember the row, typed when a value comes.
			c.Null = append(c.Null, true)
			return nil
		}
		appendZero(c)
		if c.Null == nil {
			c.Null = make([]bool, n)
		}
		c.Null = append(c.Null, true)
		return nil
	}
	typ := sourceCellType(v.kind)
	if c.Type == "" {
		c.Type = typ
		for range c.Null {
			appendZero(c)
		}
	} else if c.Type != typ {
		return fmt.Errorf("a %s value in a column of %s values", typ, c.Type)
	}
	switch v.kind {
	case cellInt, cellTime:
		c.Ints = append(c.Ints, v.i)
	case cellFloat:
		c.Floats = append(c.Floats, v.f)
	case cellBool:
		c.Bools = append(c.Bools, v.i != 0)
	default:
		c.Strings = append(c.Strings, string(v.b))
	}
	if c.Null != nil {
		c.Null = append(c.Null, false)
	}
	return nil
}

func sourceCellType(k cellKind) string {
	switch k {
	case cellInt:
		return TypeInt64
	case cellFloat:
		return TypeFloat64
	case cellBool:
		return TypeBool
	case cellTime:
		return TypeTimestamp
	}
	return TypeString
}

func appendZero(c *Column) {
	switch c.Type {
	case TypeInt64, TypeTimestamp:
		c.Ints = append(c.Ints, 0)
	case TypeFloat64:
		c.Floats = append(c.Floats, 0)
	case TypeBool:
		c.Bools = append(c.Bools, false)
	default:
		c.Strings = append(c.Strings, "")
	}
}
