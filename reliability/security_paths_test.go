package reliability

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sluice/internal/testgit"
)

// TestSpecPathsStayInTheRepositoryOrADataRoot declares a source whose file
// lies outside the repository and every data root, in each way a path can
// get there: a link committed in the repository, a linked directory, a
// relative path climbing out, an absolute path, and a link inside a data
// root. Apply refuses each at the source's path and writes nothing.
func TestSpecPathsStayInTheRepositoryOrADataRoot(t *testing.T) {
	t.Parallel()
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret.csv")
	if err := os.WriteFile(secret, []byte("user_id,ts,amount\n1,2026-11-01T00:00:00Z,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	if err := os.Symlink(secret, filepath.Join(root, "tx.csv")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path string
		setup      func(r *testgit.Repo)
		want       string
	}{
		{"link to a file outside", "data/tx.csv", func(r *testgit.Repo) { r.Symlink("data/tx.csv", secret) }, "outside"},
		{"linked directory", "data/tx.csv", func(r *testgit.Repo) { r.Symlink("data", outside) }, "outside"},
		{"relative path climbing out", "../" + filepath.Base(outside) + "/secret.csv", func(*testgit.Repo) {}, "escapes the repository"},
		{"absolute path", secret, func(*testgit.Repo) {}, "outside the repository and every data root"},
		{"link inside a data root", filepath.Join(root, "tx.csv"), func(*testgit.Repo) {}, "leads outside every data root through a symbolic link"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := testgit.New(t)
			tc.setup(r)
			r.Write("specs/main.cue", fmt.Sprintf(`package sluice

sources: tx: {path: %q, timestamp: "ts"}
entities: user: join_key: "user_id"
features: spend: {entities: ["user"], source: "tx", ttl: "87600h", fields: amount: type: "float64"}
`, tc.path))
			r.Commit("a source outside")
			dir := t.TempDir()
			p := start(t, sluiceCmd(dir, nil, "apply", "--repo", r.Dir(), "--path", "specs", "--data-root", root, "--auto-approve"))
			err := p.wait(time.Minute)
			out := p.output()
			if err == nil {
				t.Fatalf("apply read a file outside:\n%s", out)
			}
			if !strings.Contains(out, tc.want) || !strings.Contains(out, "specs/main.cue:3:") {
				t.Errorf("apply does not say %q at specs/main.cue:3:\n%s", tc.want, out)
			}
			if _, err := os.Stat(filepath.Join(dir, "state.db")); err == nil {
				if rows, _ := rowsOf(openState(t, dir), `SELECT kind, name FROM resources`); len(rows) > 0 {
					t.Errorf("apply recorded %v", rows)
				}
			}
		})
	}
}
