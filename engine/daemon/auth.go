package daemon

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"sluice/runtime/store"
)

// maxHookBody bounds a webhook's payload, as GitHub's own limit does.
const maxHookBody = 25 << 20

// rejectEventEvery bounds how often rejected webhooks reach the event
// log, so that a flood of bad requests cannot flood it; status counts
// every one.
const rejectEventEvery = time.Minute

// reading guards a route that only reads: open under OpenReads, else the
// bearer token.
func (d *Daemon) reading(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !d.cfg.OpenReads && !d.authorized(w, r) {
			return
		}
		h(w, r)
	})
}

// mutating guards a route that changes something: always the token.
func (d *Daemon) mutating(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d.authorized(w, r) {
			h(w, r)
		}
	})
}

// authorized checks the request's bearer token against the configured
// one in constant time (of the hashes, so the length does not leak), and
// answers the request itself when it fails.
func (d *Daemon) authorized(w http.ResponseWriter, r *http.Request) bool {
	if d.cfg.Token == "" {
		writeError(w, http.StatusForbidden, errors.New("this route needs a token, and the daemon has none: start it with --token-file"))
		return false
	}
	given, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	want := sha256.Sum256([]byte(d.cfg.Token))
	got := sha256.Sum256([]byte(given))
	if !ok || subtle.ConstantTimeCompare(want[:], got[:]) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="sluice"`)
		writeError(w, http.StatusUnauthorized, errors.New("missing or wrong bearer token"))
		return false
	}
	return true
}

// webhook takes a push notification. It is verified against the secret,
// then only pokes the loop to fetch: what the payload claims (branch,
// commit) is never trusted, the repository is.
func (d *Daemon) webhook(w http.ResponseWriter, r *http.Request) {
	if d.cfg.WebhookSecret == "" {
		writeError(w, http.StatusNotFound, errors.New("webhooks are off: start the daemon with a webhook secret"))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxHookBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Errorf("read payload: %w", err))
		return
	}
	provider, err := verifyHook([]byte(d.cfg.WebhookSecret), r.Header, body)
	if err != nil {
		d.rejectHook(r, err)
		writeError(w, http.StatusUnauthorized, err)
		return
	}
	d.mu.Lock()
	d.st.webhooks.Accepted++
	d.mu.Unlock()
	if r.Header.Get("X-GitHub-Event") == "ping" {
		writeJSON(w, http.StatusOK, map[string]any{"pong": true})
		return
	}
	d.log.Info("webhook: fetching", "provider", provider)
	d.poke()
	writeJSON(w, http.StatusAccepted, map[string]any{"fetch": "queued"})
}

// verifyHook checks GitHub's X-Hub-Signature-256 (an HMAC-SHA256 of the
// body) or GitLab's X-Gitlab-Token (the secret itself), in constant time.
func verifyHook(secret []byte, h http.Header, body []byte) (provider string, err error) {
	if sig := h.Get("X-Hub-Signature-256"); sig != "" {
		hexSig, ok := strings.CutPrefix(sig, "sha256=")
		got, derr := hex.DecodeString(hexSig)
		mac := hmac.New(sha256.New, secret)
		mac.Write(body)
		if !ok || derr != nil || !hmac.Equal(got, mac.Sum(nil)) {
			return "", errors.New("X-Hub-Signature-256 does not match the payload")
		}
		return "github", nil
	}
	if tok := h.Get("X-Gitlab-Token"); tok != "" {
		want, got := sha256.Sum256(secret), sha256.Sum256([]byte(tok))
		if subtle.ConstantTimeCompare(want[:], got[:]) != 1 {
			return "", errors.New("X-Gitlab-Token does not match the secret")
		}
		return "gitlab", nil
	}
	return "", errors.New("no X-Hub-Signature-256 or X-Gitlab-Token header")
}

// rejectHook counts a rejected webhook in status and, at most once a
// minute, records it in the event log.
func (d *Daemon) rejectHook(r *http.Request, why error) {
	now := time.Now()
	d.mu.Lock()
	ws := &d.st.webhooks
	ws.Rejected++
	ws.LastReason = why.Error()
	record := ws.LastRejected == nil || now.Sub(d.st.lastRejectEvent) >= rejectEventEvery
	ws.LastRejected = timePtr(now)
	if record {
		d.st.lastRejectEvent = now
	}
	d.mu.Unlock()
	d.log.Warn("webhook rejected", "remote", r.RemoteAddr, keyErr, why)
	if !record {
		return
	}
	ctx := context.WithoutCancel(r.Context())
	err := d.cfg.DB.Tx(ctx, func(tx *sql.Tx) error {
		return store.AddEvent(ctx, tx, store.Event{At: now, Type: "Warning", Reason: ReasonWebhookRejected,
			Message: fmt.Sprintf("rejected a webhook from %s: %v", r.RemoteAddr, why)})
	})
	if err != nil {
		d.log.Error("record event", keyErr, err)
	}
}
