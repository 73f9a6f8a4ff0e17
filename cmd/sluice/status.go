package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"sluice/runtime/store"
)

func (a *app) statusCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the current revision and every resource's condition",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			db, err := store.OpenReadOnly(ctx, a.statePath)
			if err != nil {
				return err
			}
			defer db.Close()
			cur, err := store.CurrentRevision(ctx, db)
			if err != nil {
				return err
			}
			conds, err := store.Conditions(ctx, db)
			if err != nil {
				return err
			}
			if format == "json" {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					Revision   *store.Revision   `json:"revision"`
					Conditions []store.Condition `json:"conditions"`
				}{cur, conds})
			}
			if cur == nil {
				fmt.Fprintf(a.stdout, "Nothing applied yet to %s.\n", a.statePath)
				return nil
			}
			fmt.Fprintf(a.stdout, "Revision %s", short(cur.Commit))
			if cur.Ref != "" {
				fmt.Fprintf(a.stdout, " (%s)", cur.Ref)
			}
			fmt.Fprintf(a.stdout, ", path %s: %s at %s\n\n", cur.Path, cur.Outcome, cur.FinishedAt.Local().Format(time.DateTime))
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "RESOURCE\tSTATUS\tREASON\tSINCE\tMESSAGE")
			for _, c := range conds {
				fmt.Fprintf(tw, "%s.%s\t%s\t%s\t%s\t%s\n", c.Kind, c.Name, c.Status, c.Reason, c.Since.Local().Format(time.DateTime), c.Message)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}

func (a *app) eventsCmd() *cobra.Command {
	var f store.EventFilter
	cmd := &cobra.Command{
		Use:   "events [kind.name]",
		Short: "Show the event log, oldest first",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if len(args) == 1 {
				var ok bool
				if f.Kind, f.Name, ok = cut(args[0]); !ok {
					return fmt.Errorf("resource %q: want kind.name, e.g. features.user_stats", args[0])
				}
			}
			db, err := store.OpenReadOnly(ctx, a.statePath)
			if err != nil {
				return err
			}
			defer db.Close()
			events, err := store.Events(ctx, db, f)
			if err != nil {
				return err
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
	return cmd
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
