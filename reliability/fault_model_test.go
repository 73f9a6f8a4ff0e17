package reliability

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// apiGet reads an operator API route (the fixtures' daemons open reads).
func apiGet(t *testing.T, base, route string) string {
	t.Helper()
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(base + route)
	if err != nil {
		t.Fatalf("GET %s: %v", route, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// operatorAPI waits for the daemon to say where its operator API listens.
func operatorAPI(t *testing.T, p *proc) string {
	t.Helper()
	const say = "operator API on "
	if !p.waitFor(say, time.Minute) {
		t.Fatalf("the daemon never started its operator API:\n%s", p.output())
	}
	_, rest, _ := strings.Cut(p.output(), say)
	return strings.Fields(rest)[0]
}

// modelFile is the path of a registered version's model file in dir.
func modelFile(t *testing.T, dir, version string) string {
	t.Helper()
	rows, err := rowsOf(openState(t, dir), `SELECT artifact_path FROM registry_versions WHERE model = 'fraud-detector' AND version = `+version)
	if err != nil || len(rows) != 1 {
		t.Fatalf("version %s: %v %v", version, rows, err)
	}
	if filepath.IsAbs(rows[0]) {
		return rows[0]
	}
	return filepath.Join(dir, rows[0])
}

// TestDaemonRefusesAModelFileChangedAfterRegistration serves v1, changes
// v2's model file on disk (same size, one byte flipped), then commits the
// move of production to v2: the deploy is refused because the file's
// SHA-256 is not the one recorded at registration, the status says so,
// and v1 keeps serving.
func TestDaemonRefusesAModelFileChangedAfterRegistration(t *testing.T) {
	t.Parallel()
	needORT(t)
	repo := exampleRepo(t)
	repo.promote(t, 1)
	repo.Commit("promote v1")
	dir := t.TempDir()
	if p := start(t, sluiceCmd(dir, nil, "apply", "--repo", repo.Dir(), "--path", specPath, "--auto-approve")); p.wait(2*time.Minute) != nil {
		t.Fatalf("apply of v1 failed:\n%s", p.output())
	}
	d := start(t, sluiceCmd(dir, nil, daemonArgs(repo.Dir())...))
	base, api := dataPlane(t, d), operatorAPI(t, d)
	if !waitServing(base, "1", time.Minute) {
		t.Fatalf("v1 never served:\n%s", d.output())
	}

	path := modelFile(t, dir, "2")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	repo.promote(t, 2)
	repo.Commit("promote v2")

	if !d.waitFor("sha256", time.Minute) {
		t.Fatalf("the daemon never reported the changed model file:\n%s", d.output())
	}
	if v := servedVersions(base); len(v) != 1 || v[0] != "1" {
		t.Errorf("after refusing v2, the endpoint serves %v, want v1", v)
	}
	status := apiGet(t, api, "/api/status")
	if !strings.Contains(status, "sha256") || !strings.Contains(status, "DeployFailed") {
		t.Errorf("status does not say the deploy failed on the model's hash:\n%s", status)
	}
	if err := stopDaemon(t, d); err != nil {
		t.Fatal(err)
	}
	if bad := checkInvariants(t, dir); len(bad) != 1 || !strings.Contains(bad[0], "v2: model file") {
		t.Errorf("the invariants should flag exactly the changed file, got:\n%s", strings.Join(bad, "\n"))
	}
}
