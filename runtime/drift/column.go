package drift

import (
	"math"
	"slices"
	"strconv"
)

// Column is one feature's values over a set of rows: numerical when
// Strings is nil, categorical otherwise. A NaN or infinite number and an
// empty string are missing values: they count toward the missing rate and
// are left out of every distribution statistic.
type Column struct {
	Name    string
	Numbers []float64
	Strings []string
}

// Numerical says whether the column holds numbers.
func (c Column) Numerical() bool { return c.Strings == nil }

// Len is the column's number of rows, missing ones included.
func (c Column) Len() int {
	if c.Numerical() {
		return len(c.Numbers)
	}
	return len(c.Strings)
}

// Source gives a set of rows one column at a time, so a report over many
// columns holds only one of them in memory.
type Source interface {
	// Rows is the number of rows.
	Rows() int64
	// Column returns a column's values; ok is false when the source has
	// no such column.
	Column(name string) (col Column, ok bool, err error)
}

// Frame is a Source held in memory.
type Frame struct {
	N       int64
	Columns map[string]Column
}

// Rows implements Source.
func (f *Frame) Rows() int64 { return f.N }

// Column implements Source.
func (f *Frame) Column(name string) (Column, bool, error) {
	c, ok := f.Columns[name]
	return c, ok, nil
}

// summary is what the statistics need from one sample of a feature.
type summary struct {
	rows, missing int64
	// sorted holds the finite numbers, ascending.
	sorted []float64
	// counts holds the categories, or a numerical feature's distinct values
	// (formatted) while there are at most maxDistinct of them.
	counts map[string]int64
}

// maxDistinct is how many distinct values of a numerical feature are
// counted: enough to apply Evidently's "at most 5 unique values" rule and
// to test such a feature as categories.
const maxDistinct = 64

func summarize(c Column) summary {
	s := summary{rows: int64(c.Len()), counts: map[string]int64{}}
	if !c.Numerical() {
		for _, v := range c.Strings {
			if v == "" {
				s.missing++
				continue
			}
			s.counts[v]++
		}
		return s
	}
	s.sorted = make([]float64, 0, len(c.Numbers))
	for _, v := range c.Numbers {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			s.missing++
			continue
		}
		s.sorted = append(s.sorted, v)
	}
	sortFloats(s.sorted)
	s.counts = distinctSorted(s.sorted)
	return s
}

// distinctSorted counts the distinct values of a sorted sample, or returns
// nil when there are more than maxDistinct.
func distinctSorted(sorted []float64) map[string]int64 {
	m := map[string]int64{}
	for i := 0; i < len(sorted); {
		j := i
		for j < len(sorted) && sorted[j] == sorted[i] {
			j++
		}
		if len(m) == maxDistinct {
			return nil
		}
		m[formatNumber(sorted[i])] = int64(j - i)
		i = j
	}
	return m
}

func formatNumber(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// sortFloats sorts finite floats ascending; a radix sort on their bit
// patterns, several times faster than a comparison sort on large columns.
func sortFloats(xs []float64) {
	if len(xs) < 4096 {
		slices.Sort(xs)
		return
	}
	radixSort(xs)
}
