package features

import (
	"bytes"
	"context"
	"reflect"
	"testing"
	"testing/fstest"
	"time"

	"github.com/parquet-go/parquet-go"
)

// txRow is txCSV's row as Parquet: a timestamp logical type, an optional
// amount, an int32 date column the view does not read.
type txRow struct {
	UserID  int64     `parquet:"user_id"`
	TS      time.Time `parquet:"ts,timestamp(millisecond)"`
	Amount  *float64  `parquet:"amount,optional"`
	Country string    `parquet:"country"`
	Day     int32     `parquet:"day,date"`
}

func writeParquet[T any](t *testing.T, rows []T) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[T](&buf)
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func fp(v float64) *float64 { return &v }

func TestParquetAndCSVGiveTheSameFeatures(t *testing.T) {
	pq := writeParquet(t, []txRow{
		{1, ts("2024-05-01T10:00:00Z"), fp(10.5), "DE", 0},
		{2, ts("2024-05-01T11:00:00Z"), fp(20), "FR", 0},
		{1, ts("2024-05-02T00:00:00Z"), fp(30.25), "DE", 0},
		{3, ts("2024-05-02T00:00:00Z"), nil, "US", 0},
	})
	csvData := txCSV + "3,2024-05-02,,US\n"
	ents := entities(1, "2024-05-01T12:00:00Z", 1, "2024-05-02T00:00:00Z", 2, "2024-05-01T10:59:59Z", 2, "2024-05-02T00:00:00Z", 3, "2024-05-02T01:00:00Z")
	now := ts("2024-05-02T01:00:00Z")
	var results [2][][]any
	var online [2][][]Value
	for i, format := range []string{"csv", "parquet"} {
		f := newFixture(t)
		v := userStats()
		v.path = "data/tx." + format
		req := v.request()
		req.FS = fstest.MapFS{"data/tx.csv": {Data: []byte(csvData)}, "data/tx.parquet": {Data: pq}}
		if res := f.mustMaterialize(req); res.RowsRead != 4 {
			t.Fatalf("%s: %+v", format, res)
		}
		results[i] = f.history(ents, "user_stats:amount", "user_stats:country")
		var err error
		if online[i], err = f.s.OnlineView(context.Background(), "user_stats", []EntityKey{{1}, {2}, {3}}, nil, now); err != nil {
			t.Fatal(err)
		}
	}
	want := [][]any{{10.5, "DE"}, {30.25, "DE"}, {nil, nil}, {20.0, "FR"}, {nil, "US"}}
	if !reflect.DeepEqual(results[0], want) {
		t.Fatalf("csv history = %v, want %v", results[0], want)
	}
	if !reflect.DeepEqual(results[1], results[0]) {
		t.Fatalf("parquet history = %v\ncsv history = %v", results[1], results[0])
	}
	if !reflect.DeepEqual(online[1], online[0]) {
		t.Fatalf("parquet online = %v\ncsv online = %v", online[1], online[0])
	}
}

func TestParquetUnchangedFileReadsNothingAndChangedRebuilds(t *testing.T) {
	rows := []txRow{{1, ts("2024-05-01T10:00:00Z"), fp(10.5), "DE", 0}}
	fsys := fstest.MapFS{"data/tx.parquet": {Data: writeParquet(t, rows)}}
	f := newFixture(t)
	v := userStats()
	v.path = "data/tx.parquet"
	req := v.request()
	req.FS = fsys
	f.mustMaterialize(req)
	if res := f.mustMaterialize(req); res.Mode != ModeUnchanged || res.RowsRead != 0 {
		t.Fatalf("unchanged parquet: %+v", res)
	}
	rows = append(rows, txRow{2, ts("2024-05-01T11:00:00Z"), fp(1), "FR", 0})
	fsys["data/tx.parquet"] = &fstest.MapFile{Data: writeParquet(t, rows)}
	if res := f.mustMaterialize(req); res.Mode != ModeFull || res.Reason != "source changed" || res.RowsRead != 2 {
		t.Fatalf("changed parquet: %+v", res)
	}
}

func TestParquetBadValueNamesRowAndColumn(t *testing.T) {
	type row struct {
		UserID int64  `parquet:"user_id"`
		TS     string `parquet:"ts"`
		Amount string `parquet:"amount"`
	}
	data := writeParquet(t, []row{{1, "2024-05-01", "1.5"}, {2, "2024-05-01", "lots"}})
	f := newFixture(t)
	v := userStats()
	v.path = "data/tx.parquet"
	v.fields = v.fields[:1]
	req := v.request()
	req.FS = fstest.MapFS{"data/tx.parquet": {Data: data}}
	_, err := f.materialize(req)
	if err == nil || err.Error() != `data/tx.parquet: row 2: column amount: parse "lots" as float64` {
		t.Fatalf("err = %v", err)
	}
	req.FS = fstest.MapFS{"data/tx.parquet": {Data: []byte("not parquet at all")}}
	if _, err = f.materialize(req); err == nil || !IsDataError(err) {
		t.Fatalf("garbage file: err = %v", err)
	}
}
