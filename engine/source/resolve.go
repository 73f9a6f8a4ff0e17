package source

import (
	"errors"
	"fmt"
	"strings"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// resolve finds the commit rev names ("" is HEAD) and the reference it
// resolved through (see Revision.Ref).
func resolve(repo *git.Repository, rev string) (string, *object.Commit, error) {
	if rev == "" {
		rev = "HEAD"
	}
	query := rev
	if isHex(rev) && len(rev) < 4 {
		// Like git, read two or three hex digits as a name, never as a
		// hash prefix that would match an arbitrary commit.
		name, _, ok := expandRef(repo, rev)
		if !ok {
			return "", nil, plumbing.ErrReferenceNotFound
		}
		query = name.String()
	}
	h, err := repo.ResolveRevision(plumbing.Revision(query))
	if err != nil {
		if rev == "HEAD" && errors.Is(err, plumbing.ErrReferenceNotFound) {
			if head, herr := repo.Storer.Reference(plumbing.HEAD); herr == nil && head.Type() == plumbing.SymbolicReference {
				return "", nil, fmt.Errorf("no commits yet on %s", head.Target().Short())
			}
		}
		return "", nil, err
	}
	c, err := repo.CommitObject(*h)
	if err != nil {
		return "", nil, fmt.Errorf("read commit %s: %w", h, err)
	}
	return refName(repo, rev, *h), c, nil
}

// refName is the full name of the reference rev names, if rev is a plain
// name and that reference is what resolved to commit (a hash prefix wins
// over a reference of the same spelling, as in git); otherwise rev itself.
func refName(repo *git.Repository, rev string, commit plumbing.Hash) string {
	if strings.ContainsAny(rev, "~^@:{}") {
		return rev
	}
	name, target, ok := expandRef(repo, rev)
	if !ok {
		return rev
	}
	if h, err := repo.ResolveRevision(plumbing.Revision(target.String())); err != nil || *h != commit {
		return rev
	}
	return name.String()
}

// expandRef finds the reference a short name means, by git's rules
// (name, refs/name, refs/tags/name, refs/heads/name, refs/remotes/name…).
// name is what symbolic references lead to (HEAD gives refs/heads/main);
// target is the name to resolve it by.
func expandRef(repo *git.Repository, short string) (name, target plumbing.ReferenceName, ok bool) {
	for _, rule := range plumbing.RefRevParseRules {
		full := plumbing.ReferenceName(fmt.Sprintf(rule, short))
		ref, err := storer.ResolveReference(repo.Storer, full)
		if err == nil {
			return ref.Name(), full, true
		}
	}
	return "", "", false
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return true
}
