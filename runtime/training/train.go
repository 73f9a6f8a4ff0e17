package training

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// The built-in trainers' names, as experiments write them.
const (
	LogisticRegression = "logistic_regression"
	LinearRegression   = "linear_regression"
	MLPTrainer         = "mlp"
	RandomForest       = "random_forest"
)

// TrainRequest asks a built-in trainer for a model.
type TrainRequest struct {
	// Builtin names the trainer: LogisticRegression, LinearRegression,
	// MLPTrainer or RandomForest.
	Builtin string
	// Task is TaskClassification or TaskRegression.
	Task string
	// Params are the experiment's hyperparameters, as decoded from its
	// spec: numbers as int64 or float64, lists as []any.
	Params map[string]any
	// Seed seeds every random choice (the experiment's split seed unless
	// the params set random_state): the same request trains the same model.
	Seed int64
	// Train is the training frame.
	Train *Frame
	// Threads caps the goroutines a trainer uses; 0 means all cores.
	Threads int
}

// Result is a trained model and what a run records about its training.
type Result struct {
	// Model is a *Linear, *MLP or *Forest.
	Model Predictor
	// Params are the hyperparameters used, defaults included, as strings.
	Params map[string]string
	// Metrics are facts of the training itself ("n_iter", "n_leaves"),
	// recorded beside the holdout metrics.
	Metrics map[string]float64
	// Series are per-epoch values of iterative trainers ("loss",
	// "validation_score"), epoch 1 first.
	Series map[string][]float64
}

type trainFunc func(ctx context.Context, req *TrainRequest, p *params) (*Result, error)

// trainers lists the built-in trainers and the tasks each serves.
var trainers = map[string]struct {
	tasks []string
	train trainFunc
}{
	LogisticRegression: {[]string{TaskClassification}, trainLogistic},
	LinearRegression:   {[]string{TaskRegression}, trainLinearRegression},
	MLPTrainer:         {[]string{TaskClassification, TaskRegression}, trainMLP},
	RandomForest:       {[]string{TaskClassification, TaskRegression}, trainForest},
}

// Train fits the built-in trainer req names on req.Train. Bad params are
// reported together, each naming the param; a dataset unfit for the task
// (see Frame.Check) is an error before any training.
func Train(ctx context.Context, req TrainRequest) (*Result, error) {
	t, ok := trainers[req.Builtin]
	if !ok {
		names := make([]string, 0, len(trainers))
		for name := range trainers {
			names = append(names, name)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("unknown built-in trainer %q (known: %s)", req.Builtin, strings.Join(names, ", "))
	}
	if !contains(t.tasks, req.Task) {
		return nil, fmt.Errorf("%s does not do %s (it does %s)", req.Builtin, taskName(req.Task), strings.Join(t.tasks, ", "))
	}
	if req.Train == nil {
		return nil, fmt.Errorf("%s: no training frame", req.Builtin)
	}
	if err := req.Train.Check(req.Task); err != nil {
		return nil, fmt.Errorf("%s: training data: %w", req.Builtin, err)
	}
	p := newParams(req.Builtin, req.Params)
	res, err := t.train(ctx, &req, p)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", req.Builtin, err)
	}
	return res, nil
}

func taskName(task string) string {
	if task == "" {
		return "an unnamed task"
	}
	return task
}

// seed returns the random_state param when given, else the request's seed.
func seed(req *TrainRequest, p *params) uint64 {
	s := p.Int("random_state", int(req.Seed), -1<<62, 1<<62)
	return uint64(s)
}

// labels returns the training labels as class indices into classes.
func classIndices(label *Column, classes []int64) []int {
	index := make(map[int64]int, len(classes))
	for k, c := range classes {
		index[c] = k
	}
	y := make([]int, len(label.Floats))
	for i, v := range label.Floats {
		y[i] = index[int64(v)]
	}
	return y
}

// balancedWeights returns scikit-learn's class_weight "balanced" weights:
// n / (classes × count of the class), per class index.
func balancedWeights(y []int, k int) []float64 {
	counts := make([]float64, k)
	for _, c := range y {
		counts[c]++
	}
	w := make([]float64, k)
	for c := range k {
		if counts[c] > 0 {
			w[c] = float64(len(y)) / (float64(k) * counts[c])
		}
	}
	return w
}
