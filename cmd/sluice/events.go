package main

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"sluice/runtime/store"
)

func (a *app) eventsCmd() *cobra.Command {
	var f store.EventFilter
	var sf serverFlags
	cmd := &cobra.Command{
		Use:   "events [kind.name]",
		Short: "Show the event log, oldest first",
		Long: "events asks the running daemon (--server, SLUICE_SERVER, or the one holding the state)\n" +
			"for the event log, or reads the state file when no daemon runs.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if len(args) == 1 {
				var ok bool
				if f.Kind, f.Name, ok = cut(args[0]); !ok {
					return fmt.Errorf("resource %q: want kind.name, e.g. features.user_stats", args[0])
				}
			}
			var events []store.Event
			live, err := a.ask(ctx, &sf, func(ctx context.Context, c *client) error {
				var err error
				events, err = c.events(ctx, f)
				return err
			})
			if err != nil {
				return err
			}
			if !live {
				if events, err = a.readEvents(ctx, f); err != nil {
					return err
				}
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "TIME\tRESOURCE\tTYPE\tREASON\tMESSAGE")
			for _, e := range events {
				res := "-"
				if e.Kind != "" {
					res = e.Kind + "." + e.Name
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.At.Local().Format(time.DateTime), res, e.Type, e.Reason, e.Message)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().IntVar(&f.Limit, "limit", 100, "show at most this many of the newest events")
	sf.add(cmd)
	return cmd
}

func (a *app) readEvents(ctx context.Context, f store.EventFilter) ([]store.Event, error) {
	db, err := store.OpenReadOnly(ctx, a.statePath)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return store.Events(ctx, db, f)
}

// events reads the daemon's event log (GET /api/events).
func (c *client) events(ctx context.Context, f store.EventFilter) ([]store.Event, error) {
	q := url.Values{}
	q.Set("limit", strconv.Itoa(f.Limit))
	if f.Kind != "" {
		q.Set("kind", f.Kind)
		q.Set("name", f.Name)
	}
	var got []struct {
		ID         int64     `json:"id"`
		At         time.Time `json:"at"`
		Kind       string    `json:"kind"`
		Name       string    `json:"name"`
		Type       string    `json:"type"`
		Reason     string    `json:"reason"`
		Message    string    `json:"message"`
		RevisionID int64     `json:"revision_id"`
	}
	if err := c.call(ctx, "GET", "/api/events?"+q.Encode(), &got); err != nil {
		return nil, err
	}
	out := make([]store.Event, 0, len(got))
	for _, e := range got {
		out = append(out, store.Event{ID: e.ID, At: e.At, Kind: e.Kind, Name: e.Name, Type: e.Type, Reason: e.Reason,
			Message: e.Message, RevisionID: e.RevisionID})
	}
	return out, nil
}
