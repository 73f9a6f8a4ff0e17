package features

import (
	"fmt"
	"io"
	"strings"
)

// rowReader yields a source's rows as cells, one per column.
type rowReader interface {
	columns() []string
	// next fills cells with the next row; io.EOF after the last.
	next(cells []cell) error
	// fail is a *DataError at the row last read.
	fail(column, msg string) error
	// headerFail is a *DataError about the file's columns.
	headerFail(column, msg string) error
}

// csvRows reads a CSV file whose first record names the columns.
type csvRows struct {
	file   string
	cr     *csvReader
	header []string
	line   int
}

// newCSVRows reads the header of a CSV file.
func newCSVRows(file string, r io.Reader) (*csvRows, error) {
	cr := newCSVReader(r)
	fields, _, err := cr.read()
	if err == io.EOF {
		return nil, &DataError{File: file, Line: 1, Msg: "empty file: want a header naming the columns"}
	}
	if err != nil {
		return nil, &DataError{File: file, Line: 1, Msg: err.Error()}
	}
	rows := &csvRows{file: file, cr: cr, line: 1}
	for _, f := range fields {
		rows.header = append(rows.header, strings.TrimSpace(string(f)))
	}
	return rows, nil
}

func (r *csvRows) columns() []string { return r.header }

func (r *csvRows) next(cells []cell) error {
	fields, line, err := r.cr.read()
	if err == io.EOF {
		return io.EOF
	}
	r.line = line
	if err != nil {
		return r.fail("", err.Error())
	}
	if len(fields) != len(r.header) {
		return r.fail("", fmt.Sprintf("record has %d fields, the header has %d", len(fields), len(r.header)))
	}
	for j, f := range fields {
		cells[j] = cell{kind: cellText, b: f}
	}
	return nil
}

func (r *csvRows) fail(column, msg string) error {
	return &DataError{File: r.file, Line: r.line, Column: column, Msg: msg}
}

func (r *csvRows) headerFail(column, msg string) error {
	return &DataError{File: r.file, Line: 1, Column: column, Msg: msg}
}
