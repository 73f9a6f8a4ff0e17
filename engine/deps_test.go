package engine

import (
	"encoding/json"
	"os/exec"
	"path"
	"strings"
	"testing"
)

// importRules is DESIGN.md's table of allowed imports, as data: for each
// sluice package (first matching pattern wins), who may import it. Anything
// not listed is forbidden. Edit DESIGN.md first, never this to fix a build.
var importRules = []struct {
	pkg       string
	importers []string
}{
	{"sluice/schema", []string{"sluice/runtime/*", "sluice/engine", "sluice/engine/*", "sluice/cmd/*"}},
	{"sluice/runtime/store", []string{"sluice/runtime/*", "sluice/engine", "sluice/engine/daemon", "sluice/cmd/*"}},
	{"sluice/runtime/*", []string{"sluice/engine", "sluice/engine/daemon", "sluice/cmd/*"}},
	{"sluice/engine", []string{"sluice/engine/daemon", "sluice/cmd/*"}},
	{"sluice/engine/planjson", []string{"sluice/engine", "sluice/engine/render", "sluice/engine/daemon", "sluice/cmd/*"}},
	{"sluice/engine/source", []string{"sluice/engine/daemon", "sluice/cmd/*"}},
	{"sluice/engine/render", []string{"sluice/engine/daemon", "sluice/cmd/*"}},
	{"sluice/engine/daemon", []string{"sluice/cmd/*"}},
}

// testOnly packages may be imported by any package's tests and by nothing else.
var testOnly = []string{"sluice/internal/testgit", "sluice/internal/ortlib"}

// TestImportsFollowDesign checks every import between sluice's packages,
// tests included, against importRules, and that schema imports nothing but
// CUE and the standard library.
func TestImportsFollowDesign(t *testing.T) {
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports,TestImports,XTestImports,Standard", "sluice/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	seen := 0
	for dec.More() {
		var p struct {
			ImportPath                         string
			Imports, TestImports, XTestImports []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		seen++
		for _, imp := range p.Imports {
			if err := allowed(p.ImportPath, imp, false); err != "" {
				t.Error(err)
			}
		}
		for _, imp := range append(p.TestImports, p.XTestImports...) {
			if imp == p.ImportPath {
				continue
			}
			if err := allowed(p.ImportPath, imp, true); err != "" {
				t.Error(err + " (in its tests)")
			}
		}
		if p.ImportPath == "sluice/schema" {
			for _, imp := range p.Imports {
				if strings.Contains(strings.Split(imp, "/")[0], ".") && !strings.HasPrefix(imp, "cuelang.org/") {
					t.Errorf("sluice/schema imports %s: it may import only CUE and the standard library", imp)
				}
			}
		}
	}
	if seen < 5 {
		t.Fatalf("go list saw only %d packages", seen)
	}
}

func allowed(importer, imported string, inTest bool) string {
	if !strings.HasPrefix(imported, "sluice/") {
		return ""
	}
	for _, p := range testOnly {
		if imported == p {
			if inTest || strings.HasPrefix(importer, "sluice/internal/") {
				return ""
			}
			return importer + " imports " + imported + ", which only tests may import"
		}
	}
	for _, r := range importRules {
		if !match(r.pkg, imported) {
			continue
		}
		for _, who := range r.importers {
			if match(who, importer) {
				return ""
			}
		}
		return importer + " imports " + imported + ": not allowed by DESIGN.md"
	}
	return importer + " imports " + imported + ": no rule allows it"
}

func match(pattern, pkg string) bool {
	if strings.HasSuffix(pattern, "/*") {
		ok, _ := path.Match(pattern, pkg)
		return ok || strings.HasPrefix(pkg, strings.TrimSuffix(pattern, "*"))
	}
	return pattern == pkg
}
