package features

import (
	"bytes"
	"context"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/txtar"

	"sluice/schema"
)

func TestHistoryNeverReturnsAValueFromTheFuture(t *testing.T) {
	f := newFixture(t)
	f.write("data/tx.csv", "user_id,ts,amount,country\n1,2024-05-01T10:00:00Z,1,A\n1,2024-05-01T12:00:00Z,2,B\n")
	f.mustMaterialize(userStats().request())
	got := f.history(entities(
		1, "2024-05-01T09:59:59.999999999Z",
		1, "2024-05-01T10:00:00Z",
		1, "2024-05-01T11:59:59.999999999Z",
		1, "2024-05-01T12:00:00Z",
	), "user_stats:amount")
	want := [][]any{{nil}, {1.0}, {1.0}, {2.0}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("history = %v, want %v", got, want)
	}
}

func TestHistoryTTLBoundsTheAgeOfAValue(t *testing.T) {
	f := newFixture(t)
	f.write("data/tx.csv", "user_id,ts,amount,country\n1,2024-05-01T10:00:00Z,1,A\n")
	v := userStats()
	v.ttl = time.Hour
	f.mustMaterialize(v.request())
	got := f.history(entities(1, "2024-05-01T11:00:00Z", 1, "2024-05-01T11:00:00.000000001Z"), "user_stats:amount")
	if want := [][]any{{1.0}, {nil}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("history = %v, want %v: a value exactly ttl old is valid, older is not", got, want)
	}

	v.ttl = 0
	f.mustMaterialize(v.request())
	got = f.history(entities(1, "2030-01-01T00:00:00Z"), "user_stats:amount")
	if want := [][]any{{1.0}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("ttl 0: history = %v, want %v (no expiry)", got, want)
	}
}

// A backfill written at 15:00 for event time 11:00 must not reach an entity
// row of 12:00: at 12:00 nobody could have known it.
func TestHistoryCreatedTimestampStopsBackfillLeak(t *testing.T) {
	f := newFixture(t)
	f.write("data/tx.csv", `user_id,ts,created,amount,country
1,2024-05-01T10:00:00Z,2024-05-01T10:00:00Z,1,A
1,2024-05-01T11:00:00Z,2024-05-01T15:00:00Z,2,B
1,2024-05-01T10:00:00Z,2024-05-01T13:00:00Z,3,C
`)
	v := userStats()
	v.created = "created"
	f.mustMaterialize(v.request())
	got := f.history(entities(1, "2024-05-01T12:00:00Z", 1, "2024-05-01T14:00:00Z", 1, "2024-05-01T16:00:00Z"),
		"user_stats:amount", "user_stats:country")
	want := [][]any{{1.0, "A"}, {3.0, "C"}, {2.0, "B"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("history = %v, want %v", got, want)
	}
	vals, err := f.s.OnlineView(context.Background(), "user_stats", []EntityKey{{1}}, []string{"amount"}, ts("2024-05-01T16:00:00Z"))
	if err != nil || vals[0][0].Value != 2.0 {
		t.Fatalf("online = %v, %v; want the newest event's value 2", vals, err)
	}
}

func TestHistoryNamesCollidingFeaturesByView(t *testing.T) {
	f := newFixture(t)
	f.write("data/tx.csv", txCSV)
	f.mustMaterialize(userStats().request())
	other := userStats()
	other.name = "user_other"
	other.fields = other.fields[:1]
	f.mustMaterialize(other.request())
	out, err := f.s.History(context.Background(), HistoryRequest{
		Entities: entities(1, "2024-05-02T00:00:00Z"),
		Features: []string{"user_stats:amount", "user_stats:country", "user_other:amount"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range out.Columns {
		names = append(names, c.Name)
	}
	want := []string{"user_id", "event_timestamp", "user_stats__amount", "country", "user_other__amount"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("columns = %v, want %v", names, want)
	}
}

func TestHistoryMatchesTextAndCompositeKeys(t *testing.T) {
	f := newFixture(t)
	f.write("data/pay.csv", "merchant,user_id,at,risk\nm-1,1,2024-05-01,0.5\nm-1,2,2024-05-01,0.7\nm-2,1,2024-05-01,0.9\n")
	v := viewSpec{
		name: "pair", path: "data/pay.csv", ts: "at",
		keys: map[string]string{"merchant": "string", "user_id": "int64"}, keyOrder: []string{"merchant", "user_id"},
		fields: []schema.FeatureField{{Name: "risk", Type: "float64"}},
	}
	f.mustMaterialize(v.request())
	ents, err := ReadEntityRowsCSV(strings.NewReader("user_id,merchant,event_timestamp\n2,m-1,2024-05-02\n1,m-2,2024-05-02\n1,m-3,2024-05-02\n"), "ents.csv")
	if err != nil {
		t.Fatal(err)
	}
	got := f.history(ents, "pair:risk")
	if want := [][]any{{0.7}, {0.9}, {nil}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("history = %v, want %v", got, want)
	}
	vals, err := f.s.Online(context.Background(), OnlineRequest{
		Features: []string{"pair:risk"},
		Entities: []map[string]any{{"merchant": "m-2", "user_id": "1"}},
		Now:      ts("2024-05-01T01:00:00Z"),
	})
	if err != nil || vals.Rows[0][0].Value != 0.9 {
		t.Fatalf("online = %+v, %v", vals, err)
	}
}

func TestHistoryManyRowsInChunksKeepRowOrder(t *testing.T) {
	f := newFixture(t)
	var b strings.Builder
	b.WriteString("user_id,ts,amount,country\n")
	for u := range 300 {
		b.WriteString(strings.Join([]string{strconv.Itoa(u), "2024-05-01", strconv.Itoa(u * 2), "X"}, ",") + "\n")
	}
	f.write("data/tx.csv", b.String())
	f.mustMaterialize(userStats().request())
	var rows []any
	for i := range 2*parallelRows + 1000 { // more than one reader, several chunks each
		rows = append(rows, (i*7919)%320, "2024-05-01T06:00:00Z")
	}
	got := f.history(entities(rows...), "user_stats:amount")
	for i, r := range got {
		u := (i * 7919) % 320
		var want any = float64(u * 2)
		if u >= 300 {
			want = nil
		}
		if r[0] != want {
			t.Fatalf("row %d (user %d): amount = %v, want %v", i, u, r[0], want)
		}
	}
}

// TestHistoryCSVGolden runs `features history` end to end as the CLI does:
// entity rows from CSV, a training set back to CSV. The archive holds the
// source, the entity rows and the expected output; SLUICE_UPDATE=1
// rewrites the expected output.
func TestHistoryCSVGolden(t *testing.T) {
	const golden = "testdata/history.txtar"
	ar, err := txtar.ParseFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, fl := range ar.Files {
		files[fl.Name] = fl.Data
	}
	f := newFixture(t)
	f.write("data/tx.csv", string(files["tx.csv"]))
	v := userStats()
	v.fields = append(v.fields, schema.FeatureField{Name: "big", Type: "bool", Expr: "amount >= 100"})
	f.mustMaterialize(v.request())
	ents, err := ReadEntityRowsCSV(bytes.NewReader(files["entities.csv"]), "entities.csv")
	if err != nil {
		t.Fatal(err)
	}
	out, err := f.s.History(context.Background(), HistoryRequest{Entities: ents, Features: []string{"user_stats:amount", "user_stats:country", "user_stats:big"}})
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := out.WriteCSV(&got); err != nil {
		t.Fatal(err)
	}
	if os.Getenv("SLUICE_UPDATE") != "" {
		for i := range ar.Files {
			if ar.Files[i].Name == "want.csv" {
				ar.Files[i].Data = got.Bytes()
			}
		}
		if err := os.WriteFile(golden, txtar.Format(ar), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got.String() != string(files["want.csv"]) {
		t.Fatalf("training set:\n%s\nwant:\n%s", got.String(), files["want.csv"])
	}
}

func TestReadEntityRowsCSVErrorsNameLineAndColumn(t *testing.T) {
	for _, tc := range []struct{ data, want string }{
		{"user_id,ts\n1,2024-05-01\n", "ents.csv:1: column event_timestamp: missing: entity rows need a point in time (have: user_id, ts)"},
		{"user_id,event_timestamp\n1,2024-05-01\n2,yesterday\n", `ents.csv:3: column event_timestamp: parse "yesterday" as timestamp: want ` + timestampLayouts},
		{"user_id,event_timestamp\n1,\n", "ents.csv:2: column event_timestamp: empty timestamp"},
	} {
		_, err := ReadEntityRowsCSV(strings.NewReader(tc.data), "ents.csv")
		if err == nil || err.Error() != tc.want {
			t.Errorf("err = %v\nwant %s", err, tc.want)
		}
	}
}

func TestHistoryUnknownViewOrFieldIsAnError(t *testing.T) {
	f := newFixture(t)
	f.write("data/tx.csv", txCSV)
	f.mustMaterialize(userStats().request())
	for _, tc := range []struct{ ref, want string }{
		{"nope:amount", "history: feature view nope: not materialized"},
		{"user_stats:nope", "history: feature view user_stats has no field nope (fields: amount, country)"},
		{"user_stats", `history: feature "user_stats": want view:field`},
	} {
		_, err := f.s.History(context.Background(), HistoryRequest{Entities: entities(1, "2024-05-02T00:00:00Z"), Features: []string{tc.ref}})
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: err = %v, want %s", tc.ref, err, tc.want)
		}
	}
}

func TestHistoryParsesTextTimesOfANamedColumn(t *testing.T) {
	f := newFixture(t)
	f.write("data/tx.csv", txCSV)
	f.mustMaterialize(userStats().request())
	ids := &Column{Name: "user_id", Type: TypeString, Strings: []string{"1", "1"}}
	at := &Column{Name: "label_time", Type: TypeString, Strings: []string{"2024-05-01 12:00:00", "2024-05-02"}}
	out, err := f.s.History(context.Background(), HistoryRequest{
		Entities: &Frame{Columns: []*Column{ids, at}}, Features: []string{"user_stats:amount"}, TimestampColumn: "label_time",
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := []any{out.Column("amount").Value(0), out.Column("amount").Value(1)}; !reflect.DeepEqual(got, []any{10.5, 30.25}) {
		t.Fatalf("amounts = %v", got)
	}
	at.Strings[1] = "soon"
	_, err = f.s.History(context.Background(), HistoryRequest{
		Entities: &Frame{Columns: []*Column{ids, at}}, Features: []string{"user_stats:amount"}, TimestampColumn: "label_time",
	})
	if err == nil || err.Error() != `history: entity row 2: label_time: parse "soon" as timestamp: want `+timestampLayouts {
		t.Fatalf("err = %v", err)
	}
}
