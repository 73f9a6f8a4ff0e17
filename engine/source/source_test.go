package source_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sluice/engine/source"
	"sluice/internal/testgit"
)

func open(t *testing.T, opts source.Options) *source.Revision {
	t.Helper()
	rev, err := source.Open(context.Background(), opts)
	if err != nil {
		t.Fatalf("Open(%+v): %v", opts, err)
	}
	return rev
}

func openErr(t *testing.T, opts source.Options) error {
	t.Helper()
	rev, err := source.Open(context.Background(), opts)
	if err == nil {
		t.Fatalf("Open(%+v) = %s, want an error", opts, rev.ID())
	}
	return err
}

func read(t *testing.T, fsys fs.FS, name string) string {
	t.Helper()
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// history is a repository with two commits on main (the first tagged v1
// and, annotated, v1-notes) and a branch "feature" with a third.
type history struct {
	repo                   *testgit.Repo
	first, second, feature string
}

func newHistory(t *testing.T) history {
	r := testgit.New(t)
	r.Write("specs/app.cue", "version: 1\n")
	first := r.Commit("first")
	r.Git("tag", "v1")
	r.Git("tag", "-a", "v1-notes", "-m", "annotated")
	r.Write("specs/app.cue", "version: 2\n")
	second := r.Commit("second\n\nwith a body")
	r.Git("checkout", "-q", "-b", "feature")
	r.Write("specs/app.cue", "version: 3\n")
	feature := r.Commit("feature")
	r.Git("checkout", "-q", "main")
	return history{repo: r, first: first, second: second, feature: feature}
}

func TestOpenResolvesRevisions(t *testing.T) {
	h := newHistory(t)
	for _, tc := range []struct {
		rev, commit, ref, content string
	}{
		{"", h.second, "refs/heads/main", "version: 2\n"},
		{"HEAD", h.second, "refs/heads/main", "version: 2\n"},
		{"main", h.second, "refs/heads/main", "version: 2\n"},
		{"refs/heads/main", h.second, "refs/heads/main", "version: 2\n"},
		{"feature", h.feature, "refs/heads/feature", "version: 3\n"},
		{"v1", h.first, "refs/tags/v1", "version: 1\n"},
		{"v1-notes", h.first, "refs/tags/v1-notes", "version: 1\n"},
		{h.first, h.first, h.first, "version: 1\n"},
		{h.first[:7], h.first, h.first[:7], "version: 1\n"},
		{"HEAD~1", h.first, "HEAD~1", "version: 1\n"},
		{"feature^", h.second, "feature^", "version: 2\n"},
	} {
		t.Run(tc.rev, func(t *testing.T) {
			rev := open(t, source.Options{Repo: h.repo.Dir(), Rev: tc.rev})
			if rev.Commit != tc.commit || rev.Ref != tc.ref {
				t.Errorf("commit, ref = %s, %s; want %s, %s", rev.Commit, rev.Ref, tc.commit, tc.ref)
			}
			if got := read(t, rev.FS, "specs/app.cue"); got != tc.content {
				t.Errorf("specs/app.cue = %q, want %q", got, tc.content)
			}
			if rev.Dirty || rev.ID() != tc.commit || rev.Short() != tc.commit[:12] {
				t.Errorf("dirty, ID, Short = %v, %s, %s", rev.Dirty, rev.ID(), rev.Short())
			}
		})
	}
}

func TestOpenDescribesCommit(t *testing.T) {
	h := newHistory(t)
	rev := open(t, source.Options{Repo: h.repo.Dir()})
	if rev.Repo != h.repo.Dir() {
		t.Errorf("Repo = %s, want %s", rev.Repo, h.repo.Dir())
	}
	if want := testgit.CommitTime(2); !rev.Time.Equal(want) {
		t.Errorf("Time = %s, want %s", rev.Time, want)
	}
	if want := testgit.AuthorName + " <" + testgit.AuthorEmail + ">"; rev.Author != want {
		t.Errorf("Author = %q, want %q", rev.Author, want)
	}
	if rev.Message != "second\n\nwith a body" {
		t.Errorf("Message = %q", rev.Message)
	}
	if rev.Path != "." {
		t.Errorf("Path = %q, want .", rev.Path)
	}
}

func TestOpenFindsRepositoryFromSubdirectory(t *testing.T) {
	h := newHistory(t)
	rev := open(t, source.Options{Repo: filepath.Join(h.repo.Dir(), "specs"), Path: "specs"})
	if rev.Repo != h.repo.Dir() || rev.Commit != h.second {
		t.Errorf("Repo, Commit = %s, %s; want %s, %s", rev.Repo, rev.Commit, h.repo.Dir(), h.second)
	}
}

func TestOpenReadsDetachedHead(t *testing.T) {
	h := newHistory(t)
	h.repo.Git("checkout", "-q", "--detach", h.first)
	rev := open(t, source.Options{Repo: h.repo.Dir()})
	if rev.Commit != h.first || rev.Ref != "HEAD" {
		t.Errorf("commit, ref = %s, %s; want %s, HEAD", rev.Commit, rev.Ref, h.first)
	}
}

func TestOpenRefusesUnknownRevision(t *testing.T) {
	h := newHistory(t)
	for _, rev := range []string{"nope", "v9", "abc", "HEAD~5"} {
		err := openErr(t, source.Options{Repo: h.repo.Dir(), Rev: rev})
		want := `resolve revision "` + rev + `" in ` + h.repo.Dir() + ": "
		if !strings.HasPrefix(err.Error(), want) {
			t.Errorf("error = %q, want it to start with %q", err, want)
		}
	}
	err := openErr(t, source.Options{Repo: h.repo.Dir(), Rev: "nope"})
	if !strings.HasSuffix(err.Error(), "reference not found") {
		t.Errorf("error = %q, want it to say the reference is not found", err)
	}
}

func TestOpenRefusesRepositoryWithoutCommits(t *testing.T) {
	r := testgit.New(t)
	err := openErr(t, source.Options{Repo: r.Dir()})
	if !strings.Contains(err.Error(), "no commits yet on main") {
		t.Errorf("error = %q, want it to say there are no commits", err)
	}
}

func TestOpenRefusesDirectoryOutsideRepository(t *testing.T) {
	dir := t.TempDir()
	err := openErr(t, source.Options{Repo: dir})
	if !strings.Contains(err.Error(), "not a git repository") || !strings.Contains(err.Error(), dir) {
		t.Errorf("error = %q", err)
	}
	err = openErr(t, source.Options{Repo: filepath.Join(dir, "missing")})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error = %q, want not exist", err)
	}
}

func TestOpenChecksSubPath(t *testing.T) {
	h := newHistory(t)
	h.repo.Write("other/deep/x.cue", "x: 1\n")
	h.repo.Commit("other")
	dir := h.repo.Dir()
	short := h.repo.Head()[:12]
	for _, tc := range []struct{ path, want string }{
		{"specs", "specs"},
		{"specs/", "specs"},
		{"./other//deep", "other/deep"},
		{"other/../specs", "specs"},
		{".", "."},
		{"", "."},
	} {
		if rev := open(t, source.Options{Repo: dir, Path: tc.path}); rev.Path != tc.want {
			t.Errorf("Path %q: Revision.Path = %q, want %q", tc.path, rev.Path, tc.want)
		}
	}
	for _, tc := range []struct{ path, want string }{
		{"nope", `path "nope" does not exist at ` + short + " (refs/heads/main)"},
		{"specs/app.cue", `path "specs/app.cue" is not a directory at ` + short + " (refs/heads/main)"},
		{"../x", `path "../x" escapes the repository`},
		{"../../etc/passwd", `path "../../etc/passwd" escapes the repository`},
		{"specs/../../x", `path "specs/../../x" escapes the repository`},
		{"/etc", `path "/etc" is absolute; give it relative to the repository root`},
	} {
		err := openErr(t, source.Options{Repo: dir, Path: tc.path})
		if err.Error() != tc.want {
			t.Errorf("Path %q: error = %q, want %q", tc.path, err, tc.want)
		}
	}
	// A path present only in another revision is missing at this one.
	err := openErr(t, source.Options{Repo: dir, Rev: "v1", Path: "other"})
	if want := `path "other" does not exist at ` + h.first[:12] + " (refs/tags/v1)"; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
}

func TestOpenIgnoresUncommittedEdits(t *testing.T) {
	h := newHistory(t)
	r := h.repo
	r.Write("specs/app.cue", "version: edited\n")
	r.Write("specs/new.cue", "new: true\n")
	r.Write("staged.cue", "staged: true\n")
	r.Git("add", "staged.cue")

	rev := open(t, source.Options{Repo: r.Dir(), Path: "specs"})
	if got := read(t, rev.FS, "specs/app.cue"); got != "version: 2\n" {
		t.Errorf("specs/app.cue = %q, want the committed content", got)
	}
	for _, name := range []string{"specs/new.cue", "staged.cue"} {
		if _, err := fs.Stat(rev.FS, name); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Stat(%s) = %v, want not exist", name, err)
		}
	}
}

func TestOpenWorktreeReadsUncommittedEdits(t *testing.T) {
	h := newHistory(t)
	r := h.repo
	r.Write("specs/app.cue", "version: edited\n")
	r.Write("specs/new.cue", "new: true\n")

	rev := open(t, source.Options{Repo: r.Dir(), Path: "specs", Worktree: true})
	if got := read(t, rev.FS, "specs/app.cue"); got != "version: edited\n" {
		t.Errorf("specs/app.cue = %q, want the edited content", got)
	}
	if got := read(t, rev.FS, "specs/new.cue"); got != "new: true\n" {
		t.Errorf("specs/new.cue = %q, want the untracked file", got)
	}
	if !rev.Dirty || rev.Commit != h.second || rev.ID() != h.second+"+worktree" || rev.Ref != "refs/heads/main" {
		t.Errorf("Dirty, Commit, ID, Ref = %v, %s, %s, %s", rev.Dirty, rev.Commit, rev.ID(), rev.Ref)
	}
	if _, err := fs.Stat(rev.FS, ".git/HEAD"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat(.git/HEAD) = %v, want .git hidden", err)
	}
	root, err := fs.ReadDir(rev.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range root {
		if d.Name() == ".git" {
			t.Error("ReadDir(.) lists .git")
		}
	}
	// A path that exists only in the work tree is accepted.
	r.Write("drafts/x.cue", "x: 1\n")
	open(t, source.Options{Repo: r.Dir(), Path: "drafts", Worktree: true})
	err = openErr(t, source.Options{Repo: r.Dir(), Path: "drafts"})
	if !strings.Contains(err.Error(), `path "drafts" does not exist`) {
		t.Errorf("error = %q", err)
	}
}

func TestOpenWorktreeRefusesOtherRevisions(t *testing.T) {
	h := newHistory(t)
	err := openErr(t, source.Options{Repo: h.repo.Dir(), Rev: "v1", Worktree: true})
	if !strings.Contains(err.Error(), `cannot be combined with revision "v1"`) {
		t.Errorf("error = %q", err)
	}
	open(t, source.Options{Repo: h.repo.Dir(), Rev: "HEAD", Worktree: true})
}

// snapshot records every file of a work tree and its .git directory: path,
// mode, size, modification time and content.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := make(map[string]string)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		var content []byte
		if info.Mode().IsRegular() {
			if content, err = os.ReadFile(p); err != nil {
				return err
			}
		}
		files[p] = info.Mode().String() + " " + info.ModTime().String() + " " + string(content)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestOpenLeavesWorkTreeUntouched(t *testing.T) {
	h := newHistory(t)
	r := h.repo
	r.Write("specs/app.cue", "version: edited\n")
	r.Write("untracked.txt", "u\n")
	status := r.Git("status", "--porcelain") // git status refreshes the index: first
	before := snapshot(t, r.Dir())

	for _, opts := range []source.Options{
		{Repo: r.Dir()},
		{Repo: r.Dir(), Rev: "feature", Path: "specs"},
		{Repo: r.Dir(), Rev: "v1"},
		{Repo: r.Dir(), Worktree: true},
	} {
		rev := open(t, opts)
		if err := fs.WalkDir(rev.FS, ".", func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				_, err = fs.ReadFile(rev.FS, p)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	after := snapshot(t, r.Dir())
	if len(before) < 10 {
		t.Fatalf("snapshot saw %d files", len(before))
	}
	for p, b := range before {
		if a, ok := after[p]; !ok || a != b {
			t.Errorf("%s changed:\nbefore %q\nafter  %q", p, b, a)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			t.Errorf("%s appeared", p)
		}
	}
	if got := r.Git("status", "--porcelain"); got != status {
		t.Errorf("git status changed:\n%s\nwant\n%s", got, status)
	}
}

func TestOpenReadsLinkedWorktree(t *testing.T) {
	h := newHistory(t)
	wt := filepath.Join(t.TempDir(), "wt")
	h.repo.Git("worktree", "add", "-q", wt, "feature")
	rev := open(t, source.Options{Repo: wt})
	if rev.Commit != h.feature || rev.Ref != "refs/heads/feature" || rev.Repo != wt {
		t.Errorf("commit, ref, repo = %s, %s, %s; want %s, refs/heads/feature, %s", rev.Commit, rev.Ref, rev.Repo, h.feature, wt)
	}
	if rev := open(t, source.Options{Repo: wt, Rev: "v1"}); rev.Commit != h.first {
		t.Errorf("v1 from the linked worktree: %s, want %s", rev.Commit, h.first)
	}
}
