package drift

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"sluice/runtime/store"
)

// PredictionColumn names a model output in reports and references:
// "prediction" for a single output, "prediction_<i>" for each of several.
func PredictionColumn(i, n int) string {
	if n == 1 {
		return "prediction"
	}
	return fmt.Sprintf("prediction_%d", i)
}

// WindowQuery selects captured rows.
type WindowQuery struct {
	Endpoint string
	Version  int
	From, To time.Time
	// Numerical names the features to read as numbers; Categorical those
	// to read as strings. A feature absent from a row is missing there.
	Numerical, Categorical []string
	// Outputs is how many prediction outputs to read as columns.
	Outputs int
}

// Window reads the rows an endpoint's version captured in [From, To) into
// a Frame holding the asked-for columns.
func Window(ctx context.Context, q store.Querier, w WindowQuery) (*Frame, error) {
	rows, err := q.QueryContext(ctx, `SELECT row FROM drift_captures WHERE endpoint = ? AND version = ? AND at >= ? AND at < ? ORDER BY at, id`,
		w.Endpoint, w.Version, w.From.UnixNano(), w.To.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("read captures of %s: %w", w.Endpoint, err)
	}
	defer rows.Close()
	nums := make(map[string][]float64, len(w.Numerical)+w.Outputs)
	cats := make(map[string][]string, len(w.Categorical))
	var n int64
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, fmt.Errorf("read captures of %s: %w", w.Endpoint, err)
		}
		var s storedRow
		if err := json.Unmarshal([]byte(body), &s); err != nil {
			return nil, fmt.Errorf("decode capture of %s: %w", w.Endpoint, err)
		}
		for _, name := range w.Numerical {
			v, ok := s.N[name]
			if !ok {
				v = Number(math.NaN())
			}
			nums[name] = append(nums[name], float64(v))
		}
		for _, name := range w.Categorical {
			cats[name] = append(cats[name], s.C[name])
		}
		for i := 0; i < w.Outputs; i++ {
			v := math.NaN()
			if i < len(s.P) {
				v = float64(s.P[i])
			}
			name := PredictionColumn(i, w.Outputs)
			nums[name] = append(nums[name], v)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read captures of %s: %w", w.Endpoint, err)
	}
	f := &Frame{N: n, Columns: map[string]Column{}}
	for name, v := range nums {
		f.Columns[name] = Column{Name: name, Numbers: v}
	}
	for name, v := range cats {
		f.Columns[name] = Column{Name: name, Strings: v}
	}
	// Columns asked for but never filled (an empty window) still exist.
	for _, name := range w.Numerical {
		if _, ok := f.Columns[name]; !ok {
			f.Columns[name] = Column{Name: name, Numbers: []float64{}}
		}
	}
	for _, name := range w.Categorical {
		if _, ok := f.Columns[name]; !ok {
			f.Columns[name] = Column{Name: name, Strings: []string{}}
		}
	}
	return f, nil
}

// QueryFor is the WindowQuery that reads a policy's features, typed as the
// reference types them, over the window ending at now.
func QueryFor(ref *Reference, endpoint string, features []string, window time.Duration, now time.Time) WindowQuery {
	w := WindowQuery{Endpoint: endpoint, Version: ref.Version, From: now.Add(-window), To: now}
	for _, name := range features {
		f, ok := ref.Features[name]
		switch {
		case !ok:
		case f.Numerical:
			w.Numerical = append(w.Numerical, name)
		default:
			w.Categorical = append(w.Categorical, name)
		}
	}
	w.Outputs = len(ref.PredictionColumns())
	return w
}

// PredictionColumns lists the prediction columns a reference holds.
func (r *Reference) PredictionColumns() []string {
	if _, ok := r.Features[PredictionColumn(0, 1)]; ok {
		return []string{PredictionColumn(0, 1)}
	}
	var out []string
	for i := 0; ; i++ {
		name := PredictionColumn(i, 2)
		if _, ok := r.Features[name]; !ok {
			return out
		}
		out = append(out, name)
	}
}
