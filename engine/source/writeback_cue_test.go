package source

import (
	"strings"
	"testing"
)

// The edit of a write-back changes only the alias's literal, or adds one
// field where a person would, and leaves every other byte alone.
func TestAliasEditChangesOnlyTheLiteral(t *testing.T) {
	tests := []struct {
		name, alias string
		version     int
		in, want    string
		from, line  int
	}{{
		name: "shorthand inside the model's struct keeps comments", alias: "production", version: 1, from: 2, line: 5,
		in: `package sluice

models: "fraud-detector": {
	// production is what the endpoint serves.
	aliases: production: 2 // v2 won the bake-off
	archive_previous: true
}
`,
		want: `package sluice

models: "fraud-detector": {
	// production is what the endpoint serves.
	aliases: production: 1 // v2 won the bake-off
	archive_previous: true
}
`,
	}, {
		name: "quoted labels all the way down", alias: "production", version: 12, from: 2, line: 1,
		in:   `"models": {"fraud-detector": {"aliases": {"production": 2, staging: 3}}}` + "\n",
		want: `"models": {"fraud-detector": {"aliases": {"production": 12, staging: 3}}}` + "\n",
	}, {
		name: "one-line shorthand from the top", alias: "production", version: 3, from: 2, line: 2,
		in:   "package sluice\nmodels: \"fraud-detector\": aliases: production:   2\nmodels: other: aliases: production: 2\n",
		want: "package sluice\nmodels: \"fraud-detector\": aliases: production:   3\nmodels: other: aliases: production: 2\n",
	}, {
		name: "hex literal inside an embedded struct", alias: "production", version: 4, from: 2, line: 2,
		in:   "models: \"fraud-detector\": {\n\t{aliases: production: 0x2}\n}\n",
		want: "models: \"fraud-detector\": {\n\t{aliases: production: 4}\n}\n",
	}, {
		name: "new alias in a multi-line aliases struct", alias: "staging", version: 3, line: 4,
		in:   "models: \"fraud-detector\": {\n\taliases: {\n\t\tproduction: 2 // keep\n\t}\n}\n",
		want: "models: \"fraud-detector\": {\n\taliases: {\n\t\tproduction: 2 // keep\n\t\tstaging: 3\n\t}\n}\n",
	}, {
		name: "new alias in a one-line aliases struct", alias: "staging", version: 3, line: 1,
		in:   "models: \"fraud-detector\": {aliases: {production: 2}}\n",
		want: "models: \"fraud-detector\": {aliases: {production: 2, staging: 3}}\n",
	}, {
		name: "new alias in an empty aliases struct", alias: "staging", version: 3, line: 1,
		in:   "models: \"fraud-detector\": {aliases: {}}\n",
		want: "models: \"fraud-detector\": {aliases: {staging: 3}}\n",
	}, {
		name: "new aliases field in the model's struct, label quoted", alias: "canary-1", version: 3, line: 3,
		in:   "models: \"fraud-detector\": {\n\towner: \"fraud-ml\"\n}\n",
		want: "models: \"fraud-detector\": {\n\towner: \"fraud-ml\"\n\taliases: \"canary-1\": 3\n}\n",
	}, {
		name: "shorthand aliases get braces", alias: "canary", version: 3, line: 2,
		in:   "package sluice\nmodels: \"fraud-detector\": aliases: production: 2 // keep\n",
		want: "package sluice\nmodels: \"fraud-detector\": aliases: {production: 2, canary: 3} // keep\n",
	}, {
		name: "a model declared in shorthand gets braces, never a second declaration", alias: "production", version: 1, line: 2,
		in:   "package sluice\nmodels: \"fraud-detector\": owner: \"fraud-ml\"",
		want: "package sluice\nmodels: \"fraud-detector\": {owner: \"fraud-ml\", aliases: production: 1}",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := []specFile{{name: "specs/models.cue", src: []byte(tt.in)}}
			edits, from, err := aliasEdits(files, "specs", "fraud-detector", tt.alias, tt.version)
			if err != nil {
				t.Fatal(err)
			}
			if len(edits) != 1 {
				t.Fatalf("got %d edits, want 1", len(edits))
			}
			e := edits[0]
			if got := string(e.out); got != tt.want {
				t.Errorf("edited file:\n%s\nwant:\n%s", got, tt.want)
			}
			if from != tt.from || e.line != tt.line {
				t.Errorf("from %d at line %d, want from %d at line %d", from, e.line, tt.from, tt.line)
			}
			if err := checkEdit(e, "fraud-detector", tt.alias, tt.version); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestAliasEditEditsEveryFileThatDeclaresIt(t *testing.T) {
	files := []specFile{
		{name: "a.cue", src: []byte("models: m: aliases: production: 2\n")},
		{name: "b.cue", src: []byte("models: m: {aliases: {production: 2}}\n")},
		{name: "c.cue", src: []byte("models: n: aliases: production: 2\n")},
	}
	edits, from, err := aliasEdits(files, ".", "m", "production", 1)
	if err != nil {
		t.Fatal(err)
	}
	if from != 2 || len(edits) != 2 || edits[0].name != "a.cue" || edits[1].name != "b.cue" {
		t.Fatalf("from %d, edits %+v", from, edits)
	}
	if got := string(edits[1].out); got != "models: m: {aliases: {production: 1}}\n" {
		t.Errorf("b.cue: %q", got)
	}
}

func TestAliasEditAlreadyDeclaredIsNoEdit(t *testing.T) {
	files := []specFile{{name: "m.cue", src: []byte("models: m: aliases: production: 2\n")}}
	edits, from, err := aliasEdits(files, ".", "m", "production", 2)
	if err != nil || len(edits) != 0 || from != 2 {
		t.Fatalf("edits %v, from %d, err %v; want none, 2, nil", edits, from, err)
	}
}

func TestAliasEditRefusesWhatItCannotWriteSafely(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"an expression", "models: m: aliases: production: 1 + 1\n", "m.cue:1: models.m.aliases.production is an expression, not a number"},
		{"a reference", "_v: 2\nmodels: m: {\n\taliases: production: _v\n}\n", "m.cue:3: models.m.aliases.production is an expression"},
		{"a model nobody declared", "models: other: aliases: production: 2\n", `model "m" is not declared in the CUE files of .`},
		{"a file that does not parse", "models: m: {\n", "parse m.cue"},
		{"a model declared by a reference", "_base: {owner: \"x\"}\nmodels: m: _base\n", "m.cue: models.m is not declared by a struct literal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := aliasEdits([]specFile{{name: "m.cue", src: []byte(tt.src)}}, ".", "m", "production", 3)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
