package reliability

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"sluice/internal/testgit"
)

// specPath is where the example's specs sit in a fixture repository, the
// same place as in Sluice's own, so the example's source paths hold.
const specPath = "examples/repo"

// fixture is a git repository holding a copy of examples/repo.
type fixture struct {
	*testgit.Repo
}

// exampleRepo copies examples/repo into a new git repository and commits
// it: applying it trains fraud-lr (v1) and fraud-rf (v2) and serves
// nothing until a commit sets the production alias.
func exampleRepo(t *testing.T) *fixture {
	t.Helper()
	r := testgit.New(t)
	r.CopyDir(filepath.Join("..", "examples", "repo"), specPath)
	f := &fixture{r}
	f.promote(t, 0)
	r.Commit("the example, training v1 and v2")
	return f
}

// promote edits models.cue so that production names version v (0: no
// alias). The caller commits.
func (f *fixture) promote(t *testing.T, v int) {
	t.Helper()
	p := f.Path(specPath + "/models.cue")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	found := false
	for i, l := range lines {
		if strings.HasPrefix(l, "\taliases: ") {
			lines[i], found = "\taliases: {}", true
			if v > 0 {
				lines[i] = "\taliases: production: " + strconv.Itoa(v)
			}
		}
	}
	if !found {
		t.Fatalf("%s has no aliases line to edit", p)
	}
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
}
