package source_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"sluice/engine/source"
	"sluice/internal/testgit"
)

// signedHistory is main with commits signed by trusted, then one
// unsigned, then one signed by a key the keyring lacks.
type signedHistory struct {
	repo                           *testgit.Repo
	keyring                        string
	trusted                        *testgit.Key
	signed, unsigned, foreign, top string
}

func newSignedHistory(t *testing.T) signedHistory {
	h := signedHistory{repo: testgit.New(t), trusted: testgit.NewKey(t, "release")}
	h.keyring = testgit.Armored(t, h.trusted)
	r := h.repo
	r.Write("specs/app.cue", "version: 1\n")
	h.signed = r.CommitSigned("signed", h.trusted)
	r.Write("specs/app.cue", "version: 2\n")
	h.unsigned = r.Commit("unsigned")
	r.Write("specs/app.cue", "version: 3\n")
	h.foreign = r.CommitSigned("foreign", testgit.NewKey(t, "stranger"))
	r.Write("specs/app.cue", "version: 4\n")
	h.top = r.CommitSigned("signed again", h.trusted)
	return h
}

func (h signedHistory) open(rev, mode, since string) (*source.Revision, error) {
	return source.Open(context.Background(), source.Options{Repo: h.repo.Dir(), Rev: rev, Path: "specs",
		Verify: &source.Verify{Keyring: h.keyring, Mode: mode, Since: since}})
}

func unverified(t *testing.T, err error, commit, reason string) {
	t.Helper()
	var ue *source.UnverifiedError
	if !errors.As(err, &ue) || ue.Commit != commit || !strings.Contains(ue.Error(), reason) {
		t.Fatalf("got %v, want commit %s refused: %s", err, commit[:12], reason)
	}
}

func TestVerifyHeadAcceptsACommitSignedByTheKeyringAndRefusesOthers(t *testing.T) {
	h := newSignedHistory(t)
	if rev, err := h.open(h.signed, source.VerifyHead, ""); err != nil || rev.Commit != h.signed {
		t.Fatalf("signed commit: %v", err)
	}
	_, err := h.open(h.unsigned, source.VerifyHead, "")
	unverified(t, err, h.unsigned, "is not signed")
	_, err = h.open(h.foreign, source.VerifyHead, "")
	unverified(t, err, h.foreign, "has a signature the keyring does not verify")
	// Head mode looks at the tracked commit only.
	if _, err := h.open("main", source.VerifyHead, ""); err != nil {
		t.Errorf("signed head over unsigned ancestors, head mode: %v", err)
	}
}

func TestVerifyStrictChecksEveryCommitSinceTheLastVerified(t *testing.T) {
	h := newSignedHistory(t)
	_, err := h.open("main", source.VerifyStrict, h.signed)
	unverified(t, err, h.foreign, "has a signature the keyring does not verify")
	if !strings.Contains(err.Error(), "an ancestor of "+h.top[:12]) {
		t.Errorf("error does not say it is an ancestor of the head: %v", err)
	}
	if _, err := h.open("main", source.VerifyStrict, h.foreign); err != nil {
		t.Errorf("only the head is new since %s: %v", h.foreign[:12], err)
	}
	// No verified revision yet (or one a force-push removed): the whole
	// history is checked.
	_, err = h.open("main", source.VerifyStrict, "")
	unverified(t, err, h.foreign, "has a signature")
	_, err = h.open("main", source.VerifyStrict, strings.Repeat("ab", 20))
	unverified(t, err, h.foreign, "has a signature")
}

func TestVerifyWithABadKeyringSaysSo(t *testing.T) {
	h := newSignedHistory(t)
	h.keyring = "not a keyring"
	if _, err := h.open("main", source.VerifyHead, ""); err == nil || !strings.Contains(err.Error(), "read armored keyring") {
		t.Errorf("bad keyring: %v", err)
	}
	if _, err := source.ParseKeyring(""); err == nil {
		t.Error("an empty keyring parsed")
	}
}
