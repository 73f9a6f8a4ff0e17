package reliability

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// daemonArgs runs the daemon on repo's main branch with both servers on
// ports of their own choosing, and no timers: only commits move it.
func daemonArgs(repo string) []string {
	return []string{"daemon", "--repo", repo, "--path", specPath, "--branch", "main",
		"--listen", "127.0.0.1:0", "--serve-listen", "127.0.0.1:0", "--poll", "0", "--recheck", "0", "--open-reads"}
}

// dataPlane waits for the daemon to say where it serves endpoints.
func dataPlane(t *testing.T, p *proc) string {
	t.Helper()
	const say = "serving endpoints on "
	if !p.waitFor(say, time.Minute) {
		t.Fatalf("the daemon never started its data plane:\n%s", p.output())
	}
	_, rest, _ := strings.Cut(p.output(), say)
	return strings.Fields(rest)[0]
}

// servedVersions is what the data plane says the fraud endpoint serves
// (its v2 model metadata), or nil while it does not answer.
func servedVersions(base string) []string {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(base + "/v2/models/fraud")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var md struct {
		Versions []string `json:"versions"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&md) != nil {
		return nil
	}
	return md.Versions
}

// waitServing waits until the fraud endpoint serves exactly version want.
func waitServing(base, want string, d time.Duration) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if v := servedVersions(base); len(v) == 1 && v[0] == want {
			return true
		}
	}
	return false
}

// stopDaemon sends SIGTERM and waits for a clean exit.
func stopDaemon(t *testing.T, p *proc) error {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.wait(time.Minute); err != nil {
		return fmt.Errorf("daemon after SIGTERM: %v\n%s", err, p.output())
	}
	return nil
}

// copyState copies the state file and model files of from into to.
func copyState(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDaemonKilledDuringASwapServesTheVersionGitSays starts the daemon on
// a state where production is v1, waits until v1 serves, commits the move
// of production to v2 and SIGKILLs the daemon at a random moment of the
// promotion and swap. Restarted, the daemon serves v2, the version git
// says, and its state passes the invariants and equals that of a daemon
// that was never killed.
func TestDaemonKilledDuringASwapServesTheVersionGitSays(t *testing.T) {
	needORT(t)
	repo := exampleRepo(t)
	repo.promote(t, 1)
	v1 := repo.Commit("promote v1")
	repo.promote(t, 2)
	v2 := repo.Commit("promote v2")
	moveTo := func(commit string) { repo.Git("reset", "-q", "--hard", commit) }

	template := t.TempDir()
	moveTo(v1)
	p := start(t, sluiceCmd(template, nil, "apply", "--repo", repo.Dir(), "--path", specPath, "--auto-approve"))
	if err := p.wait(2 * time.Minute); err != nil {
		t.Fatalf("apply of v1: %v\n%s", err, p.output())
	}

	// trial runs one daemon life until v1 serves, moves main to v2, and
	// kills the daemon after kill (or never, when kill < 0); it returns
	// the data plane and whether the kill landed before v2 served.
	trial := func(dir string, kill time.Duration) (*proc, string, bool) {
		moveTo(v1)
		copyState(t, template, dir)
		d := start(t, sluiceCmd(dir, nil, daemonArgs(repo.Dir())...))
		base := dataPlane(t, d)
		if !waitServing(base, "1", time.Minute) {
			t.Fatalf("the daemon never served v1 (it serves %v):\n%s", servedVersions(base), d.output())
		}
		moveTo(v2)
		if kill < 0 {
			return d, base, false
		}
		time.Sleep(kill)
		early := !waitServing(base, "2", 0)
		d.kill()
		return d, base, early
	}

	cleanDir := t.TempDir()
	began := time.Now()
	d, base, _ := trial(cleanDir, -1)
	if !waitServing(base, "2", time.Minute) {
		t.Fatalf("an uninterrupted daemon never served v2:\n%s", d.output())
	}
	took := time.Since(began)
	if err := stopDaemon(t, d); err != nil {
		t.Fatal(err)
	}
	want := canonical(t, cleanDir)

	rng := newRand(t)
	var st crashStats
	for i := range trials(2, 50) {
		st.trials++
		dir := t.TempDir()
		kill := time.Duration(rng.Int64N(int64(took)))
		_, _, early := trial(dir, kill)
		st.kills++
		if early {
			st.midway++
		}
		var bad []string
		d := start(t, sluiceCmd(dir, nil, daemonArgs(repo.Dir())...))
		base := dataPlane(t, d)
		if !waitServing(base, "2", time.Minute) {
			bad = append(bad, fmt.Sprintf("restarted, the daemon serves %v, not v2:\n%s", servedVersions(base), d.output()))
		}
		if err := stopDaemon(t, d); err != nil {
			bad = append(bad, err.Error())
		}
		bad = append(bad, checkInvariants(t, dir)...)
		if got := canonical(t, dir); got != want {
			bad = append(bad, "state differs from an uninterrupted daemon's:\n"+diffLines(want, got))
		}
		st.orphans += orphanArtifacts(t, dir)
		if len(bad) > 0 {
			st.failures++
			t.Errorf("trial %d (killed %s after the commit moving production to v2):\n%s", i+1, kill.Round(time.Millisecond), strings.Join(bad, "\n"))
		}
	}
	t.Logf("crash daemon swap: %s (an uninterrupted start and swap took %s)", st, took.Round(time.Millisecond))
}
