package reliability

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sluice/internal/testgit"
)

// TestApplyOfACommittedTruncatedDataFileKeepsTheLastGoodView applies the
// example, then commits its user snapshot CSV cut in the middle of a row
// and its transactions Parquet file cut short: each view over them fails
// with an error naming the file (and the CSV's line), apply exits
// non-zero, and the views keep the rows of the last good apply.
func TestApplyOfACommittedTruncatedDataFileKeepsTheLastGoodView(t *testing.T) {
	t.Parallel()
	needORT(t)
	repo := exampleRepo(t)
	dir := t.TempDir()
	args := []string{"apply", "--repo", repo.Dir(), "--path", specPath, "--auto-approve"}
	if p := start(t, sluiceCmd(dir, nil, args...)); p.wait(2*time.Minute) != nil {
		t.Fatalf("first apply failed:\n%s", p.output())
	}
	views := func() string {
		db := openState(t, dir)
		var b strings.Builder
		for _, tb := range []string{"features_offline_user_stats", "features_online_user_stats", "features_offline_transaction_features"} {
			fmt.Fprintf(&b, "%s %s\n", tb, tableDigest(t, db, tb))
		}
		return b.String()
	}
	before := views()
	for _, f := range []struct{ name, want string }{
		{specPath + "/data/user_activity.csv", "user_activity.csv:"},
		{specPath + "/data/transactions.parquet", "transactions.parquet: not a parquet file"},
	} {
		b, err := os.ReadFile(repo.Path(f.name))
		if err != nil {
			t.Fatal(err)
		}
		cut := len(b) / 2
		for b[cut-1] == '\n' {
			cut++ // mid-row, not at a row's end
		}
		repo.WriteBytes(f.name, b[:cut])
	}
	repo.Commit("both data files cut short")
	p := start(t, sluiceCmd(dir, nil, args...))
	err := p.wait(2 * time.Minute)
	out := p.output()
	if err == nil {
		t.Errorf("apply of truncated data succeeded:\n%s", out)
	}
	for _, want := range []string{
		"features.user_stats: Failed (DataInvalid)", "user_activity.csv:",
		"features.transaction_features: Failed (DataInvalid)", "transactions.parquet: not a parquet file",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("apply does not say %q:\n%s", want, out)
		}
	}
	if got := views(); got != before {
		t.Errorf("the views changed after a failed materialization:\n%s", diffLines(before, got))
	}
	if bad := checkInvariants(t, dir); len(bad) > 0 {
		t.Errorf("%s", strings.Join(bad, "\n"))
	}
}

// bigCSV is a source of n rows over 5000 users, large enough that reading
// it takes a moment.
func bigCSV(n int) []byte {
	var b bytes.Buffer
	b.WriteString("user_id,ts,amount\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "%d,2026-11-%02dT%02d:%02d:00Z,%d.%02d\n", i%5000, 1+i%28, i%24, i%60, i%997, i%100)
	}
	return b.Bytes()
}

// TestADataRootFileTruncatedWhileReadIsNeverTakenForWhole reads a source
// from a data root outside the repository and truncates the file, mid-row,
// as apply starts materializing it. Whatever the moment, the view never
// ends up holding part of the file while the state says it holds all of
// it: once the file is whole again, apply converges to the state of an
// apply that read the whole file.
func TestADataRootFileTruncatedWhileReadIsNeverTakenForWhole(t *testing.T) {
	data := bigCSV(200000)
	root := t.TempDir()
	file := filepath.Join(root, "tx.csv")
	repo := testgit.New(t)
	repo.Write("specs/main.cue", fmt.Sprintf(`package sluice

sources: tx: {path: %q, timestamp: "ts"}
entities: user: join_key: "user_id"
features: spend: {entities: ["user"], source: "tx", ttl: "87600h", online: true, fields: amount: type: "float64"}
`, file))
	repo.Commit("a view over a data root file")
	args := []string{"apply", "--repo", repo.Dir(), "--path", "specs", "--data-root", root, "--auto-approve"}
	write := func() {
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	write()
	cleanDir := t.TempDir()
	if p := start(t, sluiceCmd(cleanDir, nil, args...)); p.wait(2*time.Minute) != nil {
		t.Fatalf("apply of the whole file failed:\n%s", p.output())
	}
	want := canonical(t, cleanDir)

	rng := newRand(t)
	for i := range trials(3, 20) {
		write()
		dir := t.TempDir()
		p := start(t, sluiceCmd(dir, nil, args...))
		if !p.waitFor("features.spend: materializing", time.Minute) {
			t.Fatalf("apply never materialized:\n%s", p.output())
		}
		time.Sleep(time.Duration(rng.IntN(20)) * time.Millisecond)
		if err := os.Truncate(file, int64(len(data)/2+7)); err != nil {
			t.Fatal(err)
		}
		first := p.wait(2 * time.Minute)
		write()
		p2 := start(t, sluiceCmd(dir, nil, args...))
		if err := p2.wait(2 * time.Minute); err != nil {
			t.Errorf("trial %d: apply of the whole file again: %v\n%s", i+1, err, p2.output())
		}
		if bad := checkInvariants(t, dir); len(bad) > 0 {
			t.Errorf("trial %d: %s", i+1, strings.Join(bad, "\n"))
		}
		if got := canonical(t, dir); got != want {
			t.Errorf("trial %d: after the file was truncated while read (that apply: %v), then whole again, the state differs from reading it whole:\n%s\nfirst apply said:\n%s",
				i+1, first, diffLines(want, got), p.output())
		}
	}
}
