package serving

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// endpoint is a name requests reach and the route answering them. The
// pointer is what a swap replaces; requests load it without a lock.
type endpoint struct {
	name    string
	cur     atomic.Pointer[route]
	deploy  sync.Mutex // one Deploy or Remove at a time
	removed bool       // set by Remove, under deploy

	mu     sync.Mutex
	status EndpointStatus
}

// acquire returns the serving route with a reference taken, or nil. A
// route loaded just before a swap is re-checked so that a retiring route
// never gains a request after it has drained.
func (e *endpoint) acquire() *route {
	for {
		r := e.cur.Load()
		if r == nil {
			return nil
		}
		r.refs.Add(1)
		if e.cur.Load() == r {
			return r
		}
		r.release()
	}
}

func (e *endpoint) statusNow() EndpointStatus {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := e.status
	st.Instances = append([]InstanceStatus(nil), st.Instances...)
	return st
}

// setStatus records a state; serving, when non-nil, is the route that now
// answers requests.
func (e *endpoint) setStatus(state, reason, msg string, serving *route) {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := &e.status
	if st.State != state || st.Reason != reason {
		st.Since = time.Now()
	}
	st.Name, st.State, st.Reason, st.Message = e.name, state, reason, msg
	if serving != nil {
		p := serving.primary
		st.Serving, st.Model, st.Alias, st.Hash = p.cfg.Version, p.cfg.Model, p.cfg.Alias, serving.hash
		st.Instances = st.Instances[:0]
		for _, inst := range p.insts {
			st.Instances = append(st.Instances, inst.status)
		}
		st.Canary, st.Shadow = nil, nil
		if c := serving.canary; c != nil {
			st.Canary = &VariantStatus{Version: c.cfg.Version, Alias: c.cfg.Alias, Weight: serving.weight}
		}
		if sh := serving.shadow; sh != nil {
			st.Shadow = &VariantStatus{Version: sh.cfg.Version, Alias: sh.cfg.Alias}
		}
	} else if e.cur.Load() == nil {
		st.Serving, st.Model, st.Alias, st.Hash, st.Instances, st.Canary, st.Shadow = 0, "", "", "", nil, nil, nil
	}
}

// endpointFor returns the named endpoint, creating it when missing, or nil
// once the server is closing.
func (s *Server) endpointFor(name string) *endpoint {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return nil
	}
	if ep := s.lookup(name); ep != nil {
		return ep
	}
	ep := &endpoint{name: name}
	ep.status = EndpointStatus{Name: name, State: StateProgressing, Reason: ReasonLoading, Since: time.Now()}
	m := maps.Clone(*s.endpoints.Load())
	m[name] = ep
	s.endpoints.Store(&m)
	s.metrics.loaded.WithLabelValues(name).Set(0)
	return ep
}

// Deploy makes cfg what its endpoint serves. The new version is loaded,
// warmed (one batch through every instance) and probed beside the one
// serving; then requests switch to it at once, requests in flight finish on
// the old one, and the old sessions close once drained. A model that fails
// to load, warm or match the declared signature is refused with a
// *DeployError: the old version keeps serving and the status says Failed
// and why. Deploying the config that serves already is a no-op. Deploy
// returns when the old version has closed, or when ctx is done (it then
// closes in the background).
func (s *Server) Deploy(ctx context.Context, cfg Config) error {
	if s.closed.Load() {
		return errors.New("deploy endpoint " + cfg.Endpoint + ": server closed")
	}
	if err := cfg.check(); err != nil {
		de := &DeployError{cfg.Endpoint, ReasonConfigInvalid, err}
		if ep := s.lookup(cfg.Endpoint); ep != nil {
			ep.setStatus(StateFailed, ReasonConfigInvalid, err.Error(), nil)
		}
		return de
	}
	ep := s.endpointFor(cfg.Endpoint)
	if ep == nil {
		return errors.New("deploy endpoint " + cfg.Endpoint + ": server closed")
	}
	ep.deploy.Lock()
	defer ep.deploy.Unlock()
	if ep.removed {
		return errors.New("deploy endpoint " + cfg.Endpoint + ": removed while this deploy waited; deploy again")
	}
	log := s.log.With(logEndpoint, cfg.Endpoint, logVersion, cfg.Version)

	primary, err := readModel(&cfg)
	if err != nil {
		return s.refuse(ep, err)
	}
	variants := map[string]*Config{"canary": cfg.variant(cfg.Canary), "shadow": cfg.variant(cfg.Shadow)}
	files := map[string]modelFile{}
	for kind, vc := range variants {
		if vc == nil {
			continue
		}
		if files[kind], err = readModel(vc); err != nil {
			return s.refuse(ep, fmt.Errorf("%s: %w", kind, err))
		}
	}
	hash := cfg.hash(primary.digest, files["canary"].digest, files["shadow"].digest)
	old := ep.cur.Load()
	if old != nil && old.hash == hash {
		ep.setStatus(StateReady, ReasonDeployed, fmt.Sprintf("serving version %d", cfg.Version), old)
		return nil
	}
	ep.setStatus(StateProgressing, ReasonLoading, fmt.Sprintf("loading version %d beside the one serving", cfg.Version), nil)
	r, err := s.loadRoute(ctx, cfg, primary, variants, files, hash)
	if err != nil {
		log.Warn("deploy refused", logReason, ReasonOf(err), logErr, err)
		return s.refuse(ep, err)
	}
	ep.cur.Store(r)
	s.metrics.loaded.WithLabelValues(cfg.Endpoint).Set(1)
	ep.setStatus(StateReady, ReasonDeployed, fmt.Sprintf("serving version %d", cfg.Version), r)
	log.Info("deployed", "instances", len(r.primary.insts), "max_batch_size", r.primary.batch.maxRows)
	if old != nil {
		return s.retire(ctx, ep, old)
	}
	return nil
}

// loadRoute loads the primary version and any canary and shadow; a failure
// of any refuses them all.
func (s *Server) loadRoute(ctx context.Context, cfg Config, primary modelFile, variants map[string]*Config, files map[string]modelFile, hash string) (*route, error) {
	p, err := s.load(ctx, cfg, primary.data)
	if err != nil {
		return nil, err
	}
	loaded := map[string]*version{}
	for _, kind := range []string{"canary", "shadow"} {
		vc := variants[kind]
		if vc == nil {
			continue
		}
		v, err := s.load(ctx, *vc, files[kind].data)
		if err == nil {
			err = sameInputs(p, v, kind)
		}
		if err != nil {
			if v != nil {
				v.close()
			}
			for _, l := range loaded {
				l.close()
			}
			p.close()
			return nil, fmt.Errorf("%s: %w", kind, err)
		}
		loaded[kind] = v
	}
	weight := 0.0
	if cfg.Canary != nil {
		weight = cfg.Canary.Weight
	}
	return newRoute(p, loaded["canary"], loaded["shadow"], weight, hash), nil
}

// sameInputs refuses a canary or shadow whose inputs differ from the
// primary's: every request must suit every version of the route.
func sameInputs(p, v *version, kind string) error {
	a, b := p.sig.Inputs, v.sig.Inputs
	same := len(a) == len(b)
	for i := 0; same && i < len(a); i++ {
		same = a[i].Name == b[i].Name && a[i].DType == b[i].DType && slices.Equal(a[i].Dims, b[i].Dims)
	}
	if !same {
		return &DeployError{p.cfg.Endpoint, ReasonSignatureMismatch, fmt.Errorf("%s version %d takes %v, the primary takes %v", kind, v.cfg.Version, v.sig.Inputs, p.sig.Inputs)}
	}
	return nil
}

// refuse records a failed deploy; whatever served keeps serving.
func (s *Server) refuse(ep *endpoint, err error) error {
	reason := ReasonOf(err)
	msg := err.Error()
	if r := ep.cur.Load(); r != nil {
		msg += fmt.Sprintf("; version %d keeps serving", r.primary.cfg.Version)
	}
	ep.setStatus(StateFailed, reason, msg, nil)
	return err
}

// retire closes old once the requests using it are answered, waiting for
// that up to ctx.
func (s *Server) retire(ctx context.Context, ep *endpoint, old *route) error {
	done := make(chan struct{})
	s.retiring.Add(1)
	go func() {
		defer s.retiring.Done()
		defer close(done)
		old.retire()
		// A version's series stay while the new route serves its label.
		cur := ep.cur.Load()
		for _, v := range old.versions() {
			if cur == nil || !slices.ContainsFunc(cur.versions(), func(n *version) bool { return n.label == v.label }) {
				v.metrics.forget()
			}
		}
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return nil // it closes in the background; Close waits for it
	}
}
