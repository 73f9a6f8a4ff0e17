package registry

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
)

// history builds a model with two experiments' versions, a failed and an
// archived one, three aliases and their moves.
func (f *fixture) history() {
	f.t.Helper()
	reg := func(exp string, m Metrics) {
		f.tx(func(tx *sql.Tx) error {
			f.runs++
			in := input(fmt.Sprintf("run-%d", f.runs), m)
			in.Lineage.Experiment = exp
			in.Lineage.Label = "transactions"
			_, err := f.r.RegisterVersion(f.ctx, tx, "fraud-detector", in)
			return err
		})
	}
	reg("fraud-lr", Metrics{"f1": 0.8123, "roc_auc": 0.91, "accuracy": 0.97, "precision": 0.71, "recall": 0.93})
	reg("fraud-rf", Metrics{"f1": 0.8734, "roc_auc": 0.955, "accuracy": 0.982, "precision": 0.8, "recall": 0.96})
	reg("fraud-rf", Metrics{"f1": math.NaN(), "roc_auc": 0.5})
	reg("fraud-rf", Metrics{"f1": 0.9012, "roc_auc": 0.9612345, "accuracy": 0.985, "precision": 0.86, "recall": 0.95})
	f.tx(func(tx *sql.Tx) error {
		return f.r.SetStatus(f.ctx, tx, "fraud-detector", 3, StatusFailed, "parity check failed: max |Δ| 3e-4")
	})
	for _, mv := range []Move{
		{Alias: "production", Version: 1, Reason: ReasonGit, Commit: "1111111aaaa"},
		{Alias: "production", Version: 2, Reason: ReasonGit, Commit: "2222222bbbb", ArchivePrevious: true},
		{Alias: "staging", Version: 4, Reason: ReasonGit, Commit: "3333333cccc"},
		{Alias: "champion", Version: 2, Reason: ReasonManual},
	} {
		mv.Model = "fraud-detector"
		f.tx(func(tx *sql.Tx) error { _, err := f.r.Promote(f.ctx, tx, mv); return err })
	}
}

// TestModelAndLineageRendering compares `sluice models NAME` output with
// testdata/describe.txtar; SLUICE_UPDATE=1 rewrites it.
func TestModelAndLineageRendering(t *testing.T) {
	f := newFixture(t)
	f.history()
	got := map[string]string{}
	render := func(name string, keys ...string) {
		m, err := f.r.Describe(f.ctx, f.db, "fraud-detector", keys...)
		if err != nil {
			t.Fatal(err)
		}
		got[name] = m.String()
		var b bytes.Buffer
		if n, err := m.WriteTo(&b); err != nil || n != int64(b.Len()) || b.String() != got[name] {
			t.Errorf("%s: WriteTo wrote %d bytes (%v), unlike String", name, n, err)
		}
	}
	render("fraud-detector.txt")
	render("fraud-detector-keys.txt", "recall", "log_loss")
	l, err := f.r.Lineage(f.ctx, f.db, "fraud-detector", 2)
	if err != nil {
		t.Fatal(err)
	}
	got["lineage-v2.txt"] = l.String()
	_, err = f.r.Describe(f.ctx, f.db, "fraud")
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown model: %v, want ErrNotFound", err)
	}
	got["unknown.txt"] = fmt.Sprintln(err)
	checkGolden(t, "testdata/describe.txtar", got)
}

// checkGolden compares files with an archive's, rewriting it under
// SLUICE_UPDATE=1.
func checkGolden(t *testing.T, path string, got map[string]string) {
	t.Helper()
	if os.Getenv("SLUICE_UPDATE") == "1" {
		ar, err := txtar.ParseFile(path)
		if err != nil {
			ar = &txtar.Archive{Comment: []byte("Output of the registry's renderings; SLUICE_UPDATE=1 go test rewrites it.\n")}
		}
		ar.Files = nil
		for _, name := range sortedKeys(got) {
			ar.Files = append(ar.Files, txtar.File{Name: name, Data: []byte(got[name])})
		}
		if err := os.WriteFile(path, txtar.Format(ar), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	ar, err := txtar.ParseFile(path)
	if err != nil {
		t.Fatalf("%v (SLUICE_UPDATE=1 writes it)", err)
	}
	want := map[string]string{}
	for _, file := range ar.Files {
		want[file.Name] = string(file.Data)
	}
	for _, name := range sortedKeys(got) {
		if w, ok := want[name]; !ok {
			t.Errorf("%s: not in %s (SLUICE_UPDATE=1 adds it)", name, path)
		} else if w != got[name] {
			t.Errorf("%s differs from %s:\n--- got\n%s--- want\n%s", name, path, got[name], w)
		}
	}
	if len(want) != len(got) {
		t.Errorf("%s holds %d files, the test renders %d", path, len(want), len(got))
	}
}

func sortedKeys(m map[string]string) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func TestDescribeDefaultKeysPreferGatedMetrics(t *testing.T) {
	cases := []struct {
		metrics Metrics
		want    string
	}{
		{Metrics{"accuracy": 1, "log_loss": 1, "f1": 1, "roc_auc": 1, "zeta": 1}, "[f1 roc_auc accuracy]"},
		{Metrics{"rmse": 1, "r2": 1, "mae": 1, "mape": 1}, "[rmse r2 mae]"},
		{Metrics{"zeta": 1, "alpha": 1, "r2": 1}, "[r2 alpha zeta]"},
	}
	for _, c := range cases {
		if got := fmt.Sprint(defaultKeys([]*Version{{Metrics: c.metrics}})); got != c.want {
			t.Errorf("keys of %v: %s, want %s", c.metrics.Names(), got, c.want)
		}
	}
}
