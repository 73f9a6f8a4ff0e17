package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"sluice/engine/daemon"
	"sluice/engine/source"
	"sluice/runtime/store"
)

// daemonFlags are the flags of `sluice daemon`.
type daemonFlags struct {
	repo, path, branch  string
	dataRoots           []string
	poll, recheck       time.Duration
	fetchTimeout        time.Duration
	drain               time.Duration
	listen              string
	serveListen         string
	tokenFile           string
	openReads           bool
	webhookSecretFile   string
	wait                bool
	verifyKeyring       string
	verifyMode          string
	writeBack           string
	parallelism         int
	logFormat, logLevel string
}

func (a *app) daemonCmd() *cobra.Command {
	var f daemonFlags
	cmd := &cobra.Command{
		Use:   "daemon",
		Short: "Keep the state equal to a branch: watch, plan and apply each commit, and serve the operator API",
		Long: "daemon tracks a branch and applies each new revision, the newest of a burst only. A local\n" +
			"repository is watched through its refs, so a commit is seen at once; a remote one is fetched\n" +
			"every --poll and on POST /hooks/git. A revision that fails leaves the last good one in force\n" +
			"and is retried with backoff (750 ms doubling to 15 min); invalid specs wait for the next commit.\n" +
			"Every --recheck the revision in force is planned again and any drift applied.\n" +
			"The operator API (GET /api/status, /api/events, /api/revisions, /api/plan?rev=REF, POST\n" +
			"/api/sync, /healthz, /readyz) needs the bearer token in --token-file; --open-reads serves the\n" +
			"reading routes without it. Only one daemon or apply writes a state file at a time.\n" +
			"With --verify-commits KEYRING only commits signed by a key of the keyring are applied\n" +
			"(--verify-mode head: the branch head; strict: every commit since the revision in force).\n" +
			"SIGTERM finishes the apply in progress (up to --drain-timeout) and exits 0.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runDaemon(cmd.Context(), &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.repo, "repo", ".", "the git repository: a local directory (inside a repository) or a remote URL")
	fl.StringVar(&f.path, "path", "", "the directory inside the repository that holds the specs")
	fl.StringVar(&f.branch, "branch", "", "the branch to track (default: the checked-out branch, or a remote's default branch)")
	fl.StringSliceVar(&f.dataRoots, "data-root", nil, "a directory outside the repository that sources may read from (repeatable)")
	fl.DurationVar(&f.poll, "poll", daemon.DefaultPoll, "how often to look at the branch without being told, with jitter (0: never)")
	fl.DurationVar(&f.fetchTimeout, "fetch-timeout", source.DefaultFetchTimeout, "how long a fetch of a remote repository may take before it counts as failed")
	fl.DurationVar(&f.recheck, "recheck", 5*time.Minute, "how often to plan the revision in force again and heal drift (0: never)")
	fl.DurationVar(&f.drain, "drain-timeout", 30*time.Second, "how long SIGTERM waits for the apply in progress before interrupting it")
	fl.StringVar(&f.listen, "listen", "127.0.0.1:8080", "the address of the operator API and, unless --serve-listen names another, of the endpoints (empty: no API)")
	fl.StringVar(&f.serveListen, "serve-listen", "", "a separate address for the data plane serving the endpoints (default: --listen's, shared with the API; \"none\": no data plane)")
	fl.StringVar(&f.tokenFile, "token-file", "", "a file holding the bearer token the API's routes need")
	fl.BoolVar(&f.openReads, "open-reads", false, "serve the API's reading routes without the token")
	fl.StringVar(&f.webhookSecretFile, "webhook-secret-file", "", "a file holding the push webhooks' secret; env SLUICE_WEBHOOK_SECRET")
	fl.StringVar(&f.verifyKeyring, "verify-commits", "", "an armored OpenPGP public keyring (gpg --export --armor): apply only commits signed by one of its keys")
	fl.StringVar(&f.verifyMode, "verify-mode", "head", "with --verify-commits, what is checked: head (the branch head) or strict (every commit since the revision in force)")
	fl.StringVar(&f.writeBack, "write-back", "", "a branch to commit drift rollbacks and retrains' promotions to, as CUE edits for review (created from the revision in force; pushed for a remote)")
	fl.BoolVar(&f.wait, "wait", false, "wait for another writer of the state to finish instead of exiting")
	fl.IntVar(&f.parallelism, "parallelism", 4, "how many independent steps may run at once")
	a.allowCommandsFlag(cmd)
	fl.StringVar(&f.logFormat, "log-format", "text", "log format on standard error: text or json")
	fl.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	return cmd
}

// runDaemon runs the daemon until ctx ends (SIGINT, SIGTERM), then drains.
func (a *app) runDaemon(ctx context.Context, f *daemonFlags) error {
	logger, err := newLogger(a.stderr, f.logFormat, f.logLevel)
	if err != nil {
		return err
	}
	repo, sub, err := splitRepo(f.repo)
	if err != nil {
		return err
	}
	specPath := path.Clean(path.Join(sub, filepath.ToSlash(f.path)))
	if specPath == ".." || strings.HasPrefix(specPath, "../") || path.IsAbs(filepath.ToSlash(f.path)) {
		return fmt.Errorf("--path %q escapes the repository", f.path)
	}
	cfg := daemon.Config{Repo: repo, Branch: f.branch, Path: specPath, Poll: f.poll, Recheck: f.recheck, FetchTimeout: f.fetchTimeout,
		Listen: f.listen, OpenReads: f.openReads, WaitLock: f.wait, Parallelism: f.parallelism, Logger: logger}
	if cfg.DataRoots, err = absAll(f.dataRoots); err != nil {
		return err
	}
	if cfg.Token, err = readSecret(f.tokenFile, "", repo, "--token-file"); err != nil {
		return err
	}
	if cfg.WebhookSecret, err = readSecret(f.webhookSecretFile, "SLUICE_WEBHOOK_SECRET", repo, "--webhook-secret-file"); err != nil {
		return err
	}
	if cfg.VerifyKeyring, cfg.VerifyMode, err = readKeyring(f.verifyKeyring, f.verifyMode, repo); err != nil {
		return err
	}
	wb, err := newWriteBack(f.writeBack, repo, specPath, &cfg)
	if err != nil {
		return err
	}
	if cfg.Token == "" && f.listen != "" && !f.openReads {
		fmt.Fprintln(a.stderr, "sluice daemon: no --token-file: the API's routes are refused (add --open-reads to read status)")
	}
	db, err := store.Open(ctx, a.statePath)
	if err != nil {
		return err
	}
	defer db.Close()
	cfg.DB = db
	if cfg.Drivers, err = newDrivers(ctx, db, a.ortLib); err != nil {
		return err
	}
	cfg.Drivers.AllowCommandTrainers = a.allowCommands
	plane, shared, err := a.newDataPlane(f)
	if err != nil {
		return err
	}
	if shared {
		// The data plane's listener carries the API: one address for both.
		cfg.Listen, cfg.Advertise = "", plane.ln.Addr()
	}
	var startDrift func(*daemon.Daemon) // drift monitoring, once the daemon runs
	if plane != nil {
		cfg.Drivers.Serving = plane.srv
		var stopDrift func()
		startDrift, stopDrift, err = a.watchDrift(ctx, &cfg, plane, repo, cfg.DataRoots, wb)
		if err != nil {
			return err
		}
		defer stopDrift()
		plane.readFeaturesFrom(cfg.Drivers.Online)
		defer plane.close(context.WithoutCancel(ctx), a.stderr)
		fmt.Fprintf(a.stderr, "sluice daemon: serving endpoints on http://%s\n", plane.ln.Addr())
	}
	d, err := daemon.Start(ctx, cfg)
	if err != nil {
		return err
	}
	if startDrift != nil {
		startDrift(d)
	}
	addr := d.Addr()
	if shared {
		plane.srv.Mount(d.Handler(), daemon.APIPrefixes()...)
		addr = plane.ln.Addr().String()
	}
	if addr != "" {
		fmt.Fprintf(a.stderr, "sluice daemon: tracking %s of %s (path %s); operator API on http://%s\n", branchOrHead(f.branch), repo, specPath, addr)
	}
	<-ctx.Done()
	drainCtx, cancel := context.WithTimeoutCause(context.Background(), f.drain,
		fmt.Errorf("--drain-timeout %s passed", f.drain))
	defer cancel()
	if err := d.Close(drainCtx); err != nil {
		return err
	}
	fmt.Fprintln(a.stderr, "sluice daemon: stopped")
	return nil
}

// readSecret reads a token from file (or env when file is empty). A file
// inside the tracked repository is refused: secrets stay out of git.
func readSecret(file, env, repo, flag string) (string, error) {
	if file == "" {
		if env != "" {
			return strings.TrimSpace(os.Getenv(env)), nil
		}
		return "", nil
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return "", err
	}
	if !isRemoteRepo(repo) {
		if rel, err := filepath.Rel(repo, abs); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return "", fmt.Errorf("%s %s is inside the repository; keep secrets out of git", flag, file)
		}
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("%s: %w", flag, err)
	}
	s := strings.TrimSpace(string(data))
	if s == "" {
		return "", fmt.Errorf("%s %s is empty", flag, file)
	}
	return s, nil
}

// readKeyring reads --verify-commits. A keyring inside the tracked
// repository is refused: a commit could then change whom it trusts.
func readKeyring(file, mode, repo string) (keyring, verifyMode string, err error) {
	if file == "" {
		return "", "", nil
	}
	if mode != source.VerifyHead && mode != source.VerifyStrict {
		return "", "", fmt.Errorf("--verify-mode %q: want head or strict", mode)
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return "", "", err
	}
	if !isRemoteRepo(repo) {
		if rel, err := filepath.Rel(repo, abs); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return "", "", fmt.Errorf("--verify-commits %s is inside the repository, where a commit could change whom it trusts", file)
		}
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return "", "", fmt.Errorf("--verify-commits: %w", err)
	}
	if _, err := source.ParseKeyring(string(data)); err != nil {
		return "", "", fmt.Errorf("--verify-commits %s: %w", file, err)
	}
	return string(data), mode, nil
}

func isRemoteRepo(repo string) bool {
	return strings.Contains(repo, "://") || strings.HasPrefix(repo, "git@")
}

func branchOrHead(b string) string {
	if b == "" {
		return "HEAD"
	}
	return b
}

func newLogger(w interface{ Write([]byte) (int, error) }, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, errors.New("--log-format " + format + ": want text or json")
}
