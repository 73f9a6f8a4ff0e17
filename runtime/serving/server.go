// Package serving is Sluice's data plane: it serves ONNX models through
// ONNX Runtime behind TensorFlow Serving's REST API and the Open Inference
// Protocol (v2, REST and gRPC) on one listener, batches rows dynamically as Triton does,
// places sessions in instance groups, and swaps a new model version in
// under load without failing a request. See README.md.
package serving

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
	"google.golang.org/grpc"
)

// Options configure a Server. Zero fields take the defaults beside them.
type Options struct {
	// ORTLibrary is the ONNX Runtime shared library (see InitORT).
	ORTLibrary string
	// MaxBodyBytes bounds a request body; larger ones answer 413.
	// Default 16 MiB.
	MaxBodyBytes int64
	// Server timeouts of the listener: reading a request from its first
	// byte to the end of its body (default 30s), a new connection's first
	// bytes, which tell HTTP/1.1 from gRPC (10s), writing a response
	// (30s), an idle keep-alive connection (120s).
	ReadTimeout, ReadHeaderTimeout, WriteTimeout, IdleTimeout time.Duration
	// Logger receives deploys, swaps and failures; nil discards them.
	Logger *slog.Logger
	// Feedback receives POST /v1/feedback's labels (see SetFeedback).
	Feedback FeedbackSink
}

// Log keys.
const (
	logEndpoint = "endpoint"
	logVersion  = "version"
	logReason   = "reason"
	logErr      = "err"
)

// Server holds a set of endpoints and serves them over HTTP. Deploy,
// Remove and Status may be called while it serves.
type Server struct {
	opts    Options
	log     *slog.Logger
	metrics *metrics
	handler http.Handler
	// mount is what Mount put beside the data plane's routes.
	mount atomic.Pointer[mounted]
	// fast serves Serve's HTTP/1.1 connections (fast.go); adapted is the
	// net/http mux behind it, for every route but inference.
	fast    *fasthttp.Server
	adapted fasthttp.RequestHandler
	// base is the context of the requests behind adapted; cut ends it
	// when Close stops waiting for them.
	base context.Context
	cut  context.CancelFunc
	grpc *grpc.Server
	// hangups watches the connections of requests waiting for a batch.
	hangups hangups

	conns     conns
	mu        sync.Mutex // serialises changes to the endpoint set
	endpoints atomic.Pointer[map[string]*endpoint]
	retiring  sync.WaitGroup
	closed    atomic.Bool
	listeners []*connListener                // Serve's, closed by Close; mu guards it
	online    atomic.Pointer[OnlineFeatures] // the Feast route's reader
	feedback  atomic.Pointer[FeedbackSink]   // POST /v1/feedback's sink
	ids       *requestIDs

	// wrap, set by tests, wraps every instance's runner.
	wrap func(runner) runner
}

// New starts ONNX Runtime (once per process) and returns a Server with no
// endpoints.
func New(opts Options) (*Server, error) {
	if err := InitORT(opts.ORTLibrary); err != nil {
		return nil, err
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 16 << 20
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&opts.ReadTimeout, 30*time.Second)
	def(&opts.ReadHeaderTimeout, 10*time.Second)
	def(&opts.WriteTimeout, 30*time.Second)
	def(&opts.IdleTimeout, 120*time.Second)
	s := &Server{opts: opts, log: opts.Logger, metrics: newMetrics(), ids: newRequestIDs()}
	if opts.Feedback != nil {
		s.SetFeedback(opts.Feedback)
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.endpoints.Store(&map[string]*endpoint{})
	s.grpc = s.newGRPC()
	s.handler = withGRPC(s.grpc, front{mount: &s.mount, next: s.routes()})
	s.base, s.cut = context.WithCancel(context.Background())
	s.adapted = adaptedHandler(s.base, front{mount: &s.mount, next: s.routes()})
	s.fast = s.newFast()
	return s, nil
}

// Handler returns the data plane's routes, for callers that run their own
// http.Server (which must speak HTTP/2 for the gRPC service).
func (s *Server) Handler() http.Handler { return s.handler }

// Serve answers requests on ln until Close. The listener is the server's,
// not an endpoint's: it outlives every swap. Connections that open with
// HTTP/2's preface go to the gRPC service's own transport, the rest to
// fasthttp (see demux.go and fast.go).
func (s *Server) Serve(ln net.Listener) error {
	httpL := newConnListener(ln) // closing it (Shutdown does) closes ln
	// Close closes the listener too: fasthttp's Shutdown does nothing to
	// a Serve that has not reached its Accept yet, which would then serve
	// on after Close returned.
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		httpL.Close()
		return nil
	}
	s.listeners = append(s.listeners, httpL)
	s.mu.Unlock()
	grpcL := newConnListener(nil)
	grpcL.addr = ln.Addr()
	go s.grpc.Serve(grpcL)
	go demux(ln, httpL, grpcL, s.opts.ReadHeaderTimeout)
	return s.fast.Serve(httpL)
}

// stopGRPC lets the gRPC calls in flight finish, until ctx ends.
func stopGRPC(ctx context.Context, g *grpc.Server) {
	done := make(chan struct{})
	go func() {
		g.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		g.Stop()
		<-done
	}
}

// lookup returns the named endpoint, or nil.
func (s *Server) lookup(name string) *endpoint {
	return (*s.endpoints.Load())[name]
}

// Status reports the named endpoint's state, and false when no endpoint has
// that name.
func (s *Server) Status(name string) (EndpointStatus, bool) {
	ep := s.lookup(name)
	if ep == nil {
		return EndpointStatus{Name: name}, false
	}
	return ep.statusNow(), true
}

// Statuses reports every endpoint's state, by name.
func (s *Server) Statuses() []EndpointStatus {
	m := *s.endpoints.Load()
	out := make([]EndpointStatus, 0, len(m))
	for _, name := range slices.Sorted(maps.Keys(m)) {
		out = append(out, m[name].statusNow())
	}
	return out
}

// Remove stops serving the named endpoint: new requests get 404, requests
// in flight finish, then its sessions close. Removing an unknown endpoint
// is a no-op.
func (s *Server) Remove(ctx context.Context, name string) error {
	s.mu.Lock()
	ep := s.lookup(name)
	if ep == nil {
		s.mu.Unlock()
		return nil
	}
	m := maps.Clone(*s.endpoints.Load())
	delete(m, name)
	s.endpoints.Store(&m)
	s.mu.Unlock()

	ep.deploy.Lock()
	defer ep.deploy.Unlock()
	ep.removed = true // a Deploy waiting for the lock must not revive it
	ep.setStatus(StateProgressing, ReasonRemoved, "removed", nil)
	s.metrics.loaded.DeleteLabelValues(name)
	if old := ep.cur.Swap(nil); old != nil {
		return s.retire(ctx, ep, old)
	}
	return nil
}

// Close stops the listener (waiting for requests in flight up to ctx's
// deadline, then cutting connections), removes every endpoint and closes
// their sessions.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closed.Store(true) // under mu: no endpoint or Serve starts after this
	listeners := s.listeners
	s.mu.Unlock()
	shutCtx, cancel := context.WithTimeoutCause(ctx, 30*time.Second, errors.New("serving: shutdown took longer than 30s"))
	defer cancel()
	err := s.fast.ShutdownWithContext(shutCtx)
	s.cut()
	for _, l := range listeners {
		l.Close() // a no-op unless Serve had not reached Accept
	}
	if err != nil {
		// Requests still waiting for a batch see their clients hang up
		// and return.
		s.conns.closeAll()
		err = fmt.Errorf("shut down serving listener: %w", err)
	}
	stopGRPC(shutCtx, s.grpc)
	for _, st := range s.Statuses() {
		if rerr := s.Remove(context.WithoutCancel(ctx), st.Name); rerr != nil && err == nil {
			err = rerr
		}
	}
	s.retiring.Wait()
	s.hangups.stop()
	return err
}
