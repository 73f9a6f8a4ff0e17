package serving

import (
	"bytes"
	"context"
	"net/http"
	"time"
)

// exchange is one inference request and its answer, on whichever HTTP
// server carries it: fasthttp for Serve's HTTP/1.1 connections (fast.go),
// net/http for a caller that serves Handler itself. The protocols' code
// sees only this, so both servers answer alike.
type exchange interface {
	// context ends when the client goes away.
	context() context.Context
	// requestID is the request's X-Request-Id header, or "".
	requestID() string
	setHeader(key, value string)
	// readBody reads the body into a pooled buffer (see putBody); a body
	// over limit is a 413.
	readBody(limit int64) (*bytes.Buffer, error)
	// discard drains what is left of a body that will not be read, so
	// that the connection can carry the next request.
	discard()
	// reply sends a JSON body with code.
	reply(code int, body []byte)
	// gone ends an exchange whose client went away: nothing is sent.
	gone()
}

// httpExchange is an exchange on net/http.
type httpExchange struct {
	w http.ResponseWriter
	r *http.Request
}

func (x *httpExchange) context() context.Context { return x.r.Context() }
func (x *httpExchange) requestID() string        { return x.r.Header.Get(RequestIDHeader) }

func (x *httpExchange) setHeader(key, value string) {
	x.w.Header()[key] = []string{value} // every key given is canonical already
}

func (x *httpExchange) readBody(limit int64) (*bytes.Buffer, error) {
	return readLimited(http.MaxBytesReader(x.w, x.r.Body, limit))
}

func (x *httpExchange) discard() { discard(x.r) }

func (x *httpExchange) reply(code int, body []byte) {
	x.w.Header()["Content-Type"] = jsonType
	if code != http.StatusOK {
		x.w.WriteHeader(code)
	}
	x.w.Write(body)
}

func (x *httpExchange) gone() {}

// infer is the life of one JSON inference request, whatever its protocol:
// resolve the version, count the request as arriving (so a partial batch
// waits for it), read the body, run, count the outcome and answer with the
// version that did the work. A client that went away gets no answer.
func (s *Server) infer(x exchange, name, ver, alias string, run func(ctx context.Context, a *arrival, body []byte) ([]byte, error)) {
	arrived := time.Now() // the request's timeout counts from here
	id, sent := x.requestID(), true
	if id == "" {
		id, sent = s.ids.next(), false
	}
	x.setHeader(RequestIDHeader, id)
	v, err := s.resolve(name, ver, alias)
	if err != nil {
		x.discard()
		writeErrorTo(x, err)
		return
	}
	defer v.release()
	// A full queue refuses before the body is read and decoded: under
	// overload, decoding requests only to refuse them is what would make
	// the 429s slow.
	done, admitted := v.admit()
	if admitted {
		defer done()
	}
	if !admitted || v.batcher.full() {
		x.discard()
		v.metrics.count(OutcomeRejected)
		x.setHeader(VersionHeader, v.label)
		writeErrorTo(x, ErrQueueFull)
		return
	}
	a := v.arrive(arrived)
	defer a.leave()
	a.id, a.idSent = id, sent
	body, err := x.readBody(s.opts.MaxBodyBytes)
	if err != nil {
		v.metrics.count(OutcomeBadRequest)
		writeErrorTo(x, err)
		return
	}
	defer putBody(body)
	out, err := run(x.context(), a, body.Bytes())
	_, outcome := outcomeOf(err)
	v.metrics.count(outcome)
	if outcome == OutcomeCanceled {
		x.gone()
		return
	}
	x.setHeader(VersionHeader, v.label)
	if a.id != id {
		x.setHeader(RequestIDHeader, a.id) // v2's body id named it
	}
	if err != nil {
		writeErrorTo(x, err)
		return
	}
	x.reply(http.StatusOK, out)
}
