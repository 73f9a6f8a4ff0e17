package serving

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/txtar"
)

// feastStore is an online store stand-in for the Feast route: the engine
// wires the real one's reader as a function, which is all the server sees
// (cmd's serve test reads the real store through the route).
func feastStore(_ context.Context, refs []string, rows []map[string]any) ([][]OnlineValue, error) {
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	users := map[string]map[string]OnlineValue{
		"1001": {
			"n": {Status: "PRESENT", Value: int64(5), EventTime: at}, "tag": {Status: "PRESENT", Value: "gold", EventTime: at},
			"score": {Status: "PRESENT", Value: 0.25, EventTime: at}, "active": {Status: "PRESENT", Value: true, EventTime: at},
		},
		"1002": {
			"n":   {Status: "PRESENT", Value: int64(7), EventTime: at.Add(500 * time.Millisecond)},
			"tag": {Status: "NULL_VALUE", EventTime: at.Add(500 * time.Millisecond)},
		},
		"1003": {"n": {Status: "OUTSIDE_MAX_AGE", EventTime: time.Date(2026, 1, 1, 0, 0, 0, 1000, time.UTC)}},
	}
	for _, ref := range refs {
		if view, _, _ := strings.Cut(ref, ":"); view != "user_stats" {
			return nil, BadRequest(fmt.Errorf("feature view %s is not in the online store", view))
		}
	}
	out := make([][]OnlineValue, len(rows))
	for i, row := range rows {
		key, ok := row["user_id"]
		if !ok {
			return nil, BadRequest(fmt.Errorf("entity row %d has no user_id (feature view user_stats needs it)", i+1))
		}
		out[i] = make([]OnlineValue, len(refs))
		for j, ref := range refs {
			_, field, _ := strings.Cut(ref, ":")
			v, ok := users[fmt.Sprint(key)][field]
			if !ok {
				v = OnlineValue{Status: "NOT_FOUND"}
			}
			out[i][j] = v
		}
	}
	return out, nil
}

// TestFeastOnlineFeaturesRouteAnswersFeastsShapes posts each request of
// testdata/feast.txtar to POST /get-online-features and compares the
// status and body with the archive's; SLUICE_UPDATE=1 rewrites them.
func TestFeastOnlineFeaturesRouteAnswersFeastsShapes(t *testing.T) {
	ts := newServer(t)
	st := &lookupTable{width: 2}
	ts.deploy(t, typesJoin(st, "error")) // feature service "types": user_stats:n, user_stats:tag
	if r := ts.post(t, "/get-online-features", `{"features":["user_stats:n"],"entities":{"user_id":[1]}}`); r.code != 503 {
		t.Errorf("before a reader is set: %d %s, want 503", r.code, r.raw)
	}
	ts.SetOnlineFeatures(feastStore)

	const path = "testdata/feast.txtar"
	ar, err := txtar.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	update := os.Getenv("SLUICE_UPDATE") == "1"
	want := map[string]string{}
	for _, f := range ar.Files {
		want[f.Name] = string(f.Data)
	}
	var files []txtar.File
	for _, f := range ar.Files {
		name, ok := strings.CutSuffix(f.Name, ".request")
		if !ok {
			continue
		}
		r := ts.post(t, "/get-online-features", string(f.Data))
		if !json.Valid([]byte(r.raw)) {
			t.Errorf("%s: response is not JSON: %s", name, r.raw)
		}
		got := fmt.Sprintf("status %d\n%s", r.code, indent(r.raw))
		files = append(files, f, txtar.File{Name: name + ".response", Data: []byte(got)})
		if !update && got != want[name+".response"] {
			t.Errorf("%s:\ngot  %s\nwant %s", name, got, want[name+".response"])
		}
	}
	if update {
		ar.Files = files
		if err := os.WriteFile(path, txtar.Format(ar), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// indent pretty-prints JSON so the goldens read like Feast's docs.
func indent(s string) string {
	var b bytes.Buffer
	if err := json.Indent(&b, []byte(s), "", "  "); err != nil {
		return s
	}
	return b.String() + "\n"
}

func TestProtoTimestampsKeepProtobufsFractionDigits(t *testing.T) {
	base := time.Date(2021, 12, 31, 23, 0, 0, 0, time.UTC)
	for ns, want := range map[int]string{
		0: "2021-12-31T23:00:00Z", 5e8: "2021-12-31T23:00:00.500Z", 1000: "2021-12-31T23:00:00.000001Z", 1: "2021-12-31T23:00:00.000000001Z",
	} {
		if got := protoTimestamp(base.Add(time.Duration(ns))); got != want {
			t.Errorf("%dns: %s, want %s", ns, got, want)
		}
	}
	if got := protoTimestamp(time.Time{}); got != "1970-01-01T00:00:00Z" {
		t.Errorf("zero time: %s, want the epoch", got)
	}
}

// FuzzFeastRequest feeds arbitrary bodies to the Feast route's decoder: it
// must never panic, and what it accepts must be view:field references and
// entity columns of one length, at least one row, whose values read back.
func FuzzFeastRequest(f *testing.F) {
	f.Add([]byte(`{"features":["user_stats:n"],"entities":{"user_id":[1001,"x"]},"full_feature_names":true}`))
	f.Add([]byte(`{"feature_service":"types","entities":{"a":[1],"b":[2]}}`))
	f.Add([]byte(`{"features":["v:f"],"entities":{"k":[[1]]}}`))
	s := &Server{}
	s.endpoints.Store(&map[string]*endpoint{})
	f.Fuzz(func(t *testing.T, body []byte) {
		refs, cols, _, err := s.decodeFeast(body)
		if err != nil {
			if !isInputError(err) && ReasonOf(err) == "" {
				var he *httpError
				if !errors.As(err, &he) {
					t.Fatalf("error %v is neither the caller's nor an HTTP error", err)
				}
			}
			return
		}
		for _, r := range refs {
			if v, f, ok := strings.Cut(r, ":"); !ok || v == "" || f == "" {
				t.Fatalf("accepted reference %q", r)
			}
		}
		if len(cols) == 0 || len(cols[0].values) == 0 {
			t.Fatal("accepted a request without entity rows")
		}
		for _, c := range cols {
			if len(c.values) != len(cols[0].values) {
				t.Fatalf("accepted ragged columns %d and %d", len(c.values), len(cols[0].values))
			}
			for _, v := range c.values {
				if entityValue(v) == nil {
					t.Fatalf("accepted key %s that reads as nothing", v)
				}
			}
		}
	})
}
