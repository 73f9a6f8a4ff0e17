package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// daemonChild is `sluice daemon` running as a child process, with the
// addresses it printed.
type daemonChild struct {
	t         *testing.T
	serve     string // the data plane, http://host:port
	api       string // the operator API
	mu        sync.Mutex
	log       strings.Builder
	done      chan struct{}
	terminate func() error
}

func startDaemonChild(t *testing.T, repo string, flags ...string) *daemonChild {
	t.Helper()
	cmd := sluiceCmd(t, filepath.Join(t.TempDir(), "state.db"), append([]string{"daemon", "--repo", repo, "--path", "specs", "--branch", "main",
		"--listen", "127.0.0.1:0", "--serve-listen", "127.0.0.1:0", "--open-reads", "--poll", "0", "--recheck", "0"}, flags...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	c := &daemonChild{t: t, done: make(chan struct{})}
	addrs := make(chan [2]string, 1)
	go func() {
		defer close(c.done)
		var serve string
		for lines := bufio.NewScanner(stderr); lines.Scan(); {
			c.mu.Lock()
			c.log.WriteString(lines.Text() + "\n")
			c.mu.Unlock()
			if _, a, ok := strings.Cut(lines.Text(), "serving endpoints on "); ok {
				serve = a
			}
			if _, a, ok := strings.Cut(lines.Text(), "operator API on "); ok {
				addrs <- [2]string{serve, a}
			}
		}
	}()
	select {
	case a := <-addrs:
		c.serve, c.api = a[0], a[1]
	case <-c.done:
		t.Fatalf("daemon exited before serving:\n%s", c.logged())
	}
	c.terminate = func() error {
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			return err
		}
		<-c.done
		return cmd.Wait()
	}
	return c
}

func (c *daemonChild) logged() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.log.String()
}

// waitFor polls until cond holds; the bound is for a loaded machine.
func (c *daemonChild) waitFor(what string, cond func() bool) {
	c.t.Helper()
	for i := 0; i < 1200; i++ {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("gave up waiting for %s; daemon said:\n%s", what, c.logged())
}

// status is the daemon's GET /api/status.
func (c *daemonChild) status() map[string]any {
	resp, err := http.Get(c.api + "/api/status")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var s map[string]any
	json.NewDecoder(resp.Body).Decode(&s)
	return s
}

// TestDaemonPromotionSwapsTheServedVersionWithoutAFailedRequestAndABadCommitChangesNothing
// is the end-to-end check: a real repository, the daemon as a
// child process, a commit moving production from version 1 to 2 while a
// client sends requests without pause, then an invalid commit.
func TestDaemonPromotionSwapsTheServedVersionWithoutAFailedRequestAndABadCommitChangesNothing(t *testing.T) {
	needORT(t)
	r := serveRepo(t)
	// Two experiments of one model register versions 1 and 2 in one apply.
	lr := serveSpec[strings.Index(serveSpec, "experiments: lr:"):strings.Index(serveSpec, "endpoints:")]
	twoVersions := serveSpec + strings.Replace(strings.Replace(lr, "experiments: lr:", "experiments: lr2:", 1), "C: 1.0", "C: 2.0", 1)
	r.Write("specs/main.cue", twoVersions)
	r.Commit("train v1 and v2, serve v1")
	c := startDaemonChild(t, r.Dir())
	c.waitFor("production at version 1", func() bool { return strings.Contains(productionVersion(c.serve), `"model_version":"1"`) })

	var sent, failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			sent.Add(1)
			if productionVersion(c.serve) == "" {
				failed.Add(1)
			}
		}
	}()

	r.Write("specs/main.cue", strings.Replace(twoVersions, "production: 1", "production: 2", 1))
	promoted := r.Commit("promote v2")
	c.waitFor("production at version 2", func() bool { return strings.Contains(productionVersion(c.serve), `"model_version":"2"`) })

	r.Write("specs/main.cue", strings.Replace(twoVersions, "production: 1", "production: 2", 1)+"models: fraud: aliases: production: \"two\"\n")
	bad := r.Commit("a bad commit")
	c.waitFor("the bad commit reported", func() bool {
		le, _ := c.status()["last_error"].(map[string]any)
		return le != nil && le["commit"] == bad && le["reason"] == "SpecInvalid"
	})
	close(stop)
	wg.Wait()
	if got := productionVersion(c.serve); !strings.Contains(got, `"model_version":"2"`) {
		t.Errorf("after the bad commit production answered %q, want version 2", got)
	}
	rev, _ := c.status()["revision"].(map[string]any)
	if rev == nil || rev["commit"] != promoted {
		t.Errorf("revision in force %v, want the promotion %s", rev, promoted[:12])
	}
	if failed.Load() != 0 || sent.Load() < 10 {
		t.Errorf("the concurrent client had %d of %d requests fail", failed.Load(), sent.Load())
	}
	if err := c.terminate(); err != nil {
		t.Fatalf("daemon after SIGTERM: %v\n%s", err, c.logged())
	}
}
