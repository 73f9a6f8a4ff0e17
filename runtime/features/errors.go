package features

import (
	"errors"
	"fmt"
	"strings"
)

// DataError is a data file that does not match what its source and view
// declare: a missing column, a value that does not parse as the declared
// type, a bad timestamp. It names the file, the place in it and the column,
// so that a person can go and fix the file.
type DataError struct {
	// File is the data file's path as the source declares it.
	File string
	// Line is the 1-based line of a CSV file where the bad record starts;
	// 0 for Parquet files and for problems of the whole file.
	Line int
	// Row is the 1-based row of a Parquet file; 0 for CSV files.
	Row int
	// Column is the source column (or, for a failing expression, the
	// view field) at fault; empty when the problem is a whole record.
	Column string
	// Msg says what is wrong.
	Msg string
}

// Error reads like a compiler's message:
//
//	data/x.csv:17: column amount: parse "abc" as float64
func (e *DataError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	switch {
	case e.Line > 0:
		fmt.Fprintf(&b, ":%d", e.Line)
	case e.Row > 0:
		fmt.Fprintf(&b, ": row %d", e.Row)
	}
	b.WriteString(": ")
	if e.Column != "" {
		fmt.Fprintf(&b, "column %s: ", e.Column)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// IsDataError reports whether err is, or wraps, a *DataError: the data is
// at fault, not Sluice or the state file.
func IsDataError(err error) bool {
	var de *DataError
	return errors.As(err, &de)
}
