package engine

import (
	"context"
	"fmt"
	"io/fs"
	"math"
	"strconv"
	"strings"
	"time"

	"sluice/runtime/features"
	"sluice/runtime/training"
	"sluice/schema"
)

// dataset is an experiment's training frame and what was left out of it.
type dataset struct {
	Frame *training.Frame
	// Dropped counts label rows without a value for some feature (no
	// feature row at or before their time within the view's TTL): built-in
	// trainers need every value, and Sluice does not impute silently.
	Dropped int
}

// buildDataset reads the experiment's label rows (join keys, event time,
// label) from its label source, joins its "view:field" features point in
// time, and converts the result to a training frame: feature columns in
// the experiment's order, the label as numbers, each row's event time.
func buildDataset(ctx context.Context, h FeatureHistory, fsys fs.FS, spec *schema.Spec, exp *schema.Experiment) (*dataset, error) {
	src := spec.Sources[exp.Label.Source]
	if src == nil {
		return nil, fmt.Errorf("label source %q: not declared", exp.Label.Source)
	}
	var cols []string
	for _, e := range exp.Label.Entities {
		ent := spec.Entities[e]
		if ent == nil {
			return nil, fmt.Errorf("label entity %q: not declared", e)
		}
		cols = append(cols, ent.JoinKey)
	}
	keys := len(cols)
	cols = append(cols, src.Timestamp, exp.Label.Column)
	labels, err := features.ReadSourceFrame(fsys, src, cols)
	if err != nil {
		return nil, fmt.Errorf("label source %s: %w", exp.Label.Source, err)
	}
	if labels.Len() == 0 {
		return nil, fmt.Errorf("label source %s: no rows", exp.Label.Source)
	}
	ents := &features.Frame{Columns: labels.Columns[:keys+1]}
	joined, err := h.History(ctx, features.HistoryRequest{Entities: ents, Features: exp.Features, TimestampColumn: src.Timestamp})
	if err != nil {
		return nil, err
	}
	label := labels.Columns[keys+1]
	y, err := labelValues(label)
	if err != nil {
		return nil, fmt.Errorf("label source %s: %w", exp.Label.Source, err)
	}
	return toTrainingFrame(joined.Columns[keys+1:], label.Name, y, labels.Columns[keys])
}

// labelValues reads a label column as numbers: classes or targets. CSV
// labels arrive as text and must parse.
func labelValues(c *features.Column) ([]float64, error) {
	y := make([]float64, c.Len())
	for i := range y {
		if c.IsNull(i) {
			return nil, fmt.Errorf("row %d: column %s: missing label", i+1, c.Name)
		}
		switch v := c.Value(i).(type) {
		case int64:
			y[i] = float64(v)
		case float64:
			y[i] = v
		case bool:
			if v {
				y[i] = 1
			}
		case string:
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return nil, fmt.Errorf("row %d: column %s: label %q is not a number", i+1, c.Name, v)
			}
			y[i] = f
		default:
			return nil, fmt.Errorf("column %s: a %s label; want numbers", c.Name, c.Type)
		}
		if math.IsNaN(y[i]) || math.IsInf(y[i], 0) {
			return nil, fmt.Errorf("row %d: column %s: label %v is not finite", i+1, c.Name, y[i])
		}
	}
	return y, nil
}

// toTrainingFrame keeps the rows where every feature has a value; numbers
// and booleans become floats, text stays text.
func toTrainingFrame(feats []*features.Column, label string, y []float64, ts *features.Column) (*dataset, error) {
	var keep []int
	for i := range y {
		ok := true
		for _, c := range feats {
			if c.IsNull(i) || (c.Type == features.TypeFloat64 && math.IsNaN(c.Floats[i])) {
				ok = false
				break
			}
		}
		if ok {
			keep = append(keep, i)
		}
	}
	if len(keep) == 0 {
		return nil, fmt.Errorf("dataset: none of %d label rows has every feature (is the feature store materialized?)", len(y))
	}
	f := &training.Frame{Label: label, Time: make([]time.Time, len(keep))}
	for _, c := range feats {
		col := training.Column{Name: c.Name}
		for _, i := range keep {
			switch v := c.Value(i).(type) {
			case int64:
				col.Floats = append(col.Floats, float64(v))
			case float64:
				col.Floats = append(col.Floats, v)
			case bool:
				col.Floats = append(col.Floats, b2f(v))
			case string:
				col.Strings = append(col.Strings, v)
			case time.Time:
				return nil, fmt.Errorf("feature %s: timestamps cannot be trained on; derive a number from them", c.Name)
			}
		}
		f.Columns = append(f.Columns, col)
	}
	lc := training.Column{Name: label, Floats: make([]float64, len(keep))}
	for j, i := range keep {
		lc.Floats[j] = y[i]
		f.Time[j] = time.Unix(0, ts.Ints[i]).UTC()
	}
	f.Columns = append(f.Columns, lc)
	return &dataset{Frame: f, Dropped: len(y) - len(keep)}, nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
