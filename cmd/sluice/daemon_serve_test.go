package main

import (
	"bufio"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// productionVersion asks the fraud endpoint's production label for a
// prediction and returns the body, or "" while it does not answer 200.
func productionVersion(base string) string {
	resp, err := http.Post(base+"/v1/models/fraud/labels/production:predict", "application/json",
		strings.NewReader(`{"instances":[{"score":[9.0]}]}`))
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return ""
	}
	return string(b)
}

// TestDaemonServesEndpointsAndACommitMovingTheAliasSwapsTheVersion runs
// `sluice daemon` as a child: its data plane serves fraud@production v1,
// and a commit that trains v2 and moves production to it swaps what
// answers, without a restart. The operator API answers on the same
// address as the endpoints.
func TestDaemonServesEndpointsAndACommitMovingTheAliasSwapsTheVersion(t *testing.T) {
	needORT(t)
	// The daemon refuses a plan that promotes to a version not trained
	// yet, so training, promoting and moving the alias are commits of
	// their own, as in a real repository.
	r := serveRepo(t)
	noEndpoint := strings.Replace(strings.Replace(serveSpec, "production: 1", "{}", 1), `endpoints: fraud: {model: "fraud", alias: "production"}`, "", 1)
	r.Write("specs/main.cue", noEndpoint)
	first := r.Commit("train v1")
	state := filepath.Join(t.TempDir(), "state.db")
	cmd := sluiceCmd(t, state, "daemon", "--repo", r.Dir(), "--path", "specs", "--branch", "main",
		"--listen", "127.0.0.1:0", "--open-reads", "--poll", "0", "--recheck", "0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var mu sync.Mutex
	var log strings.Builder
	addr := make(chan string, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		lines := bufio.NewScanner(stderr)
		for lines.Scan() {
			mu.Lock()
			log.WriteString(lines.Text() + "\n")
			mu.Unlock()
			if _, a, ok := strings.Cut(lines.Text(), "serving endpoints on "); ok {
				addr <- a
			}
		}
	}()
	logged := func() string { mu.Lock(); defer mu.Unlock(); return log.String() }
	var base string
	select {
	case base = <-addr:
	case <-done:
		t.Fatalf("daemon exited without a data plane:\n%s", logged())
	}
	waitApplied := func(commit string) {
		t.Helper()
		for i := 0; i < 600; i++ {
			if strings.Contains(logged(), "msg=applied commit="+commit[:12]) {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("commit %s never applied; daemon said:\n%s", commit[:12], logged())
	}
	waitFor := func(want string) {
		t.Helper()
		for i := 0; i < 600; i++ {
			if strings.Contains(productionVersion(base), want) {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("production never answered with %s; daemon said:\n%s", want, logged())
	}
	waitApplied(first)
	if !strings.Contains(logged(), "operator API on "+base) {
		t.Errorf("the operator API is not on the endpoints' address %s:\n%s", base, logged())
	}
	resp, err := http.Get(base + "/api/status")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), first) {
		t.Errorf("GET /api/status on the data plane's address: %d %s", resp.StatusCode, body)
	}
	if out, err := sluiceCmd(t, state, "status").CombinedOutput(); err != nil || strings.Contains(string(out), "reading the state file") {
		t.Errorf("sluice status did not reach the daemon through the address it advertises: %v\n%s", err, out)
	}
	r.Write("specs/main.cue", serveSpec)
	r.Commit("promote v1 and serve it")
	waitFor(`"model_version":"1"`)

	r.Write("specs/main.cue", strings.Replace(serveSpec, "C: 1.0", "C: 2.0", 1))
	waitApplied(r.Commit("train v2"))
	if got := productionVersion(base); !strings.Contains(got, `"model_version":"1"`) {
		t.Fatalf("after training v2 without moving the alias, production answered %s", got)
	}
	r.Write("specs/main.cue", strings.Replace(strings.Replace(serveSpec, "C: 1.0", "C: 2.0", 1), "production: 1", "production: 2", 1))
	r.Commit("promote v2")
	waitFor(`"model_version":"2"`)

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-done
	if err := cmd.Wait(); err != nil {
		t.Fatalf("daemon after SIGTERM: %v\n%s", err, logged())
	}
}
