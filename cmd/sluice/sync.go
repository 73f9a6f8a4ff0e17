package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"sluice/engine/daemon"
)

func (a *app) syncCmd() *cobra.Command {
	var sf serverFlags
	var noWait bool
	cmd := &cobra.Command{
		Use:   "sync",
		Short: "Ask the running daemon to reconcile its branch now, past any backoff",
		Long: "sync asks the running daemon (--server, SLUICE_SERVER, or the one holding the state) to\n" +
			"reconcile the branch head now, and waits for the outcome: the status when the head is in\n" +
			"force, else why not (exit 1). It needs the daemon's token (--token-file, SLUICE_TOKEN).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			c, err := a.findDaemon(ctx, &sf)
			if err != nil {
				return err
			}
			if c == nil {
				return fmt.Errorf("sync needs a running daemon, and none holds %s: start one with `sluice daemon`, or name it with --server", a.statePath)
			}
			if noWait {
				if err := c.call(ctx, "POST", "/api/sync", nil); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "Sync queued at %s.\n", c.base)
				return nil
			}
			var s daemon.Status
			if err := c.call(ctx, "POST", "/api/sync?wait=true", &s); err != nil {
				var ae *apiError
				if errors.As(err, &ae) && ae.code == 409 {
					return fmt.Errorf("sync: the head is not in force: %s", ae.msg)
				}
				return err
			}
			return a.printStatus(&s, c.base)
		},
	}
	cmd.Flags().BoolVar(&noWait, "no-wait", false, "return once the daemon has queued the sync")
	sf.add(cmd)
	return cmd
}
