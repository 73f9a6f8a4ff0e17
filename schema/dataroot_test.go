package schema

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// TestDataRootSymlinkLeadingOutIsRefused declares a source inside a data
// root whose file is a symbolic link to a file outside it: Load refuses
// it at the source's path, naming where the link leads; a plain file and
// a link that stays inside the root are accepted.
func TestDataRootSymlinkLeadingOutIsRefused(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	secret := filepath.Join(outside, "secret.csv")
	for _, f := range []string{secret, filepath.Join(root, "tx.csv")} {
		if err := os.WriteFile(f, []byte("user_id,ts\n1,2026-11-01T00:00:00Z\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(secret, filepath.Join(root, "out.csv")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "tx.csv"), filepath.Join(root, "in.csv")); err != nil {
		t.Fatal(err)
	}
	load := func(name string) string {
		src := fmt.Sprintf("package sluice\n\nsources: tx: {path: %q, timestamp: \"ts\"}\n", filepath.Join(root, name))
		_, err := Load(LoadOptions{FS: fstest.MapFS{"specs/main.cue": {Data: []byte(src)}}, Dir: "specs", DataRoots: []string{root}})
		if err == nil {
			return ""
		}
		var b bytes.Buffer
		Print(&b, err, "")
		return b.String()
	}
	if got := load("out.csv"); !strings.Contains(got, "leads outside every data root through a symbolic link") || !strings.Contains(got, secret) || !strings.Contains(got, "specs/main.cue:3:") {
		t.Errorf("a link out of the data root: %q, want a refusal at specs/main.cue:3 naming %s", got, secret)
	}
	for _, ok := range []string{"tx.csv", "in.csv"} {
		if got := load(ok); got != "" {
			t.Errorf("%s: %s", ok, got)
		}
	}
}
