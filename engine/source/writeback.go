package source

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// errNoCommits is a write-back asked for against no commit.
var errNoCommits = errors.New("no base commit: the daemon has not applied a revision yet")

// The identity of write-back commits.
const (
	WriteBackName  = "sluice"
	WriteBackEmail = "sluice@localhost"
)

// WriteBack commits the alias moves Sluice makes outside git (a drift
// rollback, a retrain's promotion) to a branch of the tracked repository,
// as the CUE edit a person would have written, for review and merge: git
// stays the only writer of desired state. Like Flux's image automation
// with a push branch, the branch is created from the revision in force
// when missing and each proposal is one more commit on it. A local
// repository gets the branch directly; a remote one is pushed to (never
// forced). It is safe for concurrent use.
type WriteBack struct {
	// Repo is the repository, as Options.Repo; a remote one is read
	// through its cached clone in CacheDir (as Options.CacheDir) and
	// fetched first, within FetchTimeout (as Options.FetchTimeout).
	Repo         string
	CacheDir     string
	FetchTimeout time.Duration
	// Path is the directory inside the repository that holds the specs.
	Path string
	// Branch is the branch proposals are committed to.
	Branch string
	// Base returns the commit proposals are made against: the revision in
	// force, whose files say where the alias is declared.
	Base func(ctx context.Context) (string, error)
	// Now dates the commits; nil is time.Now.
	Now func() time.Time

	mu sync.Mutex
}

// AliasChange is one alias move to propose.
type AliasChange struct {
	// Base is the commit to propose against; "" asks WriteBack.Base.
	Base         string
	Model, Alias string
	Version      int
	// Action names what moved the alias ("rollback", "promote"); Why
	// gives the numbers that triggered it. Both go into the message.
	Action, Why string
}

// Proposal is what a write-back committed.
type Proposal struct {
	// Commit is the branch's new head; the branch's unchanged head when
	// it already proposed the move (Unchanged), or the base when the base
	// itself already declares it (then the branch is not touched).
	Commit    string
	Branch    string
	Base      string
	File      string // the edited file, repo-relative
	Line      int    // the edited line in it
	From      int    // the value the file held; 0 when the alias was added
	Created   bool   // the branch did not exist before
	Unchanged bool   // nothing was committed
}

// Check reports a branch name git would refuse.
func (w *WriteBack) Check() error {
	if err := plumbing.NewBranchReferenceName(w.Branch).Validate(); err != nil || w.Branch == "" {
		return fmt.Errorf("write-back branch %q is not a valid branch name", w.Branch)
	}
	return nil
}

// ProposeAlias proposes moving model's alias to version and returns the
// write-back commit. why starts with the action that moved it and a colon
// ("rollback: drift policy fraud-inputs: …"); without one the action is
// "promote".
func (w *WriteBack) ProposeAlias(ctx context.Context, model, alias string, version int, why string) (string, error) {
	action, rest := "promote", why
	if a, r, ok := strings.Cut(why, ": "); ok && isWord(a) {
		action, rest = a, r
	}
	p, err := w.Propose(ctx, AliasChange{Model: model, Alias: alias, Version: version, Action: action, Why: rest})
	if err != nil {
		return "", err
	}
	return p.Commit, nil
}

func isWord(s string) bool {
	for _, c := range s {
		if (c < 'a' || c > 'z') && c != '-' {
			return false
		}
	}
	return s != ""
}

// Propose commits c to the write-back branch. It refuses, with a
// *ConflictError, when a commit on the branch by someone other than
// Sluice set the alias to something else.
func (w *WriteBack) Propose(ctx context.Context, c AliasChange) (*Proposal, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.Check(); err != nil {
		return nil, err
	}
	ref := plumbing.NewBranchReferenceName(w.Branch)
	if c.Model == "" || c.Alias == "" || c.Version < 1 {
		return nil, fmt.Errorf("write back %s@%s v%d: a model, an alias and a version of at least 1 are needed", c.Model, c.Alias, c.Version)
	}
	sub, err := cleanPath(w.Path)
	if err != nil {
		return nil, err
	}
	if c.Base == "" && w.Base != nil {
		if c.Base, err = w.Base(ctx); err != nil {
			return nil, fmt.Errorf("write back to %s: find the revision in force: %w", w.Branch, err)
		}
	}
	if c.Base == "" {
		return nil, fmt.Errorf("write back to %s: %w", w.Branch, errNoCommits)
	}
	loc, err := locate(w.Repo)
	if err != nil {
		return nil, err
	}
	t := &writeTarget{loc: loc, ref: ref}
	if err := t.open(ctx, w); err != nil {
		return nil, fmt.Errorf("write back to %s of %s: %w", w.Branch, loc.display, err)
	}
	defer t.close()
	p, err := w.propose(ctx, t, sub, c)
	if err != nil {
		return nil, fmt.Errorf("write back %s to %s of %s: %w", aliasField(c.Model, c.Alias), w.Branch, loc.display, err)
	}
	return p, nil
}

// propose builds the commit on the branch's parent and publishes it.
func (w *WriteBack) propose(ctx context.Context, t *writeTarget, sub string, c AliasChange) (*Proposal, error) {
	_, base, err := resolve(t.repo, c.Base)
	if err != nil {
		return nil, fmt.Errorf("base %s: %w", c.Base, err)
	}
	old, err := t.repo.Storer.Reference(t.ref)
	if err != nil && !errors.Is(err, plumbing.ErrReferenceNotFound) {
		return nil, err
	}
	parent, unchanged, err := parentFor(t.repo, base, old, sub, c)
	if err != nil || unchanged {
		return w.unchanged(old, base, err)
	}
	ptree, err := parent.Tree()
	if err != nil {
		return nil, err
	}
	files, err := specFiles(ptree, sub)
	if err != nil {
		return nil, err
	}
	edits, from, err := aliasEdits(files, sub, c.Model, c.Alias, c.Version)
	if err != nil || len(edits) == 0 {
		// The parent already says so: the branch (or base) proposes it.
		if err == nil && parent.Hash != base.Hash {
			return w.unchanged(old, base, nil)
		}
		return w.unchanged(nil, base, err)
	}
	root := ptree.Hash
	for _, e := range edits {
		if err := checkEdit(e, c.Model, c.Alias, c.Version); err != nil {
			return nil, err
		}
		blob, err := writeBlob(t.repo.Storer, e.out)
		if err != nil {
			return nil, err
		}
		if root, err = replaceBlob(t.repo.Storer, root, e.name, blob); err != nil {
			return nil, fmt.Errorf("write %s: %w", e.name, err)
		}
	}
	p := &Proposal{Branch: w.Branch, Base: base.Hash.String(), File: edits[0].name, Line: edits[0].line, From: from, Created: old == nil}
	commit, err := w.commit(t, parent.Hash, root, message(c, p))
	if err != nil {
		return nil, err
	}
	if err := t.publish(ctx, w, commit, old); err != nil {
		return nil, err
	}
	p.Commit = commit.String()
	return p, nil
}

// unchanged is the proposal when nothing needs committing: head is the
// branch's head, or nil when the base itself already declares the move.
func (w *WriteBack) unchanged(head *plumbing.Reference, base *object.Commit, err error) (*Proposal, error) {
	if err != nil {
		return nil, err
	}
	p := &Proposal{Branch: w.Branch, Base: base.Hash.String(), Commit: base.Hash.String(), Unchanged: true}
	if head != nil {
		p.Commit = head.Hash().String()
	}
	return p, nil
}

// commit stores the write-back commit of tree on parent.
func (w *WriteBack) commit(t *writeTarget, parent, tree plumbing.Hash, msg string) (plumbing.Hash, error) {
	now := time.Now()
	if w.Now != nil {
		now = w.Now()
	}
	sig := object.Signature{Name: WriteBackName, Email: WriteBackEmail, When: now}
	c := &object.Commit{Author: sig, Committer: sig, Message: msg, TreeHash: tree, ParentHashes: []plumbing.Hash{parent}}
	obj := t.repo.Storer.NewEncodedObject()
	if err := c.Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return t.repo.Storer.SetEncodedObject(obj)
}

// message is the commit message: what moved, from what to what, why, and
// where the edit is, like the commit a person would write.
func message(c AliasChange, p *Proposal) string {
	from := "unset"
	if p.From != 0 {
		from = fmt.Sprintf("v%d", p.From)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "sluice %s: %s@%s %s → v%d\n\n", c.Action, c.Model, c.Alias, from, c.Version)
	if c.Why != "" {
		fmt.Fprintf(&b, "%s\n\n", strings.TrimSpace(c.Why))
	}
	fmt.Fprintf(&b, "%s in %s:%d\n", aliasField(c.Model, c.Alias), p.File, p.Line)
	fmt.Fprintf(&b, "Proposed against %.12s, the revision in force; merge it to make the move git's.\n", p.Base)
	return b.String()
}
