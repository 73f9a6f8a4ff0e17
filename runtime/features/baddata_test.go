package features

import (
	"context"
	"errors"
	"io/fs"
	"reflect"
	"strings"
	"testing"

	"sluice/schema"
)

func TestMaterializeBadDataNamesFileRowAndColumnAndKeepsOldData(t *testing.T) {
	for _, tc := range []struct {
		name, data, want string
	}{
		{"unparsable float", "user_id,ts,amount,country\n1,2024-05-03,1,DE\n1,2024-05-04,abc,DE\n",
			`data/tx.csv:3: column amount: parse "abc" as float64`},
		{"missing column", "user_id,ts,amount\n1,2024-05-03,1\n",
			`data/tx.csv:1: column country: not in the file (it has: user_id, ts, amount)`},
		{"bad timestamp", "user_id,ts,amount,country\n1,2024-13-03,1,DE\n",
			`data/tx.csv:2: column ts: parse "2024-13-03" as timestamp: date out of range`},
		{"timestamp in no known layout", "user_id,ts,amount,country\n1,03/05/2024,1,DE\n",
			`data/tx.csv:2: column ts: parse "03/05/2024" as timestamp: want ` + timestampLayouts},
		{"empty join key", "user_id,ts,amount,country\n,2024-05-03,1,DE\n",
			`data/tx.csv:2: column user_id: empty join key`},
		{"empty timestamp", "user_id,ts,amount,country\n1,,1,DE\n",
			`data/tx.csv:2: column ts: empty event timestamp`},
		{"text join key of an int64 entity", "user_id,ts,amount,country\nu1,2024-05-03,1,DE\n",
			`data/tx.csv:2: column user_id: parse "u1" as int64`},
		{"short record", "user_id,ts,amount,country\n1,2024-05-03,1,DE\n\n1,2024-05-04,2\n",
			`data/tx.csv:4: record has 3 fields, the header has 4`},
		{"record after a quoted newline", "user_id,ts,amount,country\n1,2024-05-03,1,\"D\nE\"\n1,2024-05-04,x,DE\n",
			`data/tx.csv:4: column amount: parse "x" as float64`},
		{"unclosed quote", "user_id,ts,amount,country\n1,2024-05-03,1,\"DE\n",
			`data/tx.csv:2: quoted field not closed before the end of the file`},
		{"empty file", "", `data/tx.csv:1: empty file: want a header naming the columns`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.write("data/tx.csv", txCSV)
			f.mustMaterialize(userStats().request())
			before, err := f.s.View(context.Background(), "user_stats")
			if err != nil {
				t.Fatal(err)
			}

			f.write("data/tx.csv", tc.data)
			_, err = f.materialize(userStats().request())
			if err == nil || err.Error() != tc.want {
				t.Fatalf("err = %v\nwant %s", err, tc.want)
			}
			if !IsDataError(err) {
				t.Errorf("IsDataError(%v) = false", err)
			}
			assertOldData(t, f, before.Version)
		})
	}
}

// assertOldData checks that txCSV's data is still served.
func assertOldData(t *testing.T, f *fixture, version int64) {
	t.Helper()
	got := f.history(entities(1, "2024-05-02T00:00:00Z"), "user_stats:amount")
	if !reflect.DeepEqual(got, [][]any{{30.25}}) {
		t.Errorf("history after the failure = %v, want the old 30.25", got)
	}
	vals, err := f.s.OnlineView(context.Background(), "user_stats", []EntityKey{{1}}, nil, ts("2024-05-02T01:00:00Z"))
	if err != nil || vals[0][0].Value != 30.25 {
		t.Errorf("online after the failure = %v, %v; want the old 30.25", vals, err)
	}
	v, err := f.s.View(context.Background(), "user_stats")
	if err != nil || v.Version != version {
		t.Errorf("view record after the failure: %+v, %v; want version %d", v, err, version)
	}
}

func TestDataErrorIsTypedAndWrapped(t *testing.T) {
	f := newFixture(t)
	f.write("data/tx.csv", "user_id,ts,amount,country\n1,2024-05-03,abc,DE\n")
	_, err := f.materialize(userStats().request())
	var de *DataError
	if !errors.As(err, &de) {
		t.Fatalf("err = %v (%T), want a *DataError", err, err)
	}
	if de.File != "data/tx.csv" || de.Line != 2 || de.Column != "amount" || de.Msg != `parse "abc" as float64` {
		t.Fatalf("DataError = %+v", de)
	}
}

func TestMaterializeMissingFileIsAnError(t *testing.T) {
	f := newFixture(t)
	_, err := f.materialize(userStats().request())
	if !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), "open data file data/tx.csv: ") {
		t.Fatalf("err = %v", err)
	}
}

func TestMaterializeExprTransformsRunInSQLite(t *testing.T) {
	f := newFixture(t)
	f.write("data/tx.csv", "user_id,ts,amount,country,fee\n1,2024-05-01,10.5,de,0.5\n2,2024-05-01,20,FR,\n")
	v := userStats()
	v.fields = []schema.FeatureField{
		{Name: "amount", Type: "float64"},
		{Name: "cents", Type: "int64", Expr: "amount * 100"},
		{Name: "net", Type: "float64", Expr: "amount - coalesce(fee, 0)"},
		{Name: "big", Type: "bool", Expr: "amount > 15"},
		{Name: "country", Type: "string", Expr: "upper(country) || '-' || user_id"},
	}
	f.mustMaterialize(v.request())
	got := f.history(entities(1, "2024-05-01T01:00:00Z", 2, "2024-05-01T01:00:00Z"),
		"user_stats:amount", "user_stats:cents", "user_stats:net", "user_stats:big", "user_stats:country")
	want := [][]any{{10.5, int64(1050), 10.0, false, "DE-1"}, {20.0, int64(2000), 20.0, true, "FR-2"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("history = %v\nwant %v", got, want)
	}
}

func TestMaterializeExprOverMissingColumnIsDataError(t *testing.T) {
	f := newFixture(t)
	f.write("data/tx.csv", txCSV)
	v := userStats()
	v.fields = append(v.fields, schema.FeatureField{Name: "net", Type: "float64", Expr: "amount - discount"})
	_, err := f.materialize(v.request())
	if err == nil || err.Error() != "data/tx.csv:1: column discount: an expression reads it but the file has no such column" || !IsDataError(err) {
		t.Fatalf("err = %v", err)
	}
}

func TestMaterializeRefusesExprThatEndsTheStatement(t *testing.T) {
	f := newFixture(t)
	f.write("data/tx.csv", txCSV)
	v := userStats()
	v.fields = append(v.fields, schema.FeatureField{Name: "x", Type: "int64", Expr: "1); DROP TABLE feature_views; --"})
	_, err := f.materialize(v.request())
	if err == nil || !strings.Contains(err.Error(), "field x: expr may not contain ';'") {
		t.Fatalf("err = %v", err)
	}
}
