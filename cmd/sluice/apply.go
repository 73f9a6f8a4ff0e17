package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"sluice/engine"
	"sluice/engine/planjson"
	"sluice/engine/render"
	"sluice/runtime/store"
)

func (a *app) applyCmd() *cobra.Command {
	var f specFlags
	var planFile string
	var autoApprove, wait bool
	var parallelism int
	cmd := &cobra.Command{
		Use:   "apply",
		Short: "Make the state match a revision",
		Long: "apply plans a revision and executes the plan: each change is one step, committed with its record in\n" +
			"one transaction, so an interrupted apply resumes where it stopped. On a terminal it shows the plan\n" +
			"and asks first; --auto-approve skips the question and is required without a terminal.\n" +
			"With --plan FILE it applies exactly a plan saved by `sluice plan --out`, and refuses it when the\n" +
			"revision or the state has moved since.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if planFile != "" {
				return a.applySaved(ctx, planFile, &f, parallelism, wait)
			}
			l, err := a.load(ctx, &f)
			if err != nil {
				return err
			}
			db, release, err := a.openForWrite(ctx, wait)
			if err != nil {
				return err
			}
			defer release()
			p, err := engine.MakePlan(ctx, db, engine.Input{Spec: l.spec, FS: l.rev.FS, Revision: l.revisionJSON(), StatePath: a.statePath, AllowCommandTrainers: a.allowCommands})
			if err != nil {
				return err
			}
			pj := p.JSON()
			if pj.Errored || pj.HasChanges() || !autoApprove {
				render.Text(a.stdout, pj)
			}
			if pj.Errored {
				return exitCode(exitError)
			}
			if pj.HasChanges() && !autoApprove {
				if err := a.confirm(); err != nil {
					return err
				}
			}
			return a.execute(ctx, db, p, parallelism)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&planFile, "plan", "", "apply this saved plan (from `sluice plan --out`)")
	cmd.Flags().BoolVar(&autoApprove, "auto-approve", false, "apply without asking")
	cmd.Flags().IntVar(&parallelism, "parallelism", 4, "how many independent steps may run at once")
	a.allowCommandsFlag(cmd)
	cmd.Flags().BoolVar(&wait, "wait", false, "wait for another apply or daemon that holds the state to finish, instead of exiting")
	return cmd
}

// openForWrite opens the state and takes its one-writer lock: a second apply
// or a daemon on the same file is refused with who holds it, or waited for.
func (a *app) openForWrite(ctx context.Context, wait bool) (*store.DB, func(), error) {
	db, err := store.Open(ctx, a.statePath)
	if err != nil {
		return nil, nil, err
	}
	lock := store.Lock
	if wait {
		lock = store.WaitLock
	}
	lease, err := lock(ctx, db, store.Self("apply"))
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, func() {
		lease.Release(context.WithoutCancel(ctx))
		db.Close()
	}, nil
}

// confirm asks on a terminal; without one, it refuses.
func (a *app) confirm() error {
	in, ok := a.stdin.(*os.File)
	if !ok || !isTerminal(in) {
		return fmt.Errorf("apply needs --auto-approve when standard input is not a terminal")
	}
	fmt.Fprint(a.stdout, "\nApply these changes? Only 'yes' will be accepted: ")
	answer, _ := bufio.NewReader(in).ReadString('\n')
	if strings.TrimSpace(answer) != "yes" {
		fmt.Fprintln(a.stdout, "Apply cancelled; nothing changed.")
		return exitCode(exitError)
	}
	return nil
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// applySaved applies a saved plan after checking that neither the revision
// nor the state moved since it was made.
func (a *app) applySaved(ctx context.Context, file string, f *specFlags, parallelism int, wait bool) error {
	saved, err := planjson.ReadSaved(file)
	if err != nil {
		return err
	}
	sp := saved.Plan
	db, release, err := a.openForWrite(ctx, wait)
	if err != nil {
		return err
	}
	defer release()
	serial, err := store.Serial(ctx, db)
	if err != nil {
		return err
	}
	if serial != sp.State.Serial {
		return fmt.Errorf("saved plan is stale: state serial %d, now %d; run plan again", sp.State.Serial, serial)
	}
	sf := *f
	sf.repo, sf.rev, sf.path = saved.Repo, saved.Rev, sp.Revision.Path
	l, err := a.load(ctx, &sf)
	if err != nil {
		return err
	}
	if l.rev.ID() != sp.Revision.Commit {
		return fmt.Errorf("saved plan is stale: it was made at %s, the repository now gives %s", sp.Revision.Commit, l.rev.ID())
	}
	p, err := engine.MakePlan(ctx, db, engine.Input{Spec: l.spec, FS: l.rev.FS, Revision: sp.Revision, StatePath: sp.State.Path, AllowCommandTrainers: a.allowCommands})
	if err != nil {
		return err
	}
	if diff := sameChanges(sp, p.JSON()); diff != "" {
		return fmt.Errorf("saved plan is stale: %s; run plan again", diff)
	}
	return a.execute(ctx, db, p, parallelism)
}

// sameChanges names the first way two plans of one revision differ, which
// happens when data outside git (a data root) changed in between.
func sameChanges(saved, now *planjson.Plan) string {
	if len(saved.ResourceChanges) != len(now.ResourceChanges) {
		return fmt.Sprintf("it holds %d changes, a plan now holds %d", len(saved.ResourceChanges), len(now.ResourceChanges))
	}
	for i, s := range saved.ResourceChanges {
		n := now.ResourceChanges[i]
		if s.Address != n.Address || s.Action != n.Action || strings.Join(s.RuntimeActions, ",") != strings.Join(n.RuntimeActions, ",") {
			return fmt.Sprintf("%s would now %s instead of %s", n.Address, n.Action, s.Action)
		}
	}
	return ""
}
