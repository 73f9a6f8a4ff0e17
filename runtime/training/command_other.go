//go:build !unix

package training

import (
	"os/exec"
	"time"
)

// isolate kills the program when its context ends; without process groups
// its children may outlive it.
func isolate(cmd *exec.Cmd) {
	cmd.WaitDelay = 5 * time.Second
}
