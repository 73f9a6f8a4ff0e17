package schema

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rogpeppe/go-internal/txtar"
)

// FuzzLoad loads an arbitrary file as a revision's only spec file, beside
// a small data file. Load must never panic; a spec it refuses must print
// as at least one error line, and one it accepts must be a value. Seeds:
// the example's files, every file of the shared bad-input corpus
// (testdata/specs at the repository's root) and testdata/fuzz/FuzzLoad.
func FuzzLoad(f *testing.F) {
	examples, _ := filepath.Glob(filepath.Join("..", "examples", "repo", "*.cue"))
	for _, p := range examples {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	corpus, _ := filepath.Glob(filepath.Join("..", "testdata", "specs", "*.txtar"))
	for _, p := range corpus {
		ar, err := txtar.ParseFile(p)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range ar.Files {
			if strings.HasSuffix(file.Name, ".cue") {
				f.Add(file.Data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		fsys := fstest.MapFS{
			"specs/main.cue": {Data: src},
			"data/tx.csv":    {Data: []byte("user_id,ts,amount\n1,2026-11-01T00:00:00Z,10.5\n")},
		}
		spec, err := Load(LoadOptions{FS: fsys, Dir: "specs"})
		if err == nil {
			if spec == nil {
				t.Fatal("Load accepted the spec and returned no value")
			}
			return
		}
		var b bytes.Buffer
		Print(&b, err, "")
		if strings.TrimSpace(b.String()) == "" {
			t.Fatalf("Load refused the spec with an error that prints as nothing: %#v", err)
		}
	})
}
