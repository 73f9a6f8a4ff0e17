package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"sluice/runtime/features"
)

const fraudSpec = `package sluice

sources: users: {path: "data/users.csv", timestamp: "ts"}
sources: labels: {path: "data/labels.csv", timestamp: "ts"}
entities: user: {join_key: "user_id", type: "string"}
features: user_stats: {entities: ["user"], source: "users", ttl: "87600h", fields: {
	score: type: "float64"
	segment: type: "string"
}}
models: fraud: aliases: {}
experiments: lr: {
	model: "fraud"
	task: "classification"
	label: {source: "labels", column: "is_fraud", entities: ["user"]}
	features: ["user_stats:segment", "user_stats:score"]
	trainer: {builtin: "logistic_regression", params: C: 1.0}
	split: {holdout: 0.25, seed: 1}
}
`

// fraudRepo is a repository with 40 users whose fraud label follows their
// score, and two label rows that cannot be joined: one for an unknown user
// and one older than every feature row.
func fraudRepo(spec string) fstest.MapFS {
	var users, labels strings.Builder
	users.WriteString("user_id,ts,score,segment\n")
	labels.WriteString("user_id,ts,is_fraud\n")
	for i := range 40 {
		score := float64((i*37)%40) / 4
		users.WriteString(fmt.Sprintf("u%d,2026-11-01T00:00:00Z,%g,%s\n", i, score, []string{"a", "b"}[i%2]))
		fraud := 0
		if score > 5 {
			fraud = 1
		}
		labels.WriteString(fmt.Sprintf("u%d,2026-11-02T%02d:00:00Z,%d\n", i, i%24, fraud))
	}
	labels.WriteString("nobody,2026-11-02T00:00:00Z,1\n")
	labels.WriteString("u3,2026-10-01T00:00:00Z,0\n")
	return fstest.MapFS{
		"specs/main.cue":  {Data: []byte(spec)},
		"data/users.csv":  {Data: []byte(users.String())},
		"data/labels.csv": {Data: []byte(labels.String())},
	}
}

func TestDatasetJoinsFeaturesPointInTimeAndDropsRowsWithoutThem(t *testing.T) {
	db := openState(t)
	fsys := fraudRepo(fraudSpec)
	applyRevision(t, db, fsys, "c1")
	fs, err := features.New(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	spec := loadSpec(t, fsys)
	ds, err := buildDataset(context.Background(), fs, fsys, spec, spec.Experiments["lr"])
	if err != nil {
		t.Fatal(err)
	}
	f := ds.Frame
	if f.Rows() != 40 || ds.Dropped != 2 {
		t.Fatalf("%d rows, %d dropped; want 40 joined and 2 dropped (unknown user, row before the features)", f.Rows(), ds.Dropped)
	}
	var names []string
	for _, c := range f.Columns {
		names = append(names, c.Name)
	}
	if got := strings.Join(names, ","); got != "segment,score,is_fraud" || f.Label != "is_fraud" {
		t.Fatalf("columns %s label %s, want segment,score,is_fraud with label is_fraud", got, f.Label)
	}
	// u1's score is 37%40/4 = 9.25: fraud.
	if s, y := f.Column("score").Floats[1], f.Column("is_fraud").Floats[1]; s != 9.25 || y != 1 {
		t.Fatalf("row 2: score %v label %v, want 9.25 and 1", s, y)
	}
	if len(f.Time) != 40 || f.Time[1].Hour() != 1 {
		t.Fatalf("event times %v, want each label row's time", f.Time[:2])
	}
}

func TestDatasetRefusesALabelThatIsNotANumber(t *testing.T) {
	db := openState(t)
	fsys := fraudRepo(fraudSpec)
	fsys["data/labels.csv"] = &fstest.MapFile{Data: []byte("user_id,ts,is_fraud\nu1,2026-11-02T00:00:00Z,yes\n")}
	applyRevision(t, db, fsys, "c1")
	fs, err := features.New(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	spec := loadSpec(t, fsys)
	_, err = buildDataset(context.Background(), fs, fsys, spec, spec.Experiments["lr"])
	if err == nil || !strings.Contains(err.Error(), "row 1") || !strings.Contains(err.Error(), "is_fraud") {
		t.Fatalf("err %v, want the row and column of the bad label", err)
	}
}
