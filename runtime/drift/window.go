package drift

import (
	"context"
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
	from, to := w.From.UnixNano(), w.To.UnixNano()
	nums := make(map[string][]float64, len(w.Numerical)+w.Outputs)
	cats := make(map[string][]string, len(w.Categorical))
	outputs := make([]string, w.Outputs)
	for i := range outputs {
		outputs[i] = PredictionColumn(i, w.Outputs)
	}
	var n int64
	err := eachChunk(ctx, q, w, func(c *chunk) {
		for _, name := range w.Numerical {
			col := c.numberColumn(name)
			for i, t := range c.times {
				if t < from || t >= to {
					continue
				}
				v := math.NaN()
				if col != nil {
					v = col[i]
				}
				nums[name] = append(nums[name], v)
			}
		}
		for _, name := range w.Categorical {
			col := c.stringColumn(name)
			for i, t := range c.times {
				if t < from || t >= to {
					continue
				}
				v := ""
				if col != nil {
					v = col[i]
				}
				cats[name] = append(cats[name], v)
			}
		}
		for i, t := range c.times {
			if t < from || t >= to {
				continue
			}
			p := c.prediction(i)
			for k, name := range outputs {
				v := math.NaN()
				if k < len(p) {
					v = p[k]
				}
				nums[name] = append(nums[name], v)
			}
			n++
		}
	})
	if err != nil {
		return nil, err
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

// eachChunk calls fn with each chunk of the endpoint version that holds
// rows captured in [From, To), oldest first; fn filters the rows by time.
func eachChunk(ctx context.Context, q store.Querier, w WindowQuery, fn func(*chunk)) error {
	rows, err := q.QueryContext(ctx, `SELECT id, first_at, body FROM drift_capture_chunks
		WHERE endpoint = ? AND version = ? AND last_at >= ? AND first_at < ? ORDER BY first_at, id`,
		w.Endpoint, w.Version, w.From.UnixNano(), w.To.UnixNano())
	if isNoTable(err) {
		// Read-only commands do not migrate: a state file whose drift
		// tables a sluice before chunks made is migrated by the next
		// serve, daemon or feedback.
		return fmt.Errorf("read captures of %s: the state file has no capture chunks yet (drift tables never created, or made by an older sluice: run sluice serve, sluice daemon or sluice feedback once to migrate them): %w", w.Endpoint, err)
	}
	if err != nil {
		return fmt.Errorf("read captures of %s: %w", w.Endpoint, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, first int64
		var body []byte
		if err := rows.Scan(&id, &first, &body); err != nil {
			return fmt.Errorf("read captures of %s: %w", w.Endpoint, err)
		}
		c, err := readChunk(body, first)
		if err != nil {
			return fmt.Errorf("decode capture chunk %d of %s v%d: %w", id, w.Endpoint, w.Version, err)
		}
		fn(c)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read captures of %s: %w", w.Endpoint, err)
	}
	return nil
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
