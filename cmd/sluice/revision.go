package main

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"sluice/engine/planjson"
	"sluice/engine/source"
	"sluice/schema"
)

// specFlags are the flags of every command that reads specs from git.
type specFlags struct {
	repo      string
	rev       string
	path      string
	worktree  bool
	dataRoots []string
}

func (f *specFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.repo, "repo", ".", "the git repository: a local directory (inside a repository) or a remote URL")
	fl.StringVar(&f.rev, "rev", "", "branch, tag or commit to read (default: the current branch head)")
	fl.StringVar(&f.path, "path", "", "the directory inside the repository that holds the specs")
	fl.BoolVar(&f.worktree, "worktree", false, "read uncommitted edits from the work tree instead of the commit (local iteration)")
	fl.StringSliceVar(&f.dataRoots, "data-root", nil, "a directory outside the repository that sources may read from (repeatable)")
}

// loaded is one revision's specs.
type loaded struct {
	rev  *source.Revision
	spec *schema.Spec
	// repo is the repository root as given to source.Open; path the spec
	// directory inside it.
	repo, path string
}

func (l *loaded) revisionJSON() planjson.Revision {
	return planjson.Revision{Repo: l.repo, Commit: l.rev.ID(), Ref: l.rev.Ref, Path: l.path, Dirty: l.rev.Dirty}
}

// load opens the revision and loads its specs. Spec errors are printed
// to stderr, one per line with file:line:col, and returned as reported.
func (a *app) load(ctx context.Context, f *specFlags) (*loaded, error) {
	repo, sub, err := splitRepo(f.repo)
	if err != nil {
		return nil, err
	}
	specPath := path.Clean(path.Join(sub, filepath.ToSlash(f.path)))
	if specPath == ".." || strings.HasPrefix(specPath, "../") || path.IsAbs(filepath.ToSlash(f.path)) {
		return nil, fmt.Errorf("--path %q escapes the repository", f.path)
	}
	rev, err := source.Open(ctx, source.Options{Repo: repo, Rev: f.rev, Path: specPath, Worktree: f.worktree})
	if err != nil {
		return nil, err
	}
	roots, err := absAll(f.dataRoots)
	if err != nil {
		return nil, err
	}
	spec, err := schema.Load(schema.LoadOptions{FS: rev.FS, Dir: specPath, DataRoots: roots})
	if err != nil {
		schema.Print(a.stderr, err, "")
		return nil, reported{fmt.Errorf("specs at %s are invalid", rev.Short())}
	}
	return &loaded{rev: rev, spec: spec, repo: repo, path: specPath}, nil
}

// splitRepo turns a --repo that points inside a local repository into the
// repository root and the sub-directory, so `--repo examples/repo` reads
// the specs there. Remote URLs pass through.
func splitRepo(repo string) (root, sub string, err error) {
	if strings.Contains(repo, "://") || strings.HasPrefix(repo, "git@") {
		return repo, ".", nil
	}
	abs, err := filepath.Abs(repo)
	if err != nil {
		return "", "", err
	}
	for dir := abs; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
			rel, err := filepath.Rel(dir, abs)
			return dir, filepath.ToSlash(rel), err
		}
		if filepath.Dir(dir) == dir {
			// Not inside a work tree: maybe a bare repository; let source decide.
			return abs, ".", nil
		}
	}
}

func absAll(dirs []string) ([]string, error) {
	var out []string
	for _, d := range dirs {
		abs, err := filepath.Abs(d)
		if err != nil {
			return nil, err
		}
		if resolved, err := filepath.EvalSymlinks(abs); err == nil {
			abs = resolved
		}
		out = append(out, abs)
	}
	return out, nil
}
