package features

import (
	"io"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/format"
)

// parquetRows reads the top-level columns of a Parquet file row by row.
type parquetRows struct {
	file   string
	names  []string
	leaf   map[int]int // leaf column index → position in names
	decode []func(parquet.Value) cell
	groups []parquet.RowGroup
	rows   parquet.Rows
	buf    []parquet.Row
	n, i   int
	row    int // 1-based row last read
}

// newParquetRows opens a Parquet file held by ra.
func newParquetRows(file string, ra io.ReaderAt, size int64) (*parquetRows, error) {
	f, err := parquet.OpenFile(ra, size, parquet.SkipBloomFilters(true), parquet.SkipPageIndex(true))
	if err != nil {
		return nil, &DataError{File: file, Msg: "not a parquet file: " + err.Error()}
	}
	r := &parquetRows{file: file, leaf: map[int]int{}, groups: f.RowGroups(), buf: make([]parquet.Row, 256)}
	for _, fd := range f.Schema().Fields() {
		leaf, ok := f.Schema().Lookup(fd.Name())
		if !ok || !fd.Leaf() || fd.Repeated() {
			continue // nested and repeated columns cannot be features
		}
		r.leaf[leaf.ColumnIndex] = len(r.names)
		r.names = append(r.names, fd.Name())
		r.decode = append(r.decode, parquetDecoder(fd.Type()))
	}
	return r, nil
}

func (r *parquetRows) columns() []string { return r.names }

func (r *parquetRows) next(cells []cell) error {
	for r.i == r.n {
		if err := r.fill(); err != nil {
			return err
		}
	}
	row := r.buf[r.i]
	r.i++
	r.row++
	for j := range cells {
		cells[j] = cell{}
	}
	for _, v := range row {
		if j, ok := r.leaf[v.Column()]; ok {
			if v.IsNull() {
				cells[j] = cell{}
			} else {
				cells[j] = r.decode[j](v)
			}
		}
	}
	return nil
}

// fill reads the next rows, moving on to the next row group when one ends.
func (r *parquetRows) fill() error {
	if r.rows == nil {
		if len(r.groups) == 0 {
			return io.EOF
		}
		r.rows, r.groups = r.groups[0].Rows(), r.groups[1:]
	}
	n, err := r.rows.ReadRows(r.buf)
	r.n, r.i = n, 0
	if err == io.EOF {
		r.rows.Close()
		r.rows = nil
		err = nil
	}
	if err != nil {
		return &DataError{File: r.file, Row: r.row + 1, Msg: "read parquet: " + err.Error()}
	}
	return nil
}

func (r *parquetRows) fail(column, msg string) error {
	return &DataError{File: r.file, Row: r.row, Column: column, Msg: msg}
}

func (r *parquetRows) headerFail(column, msg string) error {
	return &DataError{File: r.file, Column: column, Msg: msg}
}

// parquetDecoder turns a column's values into cells by physical and
// logical type: timestamps and dates become times, strings text.
func parquetDecoder(t parquet.Type) func(parquet.Value) cell {
	var lt format.LogicalTypeValue
	if l := t.LogicalType(); l != nil {
		lt = l.Value
	}
	ct := t.ConvertedType()
	switch t.Kind() {
	case parquet.Boolean:
		return func(v parquet.Value) cell { return cell{kind: cellBool, i: b2i(v.Boolean())} }
	case parquet.Int32:
		if _, ok := lt.(*format.DateType); ok || (ct != nil && *ct == deprecated.Date) {
			return func(v parquet.Value) cell { return cell{kind: cellTime, i: int64(v.Int32()) * int64(24*time.Hour)} }
		}
		if it, ok := lt.(*format.IntType); ok && !it.IsSigned {
			return func(v parquet.Value) cell { return cell{kind: cellInt, i: int64(uint32(v.Int32()))} }
		}
		return func(v parquet.Value) cell { return cell{kind: cellInt, i: int64(v.Int32())} }
	case parquet.Int64:
		if unit := timestampUnit(lt, ct); unit > 0 {
			return func(v parquet.Value) cell { return cell{kind: cellTime, i: v.Int64() * int64(unit)} }
		}
		return func(v parquet.Value) cell { return cell{kind: cellInt, i: v.Int64()} }
	case parquet.Int96:
		// Impala's timestamps: nanoseconds of the day, then the Julian day.
		return func(v parquet.Value) cell {
			x := v.Int96()
			nanos := int64(x[1])<<32 | int64(x[0])
			return cell{kind: cellTime, i: (int64(x[2])-2440588)*int64(24*time.Hour) + nanos}
		}
	case parquet.Float:
		return func(v parquet.Value) cell { return cell{kind: cellFloat, f: float64(v.Float())} }
	case parquet.Double:
		return func(v parquet.Value) cell { return cell{kind: cellFloat, f: v.Double()} }
	default:
		return func(v parquet.Value) cell { return cell{kind: cellText, b: v.ByteArray()} }
	}
}

func timestampUnit(lt format.LogicalTypeValue, ct *deprecated.ConvertedType) time.Duration {
	if ts, ok := lt.(*format.TimestampType); ok && ts.Unit.Value != nil {
		return ts.Unit.Value.Duration()
	}
	if ct != nil {
		switch *ct {
		case deprecated.TimestampMillis:
			return time.Millisecond
		case deprecated.TimestampMicros:
			return time.Microsecond
		}
	}
	return 0
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
