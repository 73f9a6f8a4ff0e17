package drift

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"testing"
	"time"
)

// encodeRowWithJSON is how capture stored a row's JSON before chunks
// (its hand encoder wrote encoding/json's bytes for storedRow).
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

// TestCaptureStoresEveryRowOfABatchInOrder writes more request ids than
// one INSERT statement carries, and a batch that does not divide evenly,
// and reads every row back, in order, with its values; each request id
// takes feedback.
func TestCaptureStoresEveryRowOfABatchInOrder(t *testing.T) {
	db := openStore(t)
	ctx := context.Background()
	c := newCapture(t, db, CaptureOptions{Batch: 173, Now: func() time.Time { return t0 }})
	const n = 3*idsPerInsert + 17 + 173
	rows := make([]Row, n)
	for i := range rows {
		rows[i] = Row{Endpoint: "fraud", RequestID: fmt.Sprint("r", i/2), Version: 1, Time: t0.Add(-time.Minute),
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
	for i := range n / 2 {
		if err := AddFeedback(ctx, db, "fraud", fmt.Sprint("r", i), 1, t0); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
}
