package training

import (
	"math"
	"strings"
	"testing"
	"time"

	"sluice/schema"
)

// numbered returns a frame of n rows: x = row, a string column, a 0/1
// label and one event time per row, an hour apart in reverse row order.
func numbered(n int) *Frame {
	x := make([]float64, n)
	s := make([]string, n)
	y := make([]float64, n)
	ts := make([]time.Time, n)
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		x[i] = float64(i)
		s[i] = []string{"a", "b", "c"}[i%3]
		y[i] = float64(i % 2)
		ts[i] = t0.Add(time.Duration(n-i) * time.Hour)
	}
	return &Frame{
		Columns: []Column{{Name: "x", Floats: x}, {Name: "s", Strings: s}, {Name: "y", Floats: y}},
		Label:   "y",
		Time:    ts,
	}
}

func TestSplitHoldsOutCeilOfFractionDisjointFromTraining(t *testing.T) {
	f := numbered(101)
	train, hold, err := Split(f, schema.Split{Holdout: 0.2, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if hold.Rows() != 21 || train.Rows() != 80 {
		t.Fatalf("split 101 rows at 0.2 into %d training and %d holdout, want 80 and 21", train.Rows(), hold.Rows())
	}
	seen := map[float64]bool{}
	for _, part := range []*Frame{train, hold} {
		x := part.Column("x").Floats
		s := part.Column("s").Strings
		for i, v := range x {
			if seen[v] {
				t.Fatalf("row %v is in both parts", v)
			}
			seen[v] = true
			if s[i] != []string{"a", "b", "c"}[int(v)%3] || !part.Time[i].Equal(f.Time[int(v)]) {
				t.Fatalf("row %v lost its other columns", v)
			}
		}
	}
	if len(seen) != 101 {
		t.Fatalf("%d rows after the split, want 101", len(seen))
	}
}

func TestSplitIsDeterministicForASeed(t *testing.T) {
	f := numbered(200)
	_, a, _ := Split(f, schema.Split{Holdout: 0.3, Seed: 1})
	_, b, _ := Split(f, schema.Split{Holdout: 0.3, Seed: 1})
	_, c, _ := Split(f, schema.Split{Holdout: 0.3, Seed: 2})
	if Fingerprint(a) != Fingerprint(b) {
		t.Fatal("the same seed gave different holdouts")
	}
	if Fingerprint(a) == Fingerprint(c) {
		t.Fatal("seeds 1 and 2 gave the same holdout")
	}
}

func TestSplitByTimeHoldsOutTheNewestRows(t *testing.T) {
	f := numbered(10) // row 0 is the newest
	train, hold, err := Split(f, schema.Split{Holdout: 0.3, ByTime: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := hold.Column("x").Floats; len(got) != 3 || got[0] != 0 || got[1] != 1 || got[2] != 2 {
		t.Fatalf("holdout rows %v, want the three newest [0 1 2]", got)
	}
	for _, tt := range train.Time {
		if !tt.Before(hold.Time[2]) {
			t.Fatalf("training row at %v is not older than the holdout", tt)
		}
	}
}

func TestSplitRefusesBadRequests(t *testing.T) {
	f := numbered(10)
	noTime := numbered(10)
	noTime.Time = nil
	for _, tc := range []struct {
		f    *Frame
		s    schema.Split
		want string
	}{
		{noTime, schema.Split{Holdout: 0.2, ByTime: true}, "by_time needs the dataset's event time"},
		{f, schema.Split{Holdout: 0}, "holdout 0, want a fraction"},
		{f, schema.Split{Holdout: 0.95}, "leaves no training rows"},
		{&Frame{Label: "y", Columns: []Column{{Name: "y", Floats: []float64{}}}}, schema.Split{Holdout: 0.2}, "empty dataset"},
	} {
		_, _, err := Split(tc.f, tc.s)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("split %+v: error %v, want one containing %q", tc.s, err, tc.want)
		}
	}
}

func TestCheckNamesWhatMakesADatasetUnusable(t *testing.T) {
	oneClass := numbered(5)
	oneClass.Column("y").Floats = []float64{1, 1, 1, 1, 1}
	fractional := numbered(3)
	fractional.Column("y").Floats = []float64{0, 0.5, 1}
	nan := numbered(3)
	nan.Column("x").Floats[1] = math.NaN()
	ragged := numbered(3)
	ragged.Column("s").Strings = []string{"a"}
	noLabel := numbered(3)
	noLabel.Label = "fraud"
	stringLabel := numbered(3)
	stringLabel.Label = "s"
	for _, tc := range []struct {
		name string
		f    *Frame
		task string
		want string
	}{
		{"label missing", noLabel, TaskClassification, `label column "fraud" missing (columns: x, s, y)`},
		{"one class", oneClass, TaskClassification, `label column "y" has one class (1) in 5 rows`},
		{"one class is fine for regression", oneClass, TaskRegression, ""},
		{"empty", &Frame{Label: "y", Columns: []Column{{Name: "x", Floats: []float64{}}, {Name: "y", Floats: []float64{}}}}, TaskRegression, "empty dataset"},
		{"fractional class", fractional, TaskClassification, `label column "y" row 2: 0.5 is not an integer class label`},
		{"missing feature value", nan, TaskRegression, `column "x" row 2: value NaN`},
		{"ragged", ragged, TaskRegression, `column "s" has 1 rows, column "x" has 3`},
		{"string label", stringLabel, TaskClassification, `label column "s" holds strings`},
	} {
		err := tc.f.Check(tc.task)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: unexpected error %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

func TestFingerprintIgnoresColumnOrderButNotData(t *testing.T) {
	base := Fingerprint(numbered(20))
	reordered := numbered(20)
	reordered.Columns[0], reordered.Columns[2] = reordered.Columns[2], reordered.Columns[0]
	if Fingerprint(reordered) != base {
		t.Error("reordering columns changed the fingerprint")
	}
	changes := map[string]func(f *Frame){
		"a value":   func(f *Frame) { f.Columns[0].Floats[3] = 99 },
		"a string":  func(f *Frame) { f.Columns[1].Strings[3] = "z" },
		"a name":    func(f *Frame) { f.Columns[0].Name = "x2" },
		"the label": func(f *Frame) { f.Label = "x" },
		"a time":    func(f *Frame) { f.Time[0] = f.Time[0].Add(time.Second) },
		"no time":   func(f *Frame) { f.Time = nil },
		"row order": func(f *Frame) {
			f.Columns[0].Floats[0], f.Columns[0].Floats[1] = f.Columns[0].Floats[1], f.Columns[0].Floats[0]
		},
		"a kind":     func(f *Frame) { f.Columns[1] = Column{Name: "s", Floats: make([]float64, 20)} },
		"string cut": func(f *Frame) { f.Columns[1].Strings[0], f.Columns[1].Strings[1] = "ab", "" },
	}
	for name, change := range changes {
		f := numbered(20)
		change(f)
		if Fingerprint(f) == base {
			t.Errorf("changing %s left the fingerprint as it was", name)
		}
	}
}

func TestFingerprintEncodesNaNAndNegativeZeroCanonically(t *testing.T) {
	a, b := numbered(4), numbered(4)
	a.Columns[0].Floats[0], b.Columns[0].Floats[0] = math.Copysign(0, -1), 0
	a.Columns[0].Floats[1], b.Columns[0].Floats[1] = math.NaN(), math.Float64frombits(0x7ff8dead00000000)
	if Fingerprint(a) != Fingerprint(b) {
		t.Error("-0/NaN payloads changed the fingerprint")
	}
}

func TestFingerprintIsStableAcrossReleases(t *testing.T) {
	// A changed encoding must come with a new fingerprintVersion, since
	// recorded runs are keyed by these values.
	const want = "f3b37a1aaa121fa882b8e0c529748a77b6fed4a83a3cc2e1863036c6171f0988"
	if got := Fingerprint(numbered(3)); got != want {
		t.Errorf("fingerprint of numbered(3) = %s, want %s", got, want)
	}
}

func TestDescribeSummarisesTheDataset(t *testing.T) {
	m := Describe(numbered(4), TaskClassification)
	x, s := m.Columns[0], m.Columns[1]
	if m.Rows != 4 || m.Digest != Fingerprint(numbered(4)) || m.Label != "y" {
		t.Errorf("manifest %+v", m)
	}
	if x.Type != "number" || *x.Min != 0 || *x.Max != 3 || *x.Mean != 1.5 || s.Type != "string" || s.Distinct != 3 {
		t.Errorf("columns %+v %+v", x, s)
	}
	if m.Classes["0"] != 2 || m.Classes["1"] != 2 || len(m.Classes) != 2 {
		t.Errorf("classes %v", m.Classes)
	}
	if !m.TimeFrom.Equal(time.Date(2024, 1, 1, 1, 0, 0, 0, time.UTC)) || !m.TimeTo.Equal(time.Date(2024, 1, 1, 4, 0, 0, 0, time.UTC)) {
		t.Errorf("times %v to %v", m.TimeFrom, m.TimeTo)
	}
	if Describe(numbered(4), TaskRegression).Classes != nil {
		t.Error("a regression dataset counted classes")
	}
}
