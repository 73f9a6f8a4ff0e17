package drift

import (
	"fmt"
	"math"
	"time"
)

// ReferenceSampleSize bounds the sorted sample a numerical feature's
// reference keeps for KS and Wasserstein. A reference of at most this many
// rows is kept whole, so its statistics equal scipy's on the same data;
// above it the sample is the values at evenly spaced ranks.
const ReferenceSampleSize = 10000

// referenceChunks is how many chunks the reference is cut into for the
// NannyML-style "std" threshold: NannyML's default chunker makes 10.
const referenceChunks = 10

// Reference is the training data of one model version, fitted once into
// what every statistic needs, so a drift check never reads the training
// set again (Evidently recomputes it on every report).
type Reference struct {
	Model    string                       `json:"model"`
	Version  int                          `json:"version"`
	Rows     int64                        `json:"rows"`
	FittedAt time.Time                    `json:"fitted_at"`
	Features map[string]*FeatureReference `json:"features"`
}

// FeatureReference is one feature's sketch of the reference.
type FeatureReference struct {
	Name      string `json:"name"`
	Numerical bool   `json:"numerical"`
	// Rows counts every row, Missing those without a value.
	Rows    int64 `json:"rows"`
	Missing int64 `json:"missing"`
	// Sample is the sorted bounded sample (numerical).
	Sample []float64 `json:"sample,omitempty"`
	// Edges are the DefaultBins quantile edges of all the values, and
	// BinCounts how many values fall in each bin (numerical).
	Edges     []float64 `json:"edges,omitempty"`
	BinCounts []int64   `json:"bin_counts,omitempty"`
	// Std is the population standard deviation of all the values.
	Std float64 `json:"std"`
	// Counts are the categories' counts, or a numerical feature's distinct
	// values when it has at most maxDistinct (nil: more).
	Counts map[string]int64 `json:"counts,omitempty"`
	// Chunks are each method's statistic over referenceChunks contiguous
	// chunks of the reference against the whole of it, for std thresholds.
	Chunks map[string]ChunkStats `json:"chunks,omitempty"`
}

// ChunkStats are the mean and population standard deviation of a
// statistic over the reference's chunks.
type ChunkStats struct {
	Mean float64 `json:"mean"`
	Std  float64 `json:"std"`
}

// Fit fits the reference of a model version from its training columns.
func Fit(model string, version int, cols []Column, now time.Time) (*Reference, error) {
	ref := &Reference{Model: model, Version: version, FittedAt: now.UTC(), Features: map[string]*FeatureReference{}}
	for i, c := range cols {
		if i == 0 {
			ref.Rows = int64(c.Len())
		} else if int64(c.Len()) != ref.Rows {
			return nil, fmt.Errorf("fit reference: column %s has %d rows, %s has %d", c.Name, c.Len(), cols[0].Name, ref.Rows)
		}
		if _, dup := ref.Features[c.Name]; dup {
			return nil, fmt.Errorf("fit reference: column %s given twice", c.Name)
		}
		ref.Features[c.Name] = FitColumn(c)
	}
	return ref, nil
}

// FitColumn fits one feature's reference. Fitting column by column keeps
// one column in memory at a time, however many features there are.
func FitColumn(c Column) *FeatureReference {
	s := summarize(c)
	f := &FeatureReference{Name: c.Name, Numerical: c.Numerical(), Rows: s.rows, Missing: s.missing, Counts: s.counts}
	if c.Numerical() && len(s.sorted) > 0 {
		f.Sample = boundedSample(s.sorted)
		f.Edges = QuantileEdges(s.sorted, DefaultBins)
		f.BinCounts = histogramSorted(f.Edges, s.sorted)
		f.Std = Std(s.sorted)
	}
	f.Chunks = chunkStats(c, f)
	return f
}

// boundedSample keeps a sorted sample whole up to ReferenceSampleSize, and
// otherwise the values at the midpoints of evenly spaced rank intervals.
func boundedSample(sorted []float64) []float64 {
	n := len(sorted)
	if n <= ReferenceSampleSize {
		return append([]float64(nil), sorted...)
	}
	out := make([]float64, ReferenceSampleSize)
	for i := range out {
		out[i] = sorted[int((float64(i)+0.5)*float64(n)/ReferenceSampleSize)]
	}
	return out
}

// chunkStats computes each applicable method's statistic for contiguous
// chunks of the reference against the whole reference.
func chunkStats(c Column, f *FeatureReference) map[string]ChunkStats {
	n := c.Len()
	if n < 2*referenceChunks {
		return nil
	}
	methods := categoricalMethods
	if c.Numerical() {
		methods = numericalMethods
	}
	values := map[string][]float64{}
	for k := 0; k < referenceChunks; k++ {
		lo, hi := k*n/referenceChunks, (k+1)*n/referenceChunks
		chunk := summarize(slice(c, lo, hi))
		for _, m := range methods {
			r := compare(m, f, chunk, 0)
			if r.err == "" && !math.IsNaN(r.value) && !math.IsInf(r.value, 0) {
				values[m] = append(values[m], r.value)
			}
		}
	}
	out := map[string]ChunkStats{}
	for m, vs := range values {
		mean := 0.0
		for _, v := range vs {
			mean += v
		}
		mean /= float64(len(vs))
		out[m] = ChunkStats{Mean: mean, Std: Std(vs)}
	}
	return out
}

func slice(c Column, lo, hi int) Column {
	if c.Numerical() {
		return Column{Name: c.Name, Numbers: c.Numbers[lo:hi]}
	}
	return Column{Name: c.Name, Strings: c.Strings[lo:hi]}
}
