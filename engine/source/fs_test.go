package source_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"testing/fstest"

	"sluice/engine/source"
	"sluice/internal/testgit"
)

// both opens the same commit twice: as the commit's tree and as the work
// tree, so every FS test holds for both.
func both(t *testing.T, r *testgit.Repo) map[string]fs.FS {
	return map[string]fs.FS{
		"commit":   open(t, source.Options{Repo: r.Dir()}).FS,
		"worktree": open(t, source.Options{Repo: r.Dir(), Worktree: true}).FS,
	}
}

func TestFSPassesConformanceTests(t *testing.T) {
	r := testgit.New(t)
	r.Write("a.cue", "a: 1\n")
	r.Write("specs/b.cue", "b: 2\n")
	r.Write("specs/deep/c.csv", "id,x\n1,2\n")
	r.Write("bin/run.sh", "#!/bin/sh\n")
	r.Git("update-index", "--add", "--chmod=+x", "bin/run.sh")
	r.Symlink("link.cue", "specs/b.cue")
	r.Symlink("specs/up", "..")
	r.Commit("files")
	if err := os.Chmod(r.Path("bin/run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, fsys := range both(t, r) {
		t.Run(name, func(t *testing.T) {
			if err := fstest.TestFS(fsys, "a.cue", "specs/b.cue", "specs/deep/c.csv", "bin/run.sh", "link.cue"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestFSServesModesSizesAndTimes(t *testing.T) {
	r := testgit.New(t)
	r.Write("data/rows.csv", "id,x\n1,2\n3,4\n")
	r.Write("run.sh", "#!/bin/sh\necho hi\n")
	if err := os.Chmod(r.Path("run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	r.Symlink("rows", "data/rows.csv")
	r.Commit("files")
	fsys := open(t, source.Options{Repo: r.Dir()}).FS
	for _, tc := range []struct {
		name string
		stat func(fs.FS, string) (fs.FileInfo, error)
		mode fs.FileMode
		size int64
	}{
		{"data/rows.csv", fs.Stat, 0o644, 13},
		{"run.sh", fs.Stat, 0o755, 18},
		{"data", fs.Stat, fs.ModeDir | 0o755, 0},
		{".", fs.Stat, fs.ModeDir | 0o755, 0},
		{"rows", fs.Stat, 0o644, 13},
		{"rows", fs.Lstat, fs.ModeSymlink | 0o777, int64(len("data/rows.csv"))},
	} {
		info, err := tc.stat(fsys, tc.name)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode() != tc.mode || info.Size() != tc.size || info.Name() != filepath.Base(tc.name) {
			t.Errorf("%s: name, mode, size = %s, %s, %d; want %s, %s, %d",
				tc.name, info.Name(), info.Mode(), info.Size(), filepath.Base(tc.name), tc.mode, tc.size)
		}
		if !info.ModTime().Equal(testgit.CommitTime(1)) {
			t.Errorf("%s: ModTime = %s, want the commit's time", tc.name, info.ModTime())
		}
	}
	if target, err := fs.ReadLink(fsys, "rows"); err != nil || target != "data/rows.csv" {
		t.Errorf("ReadLink(rows) = %q, %v", target, err)
	}
	if _, err := fs.ReadLink(fsys, "run.sh"); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("ReadLink(run.sh) = %v, want invalid", err)
	}
}

func TestFSRefusesSymlinksOutOfRepository(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "secret.txt")
	if err := os.WriteFile(secret, []byte("secret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := testgit.New(t)
	rel, err := filepath.Rel(r.Path("sub"), secret)
	if err != nil {
		t.Fatal(err)
	}
	r.Write("sub/inside.cue", "ok: true\n")
	r.Symlink("abs", secret)
	r.Symlink("sub/rel", rel)
	r.Symlink("sub/updir", "../..")
	r.Symlink("sub/hop", "rel")
	r.Symlink("sub/ok", "../sub/./inside.cue")
	r.Symlink("loop", "loop")
	r.Commit("links")

	for name, fsys := range both(t, r) {
		t.Run(name, func(t *testing.T) {
			for _, p := range []string{"abs", "sub/rel", "sub/hop", "sub/updir/x", "sub/updir"} {
				data, err := fs.ReadFile(fsys, p)
				if !errors.Is(err, source.ErrOutside) {
					t.Errorf("ReadFile(%s) = %q, %v; want ErrOutside", p, data, err)
				}
				if _, err := fs.Stat(fsys, p); !errors.Is(err, source.ErrOutside) {
					t.Errorf("Stat(%s) = %v; want ErrOutside", p, err)
				}
			}
			// The link itself is still visible, and readable as a link.
			if info, err := fs.Lstat(fsys, "abs"); err != nil || info.Mode().Type() != fs.ModeSymlink {
				t.Errorf("Lstat(abs) = %v, %v", info, err)
			}
			if target, err := fs.ReadLink(fsys, "abs"); err != nil || target != secret {
				t.Errorf("ReadLink(abs) = %q, %v", target, err)
			}
			if got := read(t, fsys, "sub/ok"); got != "ok: true\n" {
				t.Errorf("sub/ok = %q", got)
			}
			if _, err := fs.ReadFile(fsys, "loop"); err == nil {
				t.Error("ReadFile(loop) succeeded")
			}
		})
	}
	err = openErr(t, source.Options{Repo: r.Dir(), Path: "sub/updir"})
	if want := `path "sub/updir" leads outside the repository through a symbolic link`; !bytes.HasPrefix([]byte(err.Error()), []byte(want)) {
		t.Errorf("error = %q, want %q", err, want)
	}
}

func TestFSShowsSubmoduleAsEmptyDirectory(t *testing.T) {
	lib := testgit.New(t)
	lib.Write("lib.cue", "lib: 1\n")
	lib.Commit("lib")
	r := testgit.New(t)
	r.Write("a.cue", "a: 1\n")
	r.Git("submodule", "--quiet", "add", lib.URL(), "vendor/lib")
	r.Commit("with submodule")
	fsys := open(t, source.Options{Repo: r.Dir()}).FS
	list, err := fs.ReadDir(fsys, "vendor/lib")
	if err != nil || len(list) != 0 {
		t.Errorf("ReadDir(vendor/lib) = %v, %v; want empty", list, err)
	}
	_, err = fs.ReadFile(fsys, "vendor/lib/lib.cue")
	if !errors.Is(err, fs.ErrNotExist) || !bytes.Contains([]byte(err.Error()), []byte("submodule")) {
		t.Errorf("ReadFile inside submodule = %v, want not exist naming the submodule", err)
	}
}

func TestFSReadsLargeBlobWithSeekAndReadAt(t *testing.T) {
	data := make([]byte, 8<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(rng.UintN(256))
	}
	r := testgit.New(t)
	r.WriteBytes("big.bin", data)
	r.Commit("big")
	r.Git("gc", "-q") // packed objects take go-git's other read path
	fsys := open(t, source.Options{Repo: r.Dir()}).FS

	got, err := fs.ReadFile(fsys, "big.bin")
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("ReadFile(big.bin): %d bytes, %v; want the %d committed", len(got), err, len(data))
	}
	f, err := fsys.Open("big.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ra, ok := f.(io.ReadSeeker)
	if !ok {
		t.Fatalf("%T is not an io.ReadSeeker", f)
	}
	if _, err := ra.Seek(-8, io.SeekEnd); err != nil {
		t.Fatal(err)
	}
	tail := make([]byte, 8)
	if _, err := io.ReadFull(ra, tail); err != nil || !bytes.Equal(tail, data[len(data)-8:]) {
		t.Errorf("tail = %x, %v; want %x", tail, err, data[len(data)-8:])
	}
	mid := make([]byte, 16)
	if _, err := f.(io.ReaderAt).ReadAt(mid, 1<<20); err != nil || !bytes.Equal(mid, data[1<<20:1<<20+16]) {
		t.Errorf("ReadAt = %x, %v", mid, err)
	}
}

func TestFSIsSafeForConcurrentReaders(t *testing.T) {
	r := testgit.New(t)
	want := make(map[string]string)
	for i := range 40 {
		name := fmt.Sprintf("d%d/f%d.cue", i%5, i)
		want[name] = fmt.Sprintf("v: %d\n%s", i, bytes.Repeat([]byte("x"), i*100))
		r.Write(name, want[name])
	}
	r.Commit("many")
	r.Git("gc", "-q")
	for name, fsys := range both(t, r) {
		t.Run(name, func(t *testing.T) {
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for g := range 8 {
				wg.Go(func() {
					for name, content := range want {
						var got []byte
						var err error
						if g%2 == 0 {
							got, err = fs.ReadFile(fsys, name)
						} else {
							var f fs.File
							if f, err = fsys.Open(name); err == nil {
								got, err = io.ReadAll(f)
								f.Close()
							}
						}
						if err == nil && string(got) != content {
							err = fmt.Errorf("%s: got %d bytes, want %d", name, len(got), len(content))
						}
						if err == nil {
							_, err = fs.ReadDir(fsys, filepath.Dir(name))
						}
						if err == nil {
							_, err = fs.Stat(fsys, name)
						}
						if err != nil {
							errs <- err
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
}
