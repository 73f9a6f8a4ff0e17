//go:build unix

package training

import (
	"os/exec"
	"syscall"
	"time"
)

// isolate runs cmd in its own process group and, when its context ends,
// kills the whole group, so a trainer's children stop with it.
func isolate(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	// A child that outlived the kill (it left the group) must not hold
	// the log open forever.
	cmd.WaitDelay = 5 * time.Second
}
