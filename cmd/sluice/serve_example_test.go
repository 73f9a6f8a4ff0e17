package main

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"sluice/internal/testgit"
)

// startServe runs `sluice serve` on a repository as a child process and
// returns its base URL once the named endpoint is ready; the child is
// stopped with SIGTERM at the end of the test.
func startServe(t *testing.T, repo, path, endpoint string) string {
	t.Helper()
	cmd := sluiceCmd(t, filepath.Join(t.TempDir(), "state.db"), "serve", "--repo", repo, "--path", path, "--listen", "127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	lines := bufio.NewScanner(stderr)
	base := ""
	for base == "" && lines.Scan() {
		log.WriteString(lines.Text() + "\n")
		if _, addr, ok := strings.Cut(lines.Text(), "sluice serve: listening on "); ok {
			base = addr
		}
	}
	rest := make(chan string, 1)
	go func() { b, _ := io.ReadAll(stderr); rest <- string(b) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	if base == "" {
		t.Fatalf("serve never said where it listens:\n%s", log.String())
	}
	for i := 0; i < 1200; i++ {
		resp, err := http.Get(base + "/v2/models/" + endpoint + "/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	t.Fatalf("endpoint %s never became ready; serve said:\n%s%s", endpoint, log.String(), <-rest)
	return ""
}

// TestServeTheExampleRepositoryJoinsTheFraudEndpointsFeatures serves
// examples/repo as `sluice serve --path examples/repo` does: the fraud
// endpoint scores a payment from its own fields and the user's and
// merchant's features joined from the online store, refuses an unknown
// user by name, and the same features read through Feast's route.
func TestServeTheExampleRepositoryJoinsTheFraudEndpointsFeatures(t *testing.T) {
	needORT(t)
	r := testgit.New(t)
	r.CopyDir("../../examples/repo", "examples/repo")
	// The example's data ends on 2026-11-20 and its views' TTLs are two
	// and four weeks: served later, every value would be too old. Longer
	// TTLs keep this test about the join, whenever it runs.
	spec, err := os.ReadFile("../../examples/repo/features.cue")
	if err != nil {
		t.Fatal(err)
	}
	r.Write("examples/repo/features.cue", strings.NewReplacer(`"336h"`, `"87600h"`, `"720h"`, `"87600h"`).Replace(string(spec)))
	r.Commit("the example repository")
	base := startServe(t, r.Dir(), "examples/repo", "fraud")

	post := func(path, body string) (int, string) {
		t.Helper()
		resp, err := http.Post(base+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	payment := `{"user_id":%s,"merchant_id":"mch_001","amount":12.5,"channel":"web","hour_of_day":13}`
	code, body := post("/v1/models/fraud:predict", `{"instances":[`+strings.Replace(payment, "%s", "1001", 1)+`]}`)
	if code != 200 || !strings.Contains(body, `"probabilities":[`) || !strings.Contains(body, `"model_version":"`) {
		t.Fatalf("predict with joined features: %d %s", code, body)
	}
	code, body = post("/v1/models/fraud:predict", `{"instances":[`+strings.Replace(payment, "%s", "99999", 1)+`]}`)
	if code != 400 || !strings.Contains(body, "entity user_id=99999: feature user_stats:total_purchases not found in the online store") {
		t.Errorf("unknown user: %d %s, want 400 naming user_id=99999", code, body)
	}
	code, body = post("/get-online-features", `{"feature_service":"fraud","entities":{"user_id":[1001],"merchant_id":["mch_001"]}}`)
	if code != 200 || !strings.Contains(body, `"feature_names":["user_id","merchant_id","total_purchases",`) || strings.Contains(body, "NOT_FOUND") {
		t.Errorf("feature service fraud: %d %s", code, body)
	}
}
