package serving

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// VersionHeader names the model version that answered, on every inference
// response of either protocol.
const VersionHeader = "Sluice-Model-Version"

// routes are the data plane's: TensorFlow Serving REST under /v1, the Open
// Inference Protocol under /v2, metrics and health.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/models/{rest...}", s.tfGet)
	mux.HandleFunc("POST /v1/models/{rest...}", s.tfPost)
	mux.HandleFunc("GET /v2", s.v2Server)
	mux.HandleFunc("GET /v2/health/live", s.v2Live)
	mux.HandleFunc("GET /v2/health/ready", s.v2Ready)
	mux.HandleFunc("GET /v2/models/{name}", s.v2Metadata)
	mux.HandleFunc("GET /v2/models/{name}/versions/{version}", s.v2Metadata)
	mux.HandleFunc("GET /v2/models/{name}/ready", s.v2ModelReady)
	mux.HandleFunc("GET /v2/models/{name}/versions/{version}/ready", s.v2ModelReady)
	mux.HandleFunc("POST /v2/models/{name}/infer", s.v2Infer)
	mux.HandleFunc("POST /v2/models/{name}/versions/{version}/infer", s.v2Infer)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", s.health)
	mux.HandleFunc("POST /get-online-features", s.getOnlineFeatures)
	mux.HandleFunc("POST /v1/feedback", s.postFeedback)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &httpError{http.StatusNotFound, fmt.Sprintf("no route for %s %s: see /v1/models/{name}:predict and /v2/models/{name}/infer", r.Method, r.URL.Path)})
	})
	return mux
}

// httpError is an error with the status code it answers with.
type httpError struct {
	code int
	msg  string
}

func (e *httpError) Error() string { return e.msg }

func errorf(code int, format string, a ...any) error {
	return &httpError{code, fmt.Sprintf(format, a...)}
}

// outcomeOf maps an error to its status code and metrics outcome.
func outcomeOf(err error) (int, string) {
	if err == nil {
		return http.StatusOK, OutcomeOK
	}
	return errorOutcome(err)
}

// errorOutcome is outcomeOf for a non-nil error, apart so that the success
// path allocates nothing.
func errorOutcome(err error) (int, string) {
	var he *httpError
	switch {
	case errors.As(err, &he):
		switch he.code {
		case http.StatusNotFound:
			return he.code, OutcomeNotFound
		case http.StatusServiceUnavailable:
			return he.code, OutcomeError
		}
		return he.code, OutcomeBadRequest
	case isInputError(err):
		return http.StatusBadRequest, OutcomeBadRequest
	case errors.Is(err, ErrQueueFull):
		return http.StatusTooManyRequests, OutcomeRejected
	case errors.Is(err, ErrQueueTimeout), errors.Is(err, ErrStopped):
		return http.StatusServiceUnavailable, OutcomeTimeout
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return 499, OutcomeCanceled // nginx's "client closed request"; nobody reads it
	}
	return http.StatusInternalServerError, OutcomeError
}

// writeError writes both protocols' error shape, {"error": "..."}.
func writeError(w http.ResponseWriter, err error) {
	writeErrorTo(&httpExchange{w: w}, err)
}

// writeErrorTo answers x with err in both protocols' error shape,
// {"error": "..."}; a 429 says when to retry.
func writeErrorTo(x exchange, err error) {
	code, _ := outcomeOf(err)
	msg := err.Error()
	if code == http.StatusTooManyRequests {
		x.setHeader("Retry-After", "1")
		msg += ": retry after 1s"
	}
	b := appendString([]byte(`{"error":`), msg)
	b = append(b, "}\n"...)
	x.reply(code, b)
}

// jsonType is the Content-Type of every JSON answer. Assigned to the
// header map as it is, it costs no allocation per response; net/http
// copies header values when it writes them and never changes them.
var jsonType = []string{"application/json"}

func writeJSON(w http.ResponseWriter, b []byte) {
	w.Header()["Content-Type"] = jsonType
	w.Write(b)
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// readBody reads the request body into a pooled buffer, up to the limit.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) (*bytes.Buffer, error) {
	return readLimited(http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes))
}

// readLimited reads a body that fails with *http.MaxBytesError past its
// limit into a pooled buffer.
func readLimited(r io.Reader) (*bytes.Buffer, error) {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	_, err := buf.ReadFrom(r)
	if err != nil {
		bufPool.Put(buf)
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge(mbe.Limit)
		}
		return nil, errorf(http.StatusBadRequest, "read request body: %v", err)
	}
	return buf, nil
}

// tooLarge is the 413 of a body over the limit.
func tooLarge(limit int64) error {
	return errorf(http.StatusRequestEntityTooLarge, "request body larger than the limit of %d bytes", limit)
}

func putBody(buf *bytes.Buffer) {
	if buf.Cap() <= 1<<20 { // keep the pool from pinning huge bodies
		bufPool.Put(buf)
	}
}

// resolve finds the version a request names: the endpoint's serving one,
// which must match version or alias when they are given. The caller
// releases it.
func (s *Server) resolve(name, version, alias string) (*version, error) {
	ep := s.lookup(name)
	if ep == nil {
		known := slices.Sorted(maps.Keys(*s.endpoints.Load()))
		return nil, errorf(http.StatusNotFound, "model %q not found (serving: %s)", name, strings.Join(known, ", "))
	}
	r := ep.acquire()
	if r == nil {
		st := ep.statusNow()
		return nil, errorf(http.StatusServiceUnavailable, "model %q has no version loaded: %s: %s", name, st.Reason, st.Message)
	}
	v, err := r.pick(name, version, alias)
	if err != nil {
		r.release()
		return nil, err
	}
	return v, nil
}

func aliasNote(alias string) string {
	if alias == "" {
		return ""
	}
	return fmt.Sprintf(" through label %q", alias)
}

// arrival is a request on its way to a version's queue, counted from
// when its version is known so that a partial batch can wait for it.
type arrival struct {
	v      *version
	at     time.Time // when the request reached the server
	queued bool
	// id is the request id responses name and capture records; "" for a
	// shadow's copy, which is never captured.
	id      string
	idSent  bool  // the id came in the X-Request-Id header
	missing []int // joined values filled by default (see prepareWith)
}

func (v *version) arrive(at time.Time) *arrival {
	v.batcher.arrive()
	return &arrival{v: v, at: at}
}

// leave ends an arrival that never reached the queue; a no-op after infer.
func (a *arrival) leave() {
	if !a.queued {
		a.queued = true
		a.v.batcher.leave()
	}
}

// infer runs prepared inputs through the version's batcher and records
// the latency.
func (a *arrival) infer(ctx context.Context, inputs []Tensor) ([]Tensor, error) {
	a.queued = true
	start := time.Now()
	outs, err := a.v.batcher.infer(ctx, inputs, a.at)
	if err == nil {
		a.v.metrics.latency.Observe(time.Since(start).Seconds())
		a.capture(inputs, outs)
	}
	return outs, err
}

// health answers 200 when every endpoint has a model loaded, else 503, with
// each endpoint's state.
func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	b := []byte(`{"endpoints":[`)
	ok := true
	for i, st := range s.Statuses() {
		loaded := st.Loaded()
		ok = ok && loaded
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		b = appendString(b, st.Name)
		b = fmt.Appendf(b, `,"loaded":%t,"serving_version":%d,"state":`, loaded, st.Serving)
		b = appendString(b, st.State)
		b = append(b, `,"reason":`...)
		b = appendString(b, st.Reason)
		b = append(b, '}')
	}
	b = fmt.Appendf(b, `],"ready":%t}`+"\n", ok)
	w.Header().Set("Content-Type", "application/json")
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	w.Write(b)
}

// discard drains what is left of a body so the connection can be reused.
func discard(r *http.Request) { io.Copy(io.Discard, io.LimitReader(r.Body, 1<<16)) }
