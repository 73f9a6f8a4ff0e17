package main

import (
	"github.com/spf13/cobra"
)

// allowCommandsFlag registers --allow-command-trainers on a command that
// trains: experiments whose trainer is a command run only with it, so a
// commit cannot run code on the host by default.
func (a *app) allowCommandsFlag(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&a.allowCommands, "allow-command-trainers", false,
		"run experiments whose trainer is a command (it runs with the revision's files, a minimal environment and a timeout)")
}
