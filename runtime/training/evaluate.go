package training

import (
	"context"
	"fmt"
)

// Evaluate scores predictor on the holdout frame and returns the metrics
// of task: ClassifierMetrics or RegressorMetrics against the holdout's
// labels. Sluice evaluates every model this way, built-in or not, through
// a Session over its ONNX bytes, so the metrics are those of the model as
// it will be served.
func Evaluate(ctx context.Context, predictor Predictor, holdout *Frame, task string) (map[string]float64, error) {
	if err := holdout.checkShape(); err != nil {
		return nil, fmt.Errorf("evaluate: holdout: %w", err)
	}
	pred, err := predictor.Predict(ctx, holdout)
	if err != nil {
		return nil, fmt.Errorf("evaluate: %w", err)
	}
	label := holdout.Column(holdout.Label)
	if label.IsString() {
		return nil, fmt.Errorf("evaluate: label column %q holds strings", label.Name)
	}
	if task == TaskRegression {
		if pred.Classes != nil {
			return nil, fmt.Errorf("evaluate: the model classifies, the experiment's task is regression")
		}
		return RegressorMetrics(label.Floats, pred.Values)
	}
	if pred.Classes == nil {
		return nil, fmt.Errorf("evaluate: the model predicts values, the experiment's task is classification")
	}
	y := make([]int64, len(label.Floats))
	for i, v := range label.Floats {
		y[i] = int64(v)
		if float64(y[i]) != v {
			return nil, fmt.Errorf("evaluate: label column %q row %d: %v is not an integer class label", label.Name, i+1, v)
		}
	}
	return ClassifierMetrics(y, pred)
}
