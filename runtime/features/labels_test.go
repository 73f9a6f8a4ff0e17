package features

import (
	"errors"
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"sluice/schema"
)

func TestReadSourceFrameKeepsTheAskedColumnsInOrder(t *testing.T) {
	fsys := fstest.MapFS{"labels.csv": {Data: []byte(
		"user_id,extra,event_timestamp,is_fraud\n" +
			"u1,x,2024-01-02T03:04:05Z,1\n" +
			"u2,y,2024-01-03T00:00:00Z,\n")}}
	src := &schema.Source{Path: "labels.csv", Timestamp: "event_timestamp"}
	f, err := ReadSourceFrame(fsys, src, []string{"is_fraud", "user_id", "event_timestamp"})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Columns) != 3 || f.Columns[0].Name != "is_fraud" || f.Columns[1].Name != "user_id" {
		t.Fatalf("columns %v, want is_fraud, user_id, event_timestamp", f.Columns)
	}
	if f.Len() != 2 || f.Columns[0].Value(0) != "1" || f.Columns[0].Value(1) != nil {
		t.Fatalf("label column %+v, want \"1\" then missing", f.Columns[0])
	}
	ts := f.Column("event_timestamp")
	if ts.Type != TypeTimestamp || !ts.Value(0).(time.Time).Equal(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Fatalf("timestamp column %+v, want parsed 2024-01-02T03:04:05Z", ts)
	}
}

func TestReadSourceFrameNamesTheMissingColumnAndTheBadRow(t *testing.T) {
	fsys := fstest.MapFS{"labels.csv": {Data: []byte(
		"user_id,event_timestamp,is_fraud\nu1,2024-01-02,1\nu2,yesterday,0\n")}}
	src := &schema.Source{Path: "labels.csv", Timestamp: "event_timestamp"}
	_, err := ReadSourceFrame(fsys, src, []string{"user_id", "label"})
	var de *DataError
	if !errors.As(err, &de) || de.Column != "label" || !strings.Contains(err.Error(), "labels.csv") {
		t.Fatalf("err %v, want a data error naming labels.csv and column label", err)
	}
	_, err = ReadSourceFrame(fsys, src, []string{"user_id", "event_timestamp"})
	if !errors.As(err, &de) || de.Line != 3 || de.Column != "event_timestamp" {
		t.Fatalf("err %v, want a data error at line 3, column event_timestamp", err)
	}
}

func TestReadSourceFrameReadsParquetWithItsTypes(t *testing.T) {
	src := &schema.Source{Path: "examples/repo/data/transactions.parquet", Format: "parquet", Timestamp: "event_timestamp"}
	f, err := ReadSourceFrame(os.DirFS("../.."), src, []string{"user_id", "event_timestamp", "is_fraud"})
	if err != nil {
		t.Fatal(err)
	}
	if f.Len() == 0 {
		t.Fatal("no rows")
	}
	if ts := f.Column("event_timestamp"); ts.Type != TypeTimestamp {
		t.Fatalf("event_timestamp is %s, want timestamp", ts.Type)
	}
	if lbl := f.Column("is_fraud"); lbl.Type == TypeString {
		t.Fatalf("is_fraud read as text from parquet, want its stored type")
	}
}
