package serving

import (
	"net"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/valyala/fasthttp"
)

// conns counts the keep-alive connections idle between requests: clients
// that may send their next request any moment. While there are none, and
// no request is being read, a partial batch has nothing to wait for. It
// also keeps Serve's open connections, to cut them when a shutdown's
// drain runs out of time.
type conns struct {
	mu    sync.Mutex
	idle  map[net.Conn]bool // net/http's, through ConnState
	count atomic.Int64
	open  map[*httpConn]struct{}
}

// trackFast is fasthttp's ConnState hook: a connection's idleness lives
// on it, so a request costs no lock here, only a connection does.
func (c *conns) trackFast(conn net.Conn, state fasthttp.ConnState) {
	hc, ok := conn.(*httpConn)
	if !ok {
		return
	}
	switch state {
	case fasthttp.StateIdle:
		if !hc.idle.Swap(true) {
			c.count.Add(1)
		}
		return
	case fasthttp.StateNew:
		c.mu.Lock()
		if c.open == nil {
			c.open = map[*httpConn]struct{}{}
		}
		c.open[hc] = struct{}{}
		c.mu.Unlock()
	case fasthttp.StateClosed, fasthttp.StateHijacked:
		c.mu.Lock()
		delete(c.open, hc)
		c.mu.Unlock()
	}
	if hc.idle.Swap(false) {
		c.count.Add(-1)
	}
}

// closeAll cuts every open connection of Serve's.
func (c *conns) closeAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for hc := range c.open {
		hc.Close()
	}
}

// track is an http.Server.ConnState hook.
func (c *conns) track(conn net.Conn, state http.ConnState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.idle == nil {
		c.idle = map[net.Conn]bool{}
	}
	if c.idle[conn] {
		c.count.Add(-1)
	}
	switch state {
	case http.StateIdle:
		c.idle[conn] = true
		c.count.Add(1)
	case http.StateClosed, http.StateHijacked:
		delete(c.idle, conn)
	default:
		c.idle[conn] = false
	}
}

// ConnState lets a caller serving Handler from its own http.Server tell
// the batcher about idle connections: set it as that server's ConnState.
// Without it a partial batch waits only for requests already being read.
func (s *Server) ConnState(conn net.Conn, state http.ConnState) { s.conns.track(conn, state) }
