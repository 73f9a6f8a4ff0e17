package training

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// fixtureFrame is a dataset as testdata/sklearn_fixtures.py writes it.
type fixtureFrame struct {
	Numeric map[string][]float64 `json:"numeric"`
	Strings map[string][]string  `json:"strings"`
	Label   []float64            `json:"label"`
}

// frame returns the dataset as a Frame with columns x1, x2, x3, cat, y.
func (ff fixtureFrame) frame() *Frame {
	return &Frame{Label: "y", Columns: []Column{
		{Name: "x1", Floats: ff.Numeric["x1"]},
		{Name: "x2", Floats: ff.Numeric["x2"]},
		{Name: "x3", Floats: ff.Numeric["x3"]},
		{Name: "cat", Strings: ff.Strings["cat"]},
		{Name: "y", Floats: ff.Label},
	}}
}

// modelFixture is one model fitted by scikit-learn, with its predictions
// on the test rows.
type modelFixture struct {
	Train         fixtureFrame       `json:"train"`
	Test          fixtureFrame       `json:"test"`
	Probabilities []float64          `json:"probabilities"`
	Values        []float64          `json:"values"`
	ROCAUC        float64            `json:"roc_auc"`
	R2            float64            `json:"r2"`
	Importances   map[string]float64 `json:"importances"`
}

// readFixture decodes testdata/sklearn/name.json into v.
func readFixture(t *testing.T, name string, v any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "sklearn", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}
