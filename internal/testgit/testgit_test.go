package testgit_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sluice/internal/testgit"
)

func build(t *testing.T) *testgit.Repo {
	r := testgit.New(t)
	r.Write("a.txt", "a\n")
	r.Commit("first")
	r.Write("dir/b.txt", "b\n")
	r.Remove("a.txt")
	r.Commit("second")
	return r
}

func TestCommitsAreReproducible(t *testing.T) {
	a, b := build(t), build(t)
	if a.Head() != b.Head() {
		t.Errorf("same steps gave %s and %s", a.Head(), b.Head())
	}
	if got := a.Git("log", "-1", "--format=%an <%ae> %cI", "HEAD~1"); got != "Sluice Test <test@sluice.invalid> 2024-01-02T03:04:00+00:00" {
		t.Errorf("first commit: %s", got)
	}
	if got := a.Git("ls-tree", "-r", "--name-only", "HEAD"); got != "dir/b.txt" {
		t.Errorf("tree = %q, want only dir/b.txt", got)
	}
}

func TestGitIgnoresUserConfiguration(t *testing.T) {
	global := filepath.Join(t.TempDir(), "gitconfig")
	err := os.WriteFile(global, []byte("[user]\n\tname = Someone Else\n[commit]\n\tgpgsign = true\n[init]\n\tdefaultBranch = trunk\n"), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("GIT_CONFIG_GLOBAL", global)
	t.Setenv("GIT_AUTHOR_NAME", "Someone Else")
	r := build(t)
	if got := r.Git("log", "-1", "--format=%an"); got != testgit.AuthorName {
		t.Errorf("author = %q, want %q", got, testgit.AuthorName)
	}
	if got := r.Git("symbolic-ref", "HEAD"); got != "refs/heads/main" {
		t.Errorf("HEAD = %s, want refs/heads/main", got)
	}
}

func TestCopyDirKeepsTreeModesAndLinks(t *testing.T) {
	src := t.TempDir()
	for name, content := range map[string]string{"specs/app.cue": "a: 1\n", "data/rows.csv": "id\n1\n", "run.sh": "#!/bin/sh\n"} {
		p := filepath.Join(src, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(src, "run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("specs/app.cue", filepath.Join(src, "app.cue")); err != nil {
		t.Fatal(err)
	}
	r := testgit.New(t)
	r.CopyDir(src, "example")
	r.Commit("copy")
	want := []string{
		"120000 example/app.cue",
		"100644 example/data/rows.csv",
		"100755 example/run.sh",
		"100644 example/specs/app.cue",
	}
	var got []string
	for _, line := range strings.Split(r.Git("ls-tree", "-r", "HEAD"), "\n") {
		f := strings.Fields(line)
		got = append(got, f[0]+" "+f[3])
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("tree:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestRunReturnsGitErrors(t *testing.T) {
	r := testgit.New(t)
	_, err := r.Run("rev-parse", "--verify", "nope")
	if err == nil || !strings.Contains(err.Error(), "git rev-parse --verify nope") {
		t.Errorf("error = %v, want it to name the command", err)
	}
}
