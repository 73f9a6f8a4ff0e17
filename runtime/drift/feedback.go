package drift

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"sluice/runtime/store"
)

// ErrUnknownRequest is returned for feedback on a request that was never
// captured (or was sampled out, or pruned).
var ErrUnknownRequest = errors.New("unknown request id")

// AddFeedback records the ground-truth label of a captured request. A
// label for a request id the endpoint never captured is refused.
func AddFeedback(ctx context.Context, q store.Querier, endpoint, requestID string, label float64, at time.Time) error {
	if math.IsNaN(label) || math.IsInf(label, 0) {
		return fmt.Errorf("feedback for %s on %s: label %v is not a finite number", requestID, endpoint, label)
	}
	if db, ok := q.(*store.DB); ok {
		// Index the ids captured since the last feedback a step per
		// transaction, then look the id up and record the label in one.
		if err := indexIDsInSteps(ctx, db); err != nil {
			return fmt.Errorf("feedback for %s on %s: %w", requestID, endpoint, err)
		}
		return db.Tx(ctx, func(tx *sql.Tx) error { return AddFeedback(ctx, tx, endpoint, requestID, label, at) })
	}
	found, err := captured(ctx, q, endpoint, requestID)
	if err != nil {
		return fmt.Errorf("feedback for %s on %s: %w", requestID, endpoint, err)
	}
	if !found {
		return fmt.Errorf("feedback for %s on %s: %w (not captured, sampled out or pruned)", requestID, endpoint, ErrUnknownRequest)
	}
	_, err = q.ExecContext(ctx, `INSERT INTO drift_feedback(endpoint, request_id, label, at) VALUES (?, ?, ?, ?)
		ON CONFLICT(endpoint, request_id) DO UPDATE SET label = excluded.label, at = excluded.at`,
		endpoint, requestID, label, at.UnixNano())
	if err != nil {
		return fmt.Errorf("feedback for %s on %s: %w", requestID, endpoint, err)
	}
	return nil
}

// Quality is a model's live quality over the labelled requests of a
// window, beside its holdout metrics.
type Quality struct {
	// Task is "classification" or "regression".
	Task    string `json:"task"`
	Labeled int    `json:"labeled"`
	// Accuracy and F1 (classification; F1 of class 1 for two classes,
	// macro-averaged otherwise) or RMSE (regression).
	Accuracy Number `json:"accuracy"`
	F1       Number `json:"f1"`
	RMSE     Number `json:"rmse"`
	// Holdout are the version's holdout metrics, for comparison.
	Holdout map[string]float64 `json:"holdout,omitempty"`
	// Metric, MaxDrop, Drop and Verdict are the policy's quality gate and
	// its judgement (JudgeQuality); empty when the policy has none.
	Metric  string  `json:"metric,omitempty"`
	MaxDrop float64 `json:"max_drop,omitempty"`
	Drop    Number  `json:"drop,omitempty"`
	Verdict string  `json:"verdict,omitempty"`
	Reason  string  `json:"reason,omitempty"`
}

// LiveQuality computes the window's quality from the captured predictions
// that have feedback. A classifier's prediction is its class: the arg-max
// of several outputs, or a single output thresholded at 0.5.
func LiveQuality(ctx context.Context, q store.Querier, w WindowQuery, task string, holdout map[string]float64) (*Quality, error) {
	var ids []string
	var all []float64 // every windowed row's predicted class or value
	err := eachChunk(ctx, q, w, func(c *chunk) {
		from, to := w.From.UnixNano(), w.To.UnixNano()
		for i, t := range c.times {
			if p := c.prediction(i); t >= from && t < to && len(p) > 0 {
				ids = append(ids, c.ids[i])
				all = append(all, predicted(p, task))
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("read feedback of %s: %w", w.Endpoint, err)
	}
	byID, err := feedbackLabels(ctx, q, w.Endpoint, ids)
	if err != nil {
		return nil, fmt.Errorf("read feedback of %s: %w", w.Endpoint, err)
	}
	var preds, labels []float64
	for i, id := range ids {
		if l, ok := byID[id]; ok {
			preds = append(preds, all[i])
			labels = append(labels, l)
		}
	}
	qual := &Quality{Task: task, Labeled: len(labels), Holdout: holdout,
		Accuracy: Number(math.NaN()), F1: Number(math.NaN()), RMSE: Number(math.NaN())}
	if len(labels) == 0 {
		return qual, nil
	}
	if task == "regression" {
		qual.RMSE = Number(rmse(preds, labels))
	} else {
		qual.Accuracy, qual.F1 = Number(accuracy(preds, labels)), Number(f1(preds, labels))
	}
	return qual, nil
}

// labelsPerQuery is how many request ids one feedback query asks for.
const labelsPerQuery = 256

// feedbackLabels is the endpoint's feedback labels of ids, by request id.
func feedbackLabels(ctx context.Context, q store.Querier, endpoint string, ids []string) (map[string]float64, error) {
	out := map[string]float64{}
	args := make([]any, 0, 1+labelsPerQuery)
	for len(ids) > 0 {
		n := min(len(ids), labelsPerQuery)
		args = append(args[:0], endpoint)
		for _, id := range ids[:n] {
			args = append(args, id)
		}
		query := `SELECT request_id, label FROM drift_feedback WHERE endpoint = ? AND request_id IN (?` + strings.Repeat(", ?", n-1) + `)`
		rows, err := q.QueryContext(ctx, query, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id string
			var l float64
			if err := rows.Scan(&id, &l); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = l
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		ids = ids[n:]
	}
	return out, nil
}

func predicted(p []float64, task string) float64 {
	if task == "regression" {
		return p[0]
	}
	if len(p) == 1 {
		if p[0] >= 0.5 {
			return 1
		}
		return 0
	}
	best := 0
	for i := range p {
		if p[i] > p[best] {
			best = i
		}
	}
	return float64(best)
}

func rmse(pred, label []float64) float64 {
	ss := 0.0
	for i := range pred {
		d := pred[i] - label[i]
		ss += d * d
	}
	return math.Sqrt(ss / float64(len(pred)))
}

func accuracy(pred, label []float64) float64 {
	hits := 0
	for i := range pred {
		if pred[i] == label[i] {
			hits++
		}
	}
	return float64(hits) / float64(len(pred))
}

// f1 is sklearn's f1_score: binary (positive class 1) when the labels and
// predictions hold at most the classes 0 and 1, macro-averaged otherwise.
func f1(pred, label []float64) float64 {
	classes := map[float64]bool{}
	for i := range pred {
		classes[pred[i]], classes[label[i]] = true, true
	}
	binary := len(classes) <= 2
	for c := range classes {
		binary = binary && (c == 0 || c == 1)
	}
	if binary {
		return f1Of(1, pred, label)
	}
	sum := 0.0
	for c := range classes {
		sum += f1Of(c, pred, label)
	}
	return sum / float64(len(classes))
}

func f1Of(c float64, pred, label []float64) float64 {
	var tp, fp, fn float64
	for i := range pred {
		switch {
		case pred[i] == c && label[i] == c:
			tp++
		case pred[i] == c:
			fp++
		case label[i] == c:
			fn++
		}
	}
	if tp == 0 {
		return 0
	}
	return 2 * tp / (2*tp + fp + fn)
}
