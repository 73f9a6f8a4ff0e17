package source_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sluice/engine/source"
	"sluice/internal/testgit"
	"sluice/schema"
)

const (
	wbModel  = "fraud-detector"
	wbBranch = "sluice/proposals"
)

// exampleRepo is a repository whose specs/ holds the example repository
// (models.cue: aliases: production: 2).
func exampleRepo(t *testing.T) *testgit.Repo {
	t.Helper()
	r := testgit.New(t)
	r.CopyDir(filepath.Join("..", "..", "examples", "repo"), "specs")
	r.Commit("example")
	return r
}

func writeBack(repo string) *source.WriteBack {
	return &source.WriteBack{Repo: repo, Path: "specs", Branch: wbBranch,
		Now: func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) }}
}

func rollback(base string) source.AliasChange {
	return source.AliasChange{Base: base, Model: wbModel, Alias: "production", Version: 1, Action: "rollback",
		Why: "drift policy fraud-inputs: 2 of 3 features drifted (share 0.67 ≥ 0.5): amount psi 0.31 > 0.2 (n=600)"}
}

func propose(t *testing.T, w *source.WriteBack, c source.AliasChange) *source.Proposal {
	t.Helper()
	p, err := w.Propose(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// loadAt loads the specs of rev as the daemon would.
func loadAt(t *testing.T, repo, rev string) *schema.Spec {
	t.Helper()
	r := open(t, source.Options{Repo: repo, Rev: rev, Path: "specs", CacheDir: t.TempDir()})
	spec, err := schema.Load(schema.LoadOptions{FS: r.FS, Dir: r.Path})
	if err != nil {
		t.Fatalf("load %s: %v", rev, err)
	}
	return spec
}

// sameExceptAlias fails unless after is before with the alias moved to v.
func sameExceptAlias(t *testing.T, before, after *schema.Spec, alias string, v int) {
	t.Helper()
	if got := after.Models[wbModel].Aliases[alias]; got != v {
		t.Fatalf("%s@%s = %d after the write-back, want %d", wbModel, alias, got, v)
	}
	before.Models[wbModel].Aliases[alias] = v
	b, _ := json.Marshal(before)
	a, _ := json.Marshal(after)
	if !strings.Contains(string(b), `"fraud-rf"`) {
		t.Fatalf("the spec does not marshal to compare: %.200s", b)
	}
	if string(a) != string(b) {
		t.Errorf("the write-back changed more than the alias:\nbefore %s\nafter  %s", b, a)
	}
}

func TestWriteBackCommitsOnlyTheAliasLineOnANewBranch(t *testing.T) {
	r := exampleRepo(t)
	base := r.Head()
	p := propose(t, writeBack(r.Dir()), rollback(base))

	if !p.Created || p.Unchanged || p.From != 2 || p.File != "specs/models.cue" || p.Line != 20 || p.Base != base {
		t.Errorf("proposal %+v", p)
	}
	if got := r.Git("rev-parse", wbBranch); got != p.Commit {
		t.Errorf("branch at %s, proposal says %s", got, p.Commit)
	}
	if got := r.Git("rev-parse", wbBranch+"^"); got != base {
		t.Errorf("branch made on %s, want the base %s", got, base)
	}
	if got := r.Git("log", "-1", "--format=%an <%ae>|%cn <%ce>", wbBranch); got != "sluice <sluice@localhost>|sluice <sluice@localhost>" {
		t.Errorf("author|committer = %s", got)
	}
	msg := r.Git("log", "-1", "--format=%B", wbBranch)
	for _, want := range []string{"sluice rollback: fraud-detector@production v2 → v1\n", "amount psi 0.31 > 0.2 (n=600)",
		`models."fraud-detector".aliases.production in specs/models.cue:20`, base[:12]} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	diff := r.Git("diff", "--unified=0", base, wbBranch)
	if lines := changedLines(diff); strings.Join(lines, "\n") != "-\taliases: production: 2\n+\taliases: production: 1" {
		t.Errorf("diff is not exactly the alias line:\n%s", diff)
	}
	if st := r.Git("status", "--porcelain"); st != "" || r.Git("rev-parse", "--abbrev-ref", "HEAD") != "main" {
		t.Errorf("work tree touched: status %q", st)
	}
	sameExceptAlias(t, loadAt(t, r.Dir(), base), loadAt(t, r.Dir(), wbBranch), "production", 1)
}

// changedLines are a diff's removed and added lines.
func changedLines(diff string) []string {
	var out []string
	for _, l := range strings.Split(diff, "\n") {
		if (strings.HasPrefix(l, "-") || strings.HasPrefix(l, "+")) && !strings.HasPrefix(l, "---") && !strings.HasPrefix(l, "+++") {
			out = append(out, l)
		}
	}
	return out
}

func TestWriteBackAddsAnUndeclaredAliasInsideTheAliasesStruct(t *testing.T) {
	r := exampleRepo(t)
	c := rollback(r.Head())
	c.Alias, c.Version, c.Action = "staging", 1, "promote"
	p := propose(t, writeBack(r.Dir()), c)
	if p.From != 0 || !strings.HasPrefix(r.Git("log", "-1", "--format=%s", wbBranch), "sluice promote: fraud-detector@staging unset → v1") {
		t.Errorf("proposal %+v, subject %q", p, r.Git("log", "-1", "--format=%s", wbBranch))
	}
	if lines := changedLines(r.Git("diff", "--unified=0", c.Base, wbBranch)); len(lines) != 1 || lines[0] != "+\taliases: staging: 1" {
		t.Errorf("diff %q", lines)
	}
	sameExceptAlias(t, loadAt(t, r.Dir(), c.Base), loadAt(t, r.Dir(), wbBranch), "staging", 1)
}

func TestWriteBackAddsAnAliasToAModelDeclaredInShorthandAndItStillLoads(t *testing.T) {
	r := exampleRepo(t)
	r.Write("specs/models.cue", "package sluice\n\nmodels: \"fraud-detector\": aliases: production: 2\n")
	base := r.Commit("one line")
	c := rollback(base)
	c.Alias, c.Action = "staging", "promote"
	propose(t, writeBack(r.Dir()), c)
	if got := r.Git("show", wbBranch+":specs/models.cue"); got != "package sluice\n\nmodels: \"fraud-detector\": aliases: {production: 2, staging: 1}" {
		t.Errorf("models.cue:\n%s", got)
	}
	sameExceptAlias(t, loadAt(t, r.Dir(), base), loadAt(t, r.Dir(), wbBranch), "staging", 1)
}

func TestWriteBackStacksOnItsOwnProposalAndFastForwardsAfterAMerge(t *testing.T) {
	r := exampleRepo(t)
	w := writeBack(r.Dir())
	base := r.Head()
	first := propose(t, w, rollback(base))
	c := rollback(base)
	c.Version, c.Action = 3, "promote"
	second := propose(t, w, c)
	if second.Created || r.Git("rev-parse", wbBranch+"^") != first.Commit || second.From != 1 {
		t.Errorf("second proposal %+v is not on top of the first %s", second, first.Commit)
	}
	if lines := changedLines(r.Git("diff", "--unified=0", base, wbBranch)); strings.Join(lines, "\n") != "-\taliases: production: 2\n+\taliases: production: 3" {
		t.Errorf("net diff %q", lines)
	}

	// A person merges the proposal; the next one starts from the new base.
	r.Git("merge", "-q", "--ff-only", wbBranch)
	merged := r.Head()
	third := propose(t, w, rollback(merged))
	if r.Git("rev-parse", wbBranch+"^") != merged || third.From != 3 {
		t.Errorf("after the merge the branch is on %s, want %s; proposal %+v", r.Git("rev-parse", wbBranch+"^"), merged, third)
	}
}

func TestWriteBackRefusesToOverwriteAPersonsChangeOfTheAlias(t *testing.T) {
	r := exampleRepo(t)
	base := r.Head()
	r.Git("checkout", "-q", "-b", wbBranch)
	r.Write("specs/models.cue", strings.Replace(readFile(t, r, "specs/models.cue"), "production: 2", "production: 5", 1))
	theirs := r.Commit("promote v5 by hand")
	r.Git("checkout", "-q", "main")

	_, err := writeBack(r.Dir()).Propose(context.Background(), rollback(base))
	var conflict *source.ConflictError
	if !errors.As(err, &conflict) || conflict.Commit != theirs || conflict.Value != 5 || conflict.Want != 1 ||
		conflict.Author != testgit.AuthorName+" <"+testgit.AuthorEmail+">" {
		t.Fatalf("error %v (%+v), want a conflict with %s", err, conflict, theirs)
	}
	if r.Git("rev-parse", wbBranch) != theirs {
		t.Error("the refused write-back moved the branch")
	}

	// Their proposal of the same version is no conflict, and no new commit.
	c := rollback(base)
	c.Version = 5
	if p := propose(t, writeBack(r.Dir()), c); !p.Unchanged || p.Commit != theirs {
		t.Errorf("proposing what the branch says: %+v", p)
	}
}

func TestWriteBackBuildsOnAPersonsUnrelatedCommit(t *testing.T) {
	r := exampleRepo(t)
	base := r.Head()
	w := writeBack(r.Dir())
	propose(t, w, rollback(base))
	r.Git("checkout", "-q", wbBranch)
	r.Write("specs/models.cue", strings.Replace(readFile(t, r, "specs/models.cue"), `owner:       "fraud-ml"`, `owner:       "risk-ml"`, 1))
	theirs := r.Commit("hand the model to risk-ml")
	r.Git("checkout", "-q", "main")

	c := rollback(base)
	c.Version = 3
	p := propose(t, w, c)
	if r.Git("rev-parse", wbBranch+"^") != theirs || p.From != 1 {
		t.Errorf("proposal %+v not on top of %s", p, theirs)
	}
	if !strings.Contains(r.Git("show", wbBranch+":specs/models.cue"), `owner:       "risk-ml"`) {
		t.Error("their change was lost")
	}
}

func TestWriteBackOfWhatTheBaseSaysCommitsNothing(t *testing.T) {
	r := exampleRepo(t)
	c := rollback(r.Head())
	c.Version = 2
	p := propose(t, writeBack(r.Dir()), c)
	if !p.Unchanged || p.Commit != c.Base {
		t.Errorf("proposal %+v", p)
	}
	if _, err := r.Run("rev-parse", "--verify", "-q", wbBranch); err == nil {
		t.Error("a branch was made for nothing")
	}
}

func TestWriteBackRefusesBadRequestsAndChangesNothing(t *testing.T) {
	r := exampleRepo(t)
	base := r.Head()
	r.Git("branch", "checked-out-elsewhere")
	tests := []struct {
		name, want string
		w          func(*source.WriteBack)
		c          func(*source.AliasChange)
	}{
		{"invalid branch", `write-back branch "a..b" is not a valid branch name`, func(w *source.WriteBack) { w.Branch = "a..b" }, nil},
		{"checked-out branch", "branch main is checked out in " + r.Dir(), func(w *source.WriteBack) { w.Branch = "main" }, nil},
		{"no base", "no base commit", nil, func(c *source.AliasChange) { c.Base = "" }},
		{"unknown base", "base 0123456789abcdef0123456789abcdef01234567", nil, func(c *source.AliasChange) { c.Base = "0123456789abcdef0123456789abcdef01234567" }},
		{"unknown model", `model "nope" is not declared in the CUE files of specs`, nil, func(c *source.AliasChange) { c.Model = "nope" }},
		{"no version", "a version of at least 1 are needed", nil, func(c *source.AliasChange) { c.Version = 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, c := writeBack(r.Dir()), rollback(base)
			if tt.w != nil {
				tt.w(w)
			}
			if tt.c != nil {
				tt.c(&c)
			}
			_, err := w.Propose(context.Background(), c)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
	if refs := r.Git("for-each-ref", "--format=%(refname)"); refs != "refs/heads/checked-out-elsewhere\nrefs/heads/main" || r.Head() != base {
		t.Errorf("refs changed: %s", refs)
	}
}

func readFile(t *testing.T, r *testgit.Repo, name string) string {
	t.Helper()
	b, err := os.ReadFile(r.Path(name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestProposeAliasTakesTheActionFromWhy(t *testing.T) {
	r := exampleRepo(t)
	w := writeBack(r.Dir())
	base := r.Head()
	w.Base = func(context.Context) (string, error) { return base, nil }
	commit, err := w.ProposeAlias(context.Background(), wbModel, "production", 1, "rollback: drift policy fraud-inputs: amount psi 0.31 > 0.2")
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Git("log", "-1", "--format=%s%n%b", commit); !strings.HasPrefix(got, "sluice rollback: fraud-detector@production v2 → v1\ndrift policy fraud-inputs: amount psi 0.31 > 0.2\n") {
		t.Errorf("message %q", got)
	}
	commit, err = w.ProposeAlias(context.Background(), wbModel, "production", 3, "Retrained on drift")
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Git("log", "-1", "--format=%s", commit); got != "sluice promote: fraud-detector@production v1 → v3" {
		t.Errorf("subject %q", got)
	}
}

func TestWriteBackRefusesABranchALinkedWorkTreeHasCheckedOut(t *testing.T) {
	r := exampleRepo(t)
	base := r.Head()
	linked := filepath.Join(t.TempDir(), "review")
	r.Git("worktree", "add", "-q", "-b", wbBranch, linked)
	_, err := writeBack(r.Dir()).Propose(context.Background(), rollback(base))
	if err == nil || !strings.Contains(err.Error(), "branch "+wbBranch+" is checked out in "+linked) {
		t.Fatalf("error %v, want the linked work tree named", err)
	}
	// From the linked work tree, the main one's branch is refused too.
	w := writeBack(linked)
	w.Branch = "main"
	if _, err := w.Propose(context.Background(), rollback(base)); err == nil || !strings.Contains(err.Error(), "branch main is checked out in "+r.Dir()) {
		t.Fatalf("error %v, want the main work tree named", err)
	}
	if r.Git("rev-parse", wbBranch) != base || r.Head() != base {
		t.Error("a refused write-back moved a branch")
	}
}
