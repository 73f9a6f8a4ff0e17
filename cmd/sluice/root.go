package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes. They follow Terraform's -detailed-exitcode, and a recovered
// panic gets one of its own so that it can never read as "changes".
const (
	exitOK      = 0
	exitError   = 1
	exitChanges = 2
	exitRefused = 3
	exitPanic   = 11
)

// exitCode carries a chosen exit status out of a command.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// reported marks an error the command already printed in full.
type reported struct{ error }

// Main runs the command line and returns the process's exit status.
func Main() (code int) {
	return run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return execute(newRoot(stdin, stdout, stderr), args, stderr)
}

// execute runs a command tree and maps its outcome to an exit status; a
// panic is recovered into exitPanic so it never reads as "changes".
func execute(root *cobra.Command, args []string, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "sluice: internal error (a bug; please report it): %v\n%s", r, debug.Stack())
			code = exitPanic
		}
	}()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	var ec exitCode
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ec):
		return int(ec)
	}
	var rep reported
	if !errors.As(err, &rep) {
		fmt.Fprintf(stderr, "sluice: %v\n", err)
	}
	return exitError
}

// app is what every command shares: its streams and the global flags.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	statePath      string
	ortLib         string
	// allowCommands is --allow-command-trainers, on the commands that train.
	allowCommands bool
}

func newRoot(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "sluice",
		Short:         "A declarative GitOps reconciler for machine learning",
		Long:          "Sluice reads CUE specs from a git repository — data sources, entities, feature views,\nexperiments, models, endpoints and drift policies — plans them against the state it keeps\nin SQLite, and applies the plan.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().StringVar(&a.statePath, "state", defaultState(), "the state file (SQLite); env SLUICE_STATE")
	root.PersistentFlags().StringVar(&a.ortLib, "ort-lib", "", "path of the ONNX Runtime shared library; env SLUICE_ORT_LIB, else the Makefile's cache")
	root.AddCommand(
		a.validateCmd(),
		a.planCmd(),
		a.applyCmd(),
		a.serveCmd(),
		a.daemonCmd(),
		a.statusCmd(),
		a.eventsCmd(),
		a.syncCmd(),
		a.featuresCmd(),
		a.runsCmd(),
		a.trainCmd(),
		a.modelsCmd(),
		a.driftCmd(),
		a.feedbackCmd(),
		a.versionCmd(),
	)
	return root
}

func defaultState() string {
	if s := os.Getenv("SLUICE_STATE"); s != "" {
		return s
	}
	return ".sluice/state.db"
}
