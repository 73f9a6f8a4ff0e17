package source

import (
	"bytes"
	"io"
	"io/fs"
	"sync"
	"syscall"
	"time"

	"github.com/go-git/go-git/v5/plumbing/filemode"
)

// fileInfo describes a tree entry; it is both an fs.FileInfo and an
// fs.DirEntry. Every entry's modification time is the commit's time.
type fileInfo struct {
	name    string
	mode    fs.FileMode
	size    int64
	modTime time.Time
}

func (i *fileInfo) Name() string               { return i.name }
func (i *fileInfo) Size() int64                { return i.size }
func (i *fileInfo) Mode() fs.FileMode          { return i.mode }
func (i *fileInfo) ModTime() time.Time         { return i.modTime }
func (i *fileInfo) IsDir() bool                { return i.mode.IsDir() }
func (i *fileInfo) Sys() any                   { return nil }
func (i *fileInfo) String() string             { return fs.FormatFileInfo(i) }
func (i *fileInfo) Type() fs.FileMode          { return i.mode.Type() }
func (i *fileInfo) Info() (fs.FileInfo, error) { return i, nil }

// fsMode maps git's few file modes to fs modes. A submodule shows as an
// empty directory: its files belong to another repository.
func fsMode(m filemode.FileMode) fs.FileMode {
	switch m {
	case filemode.Dir, filemode.Submodule:
		return fs.ModeDir | 0o755
	case filemode.Symlink:
		return fs.ModeSymlink | 0o777
	case filemode.Executable:
		return 0o755
	}
	return 0o644
}

// info describes e; a blob's size (a link's: its target's length) is read
// from the object store, directories have size 0.
func (f *treeFS) info(e entry) (*fileInfo, error) {
	i := &fileInfo{name: e.name, mode: fsMode(e.mode), modTime: f.modTime}
	if e.isDir() {
		return i, nil
	}
	n, err := f.size(e.hash)
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: e.name, Err: err}
	}
	i.size = n
	return i, nil
}

// list is the directory e's entries, sorted by name. A submodule has none.
func (f *treeFS) list(e entry) ([]fs.DirEntry, error) {
	if e.mode == filemode.Submodule {
		return []fs.DirEntry{}, nil
	}
	f.mu.Lock()
	entries, err := f.tree(e.hash)
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	list := make([]fs.DirEntry, len(entries))
	for i, c := range entries {
		list[i] = &dirEntry{fs: f, e: c}
	}
	return list, nil
}

// dirEntry reads a blob's size only when Info is called, so listing a
// directory decodes one tree and nothing else.
type dirEntry struct {
	fs *treeFS
	e  entry
}

func (d *dirEntry) Name() string               { return d.e.name }
func (d *dirEntry) IsDir() bool                { return d.e.isDir() }
func (d *dirEntry) Type() fs.FileMode          { return fsMode(d.e.mode).Type() }
func (d *dirEntry) Info() (fs.FileInfo, error) { return d.fs.info(d.e) }
func (d *dirEntry) String() string             { return fs.FormatDirEntry(d) }

// dirFile is an open directory.
type dirFile struct {
	fs      *treeFS
	e       entry
	entries []fs.DirEntry // nil until the first ReadDir
	offset  int
	closed  bool
}

func (d *dirFile) Stat() (fs.FileInfo, error) { return d.fs.info(d.e) }

func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.e.name, Err: syscall.EISDIR}
}

func (d *dirFile) Close() error {
	if d.closed {
		return &fs.PathError{Op: "close", Path: d.e.name, Err: fs.ErrClosed}
	}
	d.closed = true
	return nil
}

// ReadDir returns the next n entries (all that remain if n <= 0), as
// fs.ReadDirFile specifies.
func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	if d.closed {
		return nil, &fs.PathError{Op: "readdir", Path: d.e.name, Err: fs.ErrClosed}
	}
	if d.entries == nil {
		list, err := d.fs.list(d.e)
		if err != nil {
			return nil, &fs.PathError{Op: "readdir", Path: d.e.name, Err: err}
		}
		d.entries = list
	}
	rest := d.entries[d.offset:]
	if n > 0 && len(rest) == 0 {
		return nil, io.EOF
	}
	if n > 0 && n < len(rest) {
		rest = rest[:n]
	}
	d.offset += len(rest)
	return rest, nil
}

// blobFile is an open file. Its content is read on first use and served
// from memory, which also gives io.ReaderAt and io.Seeker (Parquet readers
// need both).
type blobFile struct {
	fs     *treeFS
	e      entry
	once   sync.Once
	r      *bytes.Reader
	err    error
	closed bool
}

var (
	_ io.ReaderAt = (*blobFile)(nil)
	_ io.Seeker   = (*blobFile)(nil)
)

func (b *blobFile) Stat() (fs.FileInfo, error) { return b.fs.info(b.e) }

func (b *blobFile) reader(op string) (*bytes.Reader, error) {
	if b.closed {
		return nil, &fs.PathError{Op: op, Path: b.e.name, Err: fs.ErrClosed}
	}
	b.once.Do(func() {
		data, err := b.fs.readBlob(b.e.hash)
		b.r, b.err = bytes.NewReader(data), err
	})
	if b.err != nil {
		return nil, &fs.PathError{Op: op, Path: b.e.name, Err: b.err}
	}
	return b.r, nil
}

func (b *blobFile) Read(p []byte) (int, error) {
	r, err := b.reader("read")
	if err != nil {
		return 0, err
	}
	return r.Read(p)
}

func (b *blobFile) ReadAt(p []byte, off int64) (int, error) {
	r, err := b.reader("read")
	if err != nil {
		return 0, err
	}
	return r.ReadAt(p, off)
}

func (b *blobFile) Seek(offset int64, whence int) (int64, error) {
	r, err := b.reader("seek")
	if err != nil {
		return 0, err
	}
	return r.Seek(offset, whence)
}

func (b *blobFile) Close() error {
	if b.closed {
		return &fs.PathError{Op: "close", Path: b.e.name, Err: fs.ErrClosed}
	}
	b.closed, b.r = true, nil
	return nil
}
