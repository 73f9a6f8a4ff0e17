// Package source reads one revision of a git repository as an fs.FS
// without touching any work tree: the commit's tree is read from git's
// object store (go-git), so uncommitted edits, checkouts in progress and
// untracked files do not leak into a plan. Local repositories are read in
// place; remote ones are cloned bare into a cache and fetched on each Open.
package source

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// Options say which repository, revision and sub-path to read.
type Options struct {
	// Repo is a directory inside a repository's work tree (the repository
	// is found by looking for .git upward), a path to a bare repository
	// (read in place, nothing cached), or a remote URL: https://, http://,
	// ssh://, git@host:path or file://. Credentials in an http(s) URL are
	// used but never shown or written to the cache; ssh uses the agent.
	// file:// URLs are fetched by running git-upload-pack, as git does.
	Repo string
	// Rev is a branch, tag, full or short commit hash, or any revision
	// go-git resolves ("HEAD~1", "origin/main"). Empty means HEAD: the
	// checked-out branch of a local repository, the default branch of a
	// remote one.
	Rev string
	// Path is the directory that holds the specs, relative to the
	// repository root (not to Repo). It must be a directory at the revision
	// and stay inside the repository. Empty means the root.
	Path string
	// Worktree reads the work tree as it is, uncommitted edits and
	// untracked files included, instead of HEAD's commit. Local
	// repositories with a work tree only; Rev must be empty or "HEAD".
	Worktree bool
	// CacheDir holds the bare clones of remote repositories, one directory
	// per URL. Empty means the user cache directory's sluice/repos.
	CacheDir string
	// Offline reads a remote repository's cached clone without fetching.
	Offline bool
	// CacheFallback reads a remote repository's cached clone when the fetch
	// fails, recording the failure in Revision.FetchErr. Without it a failed
	// fetch fails Open.
	CacheFallback bool
	// FetchTimeout bounds a clone or fetch of a remote repository, so a
	// server that accepts and never answers cannot hold the caller; 0 is
	// DefaultFetchTimeout.
	FetchTimeout time.Duration
	// Verify, when set, refuses a commit not signed by a key of its
	// keyring with an *UnverifiedError, before any file is read.
	Verify *Verify
}

// DefaultFetchTimeout is how long a clone or fetch may take by default.
const DefaultFetchTimeout = 2 * time.Minute

// Revision is one resolved revision of a repository and its files.
type Revision struct {
	// Repo is the repository read: the work tree root of a local
	// repository, the bare repository's path, or a remote URL with any
	// credentials removed.
	Repo string
	// Commit is the full hex hash of the commit.
	Commit string
	// Ref is what Rev resolved through: the full reference name when Rev
	// named a reference ("refs/heads/main", "refs/tags/v1"), otherwise Rev
	// as given (a hash, "HEAD~1"). Detached HEAD gives "HEAD".
	Ref string
	// Path is Options.Path cleaned: slash-separated, "." for the root.
	Path string
	// Time is the commit's committer date.
	Time time.Time
	// Author is the commit's author as "Name <email>".
	Author string
	// Message is the commit message without trailing newlines.
	Message string
	// Dirty is set when FS is the work tree (Options.Worktree), which may
	// differ from Commit.
	Dirty bool
	// FetchErr is the failed fetch when a remote repository was read from
	// its cache under Options.CacheFallback; nil otherwise.
	FetchErr error
	// FS holds the repository's files at the revision, rooted at the
	// repository root (Path is inside it). It implements fs.ReadFileFS,
	// fs.ReadDirFS, fs.StatFS and fs.ReadLinkFS, is safe for concurrent
	// use, and never follows a symbolic link out of the repository.
	FS fs.FS
}

// ID names the revision's content: the commit hash, with "+worktree" when
// FS is the work tree.
func (r *Revision) ID() string {
	if r.Dirty {
		return r.Commit + "+worktree"
	}
	return r.Commit
}

// Short is the commit hash cut to 12 characters, for display.
func (r *Revision) Short() string {
	if len(r.Commit) > 12 {
		return r.Commit[:12]
	}
	return r.Commit
}

// at describes the revision in errors: "a1b2c3d4e5f6 (refs/heads/main)".
func (r *Revision) at() string {
	if r.Ref == "" || strings.HasPrefix(r.Commit, r.Ref) {
		return r.Short()
	}
	return fmt.Sprintf("%s (%s)", r.Short(), r.Ref)
}

// Open resolves opts to a revision and returns its files. A remote
// repository is fetched first unless opts.Offline.
func Open(ctx context.Context, opts Options) (*Revision, error) {
	sub, err := cleanPath(opts.Path)
	if err != nil {
		return nil, err
	}
	loc, err := locate(opts.Repo)
	if err != nil {
		return nil, err
	}
	if opts.Worktree {
		if loc.kind != localRepo {
			return nil, fmt.Errorf("open %s: worktree needs a local repository with a work tree", loc.display)
		}
		if opts.Rev != "" && opts.Rev != "HEAD" {
			return nil, fmt.Errorf("open %s: worktree reads the checked-out HEAD; it cannot be combined with revision %q", loc.display, opts.Rev)
		}
	}
	var fetchErr error
	gitDir := loc.dir
	if loc.kind == remoteRepo {
		gitDir, fetchErr, err = syncCache(ctx, loc, opts)
		if err != nil {
			return nil, err
		}
	}
	repo, err := openRepo(gitDir, loc.kind == localRepo)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", loc.display, err)
	}
	rev, commit, err := resolve(repo, opts.Rev)
	if err != nil {
		return nil, fmt.Errorf("resolve revision %q in %s: %w", revName(opts.Rev), loc.display, err)
	}
	if opts.Verify != nil {
		if err := verify(repo, commit, rev, opts.Verify); err != nil {
			return nil, fmt.Errorf("verify %s in %s: %w", revName(opts.Rev), loc.display, err)
		}
	}
	r := describe(commit)
	r.Repo, r.Ref, r.Path, r.FetchErr = loc.display, rev, sub, fetchErr
	if opts.Worktree {
		r.Dirty = true
		r.FS, err = newWorktreeFS(loc.dir)
	} else {
		r.FS, err = newTreeFS(repo, commit)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s at %s: %w", loc.display, r.at(), err)
	}
	if err := checkPath(r); err != nil {
		return nil, err
	}
	return r, nil
}

// largeObject is the blob size above which go-git streams an object from
// disk instead of first copying it into a growing buffer: reading a 100 MB
// blob then allocates about 100 MB, not 700.
const largeObject = 1 << 20

func openRepo(dir string, worktree bool) (*git.Repository, error) {
	// EnableDotGitCommonDir reads linked work trees (git worktree add).
	repo, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{EnableDotGitCommonDir: worktree})
	if err != nil {
		return nil, err
	}
	// PlainOpen found the git directory (.git, a .git file, a common
	// dir); reopen that storage with the streaming threshold set.
	s, ok := repo.Storer.(*filesystem.Storage)
	if !ok {
		return repo, nil
	}
	opts := filesystem.Options{LargeObjectThreshold: largeObject}
	return git.Open(filesystem.NewStorageWithOptions(s.Filesystem(), cache.NewObjectLRUDefault(), opts), nil)
}

func describe(c *object.Commit) *Revision {
	return &Revision{
		Commit:  c.Hash.String(),
		Time:    c.Committer.When,
		Author:  fmt.Sprintf("%s <%s>", c.Author.Name, c.Author.Email),
		Message: strings.TrimRight(c.Message, "\n"),
	}
}

// checkPath reports a sub-path that is missing at the revision or that a
// symbolic link leads out of the repository.
func checkPath(r *Revision) error {
	if r.Path == "." {
		return nil
	}
	info, err := fs.Stat(r.FS, r.Path)
	switch {
	case err == nil && !info.IsDir():
		return fmt.Errorf("path %q is not a directory at %s", r.Path, r.at())
	case err == nil:
		return nil
	case errors.Is(err, ErrOutside):
		return fmt.Errorf("path %q leads outside the repository through a symbolic link at %s", r.Path, r.at())
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("path %q does not exist at %s", r.Path, r.at())
	}
	return fmt.Errorf("path %q at %s: %w", r.Path, r.at(), err)
}

func revName(rev string) string {
	if rev == "" {
		return "HEAD"
	}
	return rev
}
