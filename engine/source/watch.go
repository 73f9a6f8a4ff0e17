package source

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/go-git/go-git/v5/plumbing"
)

// debounce is how long a watcher waits after the last change of a ref
// file before it looks: git rewrites HEAD, a loose ref and packed-refs in
// quick succession during one commit, pull or gc.
const debounce = 100 * time.Millisecond

// Watcher follows one branch of a repository on this machine (a work tree
// or a bare repository) through fsnotify on git's ref files: the branch's
// loose ref, packed-refs and HEAD.
type Watcher struct {
	open     string // what openRepo opens
	worktree bool   // open has a work tree
	gitDir   string // holds HEAD
	common   string // holds refs/ and packed-refs (differs in linked work trees)
	branch   plumbing.ReferenceName
	fsw      *fsnotify.Watcher
	last     string // the ref's name and hash when last looked at
}

// Watch calls fn each time branch of the repository at repoDir moves to
// another commit ("" follows HEAD: a commit, or a checkout of another
// branch), until ctx is done. See NewWatcher and Watcher.Run.
func Watch(ctx context.Context, repoDir, branch string, fn func()) error {
	w, err := NewWatcher(repoDir, branch)
	if err != nil {
		return err
	}
	return w.Run(ctx, fn)
}

// NewWatcher starts watching branch ("main", "refs/heads/main"; "" for
// HEAD) of the repository at repoDir, which must be on this machine;
// remote repositories are polled instead. Changes from the moment it
// returns are reported by Run.
func NewWatcher(repoDir, branch string) (*Watcher, error) {
	loc, err := locate(repoDir)
	if err != nil {
		return nil, err
	}
	if loc.kind == remoteRepo {
		return nil, fmt.Errorf("watch %s: a remote repository cannot be watched; poll it", loc.display)
	}
	w := &Watcher{open: loc.dir, worktree: loc.kind == localRepo, gitDir: loc.dir, common: loc.dir}
	if loc.kind == localRepo {
		if w.gitDir, w.common, err = gitDirs(loc.dir); err != nil {
			return nil, fmt.Errorf("watch %s: %w", loc.display, err)
		}
	}
	if branch != "" {
		w.branch = plumbing.ReferenceName(branch)
		if !strings.HasPrefix(branch, "refs/") {
			w.branch = plumbing.NewBranchReferenceName(branch)
		}
	}
	if w.fsw, err = fsnotify.NewWatcher(); err != nil {
		return nil, fmt.Errorf("watch %s: %w", loc.display, err)
	}
	// Watch first, then read, so that no move in between goes unseen.
	if err := w.fsw.Add(w.gitDir); err != nil {
		w.fsw.Close()
		return nil, fmt.Errorf("watch %s: %w", loc.display, err)
	}
	w.last = w.look()
	return w, nil
}

// Run calls fn, from Run's goroutine, each time the branch has moved
// since the last call (or since NewWatcher), once the ref files have been
// quiet for a moment. It returns nil when ctx is done, and closes the
// watcher.
func (w *Watcher) Run(ctx context.Context, fn func()) error {
	defer w.fsw.Close()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.fsw.Events:
			if !ok {
				return nil
			}
			if w.relevant(ev.Name) {
				timer.Reset(debounce)
			}
		case _, ok := <-w.fsw.Errors:
			if !ok {
				return nil
			}
			// An overflowed queue may have dropped a ref's event: look.
			timer.Reset(debounce)
		case <-timer.C:
			if now := w.look(); now != w.last {
				w.last = now
				fn()
			}
		}
	}
}

// look reads the branch's current name and commit, and makes sure the
// directories its files live in are watched (a new nested branch
// directory, or a checkout that moved HEAD to another branch).
func (w *Watcher) look() string {
	repo, err := openRepo(w.open, w.worktree)
	if err != nil {
		w.watchDirs(w.branch)
		return "unreadable: " + err.Error()
	}
	name := w.branch
	if name == "" {
		name = plumbing.HEAD
		if head, err := repo.Storer.Reference(plumbing.HEAD); err == nil && head.Type() == plumbing.SymbolicReference {
			name = head.Target()
		}
	}
	// Watch before reading, as in NewWatcher.
	w.watchDirs(name)
	ref, err := repo.Reference(name, true)
	if err != nil {
		return name.String() + " missing"
	}
	return name.String() + " " + ref.Hash().String()
}

// watchDirs watches the git directory (HEAD), the common directory
// (packed-refs) and every existing directory from refs/ down to the
// loose ref's own. Adding a watched directory again is harmless, and
// missing ones are skipped: their parents' events bring them in later.
func (w *Watcher) watchDirs(ref plumbing.ReferenceName) {
	dirs := []string{w.gitDir, w.common}
	if strings.HasPrefix(ref.String(), "refs/") {
		dir := w.common
		parts := strings.Split(ref.String(), "/")
		for _, p := range parts[:len(parts)-1] {
			dir = filepath.Join(dir, p)
			dirs = append(dirs, dir)
		}
	}
	for _, d := range dirs {
		_ = w.fsw.Add(d) // a missing directory is not an error here
	}
}

// relevant says whether a file event may concern the branch: HEAD,
// packed-refs, or anything under refs/. The lock files git writes first
// are skipped; the rename that ends each update is what counts.
func (w *Watcher) relevant(name string) bool {
	if strings.HasSuffix(name, ".lock") {
		return false
	}
	return name == filepath.Join(w.gitDir, "HEAD") ||
		name == filepath.Join(w.common, "packed-refs") ||
		strings.HasPrefix(name, filepath.Join(w.common, "refs")+string(filepath.Separator))
}

// gitDirs finds the git directory of the work tree at root (.git, or
// where a .git file points) and its common directory, which linked work
// trees share with the main one.
func gitDirs(root string) (gitDir, common string, err error) {
	gitDir = filepath.Join(root, ".git")
	info, err := os.Stat(gitDir)
	if err != nil {
		return "", "", err
	}
	if !info.IsDir() {
		data, err := os.ReadFile(gitDir)
		if err != nil {
			return "", "", err
		}
		target, ok := strings.CutPrefix(strings.TrimSpace(string(data)), "gitdir:")
		if !ok {
			return "", "", fmt.Errorf("%s: not a gitdir file", gitDir)
		}
		gitDir = resolveFrom(root, strings.TrimSpace(target))
	}
	common = gitDir
	if data, err := os.ReadFile(filepath.Join(gitDir, "commondir")); err == nil {
		common = resolveFrom(gitDir, strings.TrimSpace(string(data)))
	}
	return gitDir, common, nil
}

func resolveFrom(base, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(base, p)
}
