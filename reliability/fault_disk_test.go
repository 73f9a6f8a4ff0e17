package reliability

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// smallDisk makes a directory on a tmpfs of size bytes and returns it
// with a function that grows the tmpfs. Without the right to mount (not
// root), it returns ok false, and the caller limits the child's file size
// with RLIMIT_FSIZE instead.
func smallDisk(t *testing.T, size string) (dir string, grow func(), ok bool) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "disk")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Logf("no tmpfs (%v: %s): limiting the file size with RLIMIT_FSIZE instead", err, strings.TrimSpace(string(out)))
		return dir, func() {}, false
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir, func() {
		if out, err := exec.Command("mount", "-o", "remount,size=256m", dir).CombinedOutput(); err != nil {
			t.Fatalf("grow the tmpfs: %v: %s", err, out)
		}
	}, true
}

// TestApplyOnAFullDiskFailsCleanlyAndResumes applies the example with the
// state file on a 600 KiB file system, which fills while the feature
// views are materialized. Apply exits non-zero saying the disk is full;
// the state file is intact; once there is room, apply finishes and the
// state equals that of an apply that never ran out of space.
func TestApplyOnAFullDiskFailsCleanlyAndResumes(t *testing.T) {
	needORT(t)
	repo := exampleRepo(t)
	args := []string{"apply", "--repo", repo.Dir(), "--path", specPath, "--auto-approve"}
	cleanDir := t.TempDir()
	if p := start(t, sluiceCmd(cleanDir, nil, args...)); p.wait(2*time.Minute) != nil {
		t.Fatalf("apply on a roomy disk failed:\n%s", p.output())
	}
	want := canonical(t, cleanDir)

	dir, grow, mounted := smallDisk(t, "600k")
	cmd := sluiceCmd(dir, nil, args...)
	if !mounted {
		cmd = exec.Command("bash", append([]string{"-c", `ulimit -f 600 && exec "$@"`, "bash"}, cmd.Args...)...)
		cmd.Dir, cmd.Env = dir, sluiceCmd(dir, nil).Env
	}
	p := start(t, cmd)
	err := p.wait(2 * time.Minute)
	out := p.output()
	if err == nil {
		t.Fatalf("apply on a full disk succeeded:\n%s", out)
	}
	if mounted && !strings.Contains(out, "full") && !strings.Contains(out, "no space") {
		t.Errorf("apply on a full disk does not say the disk is full:\n%s", out)
	}
	if !strings.Contains(out, "materializing") {
		t.Errorf("the disk filled before materialization started; the test no longer covers it:\n%s", out)
	}
	if strings.Contains(out, "panic") {
		t.Errorf("apply panicked:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "state.db")); err == nil {
		var bad []string
		for _, b := range checkInvariants(t, dir) {
			// Recording the apply's end needs room too: like a crash, a
			// full disk may leave it marked in progress until the next
			// apply marks it interrupted (checked after resuming).
			if !strings.HasPrefix(b, "applies left in progress") {
				bad = append(bad, b)
			}
		}
		if len(bad) > 0 {
			t.Errorf("after the disk filled:\n%s", strings.Join(bad, "\n"))
		}
	}

	grow()
	p = start(t, sluiceCmd(dir, nil, args...))
	if err := p.wait(2 * time.Minute); err != nil {
		t.Fatalf("apply with room again: %v\n%s", err, p.output())
	}
	if bad := checkInvariants(t, dir); len(bad) > 0 {
		t.Errorf("after resuming:\n%s", strings.Join(bad, "\n"))
	}
	if got := canonical(t, dir); got != want {
		t.Errorf("state after the disk filled differs from an apply that had room:\n%s", diffLines(want, got))
	}
}
