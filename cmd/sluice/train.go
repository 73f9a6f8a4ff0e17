package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"sluice/engine"
	"sluice/runtime/store"
)

func (a *app) trainCmd() *cobra.Command {
	var f specFlags
	var wait bool
	cmd := &cobra.Command{
		Use:   "train EXPERIMENT",
		Short: "Train an experiment now, outside the git flow, and register a version",
		Long: "train runs EXPERIMENT once, as the revision in force declares it (or --rev), on the feature\n" +
			"store's newest data, even when a run exists for them. The run is tagged sluice.trigger=manual\n" +
			"and registers a new version of the model; no alias moves: promoting it is a change in git.\n" +
			"A failed run is kept, FAILED with its error and log (see `sluice runs`).",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			db, release, err := a.openForWrite(ctx, wait)
			if err != nil {
				return err
			}
			defer release()
			if err := inForce(cmd, db, &f); err != nil {
				return err
			}
			l, err := a.load(ctx, &f)
			if err != nil {
				return err
			}
			drivers, err := newDrivers(ctx, db, a.ortLib)
			if err != nil {
				return err
			}
			drivers.AllowCommandTrainers = a.allowCommands
			res, err := engine.Train(ctx, db, drivers, engine.TrainRequest{Spec: l.spec, FS: l.rev.FS,
				Revision: l.revisionJSON(), Experiment: args[0], Trigger: engine.TriggerManual})
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "Trained experiments.%s at %s: %s.\nRegistered %s v%d; no alias moved.\n",
				args[0], l.rev.Short(), res.Message, res.Model, res.Version)
			return nil
		},
	}
	f.register(cmd)
	a.allowCommandsFlag(cmd)
	cmd.Flags().BoolVar(&wait, "wait", false, "wait for another apply or daemon that holds the state to finish, instead of exiting")
	return cmd
}

// inForce points f at the revision the state has in force, unless the
// flags name one: the commit last applied and its spec path.
func inForce(cmd *cobra.Command, db *store.DB, f *specFlags) error {
	if f.rev != "" || f.worktree {
		return nil
	}
	cur, err := store.CurrentRevision(cmd.Context(), db)
	if err != nil {
		return err
	}
	if cur == nil {
		return fmt.Errorf("no revision has been applied to %s yet: run sluice apply first, or name one with --rev", db.Path)
	}
	f.rev = cur.Commit
	if !cmd.Flags().Changed("path") {
		root, _, err := splitRepo(f.repo)
		if err != nil {
			return err
		}
		f.repo, f.path = root, cur.Path
	}
	return nil
}

// allowCommandsFlag registers --allow-command-trainers on a command that
// trains: experiments whose trainer is a command run only with it, so a
// commit cannot run code on the host by default.
func (a *app) allowCommandsFlag(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&a.allowCommands, "allow-command-trainers", false,
		"run experiments whose trainer is a command (it runs with the revision's files, a minimal environment and a timeout)")
}
