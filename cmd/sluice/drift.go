package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"sluice/engine"
	"sluice/runtime/drift"
	"sluice/runtime/registry"
	"sluice/runtime/store"
)

func (a *app) driftCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "drift",
		Short: "Show drift policies' verdicts and reports",
	}
	cmd.AddCommand(a.driftStatusCmd(), a.driftReportCmd())
	return cmd
}

func (a *app) driftStatusCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "status POLICY",
		Short: "Show a drift policy's last check: per-feature statistic, threshold, verdict and sample sizes",
		Long: "status reads the last check of POLICY that `sluice serve` or `sluice daemon` recorded in the\n" +
			"state file: the dataset's verdict, and for each feature its method, statistic, threshold,\n" +
			"verdict and sample sizes. `sluice drift report` judges the current window instead.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "json" {
				return fmt.Errorf("--format %q: want text or json", format)
			}
			db, err := a.openState(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			r, at, err := drift.LastReport(cmd.Context(), db, args[0])
			if err != nil {
				return err
			}
			if r == nil {
				return fmt.Errorf("drift policy %s has not been checked yet: `sluice serve` and `sluice daemon` check it every `every` (or run `sluice drift report %s`)", args[0], args[0])
			}
			if format == "json" {
				return drift.WriteJSON(a.stdout, r)
			}
			fmt.Fprintf(a.stdout, "Checked %s.\n", at.Format(time.RFC3339))
			return printReport(a.stdout, r)
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}

func (a *app) driftReportCmd() *cobra.Command {
	var f specFlags
	var format, html string
	cmd := &cobra.Command{
		Use:   "report POLICY [--html FILE | --format json]",
		Short: "Judge a drift policy's current window and write the report",
		Long: "report judges POLICY now, as the revision in force declares it (or --rev): the endpoint's\n" +
			"captured traffic over the policy's window against the reference of the version the state\n" +
			"says it serves. --html writes a self-contained page (histograms of reference against current\n" +
			"per feature, no network needed to view it); --format json prints the report for machines.\n" +
			"Nothing is recorded and no action runs.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "json" {
				return fmt.Errorf("--format %q: want text or json", format)
			}
			ctx := cmd.Context()
			db, err := a.openState(ctx)
			if err != nil {
				return err
			}
			defer db.Close()
			if err := inForce(cmd, db, &f); err != nil {
				return err
			}
			l, err := a.load(ctx, &f)
			if err != nil {
				return err
			}
			m := &engine.Monitor{DB: db, Registry: &registry.Registry{}, Status: engine.StateServing{Ctx: ctx, Q: db, Spec: l.spec}}
			r, err := m.Evaluate(ctx, l.spec, args[0])
			if err != nil {
				return err
			}
			if html != "" {
				if err := writeFileAtomic(html, func(w io.Writer) error { return drift.WriteHTML(w, r) }); err != nil {
					return err
				}
				fmt.Fprintf(a.stderr, "wrote %s: %s\n", html, engine.Summary(r))
			}
			switch {
			case format == "json":
				return drift.WriteJSON(a.stdout, r)
			case html == "":
				return printReport(a.stdout, r)
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	cmd.Flags().StringVar(&html, "html", "", "also write the report as a self-contained HTML page to this file")
	return cmd
}

// openState opens an existing state file for reading.
func (a *app) openState(ctx context.Context) (*store.DB, error) {
	if _, err := os.Stat(a.statePath); err != nil {
		return nil, fmt.Errorf("no state at %s: apply a revision first (or pass --state)", a.statePath)
	}
	return store.OpenReadOnly(ctx, a.statePath)
}

// printReport prints the dataset verdict and a row per feature.
func printReport(w io.Writer, r *drift.Report) error {
	fmt.Fprintf(w, "Drift policy %s on endpoint %s", r.Policy, r.Endpoint)
	if r.Model != "" {
		fmt.Fprintf(w, " (%s v%d)", r.Model, r.Version)
	}
	fmt.Fprintf(w, ": %s\n", engine.Summary(r))
	if len(r.Features)+len(r.Prediction) == 0 {
		return nil
	}
	fmt.Fprintf(w, "Reference %d rows, current %d rows.\n\n", r.ReferenceRows, r.CurrentRows)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FEATURE\tMETHOD\tSTATISTIC\tP-VALUE\tTHRESHOLD\tVERDICT\tREF ROWS\tCUR ROWS\tMISSING\tNOTE")
	for _, fs := range [][]drift.FeatureReport{r.Features, r.Prediction} {
		for _, f := range fs {
			threshold := drift.Number(math.NaN())
			if f.Method != "" {
				threshold = drift.Number(f.Threshold)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n", f.Name, dash(f.Method), num(f.Statistic), num(f.PValue),
				num(threshold), f.Verdict, f.ReferenceRows, f.CurrentRows, pct(f.MissingRate), f.Reason)
		}
	}
	if q := r.Quality; q != nil {
		fmt.Fprintf(tw, "\nLive quality (%d labelled):\taccuracy %s\tF1 %s\tRMSE %s\tholdout %v\n", q.Labeled, num(q.Accuracy), num(q.F1), num(q.RMSE), q.Holdout)
	}
	return tw.Flush()
}

func num(n drift.Number) string {
	if !n.Valid() {
		if float64(n) > 0 {
			return "inf"
		}
		return "-"
	}
	return fmt.Sprintf("%.4g", float64(n))
}

func pct(n drift.Number) string {
	if !n.Valid() {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(n))
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// writeFileAtomic writes path through a temporary file renamed into place.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".sluice-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
