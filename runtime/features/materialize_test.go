package features

import (
	"context"
	"database/sql"
	"reflect"
	"strings"
	"testing"
	"time"

	"sluice/schema"
)

const txCSV = `user_id,ts,amount,country
1,2024-05-01T10:00:00Z,10.5,DE
2,2024-05-01 11:00:00,20,FR
1,2024-05-02,30.25,DE
`

func TestMaterializeCSVServesHistory(t *testing.T) {
	f := newFixture(t)
	f.write("data/tx.csv", txCSV)
	res := f.mustMaterialize(userStats().request())
	if res.Mode != ModeFull || res.RowsRead != 3 || res.RowsWritten != 3 || res.OnlineRows != 2 {
		t.Fatalf("result = %+v, want a full read of 3 rows, 2 entities online", res)
	}
	if !res.Watermark.Equal(ts("2024-05-02T00:00:00Z")) {
		t.Errorf("watermark = %v, want the newest event time 2024-05-02", res.Watermark)
	}
	got := f.history(entities(1, "2024-05-01T12:00:00Z", 1, "2024-05-02T00:00:00Z", 2, "2024-05-01T10:59:59Z"),
		"user_stats:amount", "user_stats:country")
	want := [][]any{{10.5, "DE"}, {30.25, "DE"}, {nil, nil}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("history = %v, want %v", got, want)
	}
}

func TestMaterializeIncrementalReadsOnlyAppendedRows(t *testing.T) {
	f := newFixture(t)
	f.write("data/tx.csv", txCSV)
	f.mustMaterialize(userStats().request())
	f.appendTo("data/tx.csv", "2,2024-05-02T09:00:00Z,21,FR\n3,2024-05-02T10:00:00Z,5,US\n")

	res := f.mustMaterialize(userStats().request())
	if res.Mode != ModeIncremental || res.RowsRead != 2 || res.RowsWritten != 2 {
		t.Fatalf("result = %+v, want an incremental read of the 2 appended rows", res)
	}
	if res.OnlineRows != 2 {
		t.Errorf("online rows = %d, want the 2 entities of the appended rows", res.OnlineRows)
	}
	got := f.history(entities(1, "2024-05-02T12:00:00Z", 2, "2024-05-02T12:00:00Z", 3, "2024-05-02T12:00:00Z"), "user_stats:amount")
	if want := [][]any{{30.25}, {21.0}, {5.0}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("history = %v, want %v", got, want)
	}
	if !res.Watermark.Equal(ts("2024-05-02T10:00:00Z")) {
		t.Errorf("watermark = %v, want 2024-05-02T10:00:00Z", res.Watermark)
	}

	res = f.mustMaterialize(userStats().request())
	if res.Mode != ModeUnchanged || res.RowsRead != 0 {
		t.Fatalf("unchanged source: result = %+v, want nothing read", res)
	}
}

func TestMaterializeIncrementalErrorsCountLinesOfWholeFile(t *testing.T) {
	f := newFixture(t)
	f.write("data/tx.csv", txCSV)
	f.mustMaterialize(userStats().request())
	f.appendTo("data/tx.csv", "2,2024-05-02T09:00:00Z,21,FR\n2,2024-05-02T10:00:00Z,lots,FR\n")
	_, err := f.materialize(userStats().request())
	if err == nil || err.Error() != `data/tx.csv:6: column amount: parse "lots" as float64` {
		t.Fatalf("err = %v, want it at line 6 of the file", err)
	}
}

func TestMaterializeRebuildsWhenSourceRewritten(t *testing.T) {
	f := newFixture(t)
	f.write("data/tx.csv", txCSV)
	f.mustMaterialize(userStats().request())
	f.write("data/tx.csv", strings.Replace(txCSV, "10.5", "11.5", 1)+"2,2024-05-02T09:00:00Z,21,FR\n")

	res := f.mustMaterialize(userStats().request())
	if res.Mode != ModeFull || res.Reason != "source rewritten" || res.RowsRead != 4 {
		t.Fatalf("result = %+v, want a full read of the rewritten file's 4 rows", res)
	}
	got := f.history(entities(1, "2024-05-01T12:00:00Z"), "user_stats:amount")
	if want := [][]any{{11.5}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("history = %v, want the rewritten value %v", got, want)
	}
}

func TestMaterializeAppendAfterMissingFinalNewline(t *testing.T) {
	f := newFixture(t)
	f.write("data/tx.csv", strings.TrimSuffix(txCSV, "\n"))
	f.mustMaterialize(userStats().request())

	f.appendTo("data/tx.csv", "\n3,2024-05-02T10:00:00Z,5,US\n")
	if res := f.mustMaterialize(userStats().request()); res.Mode != ModeIncremental || res.RowsRead != 1 {
		t.Fatalf("new line after an unterminated record: result = %+v, want 1 row read incrementally", res)
	}

	f.write("data/tx.csv", strings.TrimSuffix(txCSV, "\n"))
	f.mustMaterialize(userStats().request())
	f.appendTo("data/tx.csv", "9\n") // the last record's country becomes "DE9"
	res := f.mustMaterialize(userStats().request())
	if res.Mode != ModeFull {
		t.Fatalf("bytes extending the last record: result = %+v, want a full rebuild", res)
	}
	got := f.history(entities(1, "2024-05-02T12:00:00Z"), "user_stats:country")
	if len(got) != 1 || got[0][0] != "DE9" {
		t.Fatalf("history = %v", got)
	}
}

func TestMaterializeRebuildsWhenViewChangesOrAsked(t *testing.T) {
	f := newFixture(t)
	f.write("data/tx.csv", txCSV)
	f.mustMaterialize(userStats().request())

	req := userStats().request()
	req.Full = true
	if res := f.mustMaterialize(req); res.Mode != ModeFull || res.Reason != "rebuild requested" || res.RowsRead != 3 {
		t.Fatalf("Full: result = %+v, want a requested rebuild", res)
	}

	v := userStats()
	v.fields = append(v.fields, schema.FeatureField{Name: "cents", Type: "int64", Expr: "amount * 100"})
	res := f.mustMaterialize(v.request())
	if res.Mode != ModeFull || res.Reason != "view changed" {
		t.Fatalf("new field: result = %+v, want a rebuild because the view changed", res)
	}
	vals, err := f.s.OnlineView(context.Background(), "user_stats", []EntityKey{{1}}, []string{"cents"}, ts("2024-05-02T01:00:00Z"))
	if err != nil || vals[0][0].Value != int64(3025) {
		t.Fatalf("online cents = %v, %v; want 3025", vals, err)
	}
}

func TestMaterializeNewerEventWinsOnline(t *testing.T) {
	f := newFixture(t)
	f.write("data/tx.csv", txCSV)
	f.mustMaterialize(userStats().request())
	now := ts("2024-05-02T01:00:00Z")

	// An older window, re-materialized, must not replace user 1's value
	// of 2024-05-02.
	f.write("data/tx.csv", "user_id,ts,amount,country\n1,2024-05-01T20:00:00Z,99,XX\n")
	f.mustMaterialize(userStats().request())
	// Nor an appended old row user 2's value of 2024-05-01 11:00.
	f.appendTo("data/tx.csv", "2,2024-05-01T05:00:00Z,98,XX\n")
	f.mustMaterialize(userStats().request())

	vals, err := f.s.OnlineView(context.Background(), "user_stats", []EntityKey{{1}, {2}}, []string{"amount"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if vals[0][0].Value != 30.25 || vals[1][0].Value != 20.0 {
		t.Fatalf("online = %v, want the newer values 30.25 and 20 kept", vals)
	}
}

func TestMaterializeDuplicateRowLastInFileWins(t *testing.T) {
	f := newFixture(t)
	f.write("data/tx.csv", txCSV+"1,2024-05-02T00:00:00Z,31,AT\n")
	f.mustMaterialize(userStats().request())
	got := f.history(entities(1, "2024-05-02T00:00:00Z"), "user_stats:amount", "user_stats:country")
	if want := [][]any{{31.0, "AT"}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("history = %v, want the later duplicate %v", got, want)
	}
	vals, _ := f.s.OnlineView(context.Background(), "user_stats", []EntityKey{{1}}, []string{"amount"}, ts("2024-05-02T01:00:00Z"))
	if vals[0][0].Value != 31.0 {
		t.Fatalf("online = %v, want the later duplicate", vals)
	}
}

func TestMaterializeInSortedRunsMatchesOneRun(t *testing.T) {
	var b strings.Builder
	b.WriteString("user_id,ts,amount,country\n")
	for i := range 40 {
		b.WriteString(strings.Join([]string{
			[]string{"3", "1", "2", "5"}[i%4],
			time.Date(2024, 5, 1, 0, (i*37)%60, i, 0, time.UTC).Format(time.RFC3339),
			strings.Repeat("1", 1+i%3), "C" + string(rune('A'+i%26)),
		}, ",") + "\n")
	}
	ents := entities(1, "2024-05-01T00:30:00Z", 2, "2024-05-01T00:59:00Z", 3, "2024-05-01T00:10:00Z", 5, "2024-05-01T01:00:00Z")
	var want [][]any
	for _, run := range []int{1 << 24, 3, 1} {
		f := newFixture(t)
		f.s.RunRows = run
		f.write("data/tx.csv", b.String())
		f.mustMaterialize(userStats().request())
		got := f.history(ents, "user_stats:amount", "user_stats:country")
		if want == nil {
			want = got
		} else if !reflect.DeepEqual(got, want) {
			t.Fatalf("runs of %d rows: history = %v, want %v", run, got, want)
		}
	}
}

func TestMaterializeOfflineOnlyViewHasNoOnlineTable(t *testing.T) {
	f := newFixture(t)
	f.write("data/tx.csv", txCSV)
	v := userStats()
	v.offline = true
	f.mustMaterialize(v.request())
	if got := f.history(entities(1, "2024-05-02T00:00:00Z"), "user_stats:amount"); got[0][0] != 30.25 {
		t.Fatalf("history = %v", got)
	}
	_, err := f.s.OnlineView(context.Background(), "user_stats", []EntityKey{{1}}, nil, time.Time{})
	if err == nil || !strings.Contains(err.Error(), "not online") {
		t.Fatalf("online lookup of an offline view: err = %v", err)
	}
}

func TestMaterializeAbsolutePathReadsDataRoot(t *testing.T) {
	f := newFixture(t)
	f.write("data/tx.csv", txCSV)
	v := userStats()
	v.path = f.dir + "/data/tx.csv"
	req := v.request()
	req.FS = nil
	res, err := f.s.materializeInTx(t, f, req)
	if err != nil || res.RowsRead != 3 {
		t.Fatalf("result = %+v, %v", res, err)
	}
}

// materializeInTx runs Materialize without the fixture's default FS.
func (s *Store) materializeInTx(t *testing.T, f *fixture, req MaterializeRequest) (MaterializeResult, error) {
	t.Helper()
	tx, err := f.db.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Materialize(context.Background(), tx, req)
	if err != nil {
		tx.Rollback()
		return res, err
	}
	return res, tx.Commit()
}

func TestDeleteViewRemovesOfflineAndOnlineData(t *testing.T) {
	f := newFixture(t)
	f.write("data/tx.csv", txCSV)
	f.mustMaterialize(userStats().request())
	ctx := context.Background()
	if err := f.db.Tx(ctx, func(tx *sql.Tx) error { return f.s.DeleteView(ctx, tx, "user_stats") }); err != nil {
		t.Fatal(err)
	}
	var n int
	f.db.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name LIKE 'features_%user_stats'`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d tables of the deleted view remain", n)
	}
	if _, err := f.s.History(ctx, HistoryRequest{Entities: entities(1, "2024-05-02T00:00:00Z"), Features: []string{"user_stats:amount"}}); err == nil || !strings.Contains(err.Error(), "not materialized") {
		t.Fatalf("history of a deleted view: err = %v", err)
	}
	if _, err := f.s.OnlineView(ctx, "user_stats", []EntityKey{{1}}, nil, time.Time{}); err == nil {
		t.Fatal("online lookup of a deleted view succeeded")
	}
	if res := f.mustMaterialize(userStats().request()); res.Mode != ModeFull || res.Reason != "new view" {
		t.Fatalf("materialize after delete: %+v", res)
	}
}
