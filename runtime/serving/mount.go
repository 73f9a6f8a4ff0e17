package serving

import (
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
// theirs. A later Mount replaces the earlier one.
func (s *Server) Mount(h http.Handler, prefixes ...string) {
	s.mount.Store(&mounted{h: h, prefixes: prefixes})
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
