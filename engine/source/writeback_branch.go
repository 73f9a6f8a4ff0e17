package source

import (
	"fmt"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// ConflictError is a write-back refused because a person changed the same
// alias on the write-back branch: their commit is not overwritten.
type ConflictError struct {
	Branch string
	// Commit and Author are the person's commit that last set the alias.
	Commit, Author string
	// Field is the alias's CUE path; Value what the branch sets it to and
	// Want what the write-back would have set.
	Field       string
	Value, Want int
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("branch %s has commit %.12s by %s setting %s to %d, not %d: a person's change is never overwritten; merge or close it, or delete the branch",
		e.Branch, e.Commit, e.Author, e.Field, e.Value, e.Want)
}

// maxBranchWalk bounds how far back a branch's history is read to find
// who last set an alias.
const maxBranchWalk = 1000

// parentFor decides what a proposal is committed on: base when the branch
// is missing or holds nothing base lacks (it is fast-forwarded), else the
// branch's head. unchanged is set when a person's commit on the branch
// already proposes the same version.
func parentFor(repo *git.Repository, base *object.Commit, old *plumbing.Reference, sub string, c AliasChange) (parent *object.Commit, unchanged bool, err error) {
	if old == nil {
		return base, false, nil
	}
	tip, err := repo.CommitObject(old.Hash())
	if err != nil {
		return nil, false, fmt.Errorf("read branch %s: %w", old.Name().Short(), err)
	}
	if tip.Hash == base.Hash {
		return base, false, nil
	}
	if behind, err := tip.IsAncestor(base); err != nil {
		return nil, false, fmt.Errorf("compare branch %s with %.12s: %w", old.Name().Short(), base.Hash, err)
	} else if behind {
		return base, false, nil
	}
	by, err := lastChange(tip, base, sub, c.Model, c.Alias)
	if err != nil {
		return nil, false, fmt.Errorf("read branch %s: %w", old.Name().Short(), err)
	}
	if by == nil || by.Author.Email == WriteBackEmail {
		// Sluice's own earlier proposal, or no change of the alias at
		// all: the new proposal goes on top.
		return tip, false, nil
	}
	v := specValue(by, sub, c.Model, c.Alias)
	if v == c.Version {
		return tip, true, nil
	}
	return nil, false, &ConflictError{Branch: old.Name().Short(), Commit: by.Hash.String(),
		Author: fmt.Sprintf("%s <%s>", by.Author.Name, by.Author.Email),
		Field:  aliasField(c.Model, c.Alias), Value: v, Want: c.Version}
}

// lastChange is the newest commit on tip's first-parent line, and not in
// base's history, that changed the alias's value; nil when there is none.
func lastChange(tip, base *object.Commit, sub, model, alias string) (*object.Commit, error) {
	stop := map[plumbing.Hash]bool{}
	if bases, err := tip.MergeBase(base); err == nil {
		for _, b := range bases {
			stop[b.Hash] = true
		}
	}
	c := tip
	for range maxBranchWalk {
		if stop[c.Hash] {
			return nil, nil
		}
		var p *object.Commit
		if c.NumParents() > 0 {
			var err error
			if p, err = c.Parent(0); err != nil {
				return nil, err
			}
		}
		if specChanged(c, p, sub) && specValue(c, sub, model, alias) != specValue(p, sub, model, alias) {
			if shared, err := c.IsAncestor(base); err != nil || shared {
				return nil, err
			}
			return c, nil
		}
		if p == nil {
			return nil, nil
		}
		c = p
	}
	return nil, fmt.Errorf("no common history with %.12s within %d commits", base.Hash, maxBranchWalk)
}

// specChanged reports whether the spec directory differs between c and
// its parent p (nil for a root commit).
func specChanged(c, p *object.Commit, sub string) bool {
	if p == nil {
		return true
	}
	return specTree(c, sub) != specTree(p, sub)
}

func specTree(c *object.Commit, sub string) plumbing.Hash {
	if sub == "." {
		return c.TreeHash
	}
	t, err := c.Tree()
	if err != nil {
		return plumbing.ZeroHash
	}
	e, err := t.FindEntry(sub)
	if err != nil {
		return plumbing.ZeroHash
	}
	return e.Hash
}

// specValue is the alias's value at c: 0 when undeclared (or c is nil),
// -1 when the files cannot be read, which counts as a change.
func specValue(c *object.Commit, sub, model, alias string) int {
	if c == nil {
		return 0
	}
	t, err := c.Tree()
	if err != nil {
		return -1
	}
	v, err := aliasValue(t, sub, model, alias)
	if err != nil {
		return -1
	}
	return v
}
