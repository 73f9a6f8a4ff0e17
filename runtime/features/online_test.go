package features

import (
	"context"
	"database/sql"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"sluice/schema"
)

func TestOnlineStatuses(t *testing.T) {
	f := newFixture(t)
	f.write("data/tx.csv", "user_id,ts,amount,country\n1,2024-05-02T00:00:00Z,30.25,\n2,2024-05-01T11:00:00Z,20,FR\n")
	f.mustMaterialize(userStats().request())
	now := ts("2024-05-02T12:00:00Z")
	got, err := f.s.OnlineView(context.Background(), "user_stats", []EntityKey{{1}, {2}, {3}}, []string{"amount", "country"}, now)
	if err != nil {
		t.Fatal(err)
	}
	at1, at2 := ts("2024-05-02T00:00:00Z"), ts("2024-05-01T11:00:00Z")
	want := [][]Value{
		{{Present, 30.25, at1}, {NullValue, nil, at1}},
		{{OutsideMaxAge, nil, at2}, {OutsideMaxAge, nil, at2}}, // 25h old, ttl 24h
		{{NotFound, nil, time.Time{}}, {NotFound, nil, time.Time{}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("online =\n%v\nwant\n%v", got, want)
	}
}

// The online and offline stores draw the TTL line at the same instant.
func TestOnlineTTLEdgeMatchesHistory(t *testing.T) {
	f := newFixture(t)
	f.write("data/tx.csv", "user_id,ts,amount,country\n1,2024-05-01T10:00:00Z,1,A\n")
	f.mustMaterialize(userStats().request())
	for _, at := range []string{"2024-05-02T10:00:00Z", "2024-05-02T10:00:00.000000001Z"} {
		vals, err := f.s.OnlineView(context.Background(), "user_stats", []EntityKey{{1}}, []string{"amount"}, ts(at))
		if err != nil {
			t.Fatal(err)
		}
		hist := f.history(entities(1, at), "user_stats:amount")
		present := vals[0][0].Status == Present
		if present != (hist[0][0] != nil) {
			t.Errorf("at %s: online %v, history %v: they disagree", at, vals[0][0].Status, hist[0][0])
		}
		if want := at == "2024-05-02T10:00:00Z"; present != want {
			t.Errorf("at %s: present = %v, want %v", at, present, want)
		}
	}
}

func TestOnlineSeesTheNextMaterialization(t *testing.T) {
	f := newFixture(t)
	f.write("data/tx.csv", txCSV)
	f.mustMaterialize(userStats().request())
	ctx := context.Background()
	now := ts("2024-05-02T06:00:00Z")
	get := func(fields ...string) []Value {
		t.Helper()
		vals, err := f.s.OnlineView(ctx, "user_stats", []EntityKey{{int64(1)}}, fields, now)
		if err != nil {
			t.Fatal(err)
		}
		return vals[0]
	}
	if v := get("amount"); v[0].Value != 30.25 {
		t.Fatalf("amount = %v", v)
	}
	f.appendTo("data/tx.csv", "1,2024-05-02T05:00:00Z,99,DE\n")
	f.mustMaterialize(userStats().request())
	if v := get("amount"); v[0].Value != 99.0 {
		t.Fatalf("after an incremental materialization: amount = %v, want 99", v)
	}
	v := userStats()
	v.fields = v.fields[1:] // amount goes away
	f.mustMaterialize(v.request())
	if got := get(); len(got) != 1 || got[0].Value != "DE" {
		t.Fatalf("after the view lost a field: %v, want only country", got)
	}
	if _, err := f.s.OnlineView(ctx, "user_stats", []EntityKey{{1}}, []string{"amount"}, now); err == nil || !strings.Contains(err.Error(), "has no field amount") {
		t.Fatalf("lookup of the removed field: err = %v", err)
	}
}

func TestOnlineAcrossViewsByJoinKey(t *testing.T) {
	f := newFixture(t)
	f.write("data/tx.csv", txCSV)
	f.mustMaterialize(userStats().request())
	other := userStats()
	other.name = "user_other"
	other.fields = other.fields[:1]
	other.ttl = 0
	f.mustMaterialize(other.request())
	resp, err := f.s.Online(context.Background(), OnlineRequest{
		Features: []string{"user_other:amount", "user_stats:country", "user_stats:amount"},
		Entities: []map[string]any{{"user_id": "1"}, {"user_id": json.Number("2")}, {"user_id": 7.0}},
		Now:      ts("2024-05-02T12:00:00Z"),
	})
	if err != nil {
		t.Fatal(err)
	}
	var got [][]any
	for _, row := range resp.Rows {
		var r []any
		for _, v := range row {
			r = append(r, v.Status.String()+"="+strings.TrimSuffix(strings.TrimPrefix(jsonOf(v.Value), `"`), `"`))
		}
		got = append(got, r)
	}
	want := [][]any{
		{"PRESENT=30.25", "PRESENT=DE", "PRESENT=30.25"},
		{"PRESENT=20", "OUTSIDE_MAX_AGE=null", "OUTSIDE_MAX_AGE=null"},
		{"NOT_FOUND=null", "NOT_FOUND=null", "NOT_FOUND=null"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("online =\n%v\nwant\n%v", got, want)
	}
	_, err = f.s.Online(context.Background(), OnlineRequest{Features: []string{"user_stats:amount"}, Entities: []map[string]any{{"user": 1}}})
	if err == nil || err.Error() != "entity row 1 has no user_id (feature view user_stats needs it)" {
		t.Fatalf("missing join key: err = %v", err)
	}
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestStatusMarshalsAsFeastName(t *testing.T) {
	b, err := json.Marshal(Value{Status: OutsideMaxAge})
	if err != nil || !strings.Contains(string(b), `"Status":"OUTSIDE_MAX_AGE"`) {
		t.Fatalf("json = %s, %v", b, err)
	}
}

func TestOnlineLookupOfViewMadeAgainAfterDelete(t *testing.T) {
	f := newFixture(t)
	f.write("data/tx.csv", txCSV)
	f.mustMaterialize(userStats().request())
	ctx := context.Background()
	now := ts("2024-05-02T01:00:00Z")
	if _, err := f.s.OnlineView(ctx, "user_stats", []EntityKey{{1}}, []string{"amount"}, now); err != nil {
		t.Fatal(err)
	}
	if err := f.db.Tx(ctx, func(tx *sql.Tx) error { return f.s.DeleteView(ctx, tx, "user_stats") }); err != nil {
		t.Fatal(err)
	}
	v := userStats()
	v.fields = []schema.FeatureField{{Name: "amount", Type: "string", Expr: "'EUR ' || amount"}}
	f.mustMaterialize(v.request())
	vals, err := f.s.OnlineView(ctx, "user_stats", []EntityKey{{1}}, []string{"amount"}, now)
	if err != nil || vals[0][0].Value != "EUR 30.25" {
		t.Fatalf("online after the view was made again = %v, %v; want the new string value", vals, err)
	}
}
