package source_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"sluice/engine/source"
	"sluice/internal/testgit"
)

// remote is a bare repository and a clone of it that pushes to it.
type remote struct {
	origin, work *testgit.Repo
}

func newRemote(t *testing.T) remote {
	origin := testgit.NewBare(t)
	work := testgit.Clone(t, origin.Dir())
	return remote{origin: origin, work: work}
}

// push commits content as specs/app.cue and pushes main.
func (r remote) push(t *testing.T, content string) string {
	t.Helper()
	r.work.Write("specs/app.cue", content)
	h := r.work.Commit(content)
	r.work.Git("push", "-q", "origin", "HEAD:main")
	return h
}

func TestOpenRemoteSeesCommitsPushedSinceLastOpen(t *testing.T) {
	r := newRemote(t)
	first := r.push(t, "version: 1\n")
	r.work.Git("push", "-q", "origin", "HEAD:refs/tags/v1")
	opts := source.Options{Repo: r.origin.URL(), CacheDir: t.TempDir(), Path: "specs"}

	rev := open(t, opts)
	if rev.Commit != first || rev.Ref != "refs/heads/main" || rev.Repo != r.origin.URL() {
		t.Errorf("commit, ref, repo = %s, %s, %s; want %s, refs/heads/main, %s", rev.Commit, rev.Ref, rev.Repo, first, r.origin.URL())
	}
	second := r.push(t, "version: 2\n")
	rev = open(t, opts)
	if rev.Commit != second || read(t, rev.FS, "specs/app.cue") != "version: 2\n" {
		t.Errorf("after a push: commit %s, want %s", rev.Commit, second)
	}
	for rv, want := range map[string]string{"v1": first, first[:8]: first, "main~1": first} {
		opts.Rev = rv
		if rev := open(t, opts); rev.Commit != want {
			t.Errorf("Rev %s: commit %s, want %s", rv, rev.Commit, want)
		}
	}
}

func TestOpenRemoteFollowsDefaultBranch(t *testing.T) {
	r := newRemote(t)
	r.push(t, "on: main\n")
	r.work.Git("checkout", "-q", "-b", "trunk")
	r.work.Write("specs/app.cue", "on: trunk\n")
	trunk := r.work.Commit("trunk")
	r.work.Git("push", "-q", "origin", "trunk")
	r.origin.Git("symbolic-ref", "HEAD", "refs/heads/trunk")

	rev := open(t, source.Options{Repo: r.origin.URL(), CacheDir: t.TempDir()})
	if rev.Commit != trunk || rev.Ref != "refs/heads/trunk" {
		t.Errorf("commit, ref = %s, %s; want %s, refs/heads/trunk", rev.Commit, rev.Ref, trunk)
	}
}

func TestOpenRemoteSeesForcePushesAndDeletedBranches(t *testing.T) {
	r := newRemote(t)
	r.push(t, "version: 1\n")
	r.work.Git("push", "-q", "origin", "HEAD:refs/heads/tmp")
	opts := source.Options{Repo: r.origin.URL(), CacheDir: t.TempDir(), Rev: "tmp"}
	open(t, opts)

	r.work.Git("push", "-q", "origin", ":tmp")
	if err := openErr(t, opts); !strings.Contains(err.Error(), `resolve revision "tmp"`) {
		t.Errorf("error = %q, want the deleted branch not to resolve", err)
	}
	r.work.Write("specs/app.cue", "rewritten\n")
	r.work.Git("commit", "-q", "--amend", "-am", "rewritten")
	rewritten := r.work.Head()
	r.work.Git("push", "-q", "--force", "origin", "HEAD:main")
	opts.Rev = ""
	if rev := open(t, opts); rev.Commit != rewritten {
		t.Errorf("after a force push: commit %s, want %s", rev.Commit, rewritten)
	}
}

func TestOpenRemoteOfflineReadsCacheWithoutFetching(t *testing.T) {
	r := newRemote(t)
	first := r.push(t, "version: 1\n")
	opts := source.Options{Repo: r.origin.URL(), CacheDir: t.TempDir(), Offline: true}
	if err := openErr(t, opts); !strings.Contains(err.Error(), "no cached clone") {
		t.Errorf("error = %q, want it to say nothing is cached", err)
	}
	opts.Offline = false
	open(t, opts)
	second := r.push(t, "version: 2\n")
	opts.Offline = true
	if rev := open(t, opts); rev.Commit != first {
		t.Errorf("offline: commit %s, want the cached %s", rev.Commit, first)
	}
	opts.Offline = false
	if rev := open(t, opts); rev.Commit != second {
		t.Errorf("online: commit %s, want %s", rev.Commit, second)
	}
}

func TestOpenRemoteFetchFailureFallsBackOnlyWhenAsked(t *testing.T) {
	r := newRemote(t)
	first := r.push(t, "version: 1\n")
	opts := source.Options{Repo: r.origin.URL(), CacheDir: t.TempDir()}
	open(t, opts)
	if err := os.Rename(r.origin.Dir(), r.origin.Dir()+".gone"); err != nil {
		t.Fatal(err)
	}
	err := openErr(t, opts)
	if want := "fetch " + r.origin.URL() + ": "; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error = %q, want it to start with %q", err, want)
	}
	opts.CacheFallback = true
	rev := open(t, opts)
	if rev.Commit != first || rev.FetchErr == nil {
		t.Errorf("fallback: commit %s, FetchErr %v; want %s and the fetch error", rev.Commit, rev.FetchErr, first)
	}
}

func TestOpenRemoteClonesIntoUserCacheByDefault(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	r := newRemote(t)
	r.push(t, "version: 1\n")
	open(t, source.Options{Repo: r.origin.URL()})
	sum := sha256.Sum256([]byte(r.origin.URL()))
	head := filepath.Join(cache, "sluice", "repos", hex.EncodeToString(sum[:]), "HEAD")
	if _, err := os.Stat(head); err != nil {
		t.Errorf("no bare clone in the user cache: %v", err)
	}
}

func TestOpenRemoteConcurrentlySharesOneCache(t *testing.T) {
	r := newRemote(t)
	want := r.push(t, "version: 1\n")
	opts := source.Options{Repo: r.origin.URL(), CacheDir: t.TempDir()}
	var wg sync.WaitGroup
	revs := make([]*source.Revision, 4)
	errs := make([]error, 4)
	for i := range revs {
		wg.Go(func() { revs[i], errs[i] = source.Open(t.Context(), opts) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open %d: %v", i, err)
		} else if revs[i].Commit != want {
			t.Errorf("Open %d: commit %s, want %s", i, revs[i].Commit, want)
		}
	}
}

func TestOpenReadsBareRepositoryInPlace(t *testing.T) {
	r := newRemote(t)
	first := r.push(t, "version: 1\n")
	cache := t.TempDir()
	rev := open(t, source.Options{Repo: r.origin.Dir(), CacheDir: cache})
	if rev.Commit != first || rev.Repo != r.origin.Dir() || rev.Ref != "refs/heads/main" {
		t.Errorf("commit, repo, ref = %s, %s, %s", rev.Commit, rev.Repo, rev.Ref)
	}
	if entries, _ := os.ReadDir(cache); len(entries) != 0 {
		t.Errorf("a local bare repository was cloned into the cache: %v", entries)
	}
	err := openErr(t, source.Options{Repo: r.origin.Dir(), Worktree: true})
	if !strings.Contains(err.Error(), "worktree needs a local repository with a work tree") {
		t.Errorf("error = %q", err)
	}
}

func TestOpenReadsRemoteTrackingBranchOfLocalClone(t *testing.T) {
	r := newRemote(t)
	first := r.push(t, "version: 1\n")
	r.work.Write("specs/app.cue", "local\n")
	r.work.Commit("not pushed")
	rev := open(t, source.Options{Repo: r.work.Dir(), Rev: "origin/main"})
	if rev.Commit != first || rev.Ref != "refs/remotes/origin/main" {
		t.Errorf("commit, ref = %s, %s; want %s, refs/remotes/origin/main", rev.Commit, rev.Ref, first)
	}
}

// gitHTTP serves the repositories under root over smart HTTP with git
// http-backend, asking for basic auth user:secret.
func gitHTTP(t *testing.T, root string) *httptest.Server {
	execPath := strings.TrimSpace(testgit.New(t).Git("--exec-path"))
	backend := &cgi.Handler{
		Path: filepath.Join(execPath, "git-http-backend"),
		Env:  []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if user, pass, ok := req.BasicAuth(); !ok || user != "user" || pass != "secret" {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		backend.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestOpenRemoteOverHTTPKeepsCredentialsOutOfSight(t *testing.T) {
	r := newRemote(t)
	want := r.push(t, "version: 1\n")
	srv := gitHTTP(t, filepath.Dir(r.origin.Dir()))
	base := strings.TrimPrefix(srv.URL, "http://") + "/" + filepath.Base(r.origin.Dir())
	cache := t.TempDir()

	rev := open(t, source.Options{Repo: "http://user:secret@" + base, CacheDir: cache})
	if rev.Commit != want || rev.Repo != "http://"+base {
		t.Errorf("commit, repo = %s, %s; want %s, http://%s", rev.Commit, rev.Repo, want, base)
	}
	err := openErr(t, source.Options{Repo: "http://user:wrong@" + base, CacheDir: cache})
	if strings.Contains(err.Error(), "wrong") || !strings.Contains(err.Error(), "fetch http://"+base) {
		t.Errorf("error = %q, want it to name the URL without credentials", err)
	}
	err = filepath.Walk(cache, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if strings.Contains(string(data), "secret") {
			t.Errorf("%s holds the password", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
