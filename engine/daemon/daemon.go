// Package daemon keeps a state equal to a tracked branch: it watches the
// repository (fsnotify on a local one's refs, polling and webhooks for a
// remote one), and for each new revision loads, plans and applies it, one
// revision at a time. A revision that fails leaves the last good one
// current; failures are retried with capped exponential backoff; a
// periodic re-check plans the current revision again and applies any drift.
// The operator API (status, events, revisions, plans, sync, webhooks)
// runs on the daemon's own http.Server.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"sluice/engine"
	"sluice/engine/source"
	"sluice/runtime/store"
)

// Defaults, as Flux's: retries from 750 ms doubling to 15 min.
const (
	DefaultRetryMin = 750 * time.Millisecond
	DefaultRetryMax = 15 * time.Minute
	// DefaultPoll is how often a remote repository is fetched.
	DefaultPoll = 60 * time.Second
)

// Config says what the daemon tracks and how it serves.
type Config struct {
	// DB is the state file, opened by the caller and closed after Close;
	// the daemon holds its write lock while it runs.
	DB *store.DB
	// Drivers are the runtimes apply drives.
	Drivers engine.Drivers
	// Repo is the repository root: a local directory, a bare repository
	// or a remote URL (see source.Options.Repo).
	Repo string
	// Branch is the tracked branch; "" follows HEAD (a local repository's
	// checked-out branch, a remote's default branch).
	Branch string
	// Path is the directory inside the repository that holds the specs.
	Path string
	// DataRoots are directories outside the repository sources may read.
	DataRoots []string
	// CacheDir holds remote repositories' clones; "" is the user cache.
	CacheDir string
	// FetchTimeout bounds each fetch of a remote repository; 0 is
	// source.DefaultFetchTimeout.
	FetchTimeout time.Duration
	// Poll is how often the branch is looked at without being told (with
	// jitter); 0 turns polling off. A local repository is watched through
	// fsnotify as well.
	Poll time.Duration
	// Recheck is how often the current revision is planned again to find
	// and heal drift; 0 turns it off.
	Recheck time.Duration
	// RetryMin and RetryMax bound the backoff between retries of a
	// failure; zero means DefaultRetryMin and DefaultRetryMax.
	RetryMin, RetryMax time.Duration
	// Parallelism bounds concurrent apply steps; 0 is the engine's default.
	Parallelism int
	// Listen is the operator API's address; "" serves no API of its own
	// (the caller may serve Handler elsewhere, e.g. on the data plane's
	// listener, and name that address in Advertise).
	Listen string
	// Advertise is the address of the listener that carries the API when
	// it is not Listen's, recorded in the state lock for `sluice status`.
	Advertise net.Addr
	// Token is the bearer token mutating routes need (and reading routes,
	// unless OpenReads); "" disables mutating routes.
	Token string
	// OpenReads serves reading routes without a token.
	OpenReads bool
	// WebhookSecret verifies POST /hooks/git (GitHub X-Hub-Signature-256,
	// GitLab X-Gitlab-Token); "" disables the route.
	WebhookSecret string
	// VerifyKeyring, when set, is an armored OpenPGP keyring: only
	// commits signed by one of its keys are applied. VerifyMode is
	// source.VerifyHead (the branch head; the default) or
	// source.VerifyStrict (every commit since the revision in force).
	VerifyKeyring string
	VerifyMode    string
	// WaitLock waits for another writer to release the state instead of
	// refusing to start.
	WaitLock bool
	// NotifyAttempts is how often a notice is tried per webhook, and
	// NotifyRetryMin the first wait between tries (it doubles); zero means
	// DefaultNotifyAttempts and DefaultNotifyRetryMin.
	NotifyAttempts int
	NotifyRetryMin time.Duration
	// NotifyTimeout bounds one delivery attempt; zero is 10 s.
	NotifyTimeout time.Duration
	// Hooks are told about every apply step, besides the daemon's own.
	Hooks []engine.Hook
	// Logger receives the daemon's log; nil discards it.
	Logger *slog.Logger
}

// Daemon is a running reconciler. Close stops it.
type Daemon struct {
	cfg    Config
	log    *slog.Logger
	lease  *store.Lease
	remote bool

	ln     net.Listener
	srv    *http.Server
	notify *notifier

	stop       context.CancelFunc // ends the loop once the current reconcile is done
	abortApply context.CancelFunc // interrupts an apply in progress
	applyCtx   context.Context
	done       chan struct{} // closed when the loop and triggers have returned
	loopDone   chan struct{} // closed when the loop has returned
	kick       chan struct{}
	moved      chan struct{} // like kick, for the watch of newer revisions during an apply
	syncs      chan syncRequest

	mu sync.Mutex
	st state

	closeOnce sync.Once
	closeErr  error
}

// Start takes the state's write lock, starts watching the branch and the
// reconcile loop (whose first pass begins at once), and serves the
// operator API when cfg.Listen is set. ctx bounds only the start itself.
func Start(ctx context.Context, cfg Config) (*Daemon, error) {
	if cfg.DB == nil {
		return nil, errors.New("start daemon: no state file")
	}
	if cfg.RetryMin <= 0 {
		cfg.RetryMin = DefaultRetryMin
	}
	if cfg.RetryMax <= 0 {
		cfg.RetryMax = DefaultRetryMax
	}
	if cfg.Path == "" {
		cfg.Path = "."
	}
	if cfg.VerifyKeyring != "" {
		if _, err := source.ParseKeyring(cfg.VerifyKeyring); err != nil {
			return nil, fmt.Errorf("start daemon: verify commits: %w", err)
		}
		if cfg.VerifyMode == "" {
			cfg.VerifyMode = source.VerifyHead
		}
		if cfg.VerifyMode != source.VerifyHead && cfg.VerifyMode != source.VerifyStrict {
			return nil, fmt.Errorf("start daemon: verify mode %q: want head or strict", cfg.VerifyMode)
		}
	}
	d := &Daemon{cfg: cfg, log: cfg.Logger, remote: isRemote(cfg.Repo), done: make(chan struct{}), loopDone: make(chan struct{}),
		kick: make(chan struct{}, 1), moved: make(chan struct{}, 1), syncs: make(chan syncRequest)}
	d.st.training = map[string]*trainingStep{}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	lock := store.Lock
	if cfg.WaitLock {
		lock = store.WaitLock
	}
	var err error
	if d.lease, err = lock(ctx, cfg.DB, store.Self("daemon")); err != nil {
		return nil, err
	}
	if cfg.Listen != "" {
		if d.ln, err = net.Listen("tcp", cfg.Listen); err != nil {
			d.lease.Release(ctx)
			return nil, fmt.Errorf("start daemon: listen: %w", err)
		}
		// A slow client cannot hold a connection: headers within 10s, a
		// whole request within 30s, an idle keep-alive for 2 min. Writing
		// may take up to 10 min, for POST /api/sync?wait=true answering
		// after a long apply.
		d.srv = &http.Server{Handler: d.Handler(), ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout: 30 * time.Second, WriteTimeout: 10 * time.Minute, IdleTimeout: 2 * time.Minute,
			ErrorLog: slog.NewLogLogger(d.log.Handler(), slog.LevelWarn)}
		// Clients of the state file (sluice status) find the API here; a
		// failure only costs them the live view.
		if err := d.lease.Advertise(ctx, advertised(d.ln.Addr())); err != nil {
			d.log.Warn("advertise the API in the state lock", keyErr, err)
		}
	}
	if cfg.Listen == "" && cfg.Advertise != nil {
		if err := d.lease.Advertise(ctx, advertised(cfg.Advertise)); err != nil {
			d.log.Warn("advertise the API in the state lock", keyErr, err)
		}
	}
	// The watcher is made last: it holds an fsnotify instance that only
	// its Run closes.
	var watcher *source.Watcher
	if !d.remote {
		if watcher, err = source.NewWatcher(cfg.Repo, cfg.Branch); err != nil {
			if d.ln != nil {
				d.ln.Close()
			}
			d.lease.Release(ctx)
			return nil, fmt.Errorf("start daemon: %w", err)
		}
	}
	d.start(watcher)
	return d, nil
}

// start runs the loop, the triggers and the server until Close.
func (d *Daemon) start(watcher *source.Watcher) {
	base := context.Background()
	loopCtx, stop := context.WithCancel(base)
	d.stop = stop
	d.applyCtx, d.abortApply = context.WithCancel(base)
	d.notify = newNotifier(d.cfg.DB, d.log, d.cfg.NotifyAttempts, d.cfg.NotifyRetryMin, d.cfg.NotifyTimeout)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(d.loopDone)
		d.loop(loopCtx)
	}()
	if watcher != nil {
		wg.Add(1)
		go func() { defer wg.Done(); watcher.Run(loopCtx, d.poke) }()
	}
	if d.cfg.Poll > 0 {
		wg.Add(1)
		go func() { defer wg.Done(); d.poll(loopCtx) }()
	}
	if d.srv != nil {
		go d.srv.Serve(d.ln)
	}
	go func() { wg.Wait(); close(d.done) }()
	d.log.Info("daemon started", keyRepo, d.cfg.Repo, keyBranch, d.branchName(), keyPath, d.cfg.Path, keyAddr, d.Addr())
}

// Addr is the operator API's address, "" when it is not served.
func (d *Daemon) Addr() string {
	if d.ln == nil {
		return ""
	}
	return d.ln.Addr().String()
}

// Close stops the daemon: the API stops accepting and drains its
// requests, the loop finishes the apply in progress and stops, and the
// lock is released. When ctx ends first, the apply is interrupted (its
// current steps record Interrupted, and the next start resumes there).
func (d *Daemon) Close(ctx context.Context) error {
	d.closeOnce.Do(func() {
		d.stop()
		var srvErr error
		srvDone := make(chan struct{})
		go func() {
			defer close(srvDone)
			if d.srv != nil {
				srvErr = d.srv.Shutdown(ctx)
			}
		}()
		select {
		case <-d.done:
		case <-ctx.Done():
			d.log.Warn("drain deadline passed: interrupting the apply in progress", keyErr, context.Cause(ctx))
			d.abortApply()
			<-d.done
		}
		d.abortApply()
		d.notify.close(ctx)
		<-srvDone
		if srvErr != nil {
			d.srv.Close()
		}
		d.closeErr = d.lease.Release(context.WithoutCancel(ctx))
		d.log.Info("daemon stopped")
	})
	return d.closeErr
}

// Sync reconciles the branch head now, past any backoff, and returns
// when that reconcile is done: nil when the head is applied (or was
// already), else why not.
func (d *Daemon) Sync(ctx context.Context) error {
	return d.passNow(ctx, targetHead)
}

// recheckNow runs the periodic re-check of the revision in force now.
func (d *Daemon) recheckNow(ctx context.Context) error {
	return d.passNow(ctx, targetCurrent)
}

// syncRequest asks the loop for a pass of t now.
type syncRequest struct {
	t     target
	reply chan error
}

func (d *Daemon) passNow(ctx context.Context, t target) error {
	reply := make(chan error, 1)
	select {
	case d.syncs <- syncRequest{t, reply}:
	case <-d.loopDone:
		return errors.New("the reconcile loop has stopped")
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// poke asks the loop to look at the branch; pokes that arrive while one
// is pending collapse into it, so a burst of commits is one look.
func (d *Daemon) poke() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
	select {
	case d.moved <- struct{}{}:
	default:
	}
}

func (d *Daemon) branchName() string {
	if d.cfg.Branch == "" {
		return "HEAD"
	}
	return d.cfg.Branch
}

// advertised is the URL a client on this host reaches addr by: a
// wildcard listener is reached on loopback.
func advertised(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	switch ip := net.ParseIP(host); {
	case ip == nil || !ip.IsUnspecified():
	case ip.To4() != nil:
		host = "127.0.0.1"
	default:
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// scpLike is git's short ssh form, user@host:path.
var scpLike = regexp.MustCompile(`^[A-Za-z0-9._~-]+@[A-Za-z0-9.-]+:`)

// isRemote says whether repo is fetched (a URL) rather than read in place,
// as engine/source decides.
func isRemote(repo string) bool {
	return strings.Contains(repo, "://") || scpLike.MatchString(repo)
}

// Log keys.
const (
	keyRepo    = "repo"
	keyBranch  = "branch"
	keyPath    = "path"
	keyAddr    = "addr"
	keyErr     = "err"
	keyCommit  = "commit"
	keyOutcome = "outcome"
	keyWhy     = "why"
	keyRetry   = "retry_in"
	keyStep    = "step"
	keyStatus  = "status"
	keyDetail  = "detail"
)
