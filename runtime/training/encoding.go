package training

import (
	"fmt"
	"math"
	"sort"
)

// Encoding turns a frame's raw feature columns into the feature matrix a
// model was fitted on: each numeric column, standardised, takes one
// position; each string column takes one position per category, one-hot.
// It is part of every built-in model, so the exported graph takes the raw
// columns (runtime/onnx's Features with one Column per entry).
type Encoding struct {
	Columns []EncodedColumn
}

// EncodedColumn is one raw feature column and how it is encoded.
type EncodedColumn struct {
	Name string
	// Categorical columns hold strings, one-hot encoded over Categories
	// (sorted, as scikit-learn's OneHotEncoder sorts them); a value not
	// among them encodes as all zeros.
	Categorical bool
	Categories  []string
	// Mean and Std standardise a numeric column as (x - Mean) / Std; a Std
	// of 0 counts as 1, as scikit-learn's StandardScaler does for a
	// constant column. Mean 0 and Std 1 leave the column as it is.
	Mean, Std float64
}

// fitEncoding learns the encoding of f's feature columns: the categories
// of string columns and, when standardise is set, the mean and population
// standard deviation of numeric ones (else Mean 0, Std 1).
func fitEncoding(f *Frame, standardise bool) Encoding {
	var e Encoding
	for _, c := range f.Features() {
		if c.IsString() {
			e.Columns = append(e.Columns, EncodedColumn{Name: c.Name, Categorical: true, Categories: categories(c.Strings)})
			continue
		}
		ec := EncodedColumn{Name: c.Name, Std: 1}
		if standardise {
			ec.Mean, ec.Std = meanStd(c.Floats)
		}
		e.Columns = append(e.Columns, ec)
	}
	return e
}

func categories(values []string) []string {
	seen := map[string]bool{}
	var cats []string
	for _, v := range values {
		if !seen[v] {
			seen[v] = true
			cats = append(cats, v)
		}
	}
	sort.Strings(cats)
	return cats
}

// meanStd returns the mean and population standard deviation of xs,
// computed in two passes for accuracy.
func meanStd(xs []float64) (mean, std float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(xs)))
}

// Width returns the number of encoded features.
func (e Encoding) Width() int {
	d := 0
	for _, c := range e.Columns {
		if c.Categorical {
			d += len(c.Categories)
		} else {
			d++
		}
	}
	return d
}

// Names returns the encoded features' names: a numeric column's name, or
// "column=category" for a one-hot position.
func (e Encoding) Names() []string {
	var names []string
	for _, c := range e.Columns {
		if !c.Categorical {
			names = append(names, c.Name)
			continue
		}
		for _, cat := range c.Categories {
			names = append(names, c.Name+"="+cat)
		}
	}
	return names
}

// Matrix encodes f's feature columns as a row-major n×Width matrix. Every
// encoded column must be in f with the same kind; other columns (the
// label among them) are ignored.
func (e Encoding) Matrix(f *Frame) ([]float64, error) {
	cols := make([]*Column, len(e.Columns))
	for k, ec := range e.Columns {
		c := f.Column(ec.Name)
		switch {
		case c == nil:
			return nil, fmt.Errorf("feature column %q missing from the dataset", ec.Name)
		case c.IsString() != ec.Categorical:
			return nil, fmt.Errorf("feature column %q holds %s, the model was trained on %s", ec.Name, kindOf(c.IsString()), kindOf(ec.Categorical))
		}
		cols[k] = c
	}
	n, d := f.Rows(), e.Width()
	x := make([]float64, n*d)
	indexes := make([]map[string]int, len(e.Columns))
	for k, ec := range e.Columns {
		if ec.Categorical {
			indexes[k] = make(map[string]int, len(ec.Categories))
			for c, cat := range ec.Categories {
				indexes[k][cat] = c
			}
		}
	}
	// Row chunks, not columns, go to the threads, so no two write to the
	// same cache line.
	forChunks(n, 0, func(_, lo, hi int) {
		j := 0
		for k, ec := range e.Columns {
			if ec.Categorical {
				for i, v := range cols[k].Strings[lo:hi] {
					if c, ok := indexes[k][v]; ok {
						x[(lo+i)*d+j+c] = 1
					}
				}
				j += len(ec.Categories)
				continue
			}
			std := ec.Std
			if std == 0 {
				std = 1
			}
			for i, v := range cols[k].Floats[lo:hi] {
				x[(lo+i)*d+j] = (v - ec.Mean) / std
			}
			j++
		}
	})
	return x, nil
}

func kindOf(isString bool) string {
	if isString {
		return "strings"
	}
	return "numbers"
}
