package features

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"sluice/schema"
)

// Fingerprint is the hex SHA-256 of a data file's content: it moves exactly
// when the data does. path is relative to fsys's root (a repository
// revision), or absolute for a file under a configured data root.
func Fingerprint(fsys fs.FS, path string) (string, error) {
	f, err := openData(fsys, path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read data file %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// openData opens a source's data file: repository-relative paths in fsys,
// absolute ones (a data root the loader already confined) on the disk.
func openData(fsys fs.FS, name string) (fs.File, error) {
	var f fs.File
	var err error
	if filepath.IsAbs(name) {
		f, err = os.Open(name)
	} else {
		if fsys == nil {
			return nil, fmt.Errorf("open data file %s: no repository file system given", name)
		}
		f, err = fsys.Open(path.Clean(filepath.ToSlash(name)))
	}
	if err != nil {
		if pe := (*fs.PathError)(nil); errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("open data file %s: %w", name, err)
	}
	return f, nil
}

// sourceFormat is the source's declared format, or the one its file's
// extension implies.
func sourceFormat(src *schema.Source) (string, error) {
	switch f := strings.ToLower(src.Format); f {
	case "csv", "parquet":
		return f, nil
	case "":
		if strings.EqualFold(path.Ext(filepath.ToSlash(src.Path)), ".parquet") {
			return "parquet", nil
		}
		return "csv", nil
	default:
		return "", fmt.Errorf("source %s: unknown format %q (want csv or parquet)", src.Path, src.Format)
	}
}

// hashingReader hashes everything read through it, and remembers the hash
// and last byte of the first mark bytes: the part of the file a previous
// materialization read, which must be unchanged for an append-only read.
type hashingReader struct {
	r        io.Reader
	h        hash.Hash
	n        int64
	mark     int64
	markSum  []byte
	markLast byte
}

func newHashingReader(r io.Reader, mark int64) *hashingReader {
	h := &hashingReader{r: r, h: sha256.New(), mark: mark}
	if mark == 0 {
		h.markSum = h.h.Sum(nil)
	}
	return h
}

// Read reads from the file, hashing what it returns.
func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	b := p[:n]
	if h.markSum == nil && h.n+int64(n) >= h.mark {
		k := h.mark - h.n
		h.h.Write(b[:k])
		h.markSum = h.h.Sum(nil)
		if k > 0 {
			h.markLast = b[k-1]
		}
		b = b[k:]
		h.n += k
	}
	h.h.Write(b)
	h.n += int64(len(b))
	return n, err
}

// prefixIs reports whether the first mark bytes hashed to sum; false while
// fewer than mark bytes have been read.
func (h *hashingReader) prefixIs(sum string) bool {
	return h.markSum != nil && hex.EncodeToString(h.markSum) == sum
}

// sum is the hash of everything read so far.
func (h *hashingReader) sum() string { return hex.EncodeToString(h.h.Sum(nil)) }

// readAllAt gives parquet the io.ReaderAt it needs, reading the file into
// memory when the fs.File cannot seek, and hashes the content either way.
func readAllAt(f fs.File) (io.ReaderAt, int64, string, error) {
	if ra, ok := f.(io.ReaderAt); ok {
		if st, err := f.Stat(); err == nil {
			h := sha256.New()
			if _, err := io.Copy(h, io.NewSectionReader(ra, 0, st.Size())); err != nil {
				return nil, 0, "", err
			}
			return ra, st.Size(), hex.EncodeToString(h.Sum(nil)), nil
		}
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, 0, "", err
	}
	sum := sha256.Sum256(b)
	return bytes.NewReader(b), int64(len(b)), hex.EncodeToString(sum[:]), nil
}
