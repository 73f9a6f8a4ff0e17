package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"sluice/engine"
	"sluice/internal/testgit"
	"sluice/runtime/features"
	"sluice/runtime/store"
)

const testToken = "operator-token"

// viewSpec is a repository's specs with one feature view; extra goes into
// the view's fields, so each variant is a behaviour change of the view.
func viewSpec(extra string) string {
	return `package sluice

sources: tx: {path: "data/tx.csv", timestamp: "ts"}
entities: user: join_key: "user_id"
features: spend: {entities: ["user"], source: "tx", ttl: "87600h", fields: {amount: type: "float64"` + extra + `}}
`
}

// invalidSpec misses the source's timestamp, at specs/main.cue:3:10.
const invalidSpec = `package sluice

sources: tx: {path: "data/tx.csv"}
entities: user: join_key: "user_id"
features: spend: {entities: ["user"], source: "tx", ttl: "87600h", fields: amount: type: "float64"}
`

const txCSV = "user_id,ts,amount\n1,2026-11-01T00:00:00Z,10.5\n2,2026-11-02T00:00:00Z,3\n"

// newRepo makes a repository with valid specs in specs/ and one commit.
func newRepo(t *testing.T) *testgit.Repo {
	t.Helper()
	r := testgit.New(t)
	r.Write("specs/main.cue", viewSpec(""))
	r.Write("data/tx.csv", txCSV)
	r.Commit("first")
	return r
}

// commitView commits a variant of the view (n picks it) and returns the commit.
func commitView(r *testgit.Repo, n int) string {
	r.Write("specs/main.cue", viewSpec(fmt.Sprintf(`, x%d: {type: "float64", expr: "amount * %d"}`, n, n)))
	return r.Commit(fmt.Sprintf("view variant %d", n))
}

// harness is a daemon on a real state file, serving on 127.0.0.1:0.
type harness struct {
	t    *testing.T
	d    *Daemon
	db   *store.DB
	path string
	url  string
	logs *syncBuffer
}

func openDB(t *testing.T, path string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func drivers(t testing.TB, db *store.DB) engine.Drivers {
	t.Helper()
	fs, err := features.New(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return engine.Drivers{Features: fs}
}

// start runs a daemon over repo with the state at statePath ("" for a new
// one), after mod adjusts its configuration.
func start(t *testing.T, repo string, statePath string, mod func(*Config)) *harness {
	t.Helper()
	if statePath == "" {
		statePath = filepath.Join(t.TempDir(), "state.db")
	}
	h := &harness{t: t, path: statePath, logs: &syncBuffer{}}
	h.db = openDB(t, statePath)
	cfg := Config{DB: h.db, Drivers: drivers(t, h.db), Repo: repo, Branch: "main", Path: "specs",
		Listen: "127.0.0.1:0", Token: testToken, Logger: slog.New(slog.NewTextHandler(h.logs, nil))}
	if mod != nil {
		mod(&cfg)
	}
	d, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.d, h.url = d, "http://"+d.Addr()
	t.Cleanup(func() {
		h.close()
		if t.Failed() {
			t.Logf("daemon log:\n%s", h.logs.String())
		}
	})
	return h
}

func (h *harness) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.d.Close(ctx); err != nil {
		h.t.Errorf("close: %v", err)
	}
}

// call makes an API request with the operator token and decodes a JSON
// answer into out (when not nil), returning the status code and body.
func (h *harness) call(method, path string, body io.Reader, out any) (int, string) {
	h.t.Helper()
	req, err := http.NewRequest(method, h.url+path, body)
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			h.t.Fatalf("%s %s: %v\n%s", method, path, err, data)
		}
	}
	return resp.StatusCode, string(data)
}

func (h *harness) status() *Status {
	h.t.Helper()
	var s Status
	if code, body := h.call("GET", "/api/status", nil, &s); code != http.StatusOK {
		h.t.Fatalf("GET /api/status: %d %s", code, body)
	}
	return &s
}

func (h *harness) revisions() []RevisionInfo {
	h.t.Helper()
	var out []RevisionInfo
	if code, body := h.call("GET", "/api/revisions", nil, &out); code != http.StatusOK {
		h.t.Fatalf("GET /api/revisions: %d %s", code, body)
	}
	return out
}

type apiEvent struct {
	Kind, Name, Type, Reason, Message string
}

func (h *harness) events(reason string) []apiEvent {
	h.t.Helper()
	var all, out []apiEvent
	if code, body := h.call("GET", "/api/events?limit=1000", nil, &all); code != http.StatusOK {
		h.t.Fatalf("GET /api/events: %d %s", code, body)
	}
	for _, e := range all {
		if e.Reason == reason {
			out = append(out, e)
		}
	}
	return out
}

// waitCurrent waits until commit is the revision in force.
func (h *harness) waitCurrent(commit string) *Status {
	h.t.Helper()
	var s *Status
	eventually(h.t, "revision "+short(commit)+" in force", func() bool {
		s = h.status()
		return s.Revision != nil && s.Revision.Commit == commit && s.Phase == phaseIdle
	})
	return s
}

// eventually polls cond; its limit is a liveness bound for a loaded
// machine, not a timing assertion.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func allReady(t *testing.T, s *Status) {
	t.Helper()
	if len(s.Resources) == 0 {
		t.Errorf("status lists no resources")
	}
	for _, r := range s.Resources {
		if r.Status != store.Ready {
			t.Errorf("%s.%s is %s (%s): %s", r.Kind, r.Name, r.Status, r.Reason, r.Message)
		}
	}
}

// gate is an apply hook that holds the first step of an apply while
// closed, so a test can act while an apply is in progress.
type gate struct {
	mu      sync.Mutex
	hold    chan struct{} // nil when open
	entered chan struct{}
}

var _ engine.Hook = (*gate)(nil)

func newGate() *gate { return &gate{entered: make(chan struct{}, 1)} }

func (g *gate) close() {
	g.mu.Lock()
	g.hold = make(chan struct{})
	g.mu.Unlock()
}

func (g *gate) open() {
	g.mu.Lock()
	if g.hold != nil {
		close(g.hold)
		g.hold = nil
	}
	g.mu.Unlock()
}

// waitEntered waits until an apply is held at the gate.
func (g *gate) waitEntered(t *testing.T) {
	t.Helper()
	select {
	case <-g.entered:
	case <-time.After(60 * time.Second):
		t.Fatal("no apply reached the gate")
	}
}

func (g *gate) PreStep(*engine.Change) {
	g.mu.Lock()
	hold := g.hold
	g.mu.Unlock()
	if hold == nil {
		return
	}
	select {
	case g.entered <- struct{}{}:
	default:
	}
	<-hold
}

func (g *gate) PostStep(*engine.Change, engine.StepResult) {}
func (g *gate) Warn(error)                                 {}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func contains(xs []string, sub string) bool {
	for _, x := range xs {
		if strings.Contains(x, sub) {
			return true
		}
	}
	return false
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
