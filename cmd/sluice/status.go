package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"sluice/engine/daemon"
	"sluice/runtime/store"
)

func (a *app) statusCmd() *cobra.Command {
	var format string
	var sf serverFlags
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the current revision and every resource's condition",
		Long: "status asks the running daemon (--server, SLUICE_SERVER, or the one holding the state),\n" +
			"which adds what it is doing: the branch head, the step in progress, the last error and\n" +
			"the next retry. When no daemon runs it reads the state file.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "text" && format != "json" {
				return fmt.Errorf("--format %q: want text or json", format)
			}
			ctx := cmd.Context()
			var s daemon.Status
			var server string
			live, err := a.ask(ctx, &sf, func(ctx context.Context, c *client) error {
				server = c.base
				return c.call(ctx, "GET", "/api/status", &s)
			})
			if err != nil {
				return err
			}
			if !live {
				fs, err := a.readStatus(ctx)
				if err != nil {
					return err
				}
				s, server = *fs, ""
			}
			if format == "json" {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(s)
			}
			return a.printStatus(&s, server)
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	sf.add(cmd)
	return cmd
}

func (a *app) readStatus(ctx context.Context) (*daemon.Status, error) {
	db, err := store.OpenReadOnly(ctx, a.statePath)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return daemon.ReadStatus(ctx, db)
}

// printStatus shows the revision in force, what the daemon at server is
// doing (when the status came from one), and every resource's condition.
func (a *app) printStatus(s *daemon.Status, server string) error {
	w := a.stdout
	if r := s.Revision; r == nil {
		fmt.Fprintf(w, "Nothing applied yet to %s.\n", a.statePath)
	} else {
		fmt.Fprintf(w, "Revision %s", short(r.Commit))
		if r.Ref != "" {
			fmt.Fprintf(w, " (%s)", r.Ref)
		}
		at := r.StartedAt
		if r.FinishedAt != nil {
			at = *r.FinishedAt
		}
		fmt.Fprintf(w, ", path %s: %s at %s\n", r.Path, r.Outcome, at.Local().Format(time.DateTime))
	}
	if server != "" {
		printDaemon(w, s, server)
	}
	if len(s.Resources) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RESOURCE\tSTATUS\tREASON\tSINCE\tMESSAGE")
	for _, c := range s.Resources {
		fmt.Fprintf(tw, "%s.%s\t%s\t%s\t%s\t%s\n", c.Kind, c.Name, c.Status, c.Reason, c.Since.Local().Format(time.DateTime), c.Message)
	}
	return tw.Flush()
}

// printDaemon shows the daemon's own part of a status: what it tracks,
// what it is doing, and the failure it is retrying or stalled on.
func printDaemon(w io.Writer, s *daemon.Status, server string) {
	fmt.Fprintf(w, "Daemon %s: %s", server, s.Phase)
	if s.Step != "" {
		fmt.Fprintf(w, " %s", s.Step)
	}
	fmt.Fprintf(w, "; tracking %s of %s", s.Branch, s.Repo)
	if s.Head != "" {
		fmt.Fprintf(w, ", head %s", short(s.Head))
	}
	fmt.Fprintln(w)
	if s.LockLost {
		fmt.Fprintln(w, "Stopped: another writer took the state over.")
	}
	if s.FetchError != "" {
		fmt.Fprintf(w, "Fetch failed: %s\n", s.FetchError)
	}
	if e := s.LastError; e != nil {
		fmt.Fprintf(w, "Last error: %s", e.Reason)
		if e.Commit != "" {
			fmt.Fprintf(w, " at %s", short(e.Commit))
		}
		fmt.Fprintf(w, ": %s", e.Message)
		switch {
		case e.Stalled:
			fmt.Fprint(w, "; waiting for a new commit")
		case s.NextRetry != nil:
			fmt.Fprintf(w, "; retry %d at %s", s.Failures+1, s.NextRetry.Local().Format(time.TimeOnly))
		}
		fmt.Fprintln(w)
		for _, l := range e.Errors {
			fmt.Fprintf(w, "  %s\n", strings.TrimSpace(l))
		}
	}
}

func cut(addr string) (kind, name string, ok bool) {
	for i := 0; i < len(addr); i++ {
		if addr[i] == '.' {
			return addr[:i], addr[i+1:], i > 0 && i < len(addr)-1
		}
	}
	return "", "", false
}

func (a *app) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print sluice's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(a.stdout, "sluice %s\n", versionString())
			path, v, err := a.ortVersion()
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "onnxruntime %s (%s)\n", v, path)
			return nil
		},
	}
}
