package source

import (
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"

	"cuelang.org/go/cue/ast"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// fileEdit is one CUE file of a commit with the alias set in it.
type fileEdit struct {
	name     string // repo-relative, slash-separated
	line     int    // of the edited literal or the added field
	src, out []byte
}

// aliasEdits sets models.<model>.aliases.<alias> to version in the CUE
// files of the spec directory sub, changing only the literal (or, when the
// alias is not declared yet, adding one field). from is the value the
// literal held, 0 when the alias was added; no edits means the files
// already say version.
func aliasEdits(files []specFile, sub, model, alias string, version int) (edits []fileEdit, from int, err error) {
	var home *fileEdit // where a missing alias is added
	var homeDecl *aliasDecl
	for _, f := range files {
		d, err := findAlias(f.name, f.src, model, alias)
		if err != nil {
			return nil, 0, err
		}
		if d.notLiteral != nil {
			return nil, 0, fmt.Errorf("%s:%d: %s is an expression, not a number; only a literal can be written back",
				f.name, d.notLiteral.Pos().Line(), aliasField(model, alias))
		}
		if d.model && (homeDecl == nil || d.rank() > homeDecl.rank()) {
			home, homeDecl = &fileEdit{name: f.name, src: f.src}, d
		}
		if len(d.values) == 0 {
			continue
		}
		if from == 0 {
			if from, err = literalInt(d.values[0]); err != nil {
				return nil, 0, fmt.Errorf("%s:%d: %s: %w", f.name, d.values[0].ValuePos.Line(), aliasField(model, alias), err)
			}
		}
		if declaresOnly(d, version) {
			continue
		}
		es := d.setEdits(version)
		edits = append(edits, fileEdit{name: f.name, line: es[0].line, src: f.src, out: apply(f.src, es)})
	}
	if from != 0 {
		return edits, from, nil
	}
	if home == nil {
		return nil, 0, fmt.Errorf("model %q is not declared in the CUE files of %s", model, sub)
	}
	es, err := homeDecl.addEdits(home.src, aliasPath(model, alias), version)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", home.name, err)
	}
	home.line, home.out = es[0].line, apply(home.src, es)
	return []fileEdit{*home}, 0, nil
}

// declaresOnly reports whether every literal of d already says version.
func declaresOnly(d *aliasDecl, version int) bool {
	for _, lit := range d.values {
		if n, err := literalInt(lit); err != nil || n != version {
			return false
		}
	}
	return true
}

// aliasValue is what the spec directory of tree declares the alias to be
// (0 when it does not).
func aliasValue(tree *object.Tree, sub, model, alias string) (int, error) {
	files, err := specFiles(tree, sub)
	if err != nil {
		return 0, err
	}
	for _, f := range files {
		d, err := findAlias(f.name, f.src, model, alias)
		if err != nil {
			return 0, err
		}
		if len(d.values) > 0 {
			return literalInt(d.values[0])
		}
	}
	return 0, nil
}

// checkEdit parses an edited file again and confirms it now declares
// version, so a mistake in the edit is an error and never a commit.
func checkEdit(e fileEdit, model, alias string, version int) error {
	d, err := findAlias(e.name, e.out, model, alias)
	if err != nil {
		return fmt.Errorf("edited file does not parse: %w", err)
	}
	if len(d.values) == 0 || !declaresOnly(d, version) {
		return fmt.Errorf("edit of %s did not set %s to %d", e.name, aliasField(model, alias), version)
	}
	return nil
}

// literalInt reads an integer literal as CUE writes them (2, 0x2, 1_000).
func literalInt(lit *ast.BasicLit) (int, error) {
	n, err := strconv.ParseInt(lit.Value, 0, 64)
	if err != nil {
		return 0, fmt.Errorf("%s is not an integer", lit.Value)
	}
	return int(n), nil
}

// aliasField names the alias as a CUE path: models."fraud-detector".aliases.production.
func aliasField(model, alias string) string {
	return "models." + label(model) + ".aliases." + label(alias)
}

type specFile struct {
	name string
	src  []byte
}

// specFiles reads the .cue files directly in the directory sub of tree, as
// schema.Load reads them. The directory is walked in the tree itself: a
// symbolic link on the way is refused, never followed, since the edit must
// land in the file git holds.
func specFiles(tree *object.Tree, sub string) ([]specFile, error) {
	dir := tree
	if sub != "." {
		var err error
		if dir, err = tree.Tree(sub); err != nil {
			return nil, fmt.Errorf("spec path %q is not a directory of the tree (symbolic links are not followed when writing back): %w", sub, err)
		}
	}
	var files []specFile
	var total int64
	for _, e := range dir.Entries {
		if !strings.HasSuffix(e.Name, ".cue") || !e.Mode.IsFile() || e.Mode == filemode.Symlink {
			continue
		}
		f, err := dir.TreeEntryFile(&e)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path.Join(sub, e.Name), err)
		}
		if total += f.Size; total > maxSpecBytes {
			return nil, fmt.Errorf("spec path %q holds more than %d bytes of CUE", sub, maxSpecBytes)
		}
		r, err := f.Reader()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path.Join(sub, e.Name), err)
		}
		src, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path.Join(sub, e.Name), err)
		}
		files = append(files, specFile{name: path.Join(sub, e.Name), src: src})
	}
	return files, nil
}

// maxSpecBytes matches schema.MaxSpecBytes: a revision with more CUE than
// that never loads, so it is never edited either.
const maxSpecBytes = 8 << 20

// writeBlob stores data as a blob and returns its hash.
func writeBlob(s storer.EncodedObjectStorer, data []byte) (plumbing.Hash, error) {
	obj := s.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	w, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := w.Write(data); err != nil {
		return plumbing.ZeroHash, err
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	return s.SetEncodedObject(obj)
}

// replaceBlob stores a tree equal to the one at root except that the
// regular file at name (slash-separated) holds blob, and every tree above
// it, and returns the new root's hash. The file keeps its mode.
func replaceBlob(s storer.EncodedObjectStorer, root plumbing.Hash, name string, blob plumbing.Hash) (plumbing.Hash, error) {
	t, err := object.GetTree(s, root)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	first, rest, deeper := strings.Cut(name, "/")
	entries := append([]object.TreeEntry(nil), t.Entries...)
	i := entryIndex(entries, first)
	switch {
	case i < 0:
		return plumbing.ZeroHash, fmt.Errorf("%s: not in the tree", first)
	case deeper && entries[i].Mode != filemode.Dir:
		return plumbing.ZeroHash, fmt.Errorf("%s: not a directory", first)
	case deeper:
		if entries[i].Hash, err = replaceBlob(s, entries[i].Hash, rest, blob); err != nil {
			return plumbing.ZeroHash, fmt.Errorf("%s/%w", first, err)
		}
	case !entries[i].Mode.IsFile() || entries[i].Mode == filemode.Symlink:
		return plumbing.ZeroHash, fmt.Errorf("%s: not a regular file", first)
	default:
		entries[i].Hash = blob
	}
	obj := s.NewEncodedObject()
	if err := (&object.Tree{Entries: entries}).Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return s.SetEncodedObject(obj)
}

func entryIndex(entries []object.TreeEntry, name string) int {
	for i, e := range entries {
		if e.Name == name {
			return i
		}
	}
	return -1
}
