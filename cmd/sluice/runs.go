package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"sluice/runtime/registry"
	"sluice/runtime/store"
	"sluice/runtime/training"
)

func (a *app) runsCmd() *cobra.Command {
	var s training.Search
	var format string
	cmd := &cobra.Command{
		Use:   "runs [EXPERIMENT...]",
		Short: "Search training runs with MLflow's filter grammar, plus or and parentheses",
		Long: "runs lists the training runs of the given experiments (all by default), newest first.\n\n" +
			"  sluice runs --filter 'metrics.f1 > 0.85 and params.max_depth = 15' --order-by 'metrics.f1 desc' --max 5\n\n" +
			"Filters compare metrics.X, params.X, tags.X, attributes.status|run_name|start_time and\n" +
			"datasets.digest with = != < <= > >=, LIKE, ILIKE and IN (...), joined by and, or and parentheses.",
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "json" && format != "csv" {
				return fmt.Errorf("--format %q: want text, json or csv", format)
			}
			s.Experiments = args
			db, err := a.openExisting(cmd)
			if err != nil {
				return err
			}
			defer db.Close()
			tr, err := training.NewTracker(cmd.Context(), db)
			if err != nil {
				return err
			}
			runs, err := tr.SearchRuns(cmd.Context(), db, s)
			if err != nil {
				return err
			}
			return writeRuns(a.stdout, runs, format)
		},
	}
	cmd.Flags().StringVar(&s.Filter, "filter", "", "MLflow filter, e.g. \"metrics.f1 > 0.85 and params.max_depth = 15\"")
	cmd.Flags().StringArrayVar(&s.OrderBy, "order-by", nil, "order, e.g. \"metrics.f1 desc\" (repeatable)")
	cmd.Flags().IntVar(&s.Max, "max", 0, "at most this many runs (default 1000)")
	cmd.Flags().StringVar(&format, "format", "text", "output format: text, json or csv")
	return cmd
}

// openExisting opens an existing state read-only.
func (a *app) openExisting(cmd *cobra.Command) (*store.DB, error) {
	db, err := store.OpenReadOnly(cmd.Context(), a.statePath)
	if err != nil {
		return nil, err
	}
	return db, nil
}

func writeRuns(w io.Writer, runs []*training.Run, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(runs)
	case "csv":
		return runsCSV(w, runs)
	}
	metrics := metricNames(runs)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "RUN\tEXPERIMENT\tSTATUS\tSTARTED\t%s\n", strings.ToUpper(strings.Join(metrics, "\t")))
	for _, r := range runs {
		name := r.Name
		if name == "" {
			name = r.ID
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s", name, r.Experiment, r.Status, r.Start.Local().Format(time.DateTime))
		for _, m := range metrics {
			v, ok := r.Metrics[m]
			if ok {
				fmt.Fprintf(tw, "\t%.4g", v)
			} else {
				fmt.Fprint(tw, "\t-")
			}
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

func runsCSV(w io.Writer, runs []*training.Run) error {
	metrics := metricNames(runs)
	cw := csv.NewWriter(w)
	head := []string{"run_id", "run_name", "experiment", "status", "start_time", "git_commit", "dataset_digest"}
	for _, m := range metrics {
		head = append(head, "metrics."+m)
	}
	cw.Write(head)
	for _, r := range runs {
		row := []string{r.ID, r.Name, r.Experiment, r.Status, r.Start.UTC().Format(time.RFC3339), r.GitCommit, r.DatasetDigest}
		for _, m := range metrics {
			if v, ok := r.Metrics[m]; ok {
				row = append(row, strconv.FormatFloat(v, 'g', -1, 64))
			} else {
				row = append(row, "")
			}
		}
		cw.Write(row)
	}
	cw.Flush()
	return cw.Error()
}

func metricNames(runs []*training.Run) []string {
	seen := map[string]bool{}
	for _, r := range runs {
		for m := range r.Metrics {
			seen[m] = true
		}
	}
	var out []string
	for m := range seen {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

func (a *app) modelsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "models [NAME]",
		Short: "Show registered models: versions, metrics, aliases and their history",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			db, err := a.openExisting(cmd)
			if err != nil {
				return err
			}
			defer db.Close()
			reg, err := registry.New(ctx, db)
			if err != nil {
				return err
			}
			names := args
			if len(names) == 0 {
				if names, err = reg.Models(ctx, db); err != nil {
					return err
				}
			}
			for i, name := range names {
				if i > 0 {
					fmt.Fprintln(a.stdout)
				}
				v, err := reg.Describe(ctx, db, name)
				if err != nil {
					return err
				}
				if _, err := v.WriteTo(a.stdout); err != nil {
					return err
				}
			}
			return nil
		},
	}
}
