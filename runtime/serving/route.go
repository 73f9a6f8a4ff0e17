package serving

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// route is what one deploy of an endpoint serves: the primary version, and
// optionally a canary taking a share of the requests and a shadow that
// every request is mirrored to. A swap replaces the whole route; the
// reference count keeps its sessions open until the last request using any
// of its versions is answered.
type route struct {
	primary *version
	canary  *version
	weight  float64 // percent of requests the canary answers
	shadow  *version
	hash    string

	refs     atomic.Int64
	draining atomic.Bool
	drained  chan struct{}
	once     sync.Once
}

func newRoute(primary, canary, shadow *version, weight float64, hash string) *route {
	r := &route{primary: primary, canary: canary, shadow: shadow, weight: weight, hash: hash, drained: make(chan struct{})}
	for _, v := range r.versions() {
		v.route = r
	}
	return r
}

// versions lists the route's versions, primary first.
func (r *route) versions() []*version {
	return slices.DeleteFunc([]*version{r.primary, r.canary, r.shadow}, func(v *version) bool { return v == nil })
}

// pick chooses the version that answers a request: the one its version or
// label names (any of the route's), else the canary for its share of
// requests, else the primary.
func (r *route) pick(name, version, alias string) (*version, error) {
	switch {
	case version != "":
		for _, v := range r.versions() {
			if v.label == version {
				return v, nil
			}
		}
		return nil, errorf(http.StatusNotFound, "model %q version %s not found: serving version %s%s", name, version, r.primary.label, r.variantNote())
	case alias != "":
		for _, v := range r.versions() {
			if v.cfg.Alias == alias {
				return v, nil
			}
		}
		return nil, errorf(http.StatusNotFound, "model %q has no label %q: it serves version %s%s", name, alias, r.primary.label, aliasNote(r.primary.cfg.Alias))
	case r.canary != nil && rand.Float64()*100 < r.weight:
		return r.canary, nil
	}
	return r.primary, nil
}

func (r *route) variantNote() string {
	s := ""
	if r.canary != nil {
		s += fmt.Sprintf(", canary version %s", r.canary.label)
	}
	if r.shadow != nil {
		s += fmt.Sprintf(", shadow version %s", r.shadow.label)
	}
	return s
}

// release ends one request's use of the route; the last one out of a
// retiring route lets it close.
func (r *route) release() {
	if r.refs.Add(-1) == 0 && r.draining.Load() {
		r.once.Do(func() { close(r.drained) })
	}
}

// retire waits for the requests using the route to be answered, then
// closes every version's batcher and sessions. The route must no longer be
// reachable by new requests.
func (r *route) retire() {
	r.draining.Store(true)
	if r.refs.Load() == 0 {
		r.once.Do(func() { close(r.drained) })
	}
	<-r.drained
	for _, v := range r.versions() {
		v.close()
	}
}

// shadowTimeout bounds a mirrored request, which no client waits for.
const shadowTimeout = 30 * time.Second

// mirror sends a copy of a primary or canary request's inputs to the
// shadow version, if the route has one, without delaying the caller. Its
// outcome is counted in the shadow version's metrics; its outputs are
// dropped.
func (r *route) mirror(ctx context.Context, from *version, inputs []Tensor) {
	sh := r.shadow
	if sh == nil || from == sh {
		return
	}
	r.refs.Add(1) // the route stays open until the shadow answers
	sh.batcher.arrive()
	go func() {
		defer r.release()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shadowTimeout)
		defer cancel()
		a := &arrival{v: sh, at: time.Now()}
		_, err := a.infer(ctx, inputs)
		_, outcome := outcomeOf(err)
		sh.metrics.count(outcome)
	}()
}
