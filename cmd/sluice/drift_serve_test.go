package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestServeCapturesTrafficAndItsDriftPolicyAlerts runs `sluice serve` with
// an endpoint that captures every request and a policy checked every
// second: drifted traffic over HTTP becomes a drift verdict that `sluice
// drift status` shows and an alert in the event log, with the numbers.
func TestServeCapturesTrafficAndItsDriftPolicyAlerts(t *testing.T) {
	needORT(t)
	r := serveRepo(t)
	spec := strings.Replace(serveSpec, `endpoints: fraud: {model: "fraud", alias: "production"}`,
		`endpoints: fraud: {model: "fraud", alias: "production", capture: rate: 1.0}
drift: scores: {endpoint: "fraud", features: ["score"], min_samples: 30, window: "1h", every: "1s", on_drift: ["alert"]}`, 1)
	r.Write("specs/main.cue", spec)
	r.Commit("watch the scores")
	state := filepath.Join(t.TempDir(), "state.db")
	cmd := sluiceCmd(t, state, "serve", "--repo", r.Dir(), "--path", "specs", "--listen", "127.0.0.1:0")
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
	for base == "" && lines.Scan() {
		if _, addr, ok := strings.Cut(lines.Text(), "sluice serve: listening on "); ok {
			base = addr
		}
	}
	go func() {
		for lines.Scan() {
		}
	}()
	served := 0
	for i := 0; i < 600 && served < 40; i++ {
		body := fmt.Sprintf(`{"instances":[{"score":[%d]}]}`, 100+served)
		resp, err := http.Post(base+"/v1/models/fraud/labels/production:predict", "application/json", strings.NewReader(body))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				served++
				continue
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if served < 40 {
		t.Fatalf("the endpoint answered %d of 40 requests", served)
	}
	var status string
	for i := 0; i < 100; i++ {
		out, _ := sluiceCmd(t, state, "drift", "status", "scores").CombinedOutput()
		status = string(out)
		if strings.Contains(status, "1 of 1 features drifted") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(status, "in 40 rows of fraud v1: score ks p=") || !strings.Contains(status, "score  ") {
		t.Fatalf("drift status never showed the drift:\n%s", status)
	}
	out, err := sluiceCmd(t, state, "events").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "DriftDetected") || !strings.Contains(string(out), "score ks p=") {
		t.Fatalf("events: %v\n%s", err, out)
	}
	// One scrape of the data plane shows the policy's verdict beside the
	// serving metrics, for a Prometheus alert on drift.
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`sluice_drift_dataset_drifted{endpoint="fraud",policy="scores"} 1`, `sluice_drift_feature_drifted{feature="score",policy="scores"} 1`, "sluice_serving_requests_total"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("/metrics lacks %s:\n%s", want, page)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve after SIGTERM: %v", err)
	}
}

// TestDaemonSendsADriftAlertToTheNotificationWebhook runs `sluice daemon`
// with a notification subscribed to drift: drifted traffic on its data
// plane becomes one drift notice with the numbers.
func TestDaemonSendsADriftAlertToTheNotificationWebhook(t *testing.T) {
	needORT(t)
	notices := make(chan string, 16)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		notices <- string(b)
	}))
	defer hook.Close()
	r := serveRepo(t)
	trainOnly := strings.Replace(strings.Replace(serveSpec, "production: 1", "{}", 1), `endpoints: fraud: {model: "fraud", alias: "production"}`, "", 1)
	r.Write("specs/main.cue", trainOnly)
	first := r.Commit("train v1")
	cmd := sluiceCmd(t, filepath.Join(t.TempDir(), "state.db"), "daemon", "--repo", r.Dir(), "--path", "specs", "--branch", "main",
		"--listen", "127.0.0.1:0", "--serve-listen", "127.0.0.1:0", "--poll", "0", "--recheck", "0")
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
	go func() {
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
	base := <-addr
	for i := 0; i < 600 && !strings.Contains(logged(), "msg=applied commit="+first[:12]); i++ {
		time.Sleep(100 * time.Millisecond)
	}
	r.Write("specs/main.cue", strings.Replace(serveSpec, `endpoints: fraud: {model: "fraud", alias: "production"}`,
		`endpoints: fraud: {model: "fraud", alias: "production", capture: rate: 1.0}
drift: scores: {endpoint: "fraud", features: ["score"], min_samples: 30, window: "1h", every: "1s", on_drift: ["alert"]}
notifications: oncall: {url: "`+hook.URL+`", events: ["drift"]}`, 1))
	r.Commit("serve v1, watch its scores")
	served := 0
	for i := 0; i < 900 && served < 40; i++ {
		resp, err := http.Post(base+"/v1/models/fraud/labels/production:predict", "application/json",
			strings.NewReader(fmt.Sprintf(`{"instances":[{"score":[%d]}]}`, 100+served)))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				served++
				continue
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if served < 40 {
		t.Fatalf("the endpoint answered %d of 40 requests; daemon said:\n%s", served, logged())
	}
	select {
	case n := <-notices:
		if !strings.Contains(n, `"type":"drift"`) || !strings.Contains(n, `"reason":"DriftDetected"`) || !strings.Contains(n, "score ks p=") || !strings.Contains(n, `"resource":"drift.scores"`) {
			t.Errorf("notice %s", n)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("no drift notice; daemon said:\n%s", logged())
	}
	select {
	case n := <-notices:
		t.Errorf("a second notice in the same episode: %s", n)
	case <-time.After(2500 * time.Millisecond):
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
}
