package source

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// Verification modes, as Argo CD names them.
const (
	// VerifyHead checks the signature of the resolved commit only.
	VerifyHead = "head"
	// VerifyStrict checks every commit since the last verified one.
	VerifyStrict = "strict"
)

// Verify asks Open to refuse a revision whose commit is not signed by a
// key of a keyring.
type Verify struct {
	// Keyring is an armored OpenPGP public keyring (gpg --export --armor).
	Keyring string
	// Mode is VerifyHead or VerifyStrict.
	Mode string
	// Since is the last verified commit (for the daemon, the revision in
	// force). Under VerifyStrict the commits reachable from the resolved
	// one and not from Since are checked; with Since empty, or not found,
	// the whole history is.
	Since string
}

// UnverifiedError is a revision refused by Verify: which commit, of which
// ref, and why.
type UnverifiedError struct {
	Commit string // the commit that failed verification
	Head   string // the resolved commit, when Commit is one of its ancestors
	Ref    string
	Reason string
}

func (e *UnverifiedError) Error() string {
	msg := fmt.Sprintf("commit %s %s", short(e.Commit), e.Reason)
	if e.Head != "" && e.Head != e.Commit {
		msg += fmt.Sprintf(" (an ancestor of %s, checked under --verify-mode strict)", short(e.Head))
	}
	return msg
}

// ParseKeyring reads an armored public keyring, saying what is wrong with
// it when it cannot be read or holds no key.
func ParseKeyring(armored string) (openpgp.EntityList, error) {
	kr, err := openpgp.ReadArmoredKeyRing(strings.NewReader(armored))
	if err != nil {
		return nil, fmt.Errorf("read armored keyring: %w", err)
	}
	if len(kr) == 0 {
		return nil, errors.New("read armored keyring: it holds no key")
	}
	return kr, nil
}

// verify checks head (and under VerifyStrict its new ancestors) against
// v's keyring.
func verify(repo *git.Repository, head *object.Commit, ref string, v *Verify) error {
	if _, err := ParseKeyring(v.Keyring); err != nil {
		return err
	}
	check := func(c *object.Commit) error {
		if c.PGPSignature == "" {
			return &UnverifiedError{Commit: c.Hash.String(), Head: head.Hash.String(), Ref: ref, Reason: "is not signed"}
		}
		if _, err := c.Verify(v.Keyring); err != nil {
			return &UnverifiedError{Commit: c.Hash.String(), Head: head.Hash.String(), Ref: ref,
				Reason: "has a signature the keyring does not verify: " + err.Error()}
		}
		return nil
	}
	switch v.Mode {
	case VerifyHead, "":
		return check(head)
	case VerifyStrict:
	default:
		return fmt.Errorf("verify mode %q: want head or strict", v.Mode)
	}
	seen, err := ancestors(repo, v.Since)
	if err != nil {
		return err
	}
	it := object.NewCommitPreorderIter(head, seen, nil)
	defer it.Close()
	err = it.ForEach(func(c *object.Commit) error {
		if err := check(c); err != nil {
			return err
		}
		return nil
	})
	if errors.Is(err, storer.ErrStop) {
		return nil
	}
	return err
}

// ancestors is since and every commit reachable from it; empty when since
// is "" or not in the repository (rewritten away by a force-push).
func ancestors(repo *git.Repository, since string) (map[plumbing.Hash]bool, error) {
	seen := map[plumbing.Hash]bool{}
	if since == "" {
		return seen, nil
	}
	c, err := repo.CommitObject(plumbing.NewHash(since))
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return seen, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read commit %s: %w", short(since), err)
	}
	it := object.NewCommitPreorderIter(c, nil, nil)
	defer it.Close()
	err = it.ForEach(func(c *object.Commit) error {
		seen[c.Hash] = true
		return nil
	})
	return seen, err
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}
