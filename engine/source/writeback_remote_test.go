package source_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sluice/engine/source"
	"sluice/internal/testgit"
)

// exampleRemote is a bare repository holding the example on main, and a
// person's clone of it.
func exampleRemote(t *testing.T) (origin, work *testgit.Repo) {
	t.Helper()
	origin = testgit.NewBare(t)
	work = testgit.Clone(t, origin.Dir())
	work.CopyDir(filepath.Join("..", "..", "examples", "repo"), "specs")
	work.Commit("example")
	work.Git("push", "-q", "origin", "HEAD:main")
	return origin, work
}

func TestWriteBackPushesToARemoteAndStacksOnAPersonsPush(t *testing.T) {
	origin, work := exampleRemote(t)
	base := work.Head()
	w := writeBack(origin.URL())
	w.CacheDir = t.TempDir()
	first := propose(t, w, rollback(base))
	if !first.Created || origin.Git("rev-parse", wbBranch) != first.Commit || origin.Git("rev-parse", wbBranch+"^") != base {
		t.Fatalf("origin's %s is not the proposal %+v", wbBranch, first)
	}
	if lines := changedLines(origin.Git("diff", "--unified=0", base, wbBranch)); len(lines) != 2 || lines[1] != "+\taliases: production: 1" {
		t.Errorf("pushed diff %q", lines)
	}

	// A reviewer pushes a commit of their own to the branch.
	work.Git("fetch", "-q", "origin")
	work.Git("checkout", "-q", "-b", "review", "origin/"+wbBranch)
	work.Write("specs/NOTES", "checked by a person\n")
	theirs := work.Commit("note")
	work.Git("push", "-q", "origin", "HEAD:"+wbBranch)

	c := rollback(base)
	c.Version = 3
	second := propose(t, w, c)
	if origin.Git("rev-parse", wbBranch) != second.Commit || origin.Git("rev-parse", wbBranch+"^") != theirs {
		t.Errorf("second proposal %+v is not pushed on top of %s", second, theirs)
	}

	// Then one that moves the alias themselves: the next proposal is refused.
	work.Git("pull", "-q", "--ff-only", "origin", wbBranch)
	work.Write("specs/models.cue", strings.Replace(readFile(t, work, "specs/models.cue"), "production: 3", "production: 4", 1))
	mine := work.Commit("no, v4")
	work.Git("push", "-q", "origin", "HEAD:"+wbBranch)
	var conflict *source.ConflictError
	if _, err := w.Propose(context.Background(), rollback(base)); !errors.As(err, &conflict) || conflict.Commit != mine {
		t.Fatalf("error %v, want a conflict with %s", err, mine)
	}
	if origin.Git("rev-parse", wbBranch) != mine {
		t.Error("the refused write-back moved the remote branch")
	}
}

func TestWriteBackRefusedPushLeavesNothingBehind(t *testing.T) {
	origin, work := exampleRemote(t)
	hook := origin.Path("hooks/pre-receive")
	origin.Write("hooks/pre-receive", "#!/bin/sh\necho protected branch >&2\nexit 1\n")
	if err := os.Chmod(hook, 0o755); err != nil {
		t.Fatal(err)
	}
	w := writeBack(origin.URL())
	w.CacheDir = t.TempDir()
	if _, err := w.Propose(context.Background(), rollback(work.Head())); err == nil || !strings.Contains(err.Error(), "push "+wbBranch) {
		t.Fatalf("error %v, want the push refused", err)
	}
	if _, err := origin.Run("rev-parse", "--verify", "-q", wbBranch); err == nil {
		t.Fatal("the remote has the branch")
	}
	// Once the remote accepts, the branch is made afresh on the base,
	// never on the commit the remote refused.
	if err := os.Remove(hook); err != nil {
		t.Fatal(err)
	}
	if p := propose(t, w, rollback(work.Head())); !p.Created || origin.Git("rev-parse", wbBranch+"^") != work.Head() {
		t.Errorf("retry %+v", p)
	}
}
