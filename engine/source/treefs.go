package source

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// ErrOutside is the error (inside an *fs.PathError) for a path that a
// symbolic link leads out of the repository. Such links are never followed.
var ErrOutside = errors.New("symbolic link leads outside the repository")

// maxLinks bounds the symbolic links followed for one path, as the
// kernel's ELOOP does.
const maxLinks = 40

// treeFS is a commit's tree as an fs.FS: fs.ReadFileFS, fs.ReadDirFS,
// fs.StatFS and fs.ReadLinkFS. go-git's object storage is not safe for
// concurrent use, so every read of it holds mu; what was decoded is kept.
type treeFS struct {
	mu      sync.Mutex
	objects storer.EncodedObjectStorer
	root    plumbing.Hash
	modTime time.Time
	trees   map[plumbing.Hash][]entry // sorted by name
	sizes   map[plumbing.Hash]int64
}

var (
	_ fs.ReadFileFS = (*treeFS)(nil)
	_ fs.ReadDirFS  = (*treeFS)(nil)
	_ fs.StatFS     = (*treeFS)(nil)
	_ fs.ReadLinkFS = (*treeFS)(nil)
)

// entry is one name in a tree.
type entry struct {
	name string
	mode filemode.FileMode
	hash plumbing.Hash
}

func (e entry) isDir() bool { return e.mode == filemode.Dir || e.mode == filemode.Submodule }

func newTreeFS(repo *git.Repository, c *object.Commit) (*treeFS, error) {
	return &treeFS{
		objects: repo.Storer,
		root:    c.TreeHash,
		modTime: c.Committer.When,
		trees:   make(map[plumbing.Hash][]entry),
		sizes:   make(map[plumbing.Hash]int64),
	}, nil
}

// Open opens the named file or directory, following symbolic links that
// stay inside the repository.
func (f *treeFS) Open(name string) (fs.File, error) {
	e, err := f.lookup("open", name, true)
	if err != nil {
		return nil, err
	}
	if e.isDir() {
		return &dirFile{fs: f, e: e}, nil
	}
	return &blobFile{fs: f, e: e}, nil
}

// ReadFile reads the named file's whole content into a new slice.
func (f *treeFS) ReadFile(name string) ([]byte, error) {
	e, err := f.lookup("read", name, true)
	if err != nil {
		return nil, err
	}
	if e.isDir() {
		return nil, &fs.PathError{Op: "read", Path: name, Err: syscall.EISDIR}
	}
	data, err := f.readBlob(e.hash)
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	return data, nil
}

// ReadDir lists the named directory, sorted by name.
func (f *treeFS) ReadDir(name string) ([]fs.DirEntry, error) {
	e, err := f.lookup("readdir", name, true)
	if err != nil {
		return nil, err
	}
	if !e.isDir() {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: syscall.ENOTDIR}
	}
	list, err := f.list(e)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	return list, nil
}

// Stat describes the named file, following symbolic links.
func (f *treeFS) Stat(name string) (fs.FileInfo, error) {
	e, err := f.lookup("stat", name, true)
	if err != nil {
		return nil, err
	}
	return f.info(e)
}

// Lstat describes the named file without following a final symbolic link.
func (f *treeFS) Lstat(name string) (fs.FileInfo, error) {
	e, err := f.lookup("lstat", name, false)
	if err != nil {
		return nil, err
	}
	return f.info(e)
}

// ReadLink returns the target of the named symbolic link, as stored.
func (f *treeFS) ReadLink(name string) (string, error) {
	e, err := f.lookup("readlink", name, false)
	if err != nil {
		return "", err
	}
	if e.mode != filemode.Symlink {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	target, err := f.readBlob(e.hash)
	if err != nil {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: err}
	}
	return string(target), nil
}

// lookup finds the entry at name. Symbolic links on the way are followed,
// and the last one too when follow is set, as long as they stay inside the
// repository. The entry carries the base name of name.
func (f *treeFS) lookup(op, name string, follow bool) (entry, error) {
	if !fs.ValidPath(name) {
		return entry{}, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	f.mu.Lock()
	e, err := f.walk(name, follow)
	f.mu.Unlock()
	if err != nil {
		return entry{}, &fs.PathError{Op: op, Path: name, Err: err}
	}
	e.name = path.Base(name)
	return e, nil
}

// walk resolves name component by component from the root; f.mu is held.
// A link's target is joined to the link's directory and cleaned, so the
// walk only ever visits clean paths from the root and cannot climb out.
func (f *treeFS) walk(name string, follow bool) (entry, error) {
	root := entry{name: ".", mode: filemode.Dir, hash: f.root}
	cur, dir, rest := root, []string(nil), split(name)
	for links := 0; len(rest) > 0; {
		if cur.mode == filemode.Submodule {
			return entry{}, fmt.Errorf("%w: %s is a submodule, whose files are not read", fs.ErrNotExist, strings.Join(dir, "/"))
		}
		if cur.mode != filemode.Dir {
			return entry{}, syscall.ENOTDIR
		}
		entries, err := f.tree(cur.hash)
		if err != nil {
			return entry{}, err
		}
		e, ok := find(entries, rest[0])
		if !ok {
			return entry{}, fs.ErrNotExist
		}
		rest = rest[1:]
		if e.mode != filemode.Symlink || (len(rest) == 0 && !follow) {
			cur, dir = e, append(dir, e.name)
			continue
		}
		if links++; links > maxLinks {
			return entry{}, syscall.ELOOP
		}
		target, err := f.blob(e.hash)
		if err != nil {
			return entry{}, err
		}
		joined := path.Join(strings.Join(dir, "/"), string(target))
		if path.IsAbs(string(target)) || joined == ".." || strings.HasPrefix(joined, "../") {
			return entry{}, ErrOutside
		}
		cur, dir, rest = root, nil, append(split(joined), rest...)
	}
	return cur, nil
}

// split breaks a clean path into its names; "." and "" have none.
func split(p string) []string {
	if p == "." || p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

func find(entries []entry, name string) (entry, bool) {
	i := sort.Search(len(entries), func(i int) bool { return entries[i].name >= name })
	if i < len(entries) && entries[i].name == name {
		return entries[i], true
	}
	return entry{}, false
}

// tree decodes the tree h, sorted by name (git sorts directories as if
// their names ended in "/"); f.mu is held.
func (f *treeFS) tree(h plumbing.Hash) ([]entry, error) {
	if entries, ok := f.trees[h]; ok {
		return entries, nil
	}
	t, err := object.GetTree(f.objects, h)
	if err != nil {
		return nil, fmt.Errorf("read tree %s: %w", h, err)
	}
	entries := make([]entry, len(t.Entries))
	for i, te := range t.Entries {
		entries[i] = entry{name: te.Name, mode: te.Mode, hash: te.Hash}
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	f.trees[h] = entries
	return entries, nil
}

// readBlob reads a whole blob under f.mu.
func (f *treeFS) readBlob(h plumbing.Hash) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.blob(h)
}

// blob reads a whole blob into a new slice; f.mu is held.
func (f *treeFS) blob(h plumbing.Hash) ([]byte, error) {
	obj, err := f.objects.EncodedObject(plumbing.BlobObject, h)
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", h, err)
	}
	r, err := obj.Reader()
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", h, err)
	}
	defer r.Close()
	data := make([]byte, obj.Size())
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, fmt.Errorf("read blob %s: %w", h, err)
	}
	return data, nil
}

// size is a blob's length, read from the object header when the storage
// can (packed and loose objects both can), without inflating the blob.
func (f *treeFS) size(h plumbing.Hash) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n, ok := f.sizes[h]; ok {
		return n, nil
	}
	var n int64
	if sizer, ok := f.objects.(interface {
		EncodedObjectSize(plumbing.Hash) (int64, error)
	}); ok {
		s, err := sizer.EncodedObjectSize(h)
		if err != nil {
			return 0, fmt.Errorf("read blob %s: %w", h, err)
		}
		n = s
	} else {
		obj, err := f.objects.EncodedObject(plumbing.BlobObject, h)
		if err != nil {
			return 0, fmt.Errorf("read blob %s: %w", h, err)
		}
		n = obj.Size()
	}
	f.sizes[h] = n
	return n, nil
}
