package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"sluice/engine"
	"sluice/schema"
)

// receiver is a notification webhook on 127.0.0.1 that records what it
// was sent; fail answers the first fail requests with 500.
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	fail   int
	tries  int
	bodies []string
	got    []Notice
}

func newReceiver(t *testing.T, fail int) *receiver {
	rc := &receiver{fail: fail}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		rc.tries++
		if rc.tries <= rc.fail {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		var n Notice
		if r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &n) != nil {
			http.Error(w, "not a JSON notice", http.StatusBadRequest)
			return
		}
		rc.bodies = append(rc.bodies, string(body))
		rc.got = append(rc.got, n)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) notices() []Notice {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]Notice(nil), rc.got...)
}

func (rc *receiver) payloads() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.bodies...)
}

func (rc *receiver) attempts() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.tries
}

// notifySpec is viewSpec with notifications; each is "name url event...".
func notifySpec(extra string, notifications ...string) string {
	s := viewSpec(extra)
	for _, n := range notifications {
		f := strings.Fields(n)
		s += fmt.Sprintf("notifications: %q: {url: %q, events: [%s]}\n", f[0], f[1], `"`+strings.Join(f[2:], `", "`)+`"`)
	}
	return s
}

func (rc *receiver) waitFor(t *testing.T, typ, commit string) Notice {
	t.Helper()
	var found Notice
	eventually(t, typ+" notice for "+short(commit), func() bool {
		for _, n := range rc.notices() {
			if n.Type == typ && n.Commit == commit {
				found = n
				return true
			}
		}
		return false
	})
	return found
}

func TestAppliedAndFailedRevisionsArePostedToTheirSubscribersWithoutSecrets(t *testing.T) {
	all, applied := newReceiver(t, 0), newReceiver(t, 0)
	repo := newRepo(t)
	repo.Write("specs/main.cue", notifySpec("", "ops "+all.srv.URL+"/hook?key=s3cret applied failed", "audit "+applied.srv.URL+" applied"))
	good := repo.Commit("notify")
	h := start(t, repo.Dir(), "", func(c *Config) { c.WebhookSecret = "hook-secret" })
	h.waitCurrent(good)

	n := all.waitFor(t, NoticeApplied, good)
	if n.Reason != ReasonRevisionApplied || n.Ref != "refs/heads/main" || n.Notification != "ops" || !strings.Contains(n.Message, "applied "+short(good)) {
		t.Errorf("applied notice %+v", n)
	}
	applied.waitFor(t, NoticeApplied, good)

	repo.Write("specs/main.cue", invalidSpec)
	bad := repo.Commit("break")
	n = all.waitFor(t, NoticeFailed, bad)
	if n.Reason != ReasonSpecInvalid || !strings.Contains(n.Message, "specs/main.cue:3:10") {
		t.Errorf("failed notice %+v", n)
	}
	for _, b := range append(all.payloads(), applied.payloads()...) {
		for _, secret := range []string{testToken, "hook-secret", "s3cret"} {
			if strings.Contains(b, secret) {
				t.Errorf("a payload carries the secret %q: %s", secret, b)
			}
		}
	}
}

func TestNotifyDeliversDriftAndRollbackToTheirSubscribers(t *testing.T) {
	rc := newReceiver(t, 0)
	repo := newRepo(t)
	repo.Write("specs/main.cue", notifySpec("", "oncall "+rc.srv.URL+" drift rollback"))
	c := repo.Commit("notify")
	h := start(t, repo.Dir(), "", nil)
	h.waitCurrent(c)
	h.d.Notify(context.Background(), Notice{Type: NoticeDrift, Reason: "DriftDetected", Resource: "drift.fraud-inputs", Message: "psi 0.31 > 0.2"})
	h.d.Notify(context.Background(), Notice{Type: NoticeRollback, Reason: "RolledBack", Resource: "models.fraud-detector", Message: "production back to 3"})
	eventually(t, "two notices", func() bool { return len(rc.notices()) == 2 })
	for _, n := range rc.notices() {
		if n.Type == NoticeApplied || n.Resource == "" || n.At.IsZero() || n.Repo != repo.Dir() {
			t.Errorf("notice %+v", n)
		}
	}
}

func TestNotificationIsRetriedWithBackoffAndAFailureIsRecordedWithoutBlockingReconcile(t *testing.T) {
	flaky, down := newReceiver(t, 2), newReceiver(t, 1<<30)
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(func() { close(release); hang.Close() })
	repo := newRepo(t)
	repo.Write("specs/main.cue", notifySpec("", "flaky "+flaky.srv.URL+" applied", "down "+down.srv.URL+"/secret-path applied",
		"hang "+hang.URL+" applied"))
	first := repo.Commit("notify")
	h := start(t, repo.Dir(), "", func(c *Config) {
		c.NotifyAttempts, c.NotifyRetryMin, c.NotifyTimeout = 3, 10*time.Millisecond, 300*time.Millisecond
	})
	h.waitCurrent(first)
	flaky.waitFor(t, NoticeApplied, first)
	if n := flaky.attempts(); n != 3 {
		t.Errorf("flaky receiver got %d attempts, want 2 failures then a delivery", n)
	}

	// While the hanging receiver holds a delivery, reconcile goes on.
	repo.Write("specs/main.cue", notifySpec(`, x: {type: "float64", expr: "amount * 2"}`, "flaky "+flaky.srv.URL+" applied",
		"down "+down.srv.URL+"/secret-path applied", "hang "+hang.URL+" applied"))
	second := repo.Commit("second")
	h.waitCurrent(second)
	flaky.waitFor(t, NoticeApplied, second)

	var evs []apiEvent
	eventually(t, "the down receiver's failures in the event log", func() bool {
		evs = h.events(ReasonNotificationFailed)
		n := 0
		for _, e := range evs {
			if e.Name == "down" {
				n++
			}
		}
		return n == 2
	})
	for _, e := range evs {
		if e.Name != "down" {
			continue
		}
		if e.Kind != "notifications" || !strings.Contains(e.Message, "after 3 attempt(s): answered 500 Internal Server Error") ||
			strings.Contains(e.Message, "secret-path") {
			t.Errorf("failure event %+v", e)
		}
	}
	if down.attempts() != 6 {
		t.Errorf("down receiver got %d attempts, want 3 per notice", down.attempts())
	}
	if s := h.status(); s.Notifications.Failed < 2 || s.Notifications.Sent < 2 {
		t.Errorf("status notifications %+v", s.Notifications)
	}
}

func TestPromotionStepSendsAPromotedNotice(t *testing.T) {
	rc := newReceiver(t, 0)
	repo := newRepo(t)
	h := start(t, repo.Dir(), "", nil)
	h.waitCurrent(repo.Head())
	h.d.notify.setTargets(&schema.Spec{Notifications: map[string]*schema.Notification{
		"models": {URL: rc.srv.URL, Events: []string{NoticePromoted}}}})
	c := &engine.Change{Addr: schema.Addr{Kind: "models", Name: "fraud-detector"}}
	p := progress{d: h.d}
	p.PostStep(c, engine.StepResult{Addr: c.Addr, Status: "Ready", Reason: engine.ReasonApplied})
	p.PostStep(c, engine.StepResult{Addr: c.Addr, Status: "Ready", Reason: engine.ReasonPromoted, Message: "production: 1 → 2"})
	eventually(t, "a promoted notice", func() bool { return len(rc.notices()) == 1 })
	if n := rc.notices()[0]; n.Type != NoticePromoted || n.Resource != "models.fraud-detector" || n.Message != "production: 1 → 2" {
		t.Errorf("notice %+v", n)
	}
}

func TestRedactionKeepsHostAndDropsCredentials(t *testing.T) {
	for in, want := range map[string]string{
		"https://hooks.slack.com/services/T0/B0/XXXX": "https://hooks.slack.com/…",
		"http://127.0.0.1:9000":                       "http://127.0.0.1:9000",
		"https://user:tok@example.com/x?k=v":          "https://example.com/…",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%s) = %s, want %s", in, got, want)
		}
	}
	if got := redactText("fetch https://bot:ghp_x@github.com/o/r.git: 403"); got != "fetch https://***@github.com/o/r.git: 403" {
		t.Errorf("redactText: %s", got)
	}
}
