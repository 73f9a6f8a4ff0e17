package drift

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"sluice/runtime/store"
)

// oddRows are rows a chunk must carry exactly: NaN, infinities, -0, values
// float32 cannot hold beside ones it can, empty and invalid-UTF-8 strings,
// features some rows lack, predictions of different lengths, ids sharing
// prefixes, times out of order.
func oddRows() []Row {
	return []Row{
		{RequestID: "0123456789abcdef-1", Time: t0, Numeric: map[string]float64{"amount": 12.5, "n": math.NaN(), "z": math.Copysign(0, -1)},
			Category: map[string]string{"channel": "web", "bad": "\xff\xfe"}, Prediction: []float64{0.25, 0.75}},
		{RequestID: "0123456789abcdef-10", Time: t0.Add(-time.Second), Numeric: map[string]float64{"amount": 1.0 / 3, "up": math.Inf(1)},
			Category: map[string]string{"channel": "web"}, Prediction: []float64{math.NaN()}},
		{RequestID: "", Time: t0.Add(time.Hour), Numeric: map[string]float64{"amount": math.Inf(-1)},
			Category: map[string]string{"channel": "", "other": "x"}},
		{RequestID: "client-☕\x00", Time: t0.Add(time.Hour), Prediction: []float64{5e-324, 1.7976931348623157e308, 3}},
	}
}

// rowsOf reads a chunk back into rows: a feature the chunk holds as NaN
// or "" for a row is absent from the row, as the JSON rows were.
func rowsOf(c *chunk) []Row {
	out := make([]Row, c.rows())
	for i := range out {
		out[i] = Row{RequestID: c.ids[i], Time: time.Unix(0, c.times[i]).UTC(), Numeric: map[string]float64{}, Category: map[string]string{}}
		if p := c.prediction(i); len(p) > 0 {
			out[i].Prediction = p
		}
		for _, col := range c.numeric {
			if !math.IsNaN(col.values[i]) {
				out[i].Numeric[col.name] = col.values[i]
			}
		}
		for _, col := range c.category {
			if col.values[i] != "" {
				out[i].Category[col.name] = col.values[i]
			}
		}
	}
	return out
}

// sameRows compares rows value by value, floats by their bits (so -0 and
// 0 differ), a NaN feature as an absent one.
func sameRows(t *testing.T, got, want []Row) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.RequestID != w.RequestID || !g.Time.Equal(w.Time) {
			t.Errorf("row %d: id %q at %v, want %q at %v", i, g.RequestID, g.Time, w.RequestID, w.Time)
		}
		wn := 0
		for k, v := range w.Numeric {
			if math.IsNaN(v) {
				continue
			}
			wn++
			if gv, ok := g.Numeric[k]; !ok || math.Float64bits(gv) != math.Float64bits(v) {
				t.Errorf("row %d: %s = %v (present %v), want %v", i, k, gv, ok, v)
			}
		}
		if len(g.Numeric) != wn {
			t.Errorf("row %d: numbers %v, want %v", i, g.Numeric, w.Numeric)
		}
		wc := 0
		for k, v := range w.Category {
			if v != "" {
				wc++
				if g.Category[k] != v {
					t.Errorf("row %d: %s = %q, want %q", i, k, g.Category[k], v)
				}
			}
		}
		if len(g.Category) != wc {
			t.Errorf("row %d: strings %q, want %q", i, g.Category, w.Category)
		}
		if !slices.EqualFunc(g.Prediction, w.Prediction, func(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) || (a != a && b != b) }) {
			t.Errorf("row %d: prediction %v, want %v", i, g.Prediction, w.Prediction)
		}
	}
}

func TestChunkRoundTripsEveryValueExactly(t *testing.T) {
	rows := oddRows()
	var b chunkBuilder
	body := appendChunk(nil, b.build(segmentsOf(rows)))
	c, err := decodeChunk(body)
	if err != nil {
		t.Fatal(err)
	}
	sameRows(t, rowsOf(c), rows)
	// The builder's memory is reused: a second, narrower chunk holds none
	// of the first one's columns or values.
	c2, err := decodeChunk(appendChunk(nil, b.build(segmentsOf(rows[3:]))))
	if err != nil {
		t.Fatal(err)
	}
	sameRows(t, rowsOf(c2), rows[3:])
	if len(c2.numeric) != 0 || len(c2.category) != 0 {
		t.Errorf("second chunk has columns %v %v", c2.numeric, c2.category)
	}
	// float32-exact columns take 4 bytes a value, others 8.
	narrow := make([]Row, 100)
	for i := range narrow {
		narrow[i] = Row{Time: t0, Numeric: map[string]float64{"x": float64(float32(i) / 7)}}
	}
	wide := make([]Row, 100)
	for i := range wide {
		wide[i] = Row{Time: t0, Numeric: map[string]float64{"x": float64(i) / 7}}
	}
	nb, wb := len(appendChunk(nil, b.build(segmentsOf(narrow)))), len(appendChunk(nil, b.build(segmentsOf(wide))))
	if wb-nb != 400 {
		t.Errorf("float32-exact chunk %d bytes, float64 %d: want 400 apart", nb, wb)
	}
}

func TestCorruptChunkIsAnErrorNotAPanic(t *testing.T) {
	var b chunkBuilder
	body := appendChunk(nil, b.build(segmentsOf(oddRows())))
	for n := range len(body) {
		if _, err := decodeChunk(body[:n]); !errors.Is(err, errCorruptChunk) {
			t.Fatalf("cut to %d of %d bytes: err %v", n, len(body), err)
		}
	}
	if _, err := decodeChunk(append(slices.Clip(body), 0)); err == nil || !strings.Contains(err.Error(), "1 bytes after the last column") {
		t.Errorf("trailing byte: %v", err)
	}
	if _, err := decodeChunk([]byte{7, 0}); err == nil || err.Error() != "corrupt capture chunk: unknown format [7] (this sluice reads 1)" {
		t.Errorf("unknown format: %v", err)
	}
	// A count the body cannot hold is refused before anything is
	// allocated for it.
	huge := []byte{chunkFormat, 0xff, 0xff, 0x03}
	if _, err := decodeChunk(huge); err == nil || !strings.Contains(err.Error(), "65535 rows cannot fit in 0 bytes") {
		t.Errorf("huge row count: %v", err)
	}
	for i := range body {
		for _, bit := range []byte{1, 0x80} {
			bad := slices.Clone(body)
			bad[i] ^= bit
			decodeChunk(bad) // may decode to other values; must not panic
		}
	}
}

func FuzzDecodeChunk(f *testing.F) {
	var b chunkBuilder
	f.Add(appendChunk(nil, b.build(segmentsOf(oddRows()))))
	f.Add([]byte{chunkFormat, 0})
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := decodeChunk(body)
		if err != nil {
			if !errors.Is(err, errCorruptChunk) {
				t.Fatalf("error %v does not wrap errCorruptChunk", err)
			}
			return
		}
		// What decodes encodes to a chunk that decodes to the same rows.
		again, err := decodeChunk(appendChunk(nil, c))
		if err != nil {
			t.Fatalf("re-encoded chunk: %v", err)
		}
		if c.rows() > 0 {
			sameRows(t, rowsOf(again), rowsOf(c))
		}
	})
}

// TestWindowNamesACorruptChunk: a chunk that does not decode fails the
// window with an error naming it, not the process, and feedback for the
// requests captured after it still finds them.
func TestWindowNamesACorruptChunk(t *testing.T) {
	db := openStore(t)
	ctx := context.Background()
	_, err := db.ExecContext(ctx, `INSERT INTO drift_capture_chunks(id, endpoint, version, first_at, last_at, rows, body) VALUES (41, 'fraud', 1, ?, ?, 1, x'01ff')`,
		t0.Add(-time.Minute).UnixNano(), t0.Add(-time.Minute).UnixNano())
	if err != nil {
		t.Fatal(err)
	}
	_, err = Window(ctx, db, WindowQuery{Endpoint: "fraud", Version: 1, From: t0.Add(-time.Hour), To: t0, Numerical: []string{"amount"}})
	if !errors.Is(err, errCorruptChunk) || !strings.Contains(err.Error(), "decode capture chunk 41 of fraud v1: corrupt capture chunk: at byte") {
		t.Errorf("err = %v", err)
	}
	c := newCapture(t, db, CaptureOptions{Now: func() time.Time { return t0 }})
	c.Capture([]Row{{Endpoint: "fraud", RequestID: "after", Version: 1, Time: t0.Add(-time.Minute)}})
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := AddFeedback(ctx, db, "fraud", "after", 1, t0); err != nil {
		t.Errorf("feedback after a corrupt chunk: %v", err)
	}
}

// capturedIDs is every request id the capture chunks hold, oldest first.
func capturedIDs(t *testing.T, db *store.DB) []string {
	t.Helper()
	var ids []string
	rows, err := db.QueryContext(context.Background(), `SELECT first_at, body FROM drift_capture_chunks ORDER BY first_at, id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var first int64
		var body []byte
		if err := rows.Scan(&first, &body); err != nil {
			t.Fatal(err)
		}
		c, err := readChunk(body, first)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ids...)
	}
	return ids
}

// segmentsOf is rows as the writer hands them to a chunkBuilder.
func segmentsOf(rows []Row) []segment {
	segs := make([]segment, len(rows))
	for i, r := range rows {
		b := batchOf(r)
		segs[i] = segment{b: &b, to: 1}
	}
	return segs
}
