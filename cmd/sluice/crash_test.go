package main

import (
	"bufio"
	"bytes"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"sluice/internal/testgit"
)

// crashRepo holds one source read by four views, big enough that each
// materialization takes a noticeable moment.
func crashRepo(t *testing.T) *testgit.Repo {
	r := testgit.New(t)
	var b bytes.Buffer
	b.WriteString("user_id,ts,amount\n")
	for i := 0; i < 150000; i++ {
		fmt.Fprintf(&b, "%d,2026-11-%02dT%02d:%02d:00Z,%d.%02d\n", i%5000, 1+i%28, i%24, i%60, i%997, i%100)
	}
	r.WriteBytes("data/tx.csv", b.Bytes())
	spec := "package sluice\n\nsources: tx: {path: \"data/tx.csv\", timestamp: \"ts\"}\nentities: user: join_key: \"user_id\"\n"
	for _, v := range []string{"a", "b", "c", "d"} {
		spec += fmt.Sprintf("features: %s: {entities: [\"user\"], source: \"tx\", ttl: \"87600h\", fields: {amount: type: \"float64\", x: {type: \"float64\", expr: \"amount * 2\"}}}\n", v)
	}
	r.Write("specs/main.cue", spec)
	r.Commit("specs and data")
	return r
}

func sluiceCmd(t *testing.T, state string, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], append([]string{"--state", state}, args...)...)
	cmd.Env = append(os.Environ(), "SLUICE_TEST_MAIN=1")
	return cmd
}

// TestApplyAfterKill9FinishesWithoutRepeatingFinishedSteps kills apply with
// SIGKILL right after its first view is materialized, then applies again:
// the second apply does only what was left, and the state ends equal to
// that of an uninterrupted apply, with an intact database.
func TestApplyAfterKill9FinishesWithoutRepeatingFinishedSteps(t *testing.T) {
	repo := crashRepo(t)
	dir := t.TempDir()
	state := filepath.Join(dir, "state.db")
	args := []string{"apply", "--repo", repo.Dir(), "--path", "specs", "--auto-approve", "--parallelism", "1"}

	cmd := sluiceCmd(t, state, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	finished := ""
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "features.") && strings.Contains(line, "Ready (Materialized)") {
			finished = strings.SplitN(line, ":", 2)[0]
			cmd.Process.Signal(syscall.SIGKILL)
			break
		}
	}
	cmd.Wait()
	if finished == "" {
		t.Fatal("apply ended before any view was materialized")
	}

	out, err := sluiceCmd(t, state, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("apply after the crash: %v\n%s", err, out)
	}
	if strings.Contains(string(out), finished+": materializing") {
		t.Errorf("%s was materialized again after the crash:\n%s", finished, out)
	}
	if !strings.Contains(string(out), "Apply applied") {
		t.Errorf("apply after the crash did not finish:\n%s", out)
	}

	clean := filepath.Join(dir, "clean.db")
	if out, err := sluiceCmd(t, clean, args...).CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted apply: %v\n%s", err, out)
	}
	if got, want := summary(t, state), summary(t, clean); got != want {
		t.Errorf("state after the crash differs from an uninterrupted apply\n--- crashed\n%s--- clean\n%s", got, want)
	}
}

// summary is what must match between two states: integrity, each
// resource's spec hash and condition, and each view's row counts.
func summary(t *testing.T, path string) string {
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var b strings.Builder
	var ok string
	db.QueryRow(`PRAGMA integrity_check`).Scan(&ok)
	fmt.Fprintf(&b, "integrity %s\n", ok)
	rows, err := db.Query(`SELECT r.kind, r.name, r.hash, c.status, c.reason FROM resources r JOIN conditions c USING (kind, name) ORDER BY 1, 2`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k, n, h, st, re string
		rows.Scan(&k, &n, &h, &st, &re)
		fmt.Fprintf(&b, "%s.%s %s %s %s\n", k, n, h[:12], st, re)
	}
	rows.Close()
	tables, _ := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'features_%line_%' ORDER BY name`)
	var names []string
	for tables.Next() {
		var n string
		tables.Scan(&n)
		names = append(names, n)
	}
	tables.Close()
	for _, n := range names {
		var c int
		db.QueryRow(fmt.Sprintf(`SELECT count(*) FROM "%s"`, n)).Scan(&c)
		fmt.Fprintf(&b, "%s %d rows\n", n, c)
	}
	return b.String()
}
