package training

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"
)

// LogMetrics records metrics at step 0, the holdout evaluation's step.
func (t *Tracker) LogMetrics(ctx context.Context, q Querier, runID string, metrics map[string]float64) error {
	points := make([]metricPoint, 0, len(metrics))
	for _, key := range sortedKeys(metrics) {
		points = append(points, metricPoint{key: key, value: metrics[key]})
	}
	return t.logPoints(ctx, q, runID, points)
}

// LogSeries records a per-epoch series of metric key at steps 1..len.
func (t *Tracker) LogSeries(ctx context.Context, q Querier, runID, key string, values []float64) error {
	points := make([]metricPoint, len(values))
	for i, v := range values {
		points[i] = metricPoint{key: key, step: int64(i + 1), value: v}
	}
	return t.logPoints(ctx, q, runID, points)
}

// LogMetric records one value of metric key at step. A value logged
// again at the same step replaces the old one. The latest value, which
// filters and orderings use, is the one at the highest step.
func (t *Tracker) LogMetric(ctx context.Context, q Querier, runID, key string, value float64, step int64) error {
	return t.logPoints(ctx, q, runID, []metricPoint{{key: key, step: step, value: value}})
}

type metricPoint struct {
	key   string
	step  int64
	value float64
}

// metricBatch is how many points one INSERT statement carries.
const metricBatch = 100

func (t *Tracker) logPoints(ctx context.Context, q Querier, runID string, points []metricPoint) error {
	id, err := internalID(ctx, q, runID)
	if err != nil {
		return fmt.Errorf("log metrics: %w", err)
	}
	for _, p := range points {
		if err := checkKey("metric", p.key); err != nil {
			return fmt.Errorf("log metrics of run %s: %w", runID, err)
		}
	}
	now := t.now().UnixMilli()
	for lo := 0; lo < len(points); lo += metricBatch {
		batch := points[lo:min(lo+metricBatch, len(points))]
		history := make([]any, 0, 6*len(batch))
		latest := make([]any, 0, 5*len(batch))
		for _, p := range batch {
			value, nan := storedValue(p.value)
			history = append(history, id, p.key, p.step, value, nan, now)
			latest = append(latest, id, p.key, p.step, value, nan)
		}
		if _, err := q.ExecContext(ctx, `INSERT INTO training_metrics(run, key, step, value, is_nan, time) VALUES `+
			placeholders(len(batch), 6)+` ON CONFLICT(run, key, step) DO UPDATE SET value = excluded.value,
			is_nan = excluded.is_nan, time = excluded.time`, history...); err != nil {
			return fmt.Errorf("log metrics of run %s: %w", runID, err)
		}
		// A series logs many steps of one key in a batch; the WHERE keeps
		// the highest step whatever the order of the rows.
		if _, err := q.ExecContext(ctx, `INSERT INTO training_latest_metrics(run, key, step, value, is_nan) VALUES `+
			placeholders(len(batch), 5)+` ON CONFLICT(run, key) DO UPDATE SET step = excluded.step,
			value = excluded.value, is_nan = excluded.is_nan WHERE excluded.step >= training_latest_metrics.step`, latest...); err != nil {
			return fmt.Errorf("log metrics of run %s: %w", runID, err)
		}
	}
	return nil
}

// storedValue is how SQLite keeps v: NaN, which it cannot store, as NULL
// and a flag.
func storedValue(v float64) (value any, nan int) {
	if math.IsNaN(v) {
		return nil, 1
	}
	return v, 0
}

// placeholders returns "(?, ?), (?, ?)" for rows of width values.
func placeholders(rows, width int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", width), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(one+", ", rows), ", ")
}

// MetricHistory returns every logged value of metric key, by step.
func (t *Tracker) MetricHistory(ctx context.Context, q Querier, runID, key string) ([]MetricPoint, error) {
	id, err := internalID(ctx, q, runID)
	if err != nil {
		return nil, fmt.Errorf("metric history: %w", err)
	}
	rows, err := q.QueryContext(ctx, `SELECT step, value, is_nan, time FROM training_metrics
		WHERE run = ? AND key = ? ORDER BY step`, id, key)
	if err != nil {
		return nil, fmt.Errorf("metric history of run %s: %w", runID, err)
	}
	defer rows.Close()
	var out []MetricPoint
	for rows.Next() {
		var p MetricPoint
		var v *float64
		var nan int
		var ms int64
		if err := rows.Scan(&p.Step, &v, &nan, &ms); err != nil {
			return nil, err
		}
		p.Value, p.Time = loadedValue(v, nan), time.UnixMilli(ms).UTC()
		out = append(out, p)
	}
	return out, rows.Err()
}

func loadedValue(v *float64, nan int) float64 {
	if nan != 0 || v == nil {
		return math.NaN()
	}
	return *v
}
