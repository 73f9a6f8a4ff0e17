package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"sluice/engine"
	"sluice/engine/render"
	"sluice/runtime/features"
	"sluice/runtime/serving"
	"sluice/runtime/store"
	"sluice/schema"
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
	db, err := store.Open(ctx, a.statePath)
	if err != nil {
		return err
	}
	defer db.Close()
	dr, err := a.startDrift(ctx, db, srv, l.spec, slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return err
	}
	defer dr.close(context.WithoutCancel(ctx))
	closeOnline, err := a.applyServing(ctx, l, srv, dr.swap, parallelism)
	if err != nil {
		return err
	}
	defer closeOnline()
	if online, closeJoin, err := a.openOnline(ctx); err == nil {
		dr.joinFrom(online)
		defer closeJoin()
	}
	dr.mon.Retrain = a.retrainer(l)
	dr.run(ctx, func() *schema.Spec { return l.spec })
	defer dr.halt() // before the online store and the state close under it
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
func (a *app) applyServing(ctx context.Context, l *loaded, srv *serving.Server, swap engine.Swapper, parallelism int) (func(), error) {
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
	drivers.Serving, drivers.Online = swap, online
	drivers.AllowCommandTrainers = a.allowCommands
	srv.SetOnlineFeatures(feastReader(online))
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

// feastReader reads the online store for the data plane's Feast route.
// What the caller got wrong (a view that is not online, a field it lacks,
// a missing or mistyped join key) is a BadRequest, checked before reading.
func feastReader(fs *features.Store) serving.OnlineFeatures {
	return func(ctx context.Context, refs []string, rows []map[string]any) ([][]serving.OnlineValue, error) {
		views := map[string]*features.ViewInfo{} // each view is read and checked once
		for _, ref := range refs {
			view, field, _ := strings.Cut(ref, ":")
			v, ok := views[view]
			if !ok {
				var err error
				v, err = fs.View(ctx, view)
				switch {
				case features.IsNotMaterialized(err):
					return nil, serving.BadRequest(fmt.Errorf("feature view %s is not in the online store", view))
				case err != nil:
					return nil, err
				case !v.Online:
					return nil, serving.BadRequest(fmt.Errorf("feature view %s is not online", view))
				}
				if err := checkKeys(v, rows); err != nil {
					return nil, serving.BadRequest(err)
				}
				views[view] = v
			}
			if !slices.ContainsFunc(v.Fields, func(f features.FieldInfo) bool { return f.Name == field }) {
				return nil, serving.BadRequest(fmt.Errorf("feature view %s has no field %s", view, field))
			}
		}
		resp, err := fs.Online(ctx, features.OnlineRequest{Features: refs, Entities: rows})
		if err != nil {
			return nil, err
		}
		out := make([][]serving.OnlineValue, len(resp.Rows))
		for i, row := range resp.Rows {
			out[i] = make([]serving.OnlineValue, len(row))
			for j, v := range row {
				out[i][j] = serving.OnlineValue{Status: v.Status.String(), Value: v.Value, EventTime: v.EventTime}
			}
		}
		return out, nil
	}
}

// checkKeys reports an entity row without a join key of v, or with one
// that is not of its entity's type.
func checkKeys(v *features.ViewInfo, rows []map[string]any) error {
	for i, row := range rows {
		for _, e := range v.Entities {
			k, ok := row[e.JoinKey]
			if !ok {
				return fmt.Errorf("entity row %d has no %s (feature view %s needs it)", i+1, e.JoinKey, v.Name)
			}
			if _, isBool := k.(bool); isBool {
				return fmt.Errorf("entity row %d: %s is %v; a join key is a number or a string", i+1, e.JoinKey, k)
			}
			if e.Type == features.TypeInt64 {
				if _, err := strconv.ParseInt(strings.TrimSpace(fmt.Sprint(k)), 10, 64); err != nil {
					return fmt.Errorf("entity row %d: %s %v is not an int64", i+1, e.JoinKey, k)
				}
			}
		}
	}
	return nil
}
