package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/rogpeppe/go-internal/txtar"

	"sluice/engine"
	"sluice/engine/planjson"
	"sluice/engine/render"
	"sluice/runtime/store"
	"sluice/schema"
)

// TestPlanGoldens plans the revisions in testdata/plan/*.txtar. Each
// archive holds rev1/ (applied first, when present) and rev2/ (planned
// after it; files it lacks are taken from rev1, and rev2/REMOVE lists files
// it removes), then plan.txt and plan.md: the text and markdown renderings
// of rev2's plan. SLUICE_UPDATE=1 rewrites them.
func TestPlanGoldens(t *testing.T) {
	files, _ := filepath.Glob("testdata/plan/*.txtar")
	if len(files) == 0 {
		t.Fatal("no plan goldens")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			rev1, rev2 := revisions(ar)
			ctx := context.Background()
			db, err := store.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if len(rev1) > 0 {
				drivers, err := newDrivers(ctx, db, "")
				if err != nil {
					t.Fatal(err)
				}
				now := func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) }
				if _, err := engine.Apply(ctx, db, planOf(t, db, rev1, "1111111111111111111111111111111111111111"), drivers, engine.Options{Now: now}); err != nil {
					t.Fatal(err)
				}
			}
			p := planOf(t, db, rev2, "2222222222222222222222222222222222222222")
			var text, md bytes.Buffer
			render.Text(&text, p.JSON())
			render.Markdown(&md, p.JSON())
			golden(t, file, ar, "plan.txt", text.Bytes())
			golden(t, file, ar, "plan.md", md.Bytes())
		})
	}
}

func revisions(ar *txtar.Archive) (rev1, rev2 fstest.MapFS) {
	rev1, rev2 = fstest.MapFS{}, fstest.MapFS{}
	var remove []string
	for _, f := range ar.Files {
		switch {
		case strings.HasPrefix(f.Name, "rev1/"):
			rev1[strings.TrimPrefix(f.Name, "rev1/")] = &fstest.MapFile{Data: f.Data}
		case f.Name == "rev2/REMOVE":
			remove = strings.Fields(string(f.Data))
		case strings.HasPrefix(f.Name, "rev2/"):
			rev2[strings.TrimPrefix(f.Name, "rev2/")] = &fstest.MapFile{Data: f.Data}
		}
	}
	for name, f := range rev1 {
		if _, ok := rev2[name]; !ok {
			rev2[name] = f
		}
	}
	for _, name := range remove {
		delete(rev2, name)
	}
	return rev1, rev2
}

func golden(t *testing.T, file string, ar *txtar.Archive, name string, got []byte) {
	t.Helper()
	for i := range ar.Files {
		if ar.Files[i].Name != name {
			continue
		}
		if os.Getenv("SLUICE_UPDATE") != "" {
			ar.Files[i].Data = got
			if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		if !bytes.Equal(got, ar.Files[i].Data) {
			t.Errorf("%s differs\n--- got\n%s--- want\n%s", name, got, ar.Files[i].Data)
		}
		return
	}
	if os.Getenv("SLUICE_UPDATE") != "" {
		ar.Files = append(ar.Files, txtar.File{Name: name, Data: got})
		if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s: no %s section (run with SLUICE_UPDATE=1)", file, name)
}

func planOf(t *testing.T, db *store.DB, fsys fstest.MapFS, commit string) *engine.Plan {
	t.Helper()
	spec, err := schema.Load(schema.LoadOptions{FS: fsys, Dir: "specs"})
	if err != nil {
		var b bytes.Buffer
		schema.Print(&b, err, "")
		t.Fatalf("load: %s", b.String())
	}
	p, err := engine.MakePlan(context.Background(), db, engine.Input{Spec: spec, FS: fsys,
		Revision: planjson.Revision{Commit: commit, Ref: "refs/heads/main", Path: "specs"}, StatePath: "state.db"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}
