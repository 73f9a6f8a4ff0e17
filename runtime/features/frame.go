package features

import (
	"fmt"
	"time"
)

// EventTimestamp is the column of an entity frame that holds each row's
// point in time.
const EventTimestamp = "event_timestamp"

// Frame is a table of typed columns of equal length: the entity rows a
// historical retrieval is asked for and the training set it returns.
type Frame struct {
	Columns []*Column
}

// Column is one typed column of a Frame. The slice that Type names holds
// the values; Null, when not nil, marks the missing ones.
type Column struct {
	Name string
	// Type is int64, float64, string, bool or timestamp.
	Type    string
	Ints    []int64 // int64; timestamp as unix nanoseconds
	Floats  []float64
	Strings []string
	Bools   []bool
	Null    []bool
}

// NewColumn makes a column of n zero values.
func NewColumn(name, typ string, n int) *Column {
	c := &Column{Name: name, Type: typ}
	switch typ {
	case TypeInt64, TypeTimestamp:
		c.Ints = make([]int64, n)
	case TypeFloat64:
		c.Floats = make([]float64, n)
	case TypeBool:
		c.Bools = make([]bool, n)
	default:
		c.Strings = make([]string, n)
	}
	return c
}

// Len is the number of values.
func (c *Column) Len() int {
	switch c.Type {
	case TypeInt64, TypeTimestamp:
		return len(c.Ints)
	case TypeFloat64:
		return len(c.Floats)
	case TypeBool:
		return len(c.Bools)
	}
	return len(c.Strings)
}

// IsNull reports whether value i is missing.
func (c *Column) IsNull(i int) bool { return c.Null != nil && c.Null[i] }

// SetNull marks value i missing.
func (c *Column) SetNull(i int) {
	if c.Null == nil {
		c.Null = make([]bool, c.Len())
	}
	c.Null[i] = true
}

// Value is value i as int64, float64, string, bool or time.Time; nil when
// missing.
func (c *Column) Value(i int) any {
	if c.IsNull(i) {
		return nil
	}
	switch c.Type {
	case TypeInt64:
		return c.Ints[i]
	case TypeTimestamp:
		return time.Unix(0, c.Ints[i]).UTC()
	case TypeFloat64:
		return c.Floats[i]
	case TypeBool:
		return c.Bools[i]
	}
	return c.Strings[i]
}

// Len is the number of rows.
func (f *Frame) Len() int {
	if len(f.Columns) == 0 {
		return 0
	}
	return f.Columns[0].Len()
}

// Column returns the named column, or nil.
func (f *Frame) Column(name string) *Column {
	for _, c := range f.Columns {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// check reports a frame whose columns differ in length.
func (f *Frame) check() error {
	for _, c := range f.Columns {
		if c.Len() != f.Len() {
			return fmt.Errorf("frame column %s has %d values, column %s has %d", c.Name, c.Len(), f.Columns[0].Name, f.Len())
		}
		if c.Null != nil && len(c.Null) != c.Len() {
			return fmt.Errorf("frame column %s has %d values and %d null marks", c.Name, c.Len(), len(c.Null))
		}
	}
	return nil
}
