package serving

import (
	"context"
	"errors"
	"sync"
	"syscall"
	"time"
)

// hangups tells a request waiting for its batch that its client closed
// the connection, so that the batcher drops it from the queue. fasthttp
// does not read a connection while its handler runs, so nothing else
// would notice; net/http notices with a goroutine reading each connection
// in the background, which costs a goroutine and two deadline changes per
// request. Here one goroutine waits on an epoll set for the peers'
// hang-ups (EPOLLRDHUP, edge-triggered): a connection joins the set when
// its first request waits, once for its life (closing it leaves the set),
// and a request costs a lock, not a system call.
type hangups struct {
	mu      sync.Mutex
	started bool // the epoll set and its goroutine exist
	failed  bool
	stopped bool
	epfd    int
	wake    [2]int // a pipe whose write ends the goroutine
	// conns are the connections in the set, by the id their events
	// carry: a connection's own, so that an event that comes after its
	// connection closed never reaches another one with the same fd.
	conns  map[uint32]*httpConn
	nextID uint32
	done   chan struct{}
}

// hangupState is what a connection keeps for the watch; hangups.mu does
// not guard it, its own mutex does.
type hangupState struct {
	mu     sync.Mutex
	id     uint32     // in the set when not 0
	tried  bool       // add was called: once per connection
	hungUp bool       // the peer closed its side
	waiter *hangupCtx // the request waiting now, if any
}

// start creates the epoll set and its goroutine on first use. mu held.
func (h *hangups) start() bool {
	if h.started || h.failed || h.stopped {
		return h.started
	}
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		h.failed = true
		return false
	}
	if err := syscall.Pipe2(h.wake[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
		syscall.Close(epfd)
		h.failed = true
		return false
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN} // id 0: the pipe
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, h.wake[0], &ev); err != nil {
		syscall.Close(epfd)
		syscall.Close(h.wake[0])
		syscall.Close(h.wake[1])
		h.failed = true
		return false
	}
	h.started, h.epfd = true, epfd
	h.conns = map[uint32]*httpConn{}
	h.done = make(chan struct{})
	go h.loop(epfd)
	return true
}

// loop marks the connections whose peers hang up and cancels their
// waiting requests, until stop.
func (h *hangups) loop(epfd int) {
	defer close(h.done)
	events := make([]syscall.EpollEvent, 64)
	for {
		n, err := syscall.EpollWait(epfd, events, -1)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return
		}
		for _, ev := range events[:n] {
			id := uint32(ev.Pad)
			if id == 0 {
				return // stop
			}
			h.mu.Lock()
			hc := h.conns[id]
			h.mu.Unlock()
			if hc != nil {
				hc.hup.hangUp()
			}
		}
	}
}

// hangUp records the peer's hang-up and ends the waiting request.
func (st *hangupState) hangUp() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.hungUp = true
	if w := st.waiter; w != nil {
		st.waiter = nil
		close(w.ch)
	}
}

// add puts hc in the set.
func (h *hangups) add(hc *httpConn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if hc.fd < 0 || !h.start() {
		return
	}
	h.nextID++
	if h.nextID == 0 {
		h.nextID = 1
	}
	id := h.nextID
	// EPOLLHUP and EPOLLERR come whether asked for or not.
	ev := syscall.EpollEvent{Events: syscall.EPOLLRDHUP | uint32(1)<<31, Pad: int32(id)} // 1<<31: EPOLLET
	if syscall.EpollCtl(h.epfd, syscall.EPOLL_CTL_ADD, hc.fd, &ev) != nil {
		return
	}
	h.conns[id] = hc
	hc.hup.mu.Lock()
	hc.hup.id = id
	hc.hup.mu.Unlock()
}

// forget drops a closed connection (closing its fd took it out of the
// epoll set).
func (h *hangups) forget(hc *httpConn) {
	hc.hup.mu.Lock()
	id := hc.hup.id
	hc.hup.id = 0
	hc.hup.mu.Unlock()
	if id != 0 {
		h.mu.Lock()
		delete(h.conns, id)
		h.mu.Unlock()
	}
}

// stop ends the goroutine and closes the set; later waits go unwatched.
func (h *hangups) stop() {
	h.mu.Lock()
	h.stopped = true
	started := h.started
	h.mu.Unlock()
	if !started {
		return
	}
	syscall.Write(h.wake[1], []byte{1})
	<-h.done
	h.mu.Lock()
	defer h.mu.Unlock()
	syscall.Close(h.epfd)
	syscall.Close(h.wake[0])
	syscall.Close(h.wake[1])
	h.started = false
	clear(h.conns)
}

// hangupCtx is the context of one request on a fasthttp connection: it
// ends when the client hangs up while the request waits on Done. The
// watch starts at the first Done, so a request answered without waiting
// costs nothing here; end stops it.
type hangupCtx struct {
	h    *hangups
	conn *httpConn // nil: never ends
	once sync.Once
	ch   chan struct{}
}

func newHangupCtx(h *hangups, conn *httpConn) *hangupCtx {
	return &hangupCtx{h: h, conn: conn}
}

func (c *hangupCtx) Deadline() (time.Time, bool) { return time.Time{}, false }
func (c *hangupCtx) Value(any) any               { return nil }

func (c *hangupCtx) Done() <-chan struct{} {
	c.once.Do(c.watch)
	return c.ch
}

// watch makes the channel and, the first time one of the connection's
// requests waits, puts the connection in the set.
func (c *hangupCtx) watch() {
	c.ch = make(chan struct{})
	if c.conn == nil || c.conn.fd < 0 {
		return
	}
	st := &c.conn.hup
	st.mu.Lock()
	if st.hungUp {
		close(c.ch)
		st.mu.Unlock()
		return
	}
	st.waiter = c
	tried := st.tried
	st.tried = true
	st.mu.Unlock()
	if !tried {
		// A hang-up before the add is reported by it: epoll checks a
		// file's state when it joins the set.
		c.h.add(c.conn)
	}
}

func (c *hangupCtx) Err() error {
	select {
	case <-c.Done():
		return context.Canceled
	default:
		return nil
	}
}

// end stops watching, once the request is answered.
func (c *hangupCtx) end() {
	if c.conn == nil {
		return
	}
	st := &c.conn.hup
	st.mu.Lock()
	if st.waiter == c {
		st.waiter = nil
	}
	st.mu.Unlock()
}
