package serving

import (
	"bytes"
	"net/http"
	"strings"
	"sync/atomic"
)

// mounted is another part of the process served on the data plane's
// listener: requests whose path starts with one of its prefixes go to it.
type mounted struct {
	h        http.Handler
	prefixes []string
}

// Mount serves h on the data plane's listener for every path that starts
// with one of prefixes (the daemon's operator API: "/api/", "/hooks/",
// "/readyz"), so one address answers both inference and operators. The
// data plane's own routes are never shadowed: a prefix may not be one of
// theirs. A later Mount replaces the earlier one. On Serve's listener a
// body is read before h runs, up to 64 MiB (h applies its own limit
// within that).
func (s *Server) Mount(h http.Handler, prefixes ...string) {
	s.mount.Store(&mounted{h: h, prefixes: prefixes})
}

// isMounted reports whether path goes to the Mount's handler.
func (s *Server) isMounted(path []byte) bool {
	if m := s.mount.Load(); m != nil {
		for _, p := range m.prefixes {
			if bytes.HasPrefix(path, []byte(p)) {
				return true
			}
		}
	}
	return false
}

// front sends a mounted path to its handler, the rest to the data plane.
type front struct {
	mount *atomic.Pointer[mounted]
	next  http.Handler
}

func (f front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if m := f.mount.Load(); m != nil {
		for _, p := range m.prefixes {
			if strings.HasPrefix(r.URL.Path, p) {
				m.h.ServeHTTP(w, r)
				return
			}
		}
	}
	f.next.ServeHTTP(w, r)
}
