package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func TestExitStatusesFollowTerraformAndAPanicIsEleven(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func() error
		want int
	}{
		{"ok", func() error { return nil }, exitOK},
		{"changes", func() error { return exitCode(exitChanges) }, exitChanges},
		{"refused", func() error { return exitCode(exitRefused) }, exitRefused},
		{"error", func() error { return errors.New("boom") }, exitError},
		{"panic", func() error { panic("a bug") }, exitPanic},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := &cobra.Command{Use: "sluice", SilenceErrors: true, SilenceUsage: true,
				RunE: func(*cobra.Command, []string) error { return tc.run() }}
			var stderr bytes.Buffer
			if got := execute(root, nil, &stderr); got != tc.want {
				t.Errorf("exit %d, want %d (stderr %q)", got, tc.want, stderr.String())
			}
			if tc.name == "panic" && !strings.Contains(stderr.String(), "internal error") {
				t.Errorf("panic not reported: %q", stderr.String())
			}
		})
	}
}
