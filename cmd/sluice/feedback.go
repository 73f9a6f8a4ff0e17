package main

import (
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"sluice/runtime/drift"
	"sluice/runtime/store"
)

func (a *app) feedbackCmd() *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "feedback ENDPOINT [REQUEST_ID LABEL | --file LABELS.csv]",
		Short: "Record ground-truth labels of captured requests, for live quality",
		Long: "feedback records the true label of requests the endpoint captured, by request id: one on\n" +
			"the command line, or a CSV file with request_id and label columns. Drift policies then track\n" +
			"live accuracy and F1 (classifiers) or RMSE (regressors) per window against the version's\n" +
			"holdout metrics. A request id the endpoint never captured (or sampled out, or pruned) is\n" +
			"refused; with --file nothing is recorded unless every row is good.",
		Args: cobra.RangeArgs(1, 3),
		RunE: func(cmd *cobra.Command, args []string) error {
			labels, err := feedbackLabels(args[1:], file)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			db, err := store.Open(ctx, a.statePath)
			if err != nil {
				return err
			}
			defer db.Close()
			if _, err := drift.Open(ctx, db); err != nil {
				return err
			}
			err = db.Tx(ctx, func(tx *sql.Tx) error {
				for _, l := range labels {
					if err := drift.AddFeedback(ctx, tx, args[0], l.id, l.label, time.Now()); err != nil {
						if l.where != "" {
							return fmt.Errorf("%s: %w", l.where, err)
						}
						return err
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "Recorded %d label(s) for endpoint %s.\n", len(labels), args[0])
			return nil
		},
	}
	cmd.Flags().StringVar(&file, "file", "", "a CSV file with request_id and label columns")
	return cmd
}

type feedbackLabel struct {
	id, where string
	label     float64
}

// feedbackLabels reads the labels from the arguments or the CSV file.
func feedbackLabels(args []string, file string) ([]feedbackLabel, error) {
	switch {
	case file != "" && len(args) > 0:
		return nil, errors.New("give either REQUEST_ID LABEL or --file, not both")
	case file == "" && len(args) != 2:
		return nil, errors.New("give REQUEST_ID LABEL, or --file LABELS.csv")
	case file == "":
		v, err := parseLabel(args[1])
		if err != nil {
			return nil, fmt.Errorf("label %q: %w", args[1], err)
		}
		return []feedbackLabel{{id: args[0], label: v}}, nil
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: read header: %w", file, err)
	}
	idCol, labelCol := index(head, "request_id"), index(head, "label")
	if idCol < 0 || labelCol < 0 {
		return nil, fmt.Errorf("%s:1: want columns request_id and label, have %s", file, strings.Join(head, ", "))
	}
	var out []feedbackLabel
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		v, err := parseLabel(rec[labelCol])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: column label: %q: %w", file, line, rec[labelCol], err)
		}
		out = append(out, feedbackLabel{id: rec[idCol], label: v, where: fmt.Sprintf("%s:%d", file, line)})
	}
}

func parseLabel(s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return 0, errors.New("not a number")
	}
	return v, nil
}

func index(xs []string, x string) int {
	for i, y := range xs {
		if strings.TrimSpace(y) == x {
			return i
		}
	}
	return -1
}
