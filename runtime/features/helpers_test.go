package features

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"sluice/runtime/store"
	"sluice/schema"
)

// fixture is a state file, a feature store and a data directory.
type fixture struct {
	t   *testing.T
	db  *store.DB
	s   *Store
	dir string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, db: db, s: s, dir: t.TempDir()}
}

// write puts a data file into the fixture's repository directory.
func (f *fixture) write(name, content string) {
	f.t.Helper()
	p := filepath.Join(f.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

// appendTo adds content to the end of a data file.
func (f *fixture) appendTo(name, content string) {
	f.t.Helper()
	fh, err := os.OpenFile(filepath.Join(f.dir, name), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		f.t.Fatal(err)
	}
	defer fh.Close()
	if _, err := fh.WriteString(content); err != nil {
		f.t.Fatal(err)
	}
}

// materialize runs one materialization in its own transaction, as the
// engine does.
func (f *fixture) materialize(req MaterializeRequest) (MaterializeResult, error) {
	f.t.Helper()
	if req.FS == nil {
		req.FS = os.DirFS(f.dir)
	}
	var res MaterializeResult
	err := f.db.Tx(context.Background(), func(tx *sql.Tx) error {
		var err error
		res, err = f.s.Materialize(context.Background(), tx, req)
		return err
	})
	return res, err
}

func (f *fixture) mustMaterialize(req MaterializeRequest) MaterializeResult {
	f.t.Helper()
	res, err := f.materialize(req)
	if err != nil {
		f.t.Fatalf("materialize: %v", err)
	}
	return res
}

// viewSpec describes a view over one source for a test.
type viewSpec struct {
	name, path, ts, created string
	keys                    map[string]string // join key → type; keys are sorted by name
	keyOrder                []string
	fields                  []schema.FeatureField
	ttl                     time.Duration
	offline                 bool
}

func (v viewSpec) request() MaterializeRequest {
	src := &schema.Source{Path: v.path, Timestamp: v.ts, CreatedTimestamp: v.created}
	src.Addr = schema.Addr{Kind: schema.KindSource, Name: "src"}
	fv := &schema.FeatureView{Source: "src", TTL: v.ttl, Online: !v.offline, Fields: v.fields}
	fv.Addr = schema.Addr{Kind: schema.KindFeature, Name: v.name}
	var ents []*schema.Entity
	for _, k := range v.keyOrder {
		e := &schema.Entity{JoinKey: k, Type: v.keys[k]}
		e.Addr = schema.Addr{Kind: schema.KindEntity, Name: k + "_entity"}
		fv.Entities = append(fv.Entities, e.Addr.Name)
		ents = append(ents, e)
	}
	return MaterializeRequest{View: fv, Source: src, Entities: ents}
}

// userStats is the view most tests use: transactions per user.
func userStats() viewSpec {
	return viewSpec{
		name: "user_stats", path: "data/tx.csv", ts: "ts",
		keys: map[string]string{"user_id": "int64"}, keyOrder: []string{"user_id"},
		fields: []schema.FeatureField{
			{Name: "amount", Type: "float64"},
			{Name: "country", Type: "string"},
		},
		ttl: 24 * time.Hour,
	}
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// entities builds an entity frame of int64 user ids and times.
func entities(rows ...any) *Frame {
	ids := NewColumn("user_id", TypeInt64, 0)
	at := NewColumn(EventTimestamp, TypeTimestamp, 0)
	for i := 0; i < len(rows); i += 2 {
		ids.Ints = append(ids.Ints, int64(rows[i].(int)))
		at.Ints = append(at.Ints, ts(rows[i+1].(string)).UnixNano())
	}
	return &Frame{Columns: []*Column{ids, at}}
}

// history runs a retrieval and returns the values of the frame's feature
// columns, row by row.
func (f *fixture) history(ents *Frame, refs ...string) [][]any {
	f.t.Helper()
	out, err := f.s.History(context.Background(), HistoryRequest{Entities: ents, Features: refs})
	if err != nil {
		f.t.Fatalf("history: %v", err)
	}
	var rows [][]any
	for r := range out.Len() {
		var row []any
		for _, c := range out.Columns[len(ents.Columns):] {
			row = append(row, c.Value(r))
		}
		rows = append(rows, row)
	}
	return rows
}
