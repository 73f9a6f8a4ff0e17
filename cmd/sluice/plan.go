package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"sluice/engine"
	"sluice/engine/planjson"
	"sluice/engine/render"
	"sluice/runtime/store"
)

func (a *app) planCmd() *cobra.Command {
	var f specFlags
	var format, out, base, head string
	var detailed bool
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show what applying a revision would do, changing nothing",
		Long: "plan diffs a revision's specs against the recorded state and prints every change with why it\n" +
			"happens and what it costs. It opens the state read-only and writes nothing.\n\n" +
			"With --detailed-exitcode the exit status is 0 for no changes, 2 for changes, 3 when apply would\n" +
			"refuse a change, 1 for an error (and 11 for an internal error).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "text" && format != "json" && format != "markdown" {
				return fmt.Errorf("--format %q: want text, json or markdown", format)
			}
			if out != "" && f.worktree {
				return fmt.Errorf("--out cannot save a plan of uncommitted edits (--worktree): commit them first")
			}
			if head != "" {
				if f.rev != "" && f.rev != head {
					return fmt.Errorf("--head and --rev name the same thing; give one")
				}
				f.rev = head
			}
			if base != "" && out != "" {
				return fmt.Errorf("--out cannot save a pull-request plan (--base): the merge is what applies it")
			}
			l, err := a.load(cmd.Context(), &f)
			if err != nil {
				return err
			}
			in := engine.Input{Spec: l.spec, FS: l.rev.FS, Revision: l.revisionJSON(), StatePath: a.statePath, AllowCommandTrainers: a.allowCommands}
			if base != "" {
				bf := f
				bf.rev, bf.worktree = base, false
				b, err := a.load(cmd.Context(), &bf)
				if err != nil {
					return fmt.Errorf("base %s: %w", base, err)
				}
				in.Base, in.BaseFS = b.spec, b.rev.FS
				in.Revision.Base = b.rev.Commit
			}
			db, err := store.OpenReadOnly(cmd.Context(), a.statePath)
			if err != nil {
				return err
			}
			defer db.Close()
			p, err := engine.MakePlan(cmd.Context(), db, in)
			if err != nil {
				return err
			}
			pj := p.JSON()
			if err := printPlan(a.stdout, pj, format); err != nil {
				return err
			}
			if out != "" && !pj.Errored {
				if err := planjson.WriteSaved(out, &planjson.Saved{Repo: l.repo, Rev: f.rev, Plan: pj}); err != nil {
					return err
				}
				fmt.Fprintf(a.stderr, "Saved the plan to %s; apply exactly it with: sluice apply --plan %s\n", out, out)
			}
			return planExit(pj, detailed)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&format, "format", "text", "output format: text, json or markdown (a pull-request comment)")
	cmd.Flags().StringVar(&out, "out", "", "save the plan to this file for `sluice apply --plan`")
	cmd.Flags().BoolVar(&detailed, "detailed-exitcode", false, "exit 2 when there are changes, 3 when apply would refuse one")
	cmd.Flags().StringVar(&base, "base", "", "plan a pull request: show what merging --head into this ref would change")
	cmd.Flags().BoolVar(&a.allowCommands, "allow-command-trainers", false, "plan as for an apply or daemon that runs command trainers")
	cmd.Flags().StringVar(&head, "head", "", "the pull request's ref (the same as --rev)")
	return cmd
}

func printPlan(w io.Writer, p *planjson.Plan, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(p)
	case "markdown":
		render.Markdown(w, p)
	default:
		render.Text(w, p)
	}
	return nil
}

func planExit(p *planjson.Plan, detailed bool) error {
	switch {
	case p.Errored:
		return exitCode(exitError)
	case !detailed:
		return nil
	case p.Refused():
		return exitCode(exitRefused)
	case p.HasChanges():
		return exitCode(exitChanges)
	}
	return nil
}
