package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
)

// refSpecs mirror the remote's branches and tags as the cache's own, so
// revisions resolve in the cache as they would in the remote ("main",
// "v1"); other refs (pull requests, notes) are not fetched.
func refSpecs() []config.RefSpec {
	return []config.RefSpec{"+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"}
}

// syncCache brings the cached bare clone of a remote repository up to date
// and returns its directory. fetchErr is a failed fetch that
// opts.CacheFallback chose to read the cache past.
func syncCache(ctx context.Context, loc location, opts Options) (dir string, fetchErr, err error) {
	base := opts.CacheDir
	if base == "" {
		userCache, err := os.UserCacheDir()
		if err != nil {
			return "", nil, fmt.Errorf("open %s: no cache directory for its clone: %w", loc.display, err)
		}
		base = filepath.Join(userCache, "sluice", "repos")
	}
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", nil, fmt.Errorf("open %s: make cache directory: %w", loc.display, err)
	}
	sum := sha256.Sum256([]byte(loc.display))
	dir = filepath.Join(base, hex.EncodeToString(sum[:]))
	// Another process (a daemon and a CLI) may sync the same clone.
	unlock, err := lockFile(ctx, dir+".lock")
	if err != nil {
		return "", nil, fmt.Errorf("open %s: lock cache: %w", loc.display, err)
	}
	defer unlock()

	cached := isBare(dir)
	if !opts.Offline {
		timeout := opts.FetchTimeout
		if timeout <= 0 {
			timeout = DefaultFetchTimeout
		}
		parent := ctx
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, timeout, fmt.Errorf("timed out after %s: the server did not answer", timeout))
		defer cancel()
		// A transfer cut by the timeout may report only "context deadline
		// exceeded"; say why it was cut, once.
		defer func() {
			if ctx.Err() == nil || parent.Err() != nil {
				return
			}
			why := context.Cause(ctx)
			if fetchErr != nil && !strings.Contains(fetchErr.Error(), why.Error()) {
				fetchErr = fmt.Errorf("%w (%w)", fetchErr, why)
			}
			if err != nil && !strings.Contains(err.Error(), why.Error()) {
				err = fmt.Errorf("%w (%w)", err, why)
			}
		}()
	}
	switch {
	case opts.Offline && !cached:
		return "", nil, fmt.Errorf("open %s offline: no cached clone in %s", loc.display, dir)
	case opts.Offline:
		return dir, nil, nil
	case !cached:
		if err := clone(ctx, loc, dir); err != nil {
			return "", nil, fmt.Errorf("clone %s: %w", loc.display, err)
		}
		return dir, nil, nil
	}
	if err := fetch(ctx, loc, dir); err != nil {
		err = fmt.Errorf("fetch %s: %w", loc.display, err)
		if opts.CacheFallback {
			return dir, err, nil
		}
		return "", nil, err
	}
	return dir, nil, nil
}

// clone makes the cache's bare clone in a temporary directory beside dir
// and renames it into place, so an interrupted clone leaves nothing that
// looks usable.
func clone(ctx context.Context, loc location, dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), filepath.Base(dir)+".tmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	repo, err := git.PlainInit(tmp, true)
	if err != nil {
		return err
	}
	// Recorded for people who look into the cache; fetches use loc.url,
	// which may carry credentials that must not be written to disk.
	_, err = repo.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{loc.display}, Fetch: refSpecs()})
	if err != nil {
		return err
	}
	if err := update(ctx, repo, loc); err != nil {
		return err
	}
	return os.Rename(tmp, dir)
}

func fetch(ctx context.Context, loc location, dir string) error {
	repo, err := git.PlainOpen(dir)
	if err != nil {
		return fmt.Errorf("open cached clone %s: %w", dir, err)
	}
	return update(ctx, repo, loc)
}

// update fetches branches and tags (deleted ones are pruned, rewritten ones
// forced) and points HEAD at the remote's default branch.
func update(ctx context.Context, repo *git.Repository, loc location) error {
	remote := git.NewRemote(repo.Storer, &config.RemoteConfig{Name: "origin", URLs: []string{loc.url}, Fetch: refSpecs()})
	refs, err := remote.ListContext(ctx, &git.ListOptions{})
	if err != nil {
		return err
	}
	err = remote.FetchContext(ctx, &git.FetchOptions{RefSpecs: refSpecs(), Tags: git.NoTags, Prune: true})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return err
	}
	head := remoteHead(refs)
	if head == nil {
		return nil
	}
	return repo.Storer.SetReference(head)
}

// remoteHead is the HEAD to give the cache: a link to the branch the
// remote's HEAD names, or, when the server does not say (no symref
// capability), to a branch at the same commit, main and master first.
func remoteHead(refs []*plumbing.Reference) *plumbing.Reference {
	var head *plumbing.Reference
	var branches []*plumbing.Reference
	for _, r := range refs {
		switch {
		case r.Name() == plumbing.HEAD:
			head = r
		case r.Name().IsBranch():
			branches = append(branches, r)
		}
	}
	if head == nil {
		return nil
	}
	if head.Type() == plumbing.SymbolicReference {
		return head
	}
	rank := func(n plumbing.ReferenceName) int {
		switch n {
		case plumbing.Main:
			return 0
		case plumbing.Master:
			return 1
		}
		return 2
	}
	sort.Slice(branches, func(i, j int) bool {
		ri, rj := rank(branches[i].Name()), rank(branches[j].Name())
		return ri < rj || ri == rj && branches[i].Name() < branches[j].Name()
	})
	for _, b := range branches {
		if b.Hash() == head.Hash() {
			return plumbing.NewSymbolicReference(plumbing.HEAD, b.Name())
		}
	}
	return head // detached on the remote too
}
