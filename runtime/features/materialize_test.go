package features

import (
	"reflect"
	"testing"
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
	if res.Mode != ModeFull || res.RowsRead != 3 || res.RowsWritten != 3 {
		t.Fatalf("result = %+v, want a full read of 3 rows", res)
	}
	got := f.history(entities(1, "2024-05-01T12:00:00Z", 1, "2024-05-02T00:00:00Z", 2, "2024-05-01T10:59:59Z"),
		"user_stats:amount", "user_stats:country")
	want := [][]any{{10.5, "DE"}, {30.25, "DE"}, {nil, nil}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("history = %v, want %v", got, want)
	}
}
