package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"sluice/engine"
	"sluice/engine/daemon"
	"sluice/runtime/features"
	"sluice/runtime/serving"
	"sluice/runtime/store"
	"sluice/schema"
)

// dataPlane is the daemon's inference server and its listener.
type dataPlane struct {
	srv *serving.Server
	ln  net.Listener
}

// newDataPlane starts the daemon's inference server on --serve-listen, or
// returns nil with --serve-listen none. Left at its default, the data
// plane takes --listen's address and carries the operator API beside the
// endpoints (shared says so); a data plane that cannot start then (no
// ONNX Runtime, a busy port) is a warning, and the daemon runs without
// one: endpoints are recorded, not served, and the API gets the address.
func (a *app) newDataPlane(f *daemonFlags) (p *dataPlane, shared bool, err error) {
	addr, auto := f.serveListen, f.serveListen == ""
	switch {
	case addr == "none":
		return nil, false, nil
	case auto && f.listen != "":
		addr, shared = f.listen, true
	case auto:
		addr = "127.0.0.1:8080"
	}
	p, err = a.startDataPlane(addr)
	if err != nil && auto {
		fmt.Fprintf(a.stderr, "sluice daemon: no data plane, endpoints will not be served: %v\n", err)
		return nil, false, nil
	}
	return p, shared && err == nil, err
}

func (a *app) startDataPlane(addr string) (*dataPlane, error) {
	lib, err := a.findORT()
	if err != nil {
		return nil, fmt.Errorf("data plane: %w", err)
	}
	srv, err := serving.New(serving.Options{ORTLibrary: lib})
	if err != nil {
		return nil, fmt.Errorf("data plane: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		srv.Close(context.Background())
		return nil, fmt.Errorf("data plane: listen on %s (--serve-listen): %w", addr, err)
	}
	go srv.Serve(ln)
	return &dataPlane{srv: srv, ln: ln}, nil
}

// close drains requests in flight and closes every endpoint's sessions.
func (p *dataPlane) close(ctx context.Context, stderr io.Writer) {
	dctx, cancel := context.WithTimeoutCause(ctx, drainTimeout, errors.New("data plane: drain took longer than 30s"))
	defer cancel()
	if err := p.srv.Close(dctx); err != nil {
		fmt.Fprintf(stderr, "sluice daemon: %v\n", err)
	}
}

// readFeaturesFrom serves Feast's POST /get-online-features from the
// daemon's online store.
func (p *dataPlane) readFeaturesFrom(online engine.OnlineReader) {
	if fs, ok := online.(*features.Store); ok {
		p.srv.SetOnlineFeatures(feastReader(fs))
	}
}

// watchDrift makes the daemon's endpoints capture and its drift policies
// run: endpoints deploy through a capturing server, POST /v1/feedback
// records labels, and the monitor checks the policies of the revision in
// force (loaded again when the daemon applies another), retraining with the
// daemon's own drivers under the lock it holds and notifying through the
// daemon's webhooks, and proposing its alias moves through wb (nil: none).
// It returns start, to call with the started daemon, and the cleanup.
func (a *app) watchDrift(ctx context.Context, cfg *daemon.Config, p *dataPlane, repo string, roots []string, wb engine.WriteBack) (func(*daemon.Daemon), func(), error) {
	cur := &appliedSpec{a: a, db: cfg.DB, repo: repo, roots: roots}
	spec := cur.get(ctx)
	if spec == nil {
		spec = &schema.Spec{}
	}
	dr, err := a.startDrift(ctx, cfg.DB, p.srv, spec, cfg.Logger)
	if err != nil {
		return nil, nil, err
	}
	cfg.Drivers.Serving = dr.swap
	dr.joinFrom(cfg.Drivers.Online)
	dr.mon.WriteBack = wb
	dr.mon.Retrain = func(ctx context.Context, spec *schema.Spec, exp, promoteTo string) (string, error) {
		return trainOnDrift(ctx, cfg.DB, cfg.Drivers, cur.loaded, spec, exp, promoteTo)
	}
	start := func(d *daemon.Daemon) {
		dr.mon.Notify = func(ctx context.Context, _ *schema.Spec, ev store.Event) {
			d.Notify(ctx, daemon.Notice{Type: noticeType(ev), Reason: ev.Reason, Message: ev.Message,
				Resource: ev.Kind + "." + ev.Name, Commit: cur.commit, At: ev.At})
		}
		dr.run(ctx, func() *schema.Spec { return cur.get(ctx) })
	}
	return start, func() { dr.close(context.WithoutCancel(ctx)) }, nil
}

// noticeType is the notification a drift action's event is sent as.
func noticeType(ev store.Event) string {
	if ev.Reason == engine.ReasonDriftRollback {
		return daemon.NoticeRollback
	}
	return daemon.NoticeDrift
}

// appliedSpec loads the spec of the revision the state has in force, again
// only when that revision changes.
type appliedSpec struct {
	a      *app
	db     *store.DB
	repo   string
	roots  []string
	commit string
	loaded *loaded
}

func (s *appliedSpec) get(ctx context.Context) *schema.Spec {
	rev, err := store.CurrentRevision(ctx, s.db)
	if err != nil || rev == nil {
		return nil
	}
	if rev.Commit != s.commit {
		f := specFlags{repo: s.repo, rev: strings.TrimSuffix(rev.Commit, "+worktree"), path: rev.Path, dataRoots: s.roots}
		l, err := s.a.load(ctx, &f)
		if err != nil {
			return nil
		}
		s.commit, s.loaded = rev.Commit, l
	}
	return s.loaded.spec
}
