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

// TestBadSpecsReportEveryErrorWithPosition runs the shared bad-input corpus:
// each archive holds spec files and, in its "want" section, exactly what
// validate prints. SLUICE_UPDATE=1 rewrites the want sections.
func TestBadSpecsReportEveryErrorWithPosition(t *testing.T) {
	files, err := filepath.Glob("../testdata/specs/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			fsys := fstest.MapFS{}
			var want *txtar.File
			for i, f := range ar.Files {
				if f.Name == "want" {
					want = &ar.Files[i]
					continue
				}
				fsys["specs/"+f.Name] = &fstest.MapFile{Data: f.Data}
			}
			_, err = Load(LoadOptions{FS: fsys, Dir: "specs"})
			if err == nil {
				t.Fatal("Load accepted a bad spec")
			}
			var got bytes.Buffer
			Print(&got, err, "")
			if os.Getenv("SLUICE_UPDATE") != "" {
				want.Data = got.Bytes()
				if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got.String() != string(want.Data) {
				t.Errorf("errors differ\n--- got\n%s--- want\n%s", got.String(), want.Data)
			}
			for _, line := range strings.Split(strings.TrimSpace(got.String()), "\n") {
				if !strings.HasPrefix(line, "specs/") {
					t.Errorf("error without a file position: %q", line)
				}
			}
		})
	}
}

// A command trainer's script or a model may sit beside the specs; only CUE
// files are specs.
func TestLoadReadsOnlyTheCUEFilesOfItsDirectory(t *testing.T) {
	fsys := fstest.MapFS{
		"specs/main.cue":   {Data: []byte("package sluice\n\nentities: user: join_key: \"user_id\"\n")},
		"specs/train.py":   {Data: []byte("print('training')\n")},
		"specs/model.onnx": {Data: []byte{0x08, 0x07}},
	}
	spec, err := Load(LoadOptions{FS: fsys, Dir: "specs"})
	if err != nil {
		var b bytes.Buffer
		Print(&b, err, "")
		t.Fatalf("load: %s", b.String())
	}
	if spec.Entities["user"] == nil {
		t.Fatal("the entity in main.cue was not loaded")
	}
}
