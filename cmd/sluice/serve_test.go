package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"sluice/internal/testgit"
)

const serveSpec = `package sluice

sources: users: {path: "data/users.csv", timestamp: "ts"}
sources: labels: {path: "data/labels.csv", timestamp: "ts"}
entities: user: {join_key: "user_id", type: "string"}
features: user_stats: {entities: ["user"], source: "users", ttl: "87600h", fields: score: type: "float64"}
models: fraud: aliases: production: 1
experiments: lr: {
	model: "fraud"
	task: "classification"
	label: {source: "labels", column: "is_fraud", entities: ["user"]}
	features: ["user_stats:score"]
	trainer: {builtin: "logistic_regression", params: C: 1.0}
	split: {holdout: 0.25, seed: 1}
}
endpoints: fraud: {model: "fraud", alias: "production"}
`

// serveRepo is a repository whose one experiment trains fraud v1, which
// the production alias and the fraud endpoint name.
func serveRepo(t *testing.T) *testgit.Repo {
	r := testgit.New(t)
	var users, labels strings.Builder
	users.WriteString("user_id,ts,score\n")
	labels.WriteString("user_id,ts,is_fraud\n")
	for i := range 40 {
		score := float64((i*37)%40) / 4
		fmt.Fprintf(&users, "u%d,2026-11-01T00:00:00Z,%g\n", i, score)
		fraud := 0
		if score > 5 {
			fraud = 1
		}
		fmt.Fprintf(&labels, "u%d,2026-11-02T00:00:00Z,%d\n", i, fraud)
	}
	r.Write("data/users.csv", users.String())
	r.Write("data/labels.csv", labels.String())
	r.Write("specs/main.cue", serveSpec)
	r.Commit("a served model")
	return r
}

// TestServeAppliesThenServesUntilSIGTERM runs `sluice serve` as a child
// process: it trains, promotes and deploys, answers a predict naming the
// version, and on SIGTERM drains and exits 0.
func TestServeAppliesThenServesUntilSIGTERM(t *testing.T) {
	needORT(t)
	r := serveRepo(t)
	cmd := sluiceCmd(t, filepath.Join(t.TempDir(), "state.db"), "serve", "--repo", r.Dir(), "--path", "specs", "--listen", "127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := bufio.NewScanner(stderr)
	base := ""
	var log strings.Builder
	for base == "" && lines.Scan() {
		log.WriteString(lines.Text() + "\n")
		if _, addr, ok := strings.Cut(lines.Text(), "sluice serve: listening on "); ok {
			base = addr
		}
	}
	if base == "" {
		t.Fatalf("serve never said where it listens:\n%s", log.String())
	}
	rest := make(chan string, 1)
	go func() { b, _ := io.ReadAll(stderr); rest <- string(b) }()

	ready := false
	for i := 0; i < 600 && !ready; i++ {
		// health/ready is vacuously true before the apply deploys anything.
		resp, err := http.Get(base + "/v2/models/fraud/ready")
		if err == nil {
			resp.Body.Close()
			ready = resp.StatusCode == http.StatusOK
		}
		if !ready {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if !ready {
		cmd.Process.Signal(syscall.SIGTERM)
		t.Fatalf("/v2/models/fraud/ready never answered 200; serve said:\n%s%s", log.String(), <-rest)
	}
	if resp, err := http.Get(base + "/v2/health/ready"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/v2/health/ready with the endpoint deployed: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	resp, err := http.Post(base+"/v1/models/fraud/labels/production:predict", "application/json",
		strings.NewReader(`{"instances":[{"score":[9.0]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"model_version":"1"`) {
		t.Fatalf("predict: %d %s, want 200 from version 1", resp.StatusCode, body)
	}

	// Feast's clients read the online store through the same listener.
	resp, err = http.Post(base+"/get-online-features", "application/json",
		strings.NewReader(`{"features":["user_stats:score"],"entities":{"user_id":["u1","nobody"]},"full_feature_names":true}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	want := `{"metadata":{"feature_names":["user_id","user_stats__score"]},"results":[{"values":["u1","nobody"],"statuses":["PRESENT","PRESENT"],"event_timestamps":["1970-01-01T00:00:00Z","1970-01-01T00:00:00Z"]},` +
		`{"values":[9.25,null],"statuses":["PRESENT","NOT_FOUND"],"event_timestamps":["2026-11-01T00:00:00Z","1970-01-01T00:00:00Z"]}]}` + "\n"
	if resp.StatusCode != http.StatusOK || string(body) != want {
		t.Fatalf("get-online-features: %d %s\nwant %s", resp.StatusCode, body, want)
	}
	for req, msg := range map[string]string{
		`{"features":["nope:score"],"entities":{"user_id":["u1"]}}`:       "feature view nope is not in the online store",
		`{"features":["user_stats:nope"],"entities":{"user_id":["u1"]}}`:  "feature view user_stats has no field nope",
		`{"features":["user_stats:score"],"entities":{"account":["u1"]}}`: "entity row 1 has no user_id (feature view user_stats needs it)",
	} {
		resp, err := http.Post(base+"/get-online-features", "application/json", strings.NewReader(req))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), msg) {
			t.Errorf("%s: %d %s, want 400 saying %q", req, resp.StatusCode, body, msg)
		}
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	tail := <-rest
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve after SIGTERM: %v\n%s%s", err, log.String(), tail)
	}
	if !strings.Contains(tail, "sluice serve: stopped") {
		t.Fatalf("serve did not say it stopped:\n%s", tail)
	}
}
