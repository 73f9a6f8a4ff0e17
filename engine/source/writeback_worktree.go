package source

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
)

// checkedOut finds a work tree of a local or bare repository that has
// branch checked out: the main one, or one added by `git worktree add`,
// whose index and files a moved branch would leave behind.
func checkedOut(loc location, branch plumbing.ReferenceName) (string, bool) {
	common := loc.dir
	if loc.kind == localRepo {
		common = commonDir(loc.dir)
		if headNames(filepath.Join(common, "HEAD"), branch) {
			return filepath.Dir(common), true
		}
	}
	linked, _ := filepath.Glob(filepath.Join(common, "worktrees", "*", "HEAD"))
	for _, head := range linked {
		if !headNames(head, branch) {
			continue
		}
		// gitdir holds the path of the linked work tree's .git file.
		if b, err := os.ReadFile(filepath.Join(filepath.Dir(head), "gitdir")); err == nil {
			return filepath.Dir(abs(filepath.Dir(head), strings.TrimSpace(string(b)))), true
		}
		return filepath.Dir(head), true
	}
	return "", false
}

// commonDir is the git directory a work tree's repository keeps its refs
// and other work trees in: root/.git, or, for a linked work tree, the
// commondir of the directory its .git file names.
func commonDir(root string) string {
	dotGit := filepath.Join(root, ".git")
	b, err := os.ReadFile(dotGit)
	if err != nil {
		return dotGit // a directory, not a file
	}
	dir, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "gitdir: ")
	if !ok {
		return dotGit
	}
	dir = abs(root, dir)
	c, err := os.ReadFile(filepath.Join(dir, "commondir"))
	if err != nil {
		return dir
	}
	return abs(dir, strings.TrimSpace(string(c)))
}

func abs(base, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(base, p)
}

// headNames reports whether the HEAD file at path is a link to branch.
func headNames(path string, branch plumbing.ReferenceName) bool {
	b, err := os.ReadFile(path)
	return err == nil && strings.TrimSpace(string(b)) == "ref: "+branch.String()
}
