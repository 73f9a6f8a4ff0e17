package testgit

import (
	"bytes"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Key is an OpenPGP signing key made for a test, no gpg binary involved.
type Key struct {
	Entity *openpgp.Entity
}

// NewKey makes an Ed25519 signing key for name.
func NewKey(t testing.TB, name string) *Key {
	t.Helper()
	e, err := openpgp.NewEntity(name, "", name+"@sluice.invalid", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err != nil {
		t.Fatal(err)
	}
	return &Key{Entity: e}
}

// Armored is the public keyring of keys, as gpg --export --armor writes it.
func Armored(t testing.TB, keys ...*Key) string {
	t.Helper()
	var b bytes.Buffer
	w, err := armor.Encode(&b, openpgp.PublicKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if err := k.Entity.Serialize(w); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// CommitSigned stages every change and commits it with go-git, signed by
// key, returning the new commit's full hash.
func (r *Repo) CommitSigned(msg string, key *Key) string {
	r.t.Helper()
	repo, err := git.PlainOpen(r.dir)
	if err != nil {
		r.t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		r.t.Fatal(err)
	}
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		r.t.Fatal(err)
	}
	r.commits++
	sig := &object.Signature{Name: AuthorName, Email: AuthorEmail, When: CommitTime(r.commits)}
	h, err := wt.Commit(msg, &git.CommitOptions{Author: sig, Committer: sig, SignKey: key.Entity})
	if err != nil {
		r.t.Fatal(err)
	}
	return h.String()
}
