package source

import (
	"context"
	"fmt"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
)

// writeTarget is the repository a write-back commits into: the local
// repository itself, or the cached clone of a remote one.
type writeTarget struct {
	loc    location
	ref    plumbing.ReferenceName
	repo   *git.Repository
	unlock func()
}

// open fetches a remote repository's clone and holds its lock until close,
// so no fetch rewrites the branch between the commit and the push.
func (t *writeTarget) open(ctx context.Context, w *WriteBack) error {
	dir := t.loc.dir
	if t.loc.kind == remoteRepo {
		var err error
		dir, _, err = syncCache(ctx, t.loc, Options{CacheDir: w.CacheDir, FetchTimeout: w.FetchTimeout})
		if err != nil {
			return err
		}
		if t.unlock, err = lockFile(ctx, dir+".lock"); err != nil {
			return fmt.Errorf("lock cache: %w", err)
		}
	}
	repo, err := openRepo(dir, t.loc.kind == localRepo)
	if err != nil {
		t.close()
		return err
	}
	t.repo = repo
	if wt, ok := checkedOut(t.loc, t.ref); ok && t.loc.kind != remoteRepo {
		t.close()
		return fmt.Errorf("branch %s is checked out in %s; write back to a branch no work tree has checked out", t.ref.Short(), wt)
	}
	return nil
}

func (t *writeTarget) close() {
	if t.unlock != nil {
		t.unlock()
		t.unlock = nil
	}
}

// publish moves the branch to commit: in place for a local repository,
// only if it still points where it did (old, nil when missing); by a push
// that is refused unless it fast-forwards for a remote one.
func (t *writeTarget) publish(ctx context.Context, w *WriteBack, commit plumbing.Hash, old *plumbing.Reference) error {
	next := plumbing.NewHashReference(t.ref, commit)
	if err := t.repo.Storer.CheckAndSetReference(next, old); err != nil {
		return fmt.Errorf("update %s: %w", t.ref.Short(), err)
	}
	if t.loc.kind != remoteRepo {
		return nil
	}
	timeout := w.FetchTimeout
	if timeout <= 0 {
		timeout = DefaultFetchTimeout
	}
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, fmt.Errorf("push timed out after %s", timeout))
	defer cancel()
	remote := git.NewRemote(t.repo.Storer, &config.RemoteConfig{Name: "origin", URLs: []string{t.loc.url}})
	spec := config.RefSpec(t.ref.String() + ":" + t.ref.String())
	err := remote.PushContext(ctx, &git.PushOptions{RemoteName: "origin", RefSpecs: []config.RefSpec{spec}})
	if err == nil {
		return nil
	}
	// The clone mirrors the remote: put the branch back as it is there.
	if old != nil {
		_ = t.repo.Storer.SetReference(old)
	} else {
		_ = t.repo.Storer.RemoveReference(t.ref)
	}
	if cause := context.Cause(ctx); ctx.Err() != nil && cause != nil {
		err = fmt.Errorf("%w (%w)", err, cause)
	}
	return fmt.Errorf("push %s: %w", t.ref.Short(), err)
}
