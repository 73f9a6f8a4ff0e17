package training

import (
	"math"
	"strconv"
	"time"
)

// Manifest describes a dataset for a run's record (MLflow's dataset
// profile): its fingerprint, size, columns and, for classification, how
// many rows each class has. It is what the run's dataset manifest
// artifact holds, as JSON.
type Manifest struct {
	Digest  string           `json:"digest"`
	Rows    int              `json:"rows"`
	Label   string           `json:"label"`
	Columns []ManifestColumn `json:"columns"`
	// TimeFrom and TimeTo bound the rows' event times, when they have any.
	TimeFrom *time.Time `json:"time_from,omitempty"`
	TimeTo   *time.Time `json:"time_to,omitempty"`
	// Classes counts the rows of each class label, for classification.
	Classes map[string]int `json:"classes,omitempty"`
}

// ManifestColumn summarises one column: numbers by their range and mean,
// strings by their count of distinct values.
type ManifestColumn struct {
	Name     string   `json:"name"`
	Type     string   `json:"type"` // "number" or "string"
	Min      *float64 `json:"min,omitempty"`
	Max      *float64 `json:"max,omitempty"`
	Mean     *float64 `json:"mean,omitempty"`
	Distinct int      `json:"distinct,omitempty"`
}

// Describe returns f's manifest for a model of task.
func Describe(f *Frame, task string) Manifest {
	m := Manifest{Digest: Fingerprint(f), Rows: f.Rows(), Label: f.Label}
	for _, c := range f.Columns {
		mc := ManifestColumn{Name: c.Name, Type: "number"}
		if c.IsString() {
			mc.Type = "string"
			mc.Distinct = len(categories(c.Strings))
		} else if len(c.Floats) > 0 {
			lo, hi, sum := math.Inf(1), math.Inf(-1), 0.0
			for _, v := range c.Floats {
				lo, hi, sum = math.Min(lo, v), math.Max(hi, v), sum+v
			}
			mean := sum / float64(len(c.Floats))
			mc.Min, mc.Max, mc.Mean = &lo, &hi, &mean
		}
		m.Columns = append(m.Columns, mc)
	}
	if len(f.Time) > 0 {
		from, to := f.Time[0], f.Time[0]
		for _, t := range f.Time {
			if t.Before(from) {
				from = t
			}
			if t.After(to) {
				to = t
			}
		}
		from, to = from.UTC(), to.UTC()
		m.TimeFrom, m.TimeTo = &from, &to
	}
	if label := f.Column(f.Label); task == TaskClassification && label != nil && !label.IsString() {
		m.Classes = map[string]int{}
		for _, v := range label.Floats {
			m.Classes[strconv.FormatFloat(v, 'g', -1, 64)]++
		}
	}
	return m
}
