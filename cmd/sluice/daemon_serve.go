package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"

	"sluice/engine"
	"sluice/runtime/features"
	"sluice/runtime/serving"
)

// dataPlane is the daemon's inference server and its listener.
type dataPlane struct {
	srv *serving.Server
	ln  net.Listener
}

// newDataPlane starts the daemon's inference server on --serve-listen, or
// returns nil with --serve-listen none. Left at its default, a data plane
// that cannot start (no ONNX Runtime, a busy port) is a warning and the
// daemon runs without one: endpoints are then recorded, not served.
func (a *app) newDataPlane(f *daemonFlags) (*dataPlane, error) {
	addr, auto := f.serveListen, f.serveListen == ""
	switch {
	case addr == "none":
		return nil, nil
	case auto && f.listen == "127.0.0.1:8080":
		addr = "127.0.0.1:8081"
	case auto:
		addr = "127.0.0.1:8080"
	}
	p, err := a.startDataPlane(addr)
	if err != nil && auto {
		fmt.Fprintf(a.stderr, "sluice daemon: no data plane, endpoints will not be served: %v\n", err)
		return nil, nil
	}
	return p, err
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
