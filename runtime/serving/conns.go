package serving

import (
	"net"
	"net/http"
	"sync"
	"sync/atomic"
)

// conns counts the keep-alive connections idle between requests: clients
// that may send their next request any moment. While there are none, and
// no request is being read, a partial batch has nothing to wait for.
type conns struct {
	mu    sync.Mutex
	idle  map[net.Conn]bool
	count atomic.Int64
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
