package training

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Column is one named column of a Frame: numbers (Floats) or strings
// (Strings), never both.
type Column struct {
	Name    string
	Floats  []float64
	Strings []string
}

// IsString reports whether c holds strings.
func (c *Column) IsString() bool { return c.Strings != nil }

// Len returns the number of values in c.
func (c *Column) Len() int {
	if c.Strings != nil {
		return len(c.Strings)
	}
	return len(c.Floats)
}

// Frame is a training dataset: named columns of equal length, one of which
// is the label, and optionally every row's event time.
type Frame struct {
	// Columns hold the features and the label, in the order the model
	// takes the features.
	Columns []Column
	// Label names the column holding the label.
	Label string
	// Time is each row's event time, nil when the rows have none; a split
	// by time needs it.
	Time []time.Time
}

// Rows returns the number of rows.
func (f *Frame) Rows() int {
	if len(f.Columns) == 0 {
		return len(f.Time)
	}
	return f.Columns[0].Len()
}

// Column returns the column called name, or nil.
func (f *Frame) Column(name string) *Column {
	for i := range f.Columns {
		if f.Columns[i].Name == name {
			return &f.Columns[i]
		}
	}
	return nil
}

// Features returns the columns other than the label, in order.
func (f *Frame) Features() []Column {
	out := make([]Column, 0, len(f.Columns))
	for _, c := range f.Columns {
		if c.Name != f.Label {
			out = append(out, c)
		}
	}
	return out
}

// Check reports what makes f unusable for training a model for task
// ("classification" or "regression"): an empty frame, a missing or
// misshapen label, columns of unequal length, duplicate names, missing
// feature values, and for classification a label with fewer than two
// classes or values that are not integers.
func (f *Frame) Check(task string) error {
	if err := f.checkShape(); err != nil {
		return err
	}
	label := f.Column(f.Label)
	if label.IsString() {
		return fmt.Errorf("label column %q holds strings; labels must be numbers (class labels are integers)", f.Label)
	}
	for row, v := range label.Floats {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("label column %q row %d: value %v, want a finite number", f.Label, row+1, v)
		}
	}
	if task == TaskClassification {
		if _, err := ClassesOf(label); err != nil {
			return err
		}
	}
	return nil
}

// checkShape reports what is wrong with f regardless of the task.
func (f *Frame) checkShape() error {
	if f.Label == "" {
		return errors.New("no label column named")
	}
	if f.Column(f.Label) == nil {
		return fmt.Errorf("label column %q missing (columns: %s)", f.Label, strings.Join(f.names(), ", "))
	}
	n := f.Rows()
	if n == 0 {
		return errors.New("empty dataset: no rows")
	}
	seen := map[string]bool{}
	for _, c := range f.Columns {
		if seen[c.Name] {
			return fmt.Errorf("column %q appears twice", c.Name)
		}
		seen[c.Name] = true
		if c.Floats != nil && c.Strings != nil {
			return fmt.Errorf("column %q holds both numbers and strings", c.Name)
		}
		if c.Len() != n {
			return fmt.Errorf("column %q has %d rows, column %q has %d", c.Name, c.Len(), f.Columns[0].Name, n)
		}
	}
	if f.Time != nil && len(f.Time) != n {
		return fmt.Errorf("event time has %d rows, columns have %d", len(f.Time), n)
	}
	if len(f.Columns) < 2 {
		return errors.New("no feature columns besides the label")
	}
	for _, c := range f.Features() {
		for row, v := range c.Floats {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("column %q row %d: value %v; built-in trainers need finite numbers (impute missing values first)", c.Name, row+1, v)
			}
		}
	}
	return nil
}

func (f *Frame) names() []string {
	names := make([]string, len(f.Columns))
	for i, c := range f.Columns {
		names[i] = c.Name
	}
	return names
}

// Take returns a frame of f's rows at rows, in that order.
func (f *Frame) Take(rows []int) *Frame {
	out := &Frame{Label: f.Label, Columns: make([]Column, len(f.Columns))}
	for i, c := range f.Columns {
		nc := Column{Name: c.Name}
		if c.Strings != nil {
			nc.Strings = make([]string, len(rows))
			for j, r := range rows {
				nc.Strings[j] = c.Strings[r]
			}
		} else {
			nc.Floats = make([]float64, len(rows))
			for j, r := range rows {
				nc.Floats[j] = c.Floats[r]
			}
		}
		out.Columns[i] = nc
	}
	if f.Time != nil {
		out.Time = make([]time.Time, len(rows))
		for j, r := range rows {
			out.Time[j] = f.Time[r]
		}
	}
	return out
}

// ClassesOf returns the sorted distinct labels of a classification label
// column, which must be integers and at least two.
func ClassesOf(label *Column) ([]int64, error) {
	seen := map[int64]bool{}
	for row, v := range label.Floats {
		if v != math.Trunc(v) || math.Abs(v) > 1<<53 {
			return nil, fmt.Errorf("label column %q row %d: %v is not an integer class label", label.Name, row+1, v)
		}
		seen[int64(v)] = true
	}
	classes := make([]int64, 0, len(seen))
	for c := range seen {
		classes = append(classes, c)
	}
	sort.Slice(classes, func(i, j int) bool { return classes[i] < classes[j] })
	switch len(classes) {
	case 0:
		return nil, fmt.Errorf("label column %q is empty", label.Name)
	case 1:
		return nil, fmt.Errorf("label column %q has one class (%d) in %d rows; classification needs at least two", label.Name, classes[0], label.Len())
	}
	return classes, nil
}

// Tasks an experiment may declare.
const (
	TaskClassification = "classification"
	TaskRegression     = "regression"
)
