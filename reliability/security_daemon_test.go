package reliability

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sluice/internal/testgit"
)

// featureRepo is a small repository of one view, for tests that need a
// daemon but no model.
func featureRepo(t *testing.T) *testgit.Repo {
	t.Helper()
	r := testgit.New(t)
	r.WriteBytes("data/tx.csv", bigCSV(100))
	r.Write("specs/main.cue", `package sluice

sources: tx: {path: "data/tx.csv", timestamp: "ts"}
entities: user: join_key: "user_id"
features: spend: {entities: ["user"], source: "tx", ttl: "87600h", fields: amount: type: "float64"}
`)
	r.Commit("a view")
	return r
}

// call makes one request to the daemon and returns its status and body.
func call(t *testing.T, method, url string, header http.Header, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestOperatorAPIGuardsItsRoutesAndNeverShowsItsSecrets runs a daemon with
// a bearer token from a file and a webhook secret from the environment,
// at debug level in JSON. Mutating and reading routes refuse a missing or
// wrong token; webhooks are accepted only with the secret's HMAC (the
// token in its place does not pass); and after every route, a plan, status
// and events from the CLI, neither the token nor the secret appears in
// any answer, any log line, or any byte of the state file.
func TestOperatorAPIGuardsItsRoutesAndNeverShowsItsSecrets(t *testing.T) {
	t.Parallel()
	const token = "tok-3b1f9c7e5a2d4e6f8091"
	const secret = "whs-7c2e9a4b1d3f5e6a8b0c"
	repo := featureRepo(t)
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	env := []string{"SLUICE_WEBHOOK_SECRET=" + secret}
	d := start(t, sluiceCmd(dir, env, "daemon", "--repo", repo.Dir(), "--path", "specs", "--branch", "main",
		"--listen", "127.0.0.1:0", "--serve-listen", "none", "--poll", "0", "--recheck", "0",
		"--token-file", tokenFile, "--log-format", "json", "--log-level", "debug"))
	if !d.waitFor(`"msg":"applied"`, time.Minute) {
		t.Fatalf("the daemon never applied:\n%s", d.output())
	}
	_, rest, _ := strings.Cut(d.output(), "operator API on ")
	api := strings.Fields(rest)[0]
	bearer := func(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }
	var answers strings.Builder
	expect := func(what string, want int, method, route string, h http.Header, body []byte) {
		t.Helper()
		code, b := call(t, method, api+route, h, body)
		answers.WriteString(b)
		if code != want {
			t.Errorf("%s: %s %s answered %d, want %d: %s", what, method, route, code, want, b)
		}
	}
	for _, route := range []string{"/api/sync", "/api/sync?wait=true"} {
		expect("no token", 401, "POST", route, nil, nil)
		expect("wrong token", 401, "POST", route, bearer(token+"x"), nil)
		expect("a prefix of the token", 401, "POST", route, bearer(token[:len(token)-1]), nil)
		expect("the token without Bearer", 401, "POST", route, http.Header{"Authorization": {token}}, nil)
		expect("the webhook secret as token", 401, "POST", route, bearer(secret), nil)
	}
	expect("the token", 202, "POST", "/api/sync", bearer(token), nil)
	for _, route := range []string{"/api/status", "/api/events", "/api/revisions", "/api/plan?rev=main"} {
		expect("reading without the token", 401, "GET", route, nil, nil)
		expect("reading with the token", 200, "GET", route, bearer(token), nil)
	}
	payload := []byte(`{"ref":"refs/heads/main"}`)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(payload)
	expect("webhook without a signature", 401, "POST", "/hooks/git", nil, payload)
	expect("webhook signed with the token", 401, "POST", "/hooks/git", http.Header{"X-Hub-Signature-256": {"sha256=" + hmacHex(token, payload)}}, payload)
	expect("webhook with the token as GitLab token", 401, "POST", "/hooks/git", http.Header{"X-Gitlab-Token": {token}}, payload)
	expect("webhook signed with the secret", 202, "POST", "/hooks/git", http.Header{"X-Hub-Signature-256": {"sha256=" + hex.EncodeToString(mac.Sum(nil))}}, payload)
	expect("webhook with the secret as GitLab token", 202, "POST", "/hooks/git", http.Header{"X-Gitlab-Token": {secret}}, payload)
	if err := stopDaemon(t, d); err != nil {
		t.Fatal(err)
	}

	outputs := map[string]string{"daemon log": d.output(), "API answers": answers.String()}
	for _, args := range [][]string{
		{"status"}, {"events"}, {"plan", "--repo", repo.Dir(), "--path", "specs", "--format", "json"},
		{"plan", "--repo", repo.Dir(), "--path", "specs", "--format", "markdown"},
	} {
		p := start(t, sluiceCmd(dir, env, args...))
		p.wait(time.Minute)
		outputs["sluice "+strings.Join(args, " ")] = p.output()
	}
	files, _ := filepath.Glob(filepath.Join(dir, "state.db*"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		outputs[filepath.Base(f)] = string(b)
	}
	for where, text := range outputs {
		for name, s := range map[string]string{"token": token, "webhook secret": secret} {
			if strings.Contains(text, s) {
				t.Errorf("the %s appears in %s", name, where)
			}
		}
	}
	if !strings.Contains(outputs["sluice events"], "WebhookRejected") {
		t.Errorf("the rejected webhooks left no event (the grep would prove nothing about them):\n%s", outputs["sluice events"])
	}
}

func hmacHex(key string, body []byte) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// TestDaemonRefusesSecretsKeptInTheRepository starts the daemon with its
// token file, then its webhook secret file, inside the tracked repository:
// it refuses to start, saying secrets stay out of git, and never prints
// the secret.
func TestDaemonRefusesSecretsKeptInTheRepository(t *testing.T) {
	t.Parallel()
	const secret = "in-repo-secret-41c7"
	repo := featureRepo(t)
	repo.Write("secrets/token", secret+"\n")
	for _, flag := range []string{"--token-file", "--webhook-secret-file"} {
		p := start(t, sluiceCmd(t.TempDir(), nil, "daemon", "--repo", repo.Dir(), "--path", "specs", "--branch", "main",
			"--listen", "127.0.0.1:0", "--serve-listen", "none", "--poll", "0", "--recheck", "0", flag, repo.Path("secrets/token")))
		err := p.wait(time.Minute)
		if err == nil || !strings.Contains(p.output(), "keep secrets out of git") {
			t.Errorf("%s inside the repository: %v\n%s", flag, err, p.output())
		}
		if strings.Contains(p.output(), secret) {
			t.Errorf("%s inside the repository: the secret was printed", flag)
		}
	}
}
