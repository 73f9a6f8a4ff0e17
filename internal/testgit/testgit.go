// Package testgit builds real git repositories for tests, with the git CLI,
// in t.TempDir(). Commits are reproducible: author, committer and dates are
// fixed (each commit one minute after the last), and no global or system
// git configuration is read, so the same steps give the same hashes on
// every machine.
package testgit

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// CommitTime is the author and committer date of the n-th commit made
// through a Repo (counting from 1): one minute apart from 2024-01-02 03:04 UTC.
func CommitTime(n int) time.Time {
	return time.Date(2024, 1, 2, 3, 4, 0, 0, time.UTC).Add(time.Duration(n-1) * time.Minute)
}

// AuthorName and AuthorEmail are the identity every commit is made with.
const (
	AuthorName  = "Sluice Test"
	AuthorEmail = "test@sluice.invalid"
)

// Repo is a git repository in a temporary directory. It is not safe for
// concurrent use.
type Repo struct {
	t       testing.TB
	dir     string
	home    string
	commits int
}

// New makes an empty repository with a work tree (git init -b main).
func New(t testing.TB) *Repo {
	t.Helper()
	r := &Repo{t: t, dir: t.TempDir(), home: t.TempDir()}
	r.Git("init", "-q", "-b", "main")
	return r
}

// NewBare makes an empty bare repository (git init --bare -b main), the
// kind a remote is.
func NewBare(t testing.TB) *Repo {
	t.Helper()
	r := &Repo{t: t, dir: t.TempDir(), home: t.TempDir()}
	r.Git("init", "-q", "--bare", "-b", "main")
	return r
}

// Clone clones url into a new temporary directory.
func Clone(t testing.TB, url string) *Repo {
	t.Helper()
	r := &Repo{t: t, dir: t.TempDir(), home: t.TempDir()}
	r.Git("clone", "-q", url, ".")
	return r
}

// Dir is the repository's directory: its work tree, or the repository
// itself when bare.
func (r *Repo) Dir() string { return r.dir }

// URL is the repository's file:// URL, for use as a remote.
func (r *Repo) URL() string { return "file://" + filepath.ToSlash(r.dir) }

// Path turns a slash-separated repository path into an OS path.
func (r *Repo) Path(name string) string {
	return filepath.Join(r.dir, filepath.FromSlash(name))
}

// Write writes content to the file at name (slash-separated, relative to
// the work tree), making its directories.
func (r *Repo) Write(name, content string) { r.t.Helper(); r.WriteBytes(name, []byte(content)) }

// WriteBytes is Write for binary content.
func (r *Repo) WriteBytes(name string, content []byte) {
	r.t.Helper()
	p := r.Path(name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(p, content, 0o644); err != nil {
		r.t.Fatal(err)
	}
}

// Symlink makes name a symbolic link to target, which is written as given.
func (r *Repo) Symlink(name, target string) {
	r.t.Helper()
	p := r.Path(name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.Symlink(target, p); err != nil {
		r.t.Fatal(err)
	}
}

// Remove deletes the file or directory tree at name.
func (r *Repo) Remove(name string) {
	r.t.Helper()
	if err := os.RemoveAll(r.Path(name)); err != nil {
		r.t.Fatal(err)
	}
}

// CopyDir copies the directory tree at src (an OS path, e.g. a package's
// testdata or examples/repo) to dst inside the work tree ("." for its
// root), keeping the executable bit. Symbolic links are copied as links.
func (r *Repo) CopyDir(src, dst string) {
	r.t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		to := filepath.Join(r.Path(dst), rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(to, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(target, to)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(to, data, info.Mode().Perm()|0o600)
	})
	if err != nil {
		r.t.Fatalf("copy %s into %s: %v", src, r.dir, err)
	}
}

// Commit stages every change (git add -A) and commits it, returning the
// new commit's full hash. A commit with nothing to commit fails the test.
func (r *Repo) Commit(msg string) string {
	r.t.Helper()
	r.Git("add", "-A")
	r.Git("commit", "-q", "-m", msg)
	return r.Head()
}

// Head is the full hash of the commit HEAD points to.
func (r *Repo) Head() string {
	r.t.Helper()
	return r.Git("rev-parse", "HEAD")
}

// Git runs git with args in the repository and returns its standard
// output without the trailing newline; an error fails the test with git's
// standard error.
func (r *Repo) Git(args ...string) string {
	r.t.Helper()
	out, err := r.Run(args...)
	if err != nil {
		r.t.Fatal(err)
	}
	return out
}

// Run is Git for a command that is expected to fail: it returns the error
// (with git's standard error) instead of failing the test.
func (r *Repo) Run(args ...string) (string, error) {
	if len(args) > 0 && args[0] == "commit" {
		r.commits++
	}
	cmd := exec.Command("git", args...)
	cmd.Dir = r.dir
	cmd.Env = r.env(CommitTime(r.commits))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("git %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSuffix(stdout.String(), "\n"), nil
}

// env isolates git from the machine's configuration and fixes identities
// and dates so hashes are reproducible.
func (r *Repo) env(when time.Time) []string {
	date := when.Format(time.RFC3339)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GIT_") && !strings.HasPrefix(kv, "HOME=") && !strings.HasPrefix(kv, "XDG_CONFIG_HOME=") {
			env = append(env, kv)
		}
	}
	return append(env,
		"HOME="+r.home,
		"XDG_CONFIG_HOME="+r.home,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL="+os.DevNull,
		"GIT_AUTHOR_NAME="+AuthorName,
		"GIT_AUTHOR_EMAIL="+AuthorEmail,
		"GIT_AUTHOR_DATE="+date,
		"GIT_COMMITTER_NAME="+AuthorName,
		"GIT_COMMITTER_EMAIL="+AuthorEmail,
		"GIT_COMMITTER_DATE="+date,
		// Per-command configuration that a developer's global file would
		// otherwise decide.
		"GIT_CONFIG_COUNT=4",
		"GIT_CONFIG_KEY_0=commit.gpgsign", "GIT_CONFIG_VALUE_0=false",
		"GIT_CONFIG_KEY_1=core.autocrlf", "GIT_CONFIG_VALUE_1=false",
		"GIT_CONFIG_KEY_2=protocol.file.allow", "GIT_CONFIG_VALUE_2=always",
		"GIT_CONFIG_KEY_3=tag.gpgsign", "GIT_CONFIG_VALUE_3=false",
	)
}
