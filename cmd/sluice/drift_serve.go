package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"sluice/engine"
	"sluice/runtime/drift"
	"sluice/runtime/registry"
	"sluice/runtime/serving"
	"sluice/runtime/store"
	"sluice/schema"
)

// driftTick is how often a serving process looks for drift policies that
// are due; each runs on its own `every`.
const driftTick = time.Second

// driftRuntime is drift monitoring in a process that serves: the buffer
// endpoints capture into, the feedback sink, and the monitor.
type driftRuntime struct {
	buf    *drift.Capture
	mon    *engine.Monitor
	swap   engine.CapturingServer
	gauges *drift.Gauges

	stop    context.CancelFunc
	stopped chan struct{}
}

// startDrift wires capture and feedback into srv and makes the monitor,
// on db (which must stay open until close). Endpoints deployed through
// the returned runtime's swap capture at their capture.rate.
func (a *app) startDrift(ctx context.Context, db *store.DB, srv *serving.Server, spec *schema.Spec, log *slog.Logger) (*driftRuntime, error) {
	if _, err := drift.Open(ctx, db); err != nil {
		return nil, err
	}
	reg, err := registry.New(ctx, db)
	if err != nil {
		return nil, err
	}
	buf := drift.NewCapture(db, drift.CaptureOptions{Retention: captureRetention(spec), Log: log})
	r := &driftRuntime{buf: buf, gauges: drift.NewGauges()}
	if err := srv.RegisterMetrics(r.gauges); err != nil {
		return nil, err
	}
	r.swap = engine.CapturingServer{Server: srv, Capture: engine.DriftCapture{Buffer: buf}}
	srv.SetFeedback(engine.DriftFeedback{DB: db, Buffer: buf})
	r.mon = &engine.Monitor{DB: db, Registry: reg, Serving: r.swap, Log: log}
	return r, nil
}

// joinFrom gives a rollback's deploy the online store endpoints join
// features from; without it an endpoint with a join is rolled back
// without one.
func (r *driftRuntime) joinFrom(online engine.OnlineReader) { r.mon.Online = online }

// run checks the policies of the revision spec returns until ctx ends or
// close is called.
func (r *driftRuntime) run(ctx context.Context, spec func() *schema.Spec) {
	ctx, r.stop = context.WithCancel(ctx)
	r.stopped = make(chan struct{})
	go func() {
		defer close(r.stopped)
		r.mon.Run(ctx, driftTick, spec, r.gauges.Observe)
	}()
}

// halt stops the monitor and waits for a retrain in flight to see it (a
// training rolls back), so that nothing the monitor uses is closed under
// it and nothing writes the state after it is closed.
func (r *driftRuntime) halt() {
	if r.stop != nil {
		r.stop()
		<-r.stopped
	}
}

// close halts the monitor, then writes what the capture buffer holds and
// stops its writer.
func (r *driftRuntime) close(ctx context.Context) {
	r.halt()
	r.buf.Close(ctx)
}

// captureRetention is the longest capture.retention of the revision's
// endpoints, and at least the longest drift window; 24h when none says.
func captureRetention(spec *schema.Spec) time.Duration {
	var d time.Duration
	for _, e := range spec.Endpoints {
		d = max(d, e.Capture.Retention)
	}
	for _, p := range spec.Drift {
		d = max(d, p.Window)
	}
	if d == 0 {
		d = 24 * time.Hour
	}
	return d
}

// retrainer trains an experiment of l's revision on drift, holding the
// state's lock as `sluice train` does, and moves no alias.
func (a *app) retrainer(l *loaded) func(ctx context.Context, spec *schema.Spec, exp, promoteTo string) (string, error) {
	return func(ctx context.Context, spec *schema.Spec, exp, promoteTo string) (string, error) {
		db, release, err := a.openForWrite(ctx, true)
		if err != nil {
			return "", err
		}
		defer release()
		drivers, err := newDrivers(ctx, db, a.ortLib)
		if err != nil {
			return "", err
		}
		drivers.AllowCommandTrainers = a.allowCommands
		return trainOnDrift(ctx, db, drivers, l, spec, exp, promoteTo)
	}
}

// trainOnDrift runs engine.Train for a drift policy's retrain.
func trainOnDrift(ctx context.Context, db *store.DB, d engine.Drivers, l *loaded, spec *schema.Spec, exp, promoteTo string) (string, error) {
	res, err := engine.Train(ctx, db, d, engine.TrainRequest{Spec: spec, FS: l.rev.FS, Revision: l.revisionJSON(),
		Experiment: exp, Trigger: engine.TriggerDrift})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("run %s registered %s v%d, no alias moved", res.RunName, res.Model, res.Version), nil
}
