package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"sluice/engine"
	"sluice/runtime/drift"
	"sluice/runtime/features"
	"sluice/runtime/registry"
	"sluice/runtime/store"
	"sluice/runtime/training"
)

// newDrivers opens the runtimes apply drives, on the state file, and
// starts ONNX Runtime for training's evaluation. A missing library is not
// an error here: only experiments need it, and their steps fail saying so.
// ortLib is --ort-lib, or empty.
func newDrivers(ctx context.Context, db *store.DB, ortLib string) (engine.Drivers, error) {
	fs, err := features.New(ctx, db)
	if err != nil {
		return engine.Drivers{}, err
	}
	tr, err := training.NewTracker(ctx, db)
	if err != nil {
		return engine.Drivers{}, err
	}
	reg, err := registry.New(ctx, db)
	if err != nil {
		return engine.Drivers{}, err
	}
	d := engine.Drivers{Features: fs, History: fs, Online: fs, Tracker: tr, Registry: reg, Drift: drift.Lazy(db)}
	if db.Path != "" && db.Path != ":memory:" {
		d.ArtifactDir = filepath.Join(filepath.Dir(db.Path), "artifacts")
	}
	_ = startORT(ortLib)
	return d, nil
}

func (a *app) featuresCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "features",
		Short: "Read the feature store: online values and point-in-time training sets",
	}
	cmd.AddCommand(a.featuresGetCmd(), a.featuresHistoryCmd())
	return cmd
}

// openFeatures opens the feature store of an existing state file, read-only.
func (a *app) openFeatures(ctx context.Context) (*features.Store, func(), error) {
	if _, err := os.Stat(a.statePath); err != nil {
		return nil, nil, fmt.Errorf("no state at %s: apply a revision first (or pass --state)", a.statePath)
	}
	db, err := store.OpenReadOnly(ctx, a.statePath)
	if err != nil {
		return nil, nil, err
	}
	fs, err := features.New(ctx, db)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return fs, func() { db.Close() }, nil
}

func (a *app) featuresGetCmd() *cobra.Command {
	var entities []string
	var fields []string
	var format, at string
	cmd := &cobra.Command{
		Use:   "get VIEW --entity KEY=VALUE [--entity ...]",
		Short: "Read one entity's online features, with Feast's statuses",
		Long: "get reads the newest value of each field of VIEW for one entity from the online store.\n" +
			"A value older than the view's TTL reads OUTSIDE_MAX_AGE and is not shown; an entity the\n" +
			"view has never seen reads NOT_FOUND.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			key, err := parseEntity(entities)
			if err != nil {
				return err
			}
			fs, done, err := a.openFeatures(cmd.Context())
			if err != nil {
				return err
			}
			defer done()
			view := args[0]
			info, err := fs.View(cmd.Context(), view)
			if err != nil {
				return err
			}
			refs := make([]string, 0, len(info.Fields))
			for _, f := range info.Fields {
				if len(fields) == 0 || contains(fields, f.Name) {
					refs = append(refs, view+":"+f.Name)
				}
			}
			var now time.Time
			if at != "" {
				if now, err = time.Parse(time.RFC3339, at); err != nil {
					return fmt.Errorf("--at %q: want an RFC 3339 time such as 2026-11-21T00:00:00Z", at)
				}
			}
			resp, err := fs.Online(cmd.Context(), features.OnlineRequest{Features: refs, Entities: []map[string]any{key}, Now: now})
			if err != nil {
				return err
			}
			return a.printOnline(resp, format)
		},
	}
	cmd.Flags().StringArrayVar(&entities, "entity", nil, "a join key and its value, e.g. user_id=1001 (repeat for views with several entities)")
	cmd.Flags().StringSliceVar(&fields, "field", nil, "only these fields (default: all)")
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	cmd.Flags().StringVar(&at, "at", "", "judge TTLs as of this time instead of now (RFC 3339)")
	return cmd
}

func parseEntity(pairs []string) (map[string]any, error) {
	if len(pairs) == 0 {
		return nil, fmt.Errorf("give the entity with --entity KEY=VALUE, e.g. --entity user_id=1001")
	}
	out := map[string]any{}
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--entity %q: want KEY=VALUE", p)
		}
		out[k] = v
	}
	return out, nil
}

func (a *app) printOnline(resp *features.OnlineResponse, format string) error {
	row := resp.Rows[0]
	if format == "json" {
		type value struct {
			Feature   string `json:"feature"`
			Status    string `json:"status"`
			Value     any    `json:"value"`
			EventTime string `json:"event_timestamp,omitempty"`
		}
		out := make([]value, len(row))
		for i, v := range row {
			out[i] = value{Feature: resp.Features[i], Status: v.Status.String(), Value: v.Value}
			if !v.EventTime.IsZero() {
				out[i].EventTime = v.EventTime.UTC().Format(time.RFC3339)
			}
		}
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FEATURE\tVALUE\tSTATUS\tEVENT TIME")
	for i, v := range row {
		val, at := "-", "-"
		if v.Value != nil {
			val = fmt.Sprint(v.Value)
		}
		if !v.EventTime.IsZero() {
			at = v.EventTime.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", resp.Features[i], val, v.Status, at)
	}
	return tw.Flush()
}

func (a *app) featuresHistoryCmd() *cobra.Command {
	var entitiesFile string
	var refs []string
	cmd := &cobra.Command{
		Use:   "history --entities FILE.csv --features VIEW:FIELD,...",
		Short: "Build a point-in-time correct training set as CSV on standard output",
		Long: "history reads entity rows (the join key columns and an event_timestamp column) and adds, for\n" +
			"each row, every requested feature as it was at that time: the newest value at or before it,\n" +
			"within the view's TTL, never a value from the future.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if entitiesFile == "" || len(refs) == 0 {
				return fmt.Errorf("history needs --entities FILE.csv and --features VIEW:FIELD,...")
			}
			f, err := os.Open(entitiesFile)
			if err != nil {
				return err
			}
			defer f.Close()
			frame, err := features.ReadEntityRowsCSV(f, entitiesFile)
			if err != nil {
				return err
			}
			fs, done, err := a.openFeatures(cmd.Context())
			if err != nil {
				return err
			}
			defer done()
			start := time.Now()
			out, err := fs.History(cmd.Context(), features.HistoryRequest{Entities: frame, Features: refs})
			if err != nil {
				return err
			}
			if err := out.WriteCSV(a.stdout); err != nil {
				return err
			}
			fmt.Fprintf(a.stderr, "%d entity rows, %d features, in %s\n", out.Len(), len(refs), time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
	cmd.Flags().StringVar(&entitiesFile, "entities", "", "CSV of entity rows: join key columns and event_timestamp")
	cmd.Flags().StringSliceVar(&refs, "features", nil, "features to retrieve, as VIEW:FIELD (comma-separated or repeated)")
	return cmd
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
