package training

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// goModel reads the Go model testdata/models/name.onnx was exported from.
func goModel(t *testing.T, name string, m Predictor) Predictor {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "models", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSessionScoresAsTheGoModelItWasExportedFrom(t *testing.T) {
	for _, tc := range []struct {
		model, fixture, task string
		gm                   Predictor
		classes              func(Predictor) []int64
	}{
		{"logistic", "logistic_binary", TaskClassification, &Linear{}, func(p Predictor) []int64 { return p.(*Linear).Classes }},
		{"forest", "forest_classifier", TaskClassification, &Forest{}, func(p Predictor) []int64 { return p.(*Forest).Classes }},
		{"mlp_multiclass", "logistic_multiclass", TaskClassification, &MLP{}, func(p Predictor) []int64 { return p.(*MLP).Classes }},
		{"linear", "linear_regression", TaskRegression, &Linear{}, func(Predictor) []int64 { return nil }},
		{"forest_regressor", "forest_regressor", TaskRegression, &Forest{}, func(Predictor) []int64 { return nil }},
	} {
		t.Run(tc.model, func(t *testing.T) {
			gm := goModel(t, tc.model, tc.gm)
			s := loadSession(t, tc.model, SessionOptions{Task: tc.task, Classes: tc.classes(gm)})
			var fx modelFixture
			readFixture(t, tc.fixture, &fx)
			test := fx.Test.frame()
			if err := Parity(context.Background(), gm, s, test, 1e-5); err != nil {
				t.Fatal(err)
			}
			a, err := Evaluate(context.Background(), gm, test, tc.task)
			if err != nil {
				t.Fatal(err)
			}
			b, err := Evaluate(context.Background(), s, test, tc.task)
			if err != nil {
				t.Fatal(err)
			}
			for name, v := range a {
				if math.Abs(v-b[name]) > 1e-4*math.Max(1, math.Abs(v)) {
					t.Errorf("%s: go model %v, onnx runtime %v", name, v, b[name])
				}
			}
		})
	}
}

func TestSessionReadsTheModelsSignature(t *testing.T) {
	s := loadSession(t, "logistic", SessionOptions{Task: TaskClassification})
	want := Signature{
		Inputs: []Tensor{
			{Name: "x1", Kind: "tensor", Type: "float", Shape: []int64{-1, 1}},
			{Name: "x2", Kind: "tensor", Type: "float", Shape: []int64{-1, 1}},
			{Name: "x3", Kind: "tensor", Type: "float", Shape: []int64{-1, 1}},
			{Name: "cat", Kind: "tensor", Type: "string", Shape: []int64{-1, 1}},
		},
		Outputs: []Tensor{
			{Name: "label", Kind: "tensor", Type: "int64", Shape: []int64{-1}},
			{Name: "probabilities", Kind: "tensor", Type: "float", Shape: []int64{-1, 2}},
		},
	}
	if !reflect.DeepEqual(s.Signature, want) {
		t.Errorf("signature\n%+v\nwant\n%+v", s.Signature, want)
	}
}

func TestSessionFeedsADenseInputTheFeatureColumnsInOrder(t *testing.T) {
	s := loadSession(t, "dense", SessionOptions{Task: TaskRegression})
	f := &Frame{Label: "y", Columns: []Column{
		{Name: "a", Floats: []float64{1, 2}}, {Name: "y", Floats: []float64{0, 0}},
		{Name: "b", Floats: []float64{0.5, 0}}, {Name: "c", Floats: []float64{0.25, -1}},
	}}
	p, err := s.Predict(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	// variable = a + 10 b + 100 c + 0.5, the label column skipped.
	if want := []float64{1 + 5 + 25 + 0.5, 2 + 0 - 100 + 0.5}; !reflect.DeepEqual(p.Values, want) {
		t.Errorf("values %v, want %v", p.Values, want)
	}
	f.Columns = f.Columns[:3]
	if _, err := s.Predict(context.Background(), f); err == nil || !strings.Contains(err.Error(), `model input "input" is one [N,3] matrix, the dataset has 2 feature columns`) {
		t.Errorf("error %v", err)
	}
}

func TestSessionRefusesAModelWhoseInputsDoNotMatchTheDataset(t *testing.T) {
	s := loadSession(t, "logistic", SessionOptions{Task: TaskClassification})
	var fx modelFixture
	readFixture(t, "logistic_binary", &fx)
	f := fx.Test.frame()
	f.Columns = append(f.Columns[:3], f.Columns[4]) // drop cat
	_, err := s.Predict(context.Background(), f)
	if err == nil || err.Error() != `model input "cat" matches no dataset column (columns: x1, x2, x3, y)` {
		t.Errorf("without cat: error %v", err)
	}
	f.Columns = append(f.Columns, Column{Name: "cat", Floats: make([]float64, f.Rows())})
	_, err = s.Predict(context.Background(), f)
	if err == nil || err.Error() != `model input "cat" takes string, column "cat" holds numbers` {
		t.Errorf("numeric cat: error %v", err)
	}
}

func TestSessionRefusesBytesThatAreNotONNX(t *testing.T) {
	needORT(t)
	_, err := NewSession([]byte("this is not a model"), SessionOptions{})
	if err == nil || !strings.HasPrefix(err.Error(), "load model: onnx runtime cannot read it") {
		t.Errorf("error %v", err)
	}
}

func TestSessionRefusesClassesThatDoNotFitTheProbabilities(t *testing.T) {
	s := loadSession(t, "logistic", SessionOptions{Task: TaskClassification, Classes: []int64{0, 1, 2}})
	var fx modelFixture
	readFixture(t, "logistic_binary", &fx)
	_, err := s.Predict(context.Background(), fx.Test.frame())
	if err == nil || !strings.Contains(err.Error(), `output "probabilities" has 2 probabilities per row for the 3 classes [0 1 2]`) {
		t.Errorf("error %v", err)
	}
}

func TestSessionScoresTheSameInSmallBatches(t *testing.T) {
	var fx modelFixture
	readFixture(t, "forest_classifier", &fx)
	whole := loadSession(t, "forest", SessionOptions{Task: TaskClassification})
	small := loadSession(t, "forest", SessionOptions{Task: TaskClassification, BatchRows: 7})
	if err := Parity(context.Background(), whole, small, fx.Test.frame(), 0); err != nil {
		t.Error(err)
	}
}

func TestSessionStopsWhenCancelled(t *testing.T) {
	s := loadSession(t, "forest", SessionOptions{Task: TaskClassification})
	var fx modelFixture
	readFixture(t, "forest_classifier", &fx)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Predict(ctx, fx.Test.frame()); err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("error %v", err)
	}
}

func TestSessionTellsAClassifierByItsOutputs(t *testing.T) {
	var fx modelFixture
	readFixture(t, "logistic_binary", &fx)
	p, err := loadSession(t, "logistic", SessionOptions{}).Predict(context.Background(), fx.Test.frame())
	if err != nil || p.Classes == nil || len(p.Probabilities) != 2*len(p.Labels) {
		t.Errorf("classifier without a task: %+v, %v", p, err)
	}
	p, err = loadSession(t, "linear", SessionOptions{}).Predict(context.Background(), fx.Test.frame())
	if err != nil || p.Classes != nil || len(p.Values) != fx.Test.frame().Rows() {
		t.Errorf("regressor without a task: %+v, %v", p, err)
	}
}
