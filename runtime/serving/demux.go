package serving

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// The listener is shared by HTTP/1.1 and gRPC, and gRPC runs on grpc-go's
// own transport rather than through net/http's HTTP/2 server and
// grpc.Server.ServeHTTP, which takes about twice the CPU per call. A
// connection that opens with HTTP/2's client preface (gRPC clients speak
// HTTP/2 with prior knowledge) goes to the gRPC server; any other goes to
// the HTTP/1.1 server (fasthttp, see fast.go).

// http2Preface opens every HTTP/2 connection made with prior knowledge.
var http2Preface = []byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")

// connListener is a net.Listener fed with connections by demux. The one
// net/http serves owns the shared listener: closing it (http.Server's
// Shutdown and Close do) closes that too, which stops demux.
type connListener struct {
	addr  net.Addr
	base  net.Listener // closed with this one, when set
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newConnListener(base net.Listener) *connListener {
	l := &connListener{base: base, conns: make(chan net.Conn), done: make(chan struct{})}
	if base != nil {
		l.addr = base.Addr()
	}
	return l
}

// Accept returns the next connection demux hands over.
func (l *connListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close stops Accept; connections already handed over stay open.
func (l *connListener) Close() error {
	var err error
	l.once.Do(func() {
		close(l.done)
		if l.base != nil {
			err = l.base.Close()
		}
	})
	return err
}

// Addr is the shared listener's address.
func (l *connListener) Addr() net.Addr { return l.addr }

// hand gives c to the listener's server, or closes it once that server
// has stopped.
func (l *connListener) hand(c net.Conn) {
	select {
	case l.conns <- c:
	case <-l.done:
		c.Close()
	}
}

// peekedConn is a connection whose first bytes were read to classify it;
// reads replay them, then read the connection directly. (Neither server
// reads a connection from two goroutines at once.)
type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *peekedConn) Read(b []byte) (int, error) {
	if c.r != nil {
		if c.r.Buffered() > 0 {
			return c.r.Read(b)
		}
		c.r = nil
	}
	return c.Conn.Read(b)
}

// demux accepts connections on ln until it fails (it is closed), and
// hands each to grpcL or httpL by its first bytes, which must come within
// timeout; then it closes both.
func demux(ln net.Listener, httpL, grpcL *connListener, timeout time.Duration) error {
	defer httpL.Close()
	defer grpcL.Close()
	backoff := 5 * time.Millisecond
	for {
		c, err := ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return err
		}
		if err != nil {
			// Out of file descriptors, say: try again, as net/http does.
			time.Sleep(backoff)
			backoff = min(2*backoff, time.Second)
			continue
		}
		backoff = 5 * time.Millisecond
		go classify(c, httpL, grpcL, timeout)
	}
}

// classify reads as much of c's first bytes as tells whether they are
// the HTTP/2 preface: the first byte that differs sends c to the HTTP/1.1
// server, which then reads them again.
func classify(c net.Conn, httpL, grpcL *connListener, timeout time.Duration) {
	c.SetReadDeadline(time.Now().Add(timeout))
	r := bufio.NewReaderSize(c, 4096)
	n := 1
	for {
		b, err := r.Peek(n)
		if len(b) > 0 && !bytes.HasPrefix(http2Preface, b) {
			break // not HTTP/2: the HTTP/1.1 server reads the request
		}
		if err != nil {
			c.Close() // nothing or only part of a preface came: no server wants it
			return
		}
		if len(b) == len(http2Preface) {
			c.SetReadDeadline(time.Time{})
			grpcL.hand(&peekedConn{c, r})
			return
		}
		n = min(max(r.Buffered(), n+1), len(http2Preface))
	}
	c.SetReadDeadline(time.Time{})
	httpL.hand(newHTTPConn(peekedConn{c, r}))
}

// httpConn is a connection fasthttp serves: it knows its file descriptor,
// for the hang-up watch of its waiting requests (hangup_linux.go), and
// whether it is idle between requests, for the batcher (conns.go).
type httpConn struct {
	peekedConn
	fd   int // -1 when unknown
	idle atomic.Bool
	hup  hangupState
	// linger: the last request's body was left unread (closeUnread).
	linger atomic.Bool
}

// lingerTime is how long a connection closed on an unread body reads
// and drops what the client still sends, as net/http waits 500ms.
const lingerTime = 500 * time.Millisecond

// Close closes the connection; one whose client may still be sending a
// body the server refused first closes its writing side, so the answer
// goes out ahead of a FIN, and drops what arrives until the client
// closes too or lingerTime passes. Closing at once with unread bytes
// would send a reset, which can destroy the answer before it is read.
func (c *httpConn) Close() error {
	if c.linger.Swap(false) {
		if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
			c.Conn.SetReadDeadline(time.Now().Add(lingerTime))
			io.Copy(io.Discard, c.Conn)
		}
	}
	return c.Conn.Close()
}

func newHTTPConn(c peekedConn) *httpConn {
	hc := &httpConn{peekedConn: c, fd: -1}
	if sc, ok := c.Conn.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			raw.Control(func(fd uintptr) { hc.fd = int(fd) })
		}
	}
	return hc
}
