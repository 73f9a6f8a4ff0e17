package training

import (
	"math"
	"testing"
)

type metricsFixture struct {
	Classifiers []struct {
		Name          string             `json:"name"`
		Classes       []int64            `json:"classes"`
		Y             []float64          `json:"y"`
		Probabilities []float64          `json:"probabilities"`
		Metrics       map[string]float64 `json:"metrics"`
	} `json:"classifiers"`
	Regressors []struct {
		Name    string             `json:"name"`
		Y       []float64          `json:"y"`
		Values  []float64          `json:"values"`
		Metrics map[string]float64 `json:"metrics"`
	} `json:"regressors"`
}

func TestClassifierMetricsMatchScikitLearn(t *testing.T) {
	var fx metricsFixture
	readFixture(t, "metrics", &fx)
	for _, c := range fx.Classifiers {
		t.Run(c.Name, func(t *testing.T) {
			y := make([]int64, len(c.Y))
			for i, v := range c.Y {
				y[i] = int64(v)
			}
			got, err := ClassifierMetrics(y, classifierOutputs(c.Classes, c.Probabilities))
			if err != nil {
				t.Fatal(err)
			}
			compareMetrics(t, got, c.Metrics)
		})
	}
}

func TestRegressorMetricsMatchScikitLearn(t *testing.T) {
	var fx metricsFixture
	readFixture(t, "metrics", &fx)
	for _, c := range fx.Regressors {
		t.Run(c.Name, func(t *testing.T) {
			got, err := RegressorMetrics(c.Y, c.Values)
			if err != nil {
				t.Fatal(err)
			}
			compareMetrics(t, got, c.Metrics)
		})
	}
}

func compareMetrics(t *testing.T, got, want map[string]float64) {
	t.Helper()
	for name, w := range want {
		g, ok := got[name]
		if !ok {
			t.Errorf("%s missing", name)
			continue
		}
		if math.Abs(g-w) > 1e-12*math.Max(1, math.Abs(w)) {
			t.Errorf("%s = %.15g, scikit-learn says %.15g", name, g, w)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("%s = %v, which scikit-learn does not compute here", name, got[name])
		}
	}
}

func TestClassifierMetricsLeaveOutAUCForOneTrueClass(t *testing.T) {
	p := classifierOutputs([]int64{0, 1}, []float64{0.9, 0.1, 0.2, 0.8, 0.6, 0.4})
	got, err := ClassifierMetrics([]int64{1, 1, 1}, p)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got["roc_auc"]; ok {
		t.Errorf("roc_auc %v of a holdout with one class", got["roc_auc"])
	}
	if got["recall"] != 1.0/3 {
		t.Errorf("recall %v, want 1/3", got["recall"])
	}
}

func TestClassifierMetricsRefuseAClassTheModelDoesNotKnow(t *testing.T) {
	p := classifierOutputs([]int64{0, 1}, []float64{0.9, 0.1, 0.2, 0.8})
	_, err := ClassifierMetrics([]int64{0, 2}, p)
	if err == nil || err.Error() != "metrics: row 2: true class 2 is not among the model's classes [0 1]" {
		t.Fatalf("error %v", err)
	}
}
