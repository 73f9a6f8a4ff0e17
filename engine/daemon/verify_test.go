package daemon

import (
	"strings"
	"testing"

	"sluice/engine/source"
	"sluice/internal/testgit"
)

// signedRepo is newRepo with its first commit signed by key.
func signedRepo(t *testing.T, key *testgit.Key) *testgit.Repo {
	r := testgit.New(t)
	r.Write("specs/main.cue", viewSpec(""))
	r.Write("data/tx.csv", txCSV)
	r.CommitSigned("first", key)
	return r
}

// waitRefused waits until the daemon reports commit refused as unverified.
func (h *harness) waitRefused(commit string) *Status {
	h.t.Helper()
	var s *Status
	eventually(h.t, "commit "+short(commit)+" refused", func() bool {
		s = h.status()
		return s.LastError != nil && s.LastError.Reason == ReasonUnverifiedCommit && s.LastError.Commit == commit
	})
	return s
}

func TestUnsignedOrForeignSignedHeadIsRefusedAndTheLastGoodRevisionStays(t *testing.T) {
	trusted := testgit.NewKey(t, "release")
	repo := signedRepo(t, trusted)
	good := repo.Head()
	h := start(t, repo.Dir(), "", func(c *Config) { c.VerifyKeyring = testgit.Armored(t, trusted) })
	h.waitCurrent(good)

	repo.Write("specs/main.cue", viewSpec(`, x: {type: "float64", expr: "amount * 2"}`))
	unsigned := repo.Commit("unsigned")
	s := h.waitRefused(unsigned)
	if s.Revision.Commit != good || !s.LastError.Stalled || !strings.Contains(s.LastError.Message, "is not signed") || s.Head != unsigned {
		t.Errorf("after an unsigned head: revision %s, error %+v, head %s", short(s.Revision.Commit), s.LastError, short(s.Head))
	}
	repo.Write("specs/main.cue", viewSpec(`, x: {type: "float64", expr: "amount * 3"}`))
	foreign := repo.CommitSigned("foreign", testgit.NewKey(t, "stranger"))
	s = h.waitRefused(foreign)
	if s.Revision.Commit != good || !strings.Contains(s.LastError.Message, "has a signature the keyring does not verify") {
		t.Errorf("after a foreign-signed head: revision %s, error %+v", short(s.Revision.Commit), s.LastError)
	}
	evs := h.events(ReasonUnverifiedCommit)
	if len(evs) != 2 || !strings.HasPrefix(evs[0].Message, short(unsigned)) || !strings.HasPrefix(evs[1].Message, short(foreign)) {
		t.Errorf("events %+v", evs)
	}
	failed := 0
	for _, r := range h.revisions() {
		if r.Outcome == "failed" && (r.Commit == unsigned || r.Commit == foreign) {
			failed++
		}
	}
	if failed != 2 {
		t.Errorf("%d refused revisions recorded, want 2", failed)
	}

	repo.Write("specs/main.cue", viewSpec(`, x: {type: "float64", expr: "amount * 4"}`))
	h.waitCurrent(repo.CommitSigned("signed", trusted))
}

func TestStrictModeRefusesASignedHeadOverAnUnsignedCommit(t *testing.T) {
	trusted := testgit.NewKey(t, "release")
	repo := signedRepo(t, trusted)
	h := start(t, repo.Dir(), "", func(c *Config) {
		c.VerifyKeyring, c.VerifyMode = testgit.Armored(t, trusted), source.VerifyStrict
	})
	good := repo.Head()
	h.waitCurrent(good)
	repo.Write("specs/main.cue", viewSpec(`, x: {type: "float64", expr: "amount * 2"}`))
	unsigned := repo.Commit("unsigned")
	repo.Write("specs/main.cue", viewSpec(`, x: {type: "float64", expr: "amount * 3"}`))
	head := repo.CommitSigned("signed over it", trusted)
	s := h.waitRefused(head)
	if s.Revision.Commit != good || !strings.Contains(s.LastError.Message, "commit "+short(unsigned)+" is not signed (an ancestor of "+short(head)) {
		t.Errorf("strict: revision %s, error %+v", short(s.Revision.Commit), s.LastError)
	}
}

func TestStartRefusesABadKeyringOrMode(t *testing.T) {
	repo := newRepo(t)
	db := openDB(t, t.TempDir()+"/state.db")
	for _, cfg := range []Config{
		{DB: db, Repo: repo.Dir(), VerifyKeyring: "not armored"},
		{DB: db, Repo: repo.Dir(), VerifyKeyring: testgit.Armored(t, testgit.NewKey(t, "k")), VerifyMode: "all"},
	} {
		if d, err := Start(t.Context(), cfg); err == nil {
			d.Close(t.Context())
			t.Errorf("started with keyring %.20q mode %q", cfg.VerifyKeyring, cfg.VerifyMode)
		}
	}
}
