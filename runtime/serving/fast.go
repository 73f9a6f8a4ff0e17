package serving

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"
)

// Serve's HTTP/1.1 connections are served by fasthttp, not net/http: on
// one-row requests net/http's per-request work (a header map, a
// goroutine-backed body reader, a background read per request, deadline
// re-arming) cost about as much CPU as all of Sluice's own, and fasthttp
// answers the same request with about a third less CPU in the benchmark's
// no-inference ceiling (bench/serving). The inference routes, the hot
// ones, run natively on fasthttp; every other route (metadata, health,
// metrics, the Feast route, feedback, a Mount) is the net/http mux behind
// fasthttpadaptor, so it is written once for both servers.

// newFast is the data plane's HTTP/1.1 server.
func (s *Server) newFast() *fasthttp.Server {
	return &fasthttp.Server{
		Handler:      s.serveFast,
		ErrorHandler: fastParseError,
		ConnState:    s.connState,
		Logger:       fastLogger{s.log},
		// fasthttp's ReadTimeout runs from a request's first byte (from
		// the connection's hand-over for its first request) to the end
		// of its body; IdleTimeout bounds the wait for the next request.
		ReadTimeout:  s.opts.ReadTimeout,
		WriteTimeout: s.opts.WriteTimeout,
		IdleTimeout:  s.opts.IdleTimeout,
		// With the body streamed, a handler decides before reading it
		// (admission's 429), and a body over the limit reaches the
		// handler, which answers the protocol's 413, instead of failing
		// in fasthttp. Bodies up to 8 KiB come read already.
		StreamRequestBody:            true,
		MaxRequestBodySize:           int(min(s.opts.MaxBodyBytes, math.MaxInt32)),
		DisablePreParseMultipartForm: true,
		// Headers up to 16 KiB, as nginx's large_client_header_buffers
		// allow, rather than fasthttp's 4 KiB.
		ReadBufferSize:        16 << 10,
		NoDefaultServerHeader: true,
		NoDefaultContentType:  true,
		CloseOnShutdown:       true,
	}
}

// connState follows fasthttp's connections: idle ones for the batcher,
// closed ones out of the hang-up watch.
func (s *Server) connState(c net.Conn, state fasthttp.ConnState) {
	s.conns.trackFast(c, state)
	if hc, ok := c.(*httpConn); ok && state == fasthttp.StateClosed {
		s.hangups.forget(hc)
	}
}

var (
	v1Models = []byte("/v1/models/")
	v2Models = []byte("/v2/models/")
)

// serveFast sends the inference routes to the protocols and the rest to
// the net/http routes.
func (s *Server) serveFast(ctx *fasthttp.RequestCtx) {
	if ctx.IsPost() {
		path := ctx.Path()
		if rest, ok := bytes.CutPrefix(path, v1Models); ok {
			x := s.exchangeOf(ctx)
			s.tfPredict(x, string(rest))
			x.end()
			return
		}
		if name, version, ok := v2InferPath(path); ok {
			x := s.exchangeOf(ctx)
			s.v2Predict(x, name, version)
			x.end()
			return
		}
	}
	s.serveAdapted(ctx)
}

// v2InferPath reads /v2/models/{name}[/versions/{version}]/infer.
func v2InferPath(path []byte) (name, version string, ok bool) {
	rest, ok := bytes.CutPrefix(path, v2Models)
	if !ok {
		return "", "", false
	}
	rest, ok = bytes.CutSuffix(rest, []byte("/infer"))
	if !ok {
		return "", "", false
	}
	n, v, versioned := bytes.Cut(rest, []byte("/versions/"))
	if len(n) == 0 || bytes.IndexByte(n, '/') >= 0 || (versioned && (len(v) == 0 || bytes.IndexByte(v, '/') >= 0)) {
		return "", "", false
	}
	return string(n), string(v), true
}

// mountedBodyLimit bounds the body of a request to a Mount's handler,
// which applies its own limit when it reads it (the daemon's webhooks
// take up to 25 MiB): the body must be read before the handler runs, and
// this keeps that read from taking unbounded memory.
const mountedBodyLimit = 64 << 20

// serveAdapted answers a route of the net/http mux, its body read first
// within the limit (fasthttpadaptor would read a streamed body whole).
func (s *Server) serveAdapted(ctx *fasthttp.RequestCtx) {
	if stream := ctx.RequestBodyStream(); stream != nil {
		limit := s.opts.MaxBodyBytes
		if s.isMounted(ctx.Path()) {
			limit = max(limit, mountedBodyLimit)
		}
		if int64(ctx.Request.Header.ContentLength()) > limit {
			closeUnread(ctx)
			writeErrorTo(&fastExchange{ctx: ctx}, tooLarge(limit))
			return
		}
		buf, err := readStream(stream, int64(ctx.Request.Header.ContentLength()), limit)
		if err != nil {
			closeUnread(ctx)
			writeErrorTo(&fastExchange{ctx: ctx}, err)
			return
		}
		ctx.Request.SetBody(buf.Bytes())
		putBody(buf)
	}
	s.adapted(ctx)
}

// closeUnread ends the connection after this answer, whose request body
// was not read to its end: what is left of it cannot be told from the
// next request. The client may still be sending it, so the connection
// lingers before it closes (see httpConn.Close), or the client could
// see the connection reset before it reads the answer.
func closeUnread(ctx *fasthttp.RequestCtx) {
	ctx.SetConnectionClose()
	if hc, ok := ctx.Conn().(*httpConn); ok {
		hc.linger.Store(true)
	}
}

// fastExchange is an exchange on fasthttp.
type fastExchange struct {
	ctx *fasthttp.RequestCtx
	hup *hangupCtx
}

// exchangeOf starts the exchange of ctx's request.
func (s *Server) exchangeOf(ctx *fasthttp.RequestCtx) *fastExchange {
	hc, _ := ctx.Conn().(*httpConn)
	return &fastExchange{ctx: ctx, hup: newHangupCtx(&s.hangups, hc)}
}

// end stops watching for the client's hang-up.
func (x *fastExchange) end() { x.hup.end() }

func (x *fastExchange) context() context.Context { return x.hup }

func (x *fastExchange) requestID() string {
	return string(x.ctx.Request.Header.Peek(RequestIDHeader))
}

func (x *fastExchange) setHeader(key, value string) { x.ctx.Response.Header.Set(key, value) }

func (x *fastExchange) readBody(limit int64) (*bytes.Buffer, error) {
	n := int64(x.ctx.Request.Header.ContentLength())
	if n > limit {
		closeUnread(x.ctx)
		return nil, tooLarge(limit)
	}
	stream := x.ctx.RequestBodyStream()
	if stream == nil { // no body
		buf := bufPool.Get().(*bytes.Buffer)
		buf.Reset()
		buf.Write(x.ctx.Request.Body())
		return buf, nil
	}
	buf, err := readStream(stream, n, limit)
	if err != nil {
		closeUnread(x.ctx)
	}
	return buf, err
}

// readStream reads a streamed body of n bytes (-1: chunked, read no more
// than limit) into a pooled buffer. Not Request.Body: a body cut short
// would read as the text of its error.
func readStream(stream io.Reader, n, limit int64) (*bytes.Buffer, error) {
	if n < 0 {
		stream = http.MaxBytesReader(nil, io.NopCloser(stream), limit)
	}
	buf, err := readLimited(stream)
	if err == nil && n >= 0 && int64(buf.Len()) < n {
		// fasthttp's stream ends without an error when the connection
		// does before Content-Length's bytes came.
		err = errorf(http.StatusBadRequest, "read request body: %v after %d of %d bytes", io.ErrUnexpectedEOF, buf.Len(), n)
		putBody(buf)
		buf = nil
	}
	return buf, err
}

func (x *fastExchange) discard() {
	if stream := x.ctx.RequestBodyStream(); stream != nil {
		if n, _ := io.CopyN(io.Discard, stream, 1<<16); n == 1<<16 {
			closeUnread(x.ctx) // there may be more
		}
	}
}

var jsonTypeBytes = []byte("application/json")

func (x *fastExchange) reply(code int, body []byte) {
	x.ctx.SetStatusCode(code)
	x.ctx.Response.Header.SetContentTypeBytes(jsonTypeBytes)
	x.ctx.Response.SetBodyRaw(body)
}

// gone closes the connection: its client left and reads no answer.
func (x *fastExchange) gone() {
	x.ctx.SetStatusCode(499)
	x.ctx.SetConnectionClose()
}

// fastParseError answers a request fasthttp could not read, in the
// protocols' error shape.
func fastParseError(ctx *fasthttp.RequestCtx, err error) {
	code := http.StatusBadRequest
	var small *fasthttp.ErrSmallBuffer
	var ne net.Error
	switch {
	case errors.As(err, &small):
		code = http.StatusRequestHeaderFieldsTooLarge
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		code = http.StatusRequestEntityTooLarge
	case errors.As(err, &ne) && ne.Timeout():
		code = http.StatusRequestTimeout
	}
	writeErrorTo(&fastExchange{ctx: ctx}, &httpError{code, fmt.Sprintf("malformed HTTP request: %v", err)})
}

// fastLogger sends fasthttp's complaints (a connection that failed) to
// the server's log.
type fastLogger struct{ log *slog.Logger }

func (l fastLogger) Printf(format string, args ...any) {
	l.log.Warn(fmt.Sprintf(format, args...))
}

// adaptedHandler is the net/http mux as a fasthttp handler. Its requests
// carry base as their context, not fasthttp's RequestCtx: that one's Done
// is read unsynchronised with the server's Shutdown, which the race
// detector caught as a Feast read's query watcher outlived its request
// during a SIGTERM, and it would end only at shutdown anyway.
func adaptedHandler(base context.Context, h http.Handler) fasthttp.RequestHandler {
	return fasthttpadaptor.NewFastHTTPHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(base))
	}))
}
