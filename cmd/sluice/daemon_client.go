package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"sluice/runtime/store"
)

// serverFlags say which running daemon status, events and sync ask.
type serverFlags struct {
	server, tokenFile string
}

func (f *serverFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.server, "server", "", "the daemon's operator API, e.g. http://127.0.0.1:8080 (default: env SLUICE_SERVER, else the address the daemon holding the state recorded)")
	cmd.Flags().StringVar(&f.tokenFile, "token-file", "", "a file holding the daemon's bearer token; env SLUICE_TOKEN")
}

// client talks to a running daemon's operator API.
type client struct {
	base  string
	token string
	hc    *http.Client
	// named is set when the address was given (--server, SLUICE_SERVER)
	// rather than found in the state file: then a daemon that does not
	// answer is an error, not a reason to read the file instead.
	named bool
}

// findDaemon returns a client of the daemon to ask: the one named by
// --server or SLUICE_SERVER, else the one the state's lock holder
// recorded; nil when neither names one.
func (a *app) findDaemon(ctx context.Context, f *serverFlags) (*client, error) {
	token, err := readSecret(f.tokenFile, "SLUICE_TOKEN", "", "--token-file")
	if err != nil {
		return nil, err
	}
	c := &client{base: f.server, token: token, hc: &http.Client{}, named: true}
	if c.base == "" {
		c.base = strings.TrimSpace(os.Getenv("SLUICE_SERVER"))
	}
	if c.base == "" {
		c.named = false
		if c.base, err = a.advertisedServer(ctx); err != nil || c.base == "" {
			return nil, err
		}
	}
	if !strings.Contains(c.base, "://") {
		c.base = "http://" + c.base
	}
	u, err := url.Parse(c.base)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("--server %q: want http://host:port", c.base)
	}
	c.base = strings.TrimRight(c.base, "/")
	return c, nil
}

// advertisedServer is the operator API the daemon holding the state
// recorded in its lock, "" when no daemon holds it.
func (a *app) advertisedServer(ctx context.Context) (string, error) {
	if _, err := os.Stat(a.statePath); err != nil {
		return "", nil
	}
	db, err := store.OpenReadOnly(ctx, a.statePath)
	if err != nil {
		return "", err
	}
	defer db.Close()
	li, err := store.LockHolder(ctx, db)
	if err != nil || li == nil || li.Holder.Command != "daemon" {
		return "", err
	}
	return li.Addr, nil
}

// apiError is an answer of the daemon other than success.
type apiError struct {
	code int
	msg  string
}

func (e *apiError) Error() string { return e.msg }

// call sends a request and decodes a JSON answer into out. An answer
// outside 2xx is an *apiError carrying the daemon's message.
func (c *client) call(ctx context.Context, method, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, nil)
	if err != nil {
		return err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("daemon at %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("daemon at %s: read answer: %w", c.base, err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error string `json:"error"`
		}
		msg := strings.TrimSpace(string(body))
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			msg += " (give the daemon's token with --token-file or SLUICE_TOKEN)"
		}
		return &apiError{code: resp.StatusCode, msg: fmt.Sprintf("daemon at %s: %s", c.base, msg)}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("daemon at %s: decode answer of %s: %w", c.base, path, err)
	}
	return nil
}

// ask runs get against the daemon, when one is found. It reports whether
// the answer came from the daemon: a daemon found through the state file
// that does not answer (gone, or wanting a token) is noted on stderr and
// the caller reads the state file instead.
func (a *app) ask(ctx context.Context, f *serverFlags, get func(context.Context, *client) error) (bool, error) {
	c, err := a.findDaemon(ctx, f)
	if err != nil || c == nil {
		return false, err
	}
	// A daemon found in the lock may be long gone; do not hang on it.
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err = get(cctx, c)
	switch {
	case err == nil:
		return true, nil
	case c.named || ctx.Err() != nil:
		return false, err
	}
	fmt.Fprintf(a.stderr, "sluice: %v; reading the state file instead\n", err)
	return false, nil
}
