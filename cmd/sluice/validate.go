package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func (a *app) validateCmd() *cobra.Command {
	var f specFlags
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check a revision's specs: schema, types, references and paths",
		Long: "validate loads the CUE specs of one revision, unifies them with Sluice's schema and checks\n" +
			"every cross-reference. Each problem is printed as file:line:col: message; the exit status is 1\n" +
			"when there is any. It reads nothing but the repository.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := a.load(cmd.Context(), &f)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "%d resources valid at %s\n", len(l.spec.Resources()), describe(l))
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

// describe names a loaded revision for people.
func describe(l *loaded) string {
	s := l.rev.Short()
	if l.rev.Ref != "" {
		s += " (" + l.rev.Ref + ")"
	}
	if l.rev.Dirty {
		s += " with uncommitted edits"
	}
	if l.path != "." && l.path != "" {
		s += ", path " + l.path
	}
	return s
}
