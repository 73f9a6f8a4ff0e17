package reliability

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cgi"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sluice/internal/testgit"
)

// gitServer serves a repository over git's smart HTTP protocol (git
// http-backend behind net/http/cgi) through a front listener that, once
// stalled, accepts connections and never answers them.
type gitServer struct {
	URL     string
	stalled atomic.Bool
	mu      sync.Mutex
	held    []net.Conn
}

func newGitServer(t *testing.T, repo *testgit.Repo) *gitServer {
	t.Helper()
	execPath, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Skipf("git --exec-path: %v", err)
	}
	backend := &cgi.Handler{
		Path: strings.TrimSpace(string(execPath)) + "/git-http-backend",
		Env:  []string{"GIT_PROJECT_ROOT=" + repo.Dir(), "GIT_HTTP_EXPORT_ALL=1"},
	}
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: backend}
	// One request per connection, so that once stalled no fetch can slip
	// through a kept-alive connection made before.
	srv.SetKeepAlivesEnabled(false)
	go srv.Serve(inner)
	t.Cleanup(func() { srv.Close() })

	front, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &gitServer{URL: "http://" + front.Addr().String() + "/.git"}
	t.Cleanup(func() {
		front.Close()
		g.mu.Lock()
		for _, c := range g.held {
			c.Close()
		}
		g.mu.Unlock()
	})
	go func() {
		for {
			c, err := front.Accept()
			if err != nil {
				return
			}
			if g.stalled.Load() {
				g.mu.Lock()
				g.held = append(g.held, c) // accepted, never read, never answered
				g.mu.Unlock()
				continue
			}
			go proxy(c, inner.Addr().String())
		}
	}()
	return g
}

// proxy copies a connection to addr and back until either side closes.
func proxy(c net.Conn, addr string) {
	defer c.Close()
	b, err := net.Dial("tcp", addr)
	if err != nil {
		return
	}
	defer b.Close()
	go io.Copy(b, c)
	io.Copy(c, b)
}

// daemonStatus is what the test reads of GET /api/status.
type daemonStatus struct {
	Revision *struct {
		Commit string `json:"commit"`
	} `json:"revision"`
	Head       string `json:"head"`
	FetchError string `json:"fetch_error"`
}

func readStatus(t *testing.T, api string) (daemonStatus, string) {
	t.Helper()
	raw := apiGet(t, api, "/api/status")
	var s daemonStatus
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		t.Fatalf("status: %v\n%s", err, raw)
	}
	return s, raw
}

// TestDaemonOnAStalledGitServerTimesOutAndKeepsTheLastGoodRevision tracks
// a remote repository over HTTP. Once the server stalls (it accepts and
// never answers), each fetch times out: the status says so, the revision
// in force stays the last good one, and the API keeps answering. When the
// server answers again, the daemon applies the commit it could not fetch.
func TestDaemonOnAStalledGitServerTimesOutAndKeepsTheLastGoodRevision(t *testing.T) {
	t.Parallel()
	repo := testgit.New(t)
	repo.WriteBytes("data/tx.csv", bigCSV(100))
	spec := `package sluice

sources: tx: {path: "data/tx.csv", timestamp: "ts"}
entities: user: join_key: "user_id"
features: spend: {entities: ["user"], source: "tx", ttl: "87600h", fields: amount: type: "float64"}
`
	repo.Write("specs/main.cue", spec)
	first := repo.Commit("a view")
	git := newGitServer(t, repo)

	dir := t.TempDir()
	d := start(t, sluiceCmd(dir, []string{"XDG_CACHE_HOME=" + t.TempDir()}, "daemon", "--repo", git.URL, "--path", "specs",
		"--branch", "main", "--listen", "127.0.0.1:0", "--serve-listen", "none", "--open-reads",
		"--poll", "200ms", "--recheck", "0", "--fetch-timeout", "1s"))
	api := operatorAPI(t, d)
	if !d.waitFor("msg=applied commit="+first[:12], time.Minute) {
		t.Fatalf("the first commit never applied:\n%s", d.output())
	}

	git.stalled.Store(true)
	repo.Write("specs/main.cue", strings.Replace(spec, `fields: amount`, `description: "spend", fields: amount`, 1))
	second := repo.Commit("describe the view")
	if !d.waitFor("fetch failed", 30*time.Second) {
		t.Fatalf("a stalled fetch never failed:\n%s", d.output())
	}
	s, raw := readStatus(t, api)
	if !strings.Contains(s.FetchError, "time") {
		t.Errorf("status does not say the fetch timed out:\n%s", raw)
	}
	t.Logf("status during the stall: fetch_error %q", s.FetchError)
	if s.Revision == nil || s.Revision.Commit != first {
		t.Errorf("the revision in force is not the last good one, %s:\n%s", first[:12], raw)
	}

	git.stalled.Store(false)
	if !d.waitFor("msg=applied commit="+second[:12], 30*time.Second) {
		t.Fatalf("once the server answered again, the new commit never applied:\n%s", d.output())
	}
	if s, raw := readStatus(t, api); s.FetchError != "" {
		t.Errorf("the fetch error stays in status after a good fetch:\n%s", raw)
	}
	if err := stopDaemon(t, d); err != nil {
		t.Fatal(err)
	}
}
