package daemon

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	"sluice/internal/testgit"
)

const hookSecret = "webhook-secret"

// remote is a bare repository with valid specs pushed to it, and the work
// tree that pushes.
func remote(t *testing.T) (bare, work *testgit.Repo) {
	t.Helper()
	bare = testgit.NewBare(t)
	work = newRepo(t)
	work.Git("push", "-q", bare.URL(), "main")
	return bare, work
}

func (h *harness) hook(body string, header map[string]string) int {
	h.t.Helper()
	req, err := http.NewRequest("POST", h.url+"/hooks/git", strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func githubSignature(secret, body string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(body))
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func TestWebhookWithGoodSignatureFetchesAndBadOneIsRejected(t *testing.T) {
	bare, work := remote(t)
	h := start(t, bare.URL(), "", func(c *Config) { c.CacheDir, c.WebhookSecret = t.TempDir(), hookSecret })
	h.waitCurrent(work.Head())

	pushed := commitView(work, 1)
	work.Git("push", "-q", bare.URL(), "main")
	// The payload names a commit; it is only a hint, never read as truth.
	payload := `{"ref":"refs/heads/main","after":"` + strings.Repeat("0", 40) + `"}`
	bad := []map[string]string{
		{"X-Hub-Signature-256": githubSignature("wrong-secret", payload)},
		{"X-Hub-Signature-256": "sha256=zz"},
		{"X-Hub-Signature-256": githubSignature(hookSecret, payload+" ")},
		{"X-Gitlab-Token": "wrong-secret"},
		{},
	}
	for _, hdr := range bad {
		if code := h.hook(payload, hdr); code != http.StatusUnauthorized {
			t.Errorf("webhook with %v: %d, want 401", hdr, code)
		}
	}
	s := h.status()
	if s.Webhooks.Rejected != len(bad) || s.Webhooks.Accepted != 0 || s.Webhooks.LastRejected == nil {
		t.Errorf("webhook stats %+v", s.Webhooks)
	}
	if evs := h.events(ReasonWebhookRejected); len(evs) != 1 || evs[0].Type != "Warning" {
		t.Errorf("rejected webhooks recorded as %d events, want 1 (at most one a minute): %+v", len(evs), evs)
	}

	if code := h.hook(payload, map[string]string{"X-Hub-Signature-256": githubSignature(hookSecret, payload)}); code != http.StatusAccepted {
		t.Fatalf("webhook with a good GitHub signature: %d", code)
	}
	h.waitCurrent(pushed)

	again := commitView(work, 2)
	work.Git("push", "-q", bare.URL(), "main")
	if code := h.hook(payload, map[string]string{"X-Gitlab-Token": hookSecret}); code != http.StatusAccepted {
		t.Fatalf("webhook with the GitLab token: %d", code)
	}
	h.waitCurrent(again)
}

func TestWebhookIsOffWithoutASecret(t *testing.T) {
	repo := newRepo(t)
	h := start(t, repo.Dir(), "", nil)
	payload := `{}`
	if code := h.hook(payload, map[string]string{"X-Hub-Signature-256": githubSignature("", payload)}); code != http.StatusNotFound {
		t.Errorf("webhook without a configured secret: %d, want 404", code)
	}
}

func TestVerifyHookAcceptsOnlyTheSecret(t *testing.T) {
	body := []byte(`{"ref":"refs/heads/main"}`)
	for _, tc := range []struct {
		header   http.Header
		provider string
	}{
		{http.Header{"X-Hub-Signature-256": {githubSignature(hookSecret, string(body))}}, "github"},
		{http.Header{"X-Gitlab-Token": {hookSecret}}, "gitlab"},
		{http.Header{"X-Hub-Signature-256": {strings.TrimPrefix(githubSignature(hookSecret, string(body)), "sha256=")}}, ""},
		{http.Header{"X-Hub-Signature-256": {githubSignature(hookSecret, "{}")}}, ""},
		{http.Header{"X-Gitlab-Token": {hookSecret + "x"}}, ""},
		{http.Header{"X-Hub-Signature": {"sha1=00"}}, ""},
	} {
		got, err := verifyHook([]byte(hookSecret), tc.header, body)
		if got != tc.provider || (err == nil) != (tc.provider != "") {
			t.Errorf("%v: provider %q, %v; want %q", tc.header, got, err, tc.provider)
		}
	}
}
