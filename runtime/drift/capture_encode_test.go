package drift

import (
	"context"
	"encoding/json"
	"math"
	"testing"
	"time"
)

// encodeRowWithJSON is how capture stored rows before the hand encoder:
// encoding/json over storedRow. The hand encoder must write the same bytes.
func encodeRowWithJSON(t testing.TB, r Row) string {
	s := storedRow{C: r.Category}
	if len(r.Numeric) > 0 {
		s.N = make(map[string]Number, len(r.Numeric))
		for k, v := range r.Numeric {
			s.N[k] = Number(v)
		}
	}
	for _, v := range r.Prediction {
		s.P = append(s.P, Number(v))
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestStoredRowJSONIsWhatEncodingJSONWrites(t *testing.T) {
	rows := map[string]Row{
		"empty":           {},
		"empty maps":      {Numeric: map[string]float64{}, Category: map[string]string{}},
		"prediction only": {Prediction: []float64{0.93, 0.07}},
		"keys sorted": {Numeric: map[string]float64{"z": 1, "a": 2, "total_purchases": 31, "amount": 12.5, "B": 3, "a[10]": 4, "a[2]": 5},
			Category: map[string]string{"zone": "eu", "channel": "web"}},
		"nan and inf": {Numeric: map[string]float64{"missing": math.NaN(), "up": math.Inf(1), "down": math.Inf(-1), "neg0": math.Copysign(0, -1)},
			Prediction: []float64{math.NaN(), math.Inf(1), math.Inf(-1)}},
		"float forms": {Numeric: map[string]float64{"tiny": 5e-324, "big": 1.7976931348623157e308, "e21": 1e21, "e20": 1e20, "third": 1.0 / 3, "small": 1e-7}},
		"odd strings": {Numeric: map[string]float64{"quote\"key": 1, `back\slash`: 2, "<b>&": 3},
			Category: map[string]string{"ctl": "a\x00b\tc\nd\x1f", "html": "<script>&</script>", "utf8": "café ☕", "bad utf8": "\xff\xfe", "sep": "a\u2028b\u2029", "del": "\x7f", "": "empty key"}},
	}
	var e rowEncoder
	for name, r := range rows {
		got, want := string(e.appendRow(nil, &r)), encodeRowWithJSON(t, r)
		if got != want {
			t.Errorf("%s: hand encoder wrote\n%s\nencoding/json writes\n%s", name, got, want)
		}
	}
}

func FuzzStoredRowJSONIsWhatEncodingJSONWrites(f *testing.F) {
	f.Add("amount", 12.5, "channel", "web", 0.93, false)
	f.Add("a\"b", math.NaN(), "<c>", "\xff\u2028\x00", math.Inf(-1), true)
	f.Fuzz(func(t *testing.T, nk string, nv float64, ck, cv string, p float64, two bool) {
		r := Row{Numeric: map[string]float64{nk: nv, nk + "x": -nv}, Category: map[string]string{ck: cv, cv: ck}, Prediction: []float64{p}}
		if two {
			r.Prediction = append(r.Prediction, nv)
		}
		var e rowEncoder
		if got, want := string(e.appendRow(nil, &r)), encodeRowWithJSON(t, r); got != want {
			t.Errorf("hand encoder wrote\n%s\nencoding/json writes\n%s", got, want)
		}
	})
}

// TestCaptureStoresEveryRowOfABatchInOrder writes more rows than one
// INSERT statement carries, and a batch that does not divide evenly, and
// reads every one back, in order, with its values.
func TestCaptureStoresEveryRowOfABatchInOrder(t *testing.T) {
	db := openStore(t)
	ctx := context.Background()
	c := newCapture(t, db, CaptureOptions{Batch: 173, Now: func() time.Time { return t0 }})
	const n = 3*rowsPerInsert + 17 + 173
	rows := make([]Row, n)
	for i := range rows {
		rows[i] = Row{Endpoint: "fraud", RequestID: "r", Version: 1, Time: t0.Add(-time.Minute),
			Numeric: map[string]float64{"amount": float64(i)}, Category: map[string]string{"odd": []string{"no", "yes\n"}[i%2]},
			Prediction: []float64{float64(i) / n}}
	}
	rows[7].Numeric["amount"] = math.NaN()
	c.Capture(rows)
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if c.Written() != n || c.Failed() != 0 {
		t.Fatalf("written %d, failed %d, want %d written", c.Written(), c.Failed(), n)
	}
	f, err := Window(ctx, db, WindowQuery{Endpoint: "fraud", Version: 1, From: t0.Add(-time.Hour), To: t0,
		Numerical: []string{"amount"}, Categorical: []string{"odd"}, Outputs: 1})
	if err != nil {
		t.Fatal(err)
	}
	if f.N != n {
		t.Fatalf("window holds %d rows, want %d", f.N, n)
	}
	amount, odd, pred := f.Columns["amount"].Numbers, f.Columns["odd"].Strings, f.Columns["prediction"].Numbers
	for i := range n {
		wantAmount := float64(i)
		if i == 7 {
			if !math.IsNaN(amount[i]) {
				t.Errorf("row 7: amount %v, want NaN (missing)", amount[i])
			}
		} else if amount[i] != wantAmount {
			t.Errorf("row %d: amount %v, want %v", i, amount[i], wantAmount)
		}
		if want := []string{"no", "yes\n"}[i%2]; odd[i] != want || pred[i] != float64(i)/n {
			t.Errorf("row %d: odd %q prediction %v, want %q %v", i, odd[i], pred[i], want, float64(i)/n)
		}
	}
}
