package daemon

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
)

// FuzzVerifyHook feeds arbitrary webhook requests (signature header,
// GitLab token, body) to the verifier. It must never panic, and it may
// accept a request only when the signature is the body's HMAC-SHA256
// under the secret, or the token is the secret: nothing else gets in.
// Seeds: testdata/fuzz/FuzzVerifyHook.
func FuzzVerifyHook(f *testing.F) {
	const secret = "s3cret-for-fuzzing"
	body := []byte(`{"ref":"refs/heads/main","after":"0123456789abcdef0123456789abcdef01234567"}`)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	good := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	f.Add(good, "", body)
	f.Add(strings.ToUpper(good), "", body)
	f.Add("sha256=", "", body)
	f.Add("sha1=abc", "", []byte{})
	f.Add("", secret, body)
	f.Add("", secret+"\n", body)
	f.Add("", "", []byte("{}"))
	f.Fuzz(func(t *testing.T, sig, token string, body []byte) {
		h := http.Header{}
		if sig != "" {
			h.Set("X-Hub-Signature-256", sig)
		}
		if token != "" {
			h.Set("X-Gitlab-Token", token)
		}
		provider, err := verifyHook([]byte(secret), h, body)
		if err != nil {
			return
		}
		switch provider {
		case "github":
			m := hmac.New(sha256.New, []byte(secret))
			m.Write(body)
			got, derr := hex.DecodeString(strings.TrimPrefix(h.Get("X-Hub-Signature-256"), "sha256="))
			if derr != nil || !hmac.Equal(got, m.Sum(nil)) {
				t.Fatalf("accepted signature %q for a body it does not sign", sig)
			}
		case "gitlab":
			if h.Get("X-Gitlab-Token") != secret {
				t.Fatalf("accepted token %q, not the secret", token)
			}
		default:
			t.Fatalf("accepted as unknown provider %q", provider)
		}
	})
}
