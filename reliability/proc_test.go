package reliability

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// proc is a running sluice child whose output is read line by
// line and kept, so a test can wait for a line and show the whole log.
type proc struct {
	t    *testing.T
	cmd  *exec.Cmd
	mu   sync.Mutex
	log  strings.Builder
	seen chan struct{} // closed and replaced on every line
	done chan struct{} // closed when stderr ends
	err  error         // of Wait, once done
}

// sluiceCmd is the command for sluice args, run in dir with the state
// file "state.db" there (so artifacts land in dir/artifacts).
func sluiceCmd(dir string, env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(sluiceBin, append([]string{"--state", "state.db"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SLUICE_ORT_LIB="+ortLib)
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

// start starts cmd and reads its standard output and error, interleaved
// as written.
func start(t *testing.T, cmd *exec.Cmd) *proc {
	t.Helper()
	p := &proc{t: t, cmd: cmd, seen: make(chan struct{}), done: make(chan struct{})}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = w, w
	err = cmd.Start()
	w.Close()
	if err != nil {
		r.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { p.kill() })
	go p.read(r)
	return p
}

func (p *proc) read(r io.ReadCloser) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		p.mu.Lock()
		p.log.WriteString(sc.Text() + "\n")
		close(p.seen)
		p.seen = make(chan struct{})
		p.mu.Unlock()
	}
	io.Copy(io.Discard, r)
	r.Close()
	p.err = p.cmd.Wait()
	close(p.done)
}

// output is everything the child wrote so far.
func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// waitFor waits until the log holds substr and reports whether it did
// before the child ended or d passed.
func (p *proc) waitFor(substr string, d time.Duration) bool {
	deadline := time.After(d)
	for {
		p.mu.Lock()
		ok, seen := strings.Contains(p.log.String(), substr), p.seen
		p.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-seen:
		case <-p.done:
			return strings.Contains(p.output(), substr)
		case <-deadline:
			return false
		}
	}
}

// kill sends SIGKILL (if the child still runs) and reaps it.
func (p *proc) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// wait waits for the child to exit by itself, up to d, and returns its
// exit error; past d the test fails.
func (p *proc) wait(d time.Duration) error {
	p.t.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(d):
		p.kill()
		p.t.Fatalf("%s did not exit within %s:\n%s", strings.Join(p.cmd.Args, " "), d, p.output())
		return nil
	}
}

// exited reports whether the child has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}
