package source

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
)

// worktreeFS is a work tree as it is on disk, through an os.Root so that
// no symbolic link leads out of it, with the .git directory hidden: what a
// commit of every change would hold, plus untracked and ignored files.
type worktreeFS struct {
	fsys rootFS
}

var (
	_ fs.ReadFileFS = worktreeFS{}
	_ fs.ReadDirFS  = worktreeFS{}
	_ fs.StatFS     = worktreeFS{}
	_ fs.ReadLinkFS = worktreeFS{}
)

// rootFS is what os.Root.FS returns.
type rootFS interface {
	fs.ReadFileFS
	fs.ReadDirFS
	fs.StatFS
	fs.ReadLinkFS
}

func newWorktreeFS(dir string) (worktreeFS, error) {
	// The root's descriptor is closed when it is garbage collected, so a
	// Revision needs no Close.
	root, err := os.OpenRoot(dir)
	if err != nil {
		return worktreeFS{}, fmt.Errorf("open work tree: %w", err)
	}
	fsys, ok := root.FS().(rootFS)
	if !ok {
		return worktreeFS{}, errors.New("open work tree: os.Root.FS lacks ReadFile, ReadDir, Stat or ReadLink")
	}
	return worktreeFS{fsys: fsys}, nil
}

// Open opens the named file or directory of the work tree.
func (w worktreeFS) Open(name string) (fs.File, error) {
	if err := hidden("open", name); err != nil {
		return nil, err
	}
	f, err := w.fsys.Open(name)
	if err != nil {
		return nil, outside(err)
	}
	if d, ok := f.(fs.ReadDirFile); ok && name == "." {
		return rootDir{d}, nil
	}
	return f, nil
}

// ReadFile reads the named file.
func (w worktreeFS) ReadFile(name string) ([]byte, error) {
	if err := hidden("read", name); err != nil {
		return nil, err
	}
	data, err := w.fsys.ReadFile(name)
	return data, outside(err)
}

// ReadDir lists the named directory, sorted by name, without .git.
func (w worktreeFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if err := hidden("readdir", name); err != nil {
		return nil, err
	}
	list, err := w.fsys.ReadDir(name)
	if name == "." {
		list = withoutGit(list)
	}
	return list, outside(err)
}

// Stat describes the named file, following symbolic links.
func (w worktreeFS) Stat(name string) (fs.FileInfo, error) {
	if err := hidden("stat", name); err != nil {
		return nil, err
	}
	info, err := w.fsys.Stat(name)
	return info, outside(err)
}

// Lstat describes the named file without following a final link.
func (w worktreeFS) Lstat(name string) (fs.FileInfo, error) {
	if err := hidden("lstat", name); err != nil {
		return nil, err
	}
	info, err := w.fsys.Lstat(name)
	return info, outside(err)
}

// ReadLink returns the target of the named symbolic link.
func (w worktreeFS) ReadLink(name string) (string, error) {
	if err := hidden("readlink", name); err != nil {
		return "", err
	}
	target, err := w.fsys.ReadLink(name)
	return target, outside(err)
}

// hidden refuses .git and what is below it: git's own files are not part
// of any revision.
func hidden(op, name string) error {
	if name == ".git" || strings.HasPrefix(name, ".git/") {
		return &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
	}
	return nil
}

func withoutGit(list []fs.DirEntry) []fs.DirEntry {
	return slices.DeleteFunc(list, func(d fs.DirEntry) bool { return d.Name() == ".git" })
}

// outside turns os.Root's refusal of a link that leaves the root into
// ErrOutside, the error the commit's tree gives. os does not export its
// error, so it is recognised by its text; a test pins it.
func outside(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Err != nil && pe.Err.Error() == "path escapes from parent" {
		return &fs.PathError{Op: pe.Op, Path: pe.Path, Err: ErrOutside}
	}
	return err
}

// rootDir is the work tree's root directory, listed without .git.
type rootDir struct {
	fs.ReadDirFile
}

// ReadDir returns the next n entries, skipping .git.
func (d rootDir) ReadDir(n int) ([]fs.DirEntry, error) {
	for {
		list, err := d.ReadDirFile.ReadDir(n)
		filtered := withoutGit(list)
		// Had .git been the only entry of a batch, an empty batch without
		// an error would look like the end to the caller: read on.
		if n > 0 && len(filtered) == 0 && len(list) > 0 && err == nil {
			continue
		}
		return filtered, err
	}
}
