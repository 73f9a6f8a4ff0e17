package drift

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
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

// TestCaptureBatchStoresRequestsColumnByColumn: requests sharing their
// version's name slices, one larger than a write, one with different
// names, are read back row by row; a malformed batch is counted as
// failed, not written.
func TestCaptureBatchStoresRequestsColumnByColumn(t *testing.T) {
	db := openStore(t)
	ctx := context.Background()
	c := newCapture(t, db, CaptureOptions{Batch: 4, Now: func() time.Time { return t0 }})
	nums, cats := []string{"amount", "hour"}, []string{"channel"}
	at := t0.Add(-time.Minute)
	c.CaptureBatch(Batch{Endpoint: "fraud", RequestID: "a", Version: 1, Time: at, Rows: 1,
		NumericNames: nums, Numbers: []float64{1, 10}, CategoryNames: cats, Categories: []string{"web"}, Width: 1, Predictions: []float64{0.1}})
	big := Batch{Endpoint: "fraud", RequestID: "b", Version: 1, Time: at, Rows: 6, NumericNames: nums, CategoryNames: cats, Width: 1}
	for i := range 6 {
		big.Numbers = append(big.Numbers, float64(2+i), math.NaN())
		big.Categories = append(big.Categories, []string{"app", ""}[i%2])
		big.Predictions = append(big.Predictions, float64(i))
	}
	c.CaptureBatch(big)
	c.CaptureBatch(Batch{Endpoint: "fraud", RequestID: "c", Version: 1, Time: at, Rows: 1,
		NumericNames: []string{"hour"}, Numbers: []float64{23}})
	c.CaptureBatch(Batch{Endpoint: "fraud", RequestID: "bad", Version: 1, Time: at, Rows: 2, NumericNames: nums, Numbers: []float64{1}})
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if c.Written() != 8 || c.Failed() != 2 {
		t.Errorf("written %d, failed %d, want 8 and 2", c.Written(), c.Failed())
	}
	f, err := Window(ctx, db, WindowQuery{Endpoint: "fraud", Version: 1, From: t0.Add(-time.Hour), To: t0,
		Numerical: []string{"amount", "hour"}, Categorical: []string{"channel"}, Outputs: 1})
	if err != nil {
		t.Fatal(err)
	}
	amount, hour, channel, pred := f.Columns["amount"].Numbers, f.Columns["hour"].Numbers, f.Columns["channel"].Strings, f.Columns["prediction"].Numbers
	wantAmount := []float64{1, 2, 3, 4, 5, 6, 7, math.NaN()}
	wantHour := []float64{10, math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN(), 23}
	wantChannel := []string{"web", "app", "", "app", "", "app", "", ""}
	wantPred := []float64{0.1, 0, 1, 2, 3, 4, 5, math.NaN()}
	same := func(a, b []float64) bool {
		return slices.EqualFunc(a, b, func(x, y float64) bool { return x == y || (x != x && y != y) })
	}
	if f.N != 8 || !same(amount, wantAmount) || !same(hour, wantHour) || !slices.Equal(channel, wantChannel) || !same(pred, wantPred) {
		t.Errorf("window of %d rows:\namount %v\nhour %v\nchannel %q\nprediction %v", f.N, amount, hour, channel, pred)
	}
	// The six-row request was split: no write holds more than Batch rows.
	var most int
	db.QueryRowContext(ctx, `SELECT max(rows) FROM drift_capture_chunks`).Scan(&most)
	if most != 4 {
		t.Errorf("largest chunk %d rows, want 4 (Batch)", most)
	}
}
