package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/spf13/cobra"

	"sluice/engine"
	"sluice/engine/render"
	"sluice/runtime/features"
	"sluice/runtime/serving"
	"sluice/runtime/store"
)

// drainTimeout bounds how long a stopping server waits for requests in flight.
const drainTimeout = 30 * time.Second

func (a *app) serveCmd() *cobra.Command {
	var f specFlags
	var listen string
	var parallelism int
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Apply a revision once, then serve its endpoints until stopped",
		Long: "serve starts the inference server on --listen, applies the revision with it (training, promoting and\n" +
			"deploying its endpoints), then serves until SIGTERM or interrupt, draining requests in flight.\n" +
			"The state's lock is held only while applying.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.serve(cmd.Context(), &f, listen, parallelism)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8080", "address of the data plane (TF Serving REST and Open Inference Protocol v2)")
	cmd.Flags().IntVar(&parallelism, "parallelism", 4, "how many independent steps may run at once")
	a.allowCommandsFlag(cmd)
	return cmd
}

// serve applies the revision with a listening server, then serves until ctx
// ends (the root command cancels it on SIGTERM).
func (a *app) serve(ctx context.Context, f *specFlags, listen string, parallelism int) error {
	l, err := a.load(ctx, f)
	if err != nil {
		return err
	}
	lib, err := a.findORT()
	if err != nil {
		return err
	}
	srv, err := serving.New(serving.Options{ORTLibrary: lib})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", listen, err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		dctx, cancel := context.WithTimeoutCause(context.WithoutCancel(ctx), drainTimeout, errors.New("serve: drain took longer than 30s"))
		defer cancel()
		if err := srv.Close(dctx); err != nil {
			fmt.Fprintf(a.stderr, "sluice serve: %v\n", err)
		}
		fmt.Fprintln(a.stderr, "sluice serve: stopped")
	}()
	fmt.Fprintf(a.stderr, "sluice serve: listening on http://%s\n", ln.Addr())
	closeOnline, err := a.applyServing(ctx, l, srv, parallelism)
	if err != nil {
		return err
	}
	defer closeOnline()
	select {
	case <-ctx.Done():
		return nil
	case err := <-served:
		return err
	}
}

// applyServing plans and applies the revision with srv as the serving
// driver, holding the state's lock only for that. Endpoints join features
// from a read-only handle on the state file that outlives the apply; the
// caller closes it once the server has stopped.
func (a *app) applyServing(ctx context.Context, l *loaded, srv *serving.Server, parallelism int) (func(), error) {
	db, release, err := a.openForWrite(ctx, false)
	if err != nil {
		return nil, err
	}
	defer release()
	p, err := engine.MakePlan(ctx, db, engine.Input{Spec: l.spec, FS: l.rev.FS, Revision: l.revisionJSON(), StatePath: a.statePath, Serving: srv, AllowCommandTrainers: a.allowCommands})
	if err != nil {
		return nil, err
	}
	pj := p.JSON()
	if pj.Errored || pj.HasChanges() {
		render.Text(a.stdout, pj)
	}
	if pj.Errored {
		return nil, exitCode(exitError)
	}
	drivers, err := newDrivers(ctx, db, a.ortLib)
	if err != nil {
		return nil, err
	}
	online, closeOnline, err := a.openOnline(ctx)
	if err != nil {
		return nil, err
	}
	drivers.Serving, drivers.Online = srv, online
	drivers.AllowCommandTrainers = a.allowCommands
	res, err := engine.Apply(ctx, db, p, drivers, engine.Options{Parallelism: parallelism, Hooks: []engine.Hook{&progress{w: a.stderr}}})
	if err != nil {
		closeOnline()
		return nil, err
	}
	counts := map[string]int{}
	for _, s := range res.Steps {
		counts[s.Status]++
	}
	// A failed step is reported, not fatal: the endpoints that deployed
	// serve, and the state says what did not.
	fmt.Fprintf(a.stdout, "\nApply %s: %d ready, %d failed, %d held. Serving %d endpoints.\n",
		res.Outcome, counts[store.Ready], counts[store.Failed], heldOnly(res), len(srv.Statuses()))
	return closeOnline, nil
}

// openOnline opens the state file's online store read-only, for feature
// joins while serving.
func (a *app) openOnline(ctx context.Context) (*features.Store, func(), error) {
	db, err := store.OpenReadOnly(ctx, a.statePath)
	if err != nil {
		return nil, nil, err
	}
	fs, err := features.New(ctx, db)
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("online store: %w", err)
	}
	return fs, func() { db.Close() }, nil
}
