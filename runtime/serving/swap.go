package serving

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"time"
)

// endpoint is a name requests reach and the version answering them. The
// pointer is what a swap replaces; requests load it without a lock.
type endpoint struct {
	name   string
	cur    atomic.Pointer[version]
	deploy sync.Mutex // one Deploy or Remove at a time

	mu     sync.Mutex
	status EndpointStatus
}

// acquire returns the serving version with a reference taken, or nil. A
// version loaded just before a swap is re-checked so that a retiring
// version never gains a request after it has drained.
func (e *endpoint) acquire() *version {
	for {
		v := e.cur.Load()
		if v == nil {
			return nil
		}
		v.refs.Add(1)
		if e.cur.Load() == v {
			return v
		}
		v.release()
	}
}

func (e *endpoint) statusNow() EndpointStatus {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := e.status
	st.Instances = append([]InstanceStatus(nil), st.Instances...)
	return st
}

// setStatus records a state; serving, when non-nil, is the version that now
// answers requests.
func (e *endpoint) setStatus(state, reason, msg string, serving *version) {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := &e.status
	if st.State != state || st.Reason != reason {
		st.Since = time.Now()
	}
	st.Name, st.State, st.Reason, st.Message = e.name, state, reason, msg
	if serving != nil {
		st.Serving, st.Model, st.Alias, st.Hash = serving.cfg.Version, serving.cfg.Model, serving.cfg.Alias, serving.hash
		st.Instances = st.Instances[:0]
		for _, inst := range serving.insts {
			st.Instances = append(st.Instances, inst.status)
		}
	} else if e.cur.Load() == nil {
		st.Serving, st.Model, st.Alias, st.Hash, st.Instances = 0, "", "", "", nil
	}
}

// endpointFor returns the named endpoint, creating it when missing.
func (s *Server) endpointFor(name string) *endpoint {
	if ep := s.lookup(name); ep != nil {
		return ep
	}
	s.mu.Lock()
	defer s.mu.Unlock()
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
	ep.deploy.Lock()
	defer ep.deploy.Unlock()
	log := s.log.With(logEndpoint, cfg.Endpoint, logVersion, cfg.Version)

	data, digest, err := readModel(&cfg)
	if err != nil {
		return s.refuse(ep, err)
	}
	hash := cfg.hash(digest)
	old := ep.cur.Load()
	if old != nil && old.hash == hash {
		ep.setStatus(StateReady, ReasonDeployed, fmt.Sprintf("serving version %d", cfg.Version), old)
		return nil
	}
	ep.setStatus(StateProgressing, ReasonLoading, fmt.Sprintf("loading version %d beside the one serving", cfg.Version), nil)
	v, err := s.load(ctx, cfg, data, hash)
	if err != nil {
		log.Warn("deploy refused", logReason, ReasonOf(err), logErr, err)
		return s.refuse(ep, err)
	}
	ep.cur.Store(v)
	s.metrics.loaded.WithLabelValues(cfg.Endpoint).Set(1)
	ep.setStatus(StateReady, ReasonDeployed, fmt.Sprintf("serving version %d", cfg.Version), v)
	log.Info("deployed", "instances", len(v.insts), "max_batch_size", v.batch.maxRows)
	if old != nil {
		return s.retire(ctx, ep, old)
	}
	return nil
}

// refuse records a failed deploy; whatever served keeps serving.
func (s *Server) refuse(ep *endpoint, err error) error {
	reason := ReasonOf(err)
	msg := err.Error()
	if v := ep.cur.Load(); v != nil {
		msg += fmt.Sprintf("; version %d keeps serving", v.cfg.Version)
	}
	ep.setStatus(StateFailed, reason, msg, nil)
	return err
}

// retire closes old once the requests using it are answered, waiting for
// that up to ctx.
func (s *Server) retire(ctx context.Context, ep *endpoint, old *version) error {
	done := make(chan struct{})
	s.retiring.Add(1)
	go func() {
		defer s.retiring.Done()
		defer close(done)
		old.retire()
		// The series stay while a deployment of the same version serves.
		if cur := ep.cur.Load(); cur == nil || cur.label != old.label {
			old.metrics.forget()
		}
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return nil // it closes in the background; Close waits for it
	}
}
