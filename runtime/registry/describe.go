package registry

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"sluice/runtime/store"
)

// MaxDescribedMoves is how many recent alias moves a ModelView holds.
const MaxDescribedMoves = 10

// keyPreference orders the metrics a model's summary shows when the caller
// names none: the ones people gate on first.
var keyPreference = []string{"f1", "roc_auc", "accuracy", "precision", "recall", "log_loss", "rmse", "r2", "mae"}

// maxKeys is how many metric columns a summary shows by default.
const maxKeys = 3

// ModelView is a model as `sluice models NAME` prints it.
type ModelView struct {
	Name string
	// Versions are newest first.
	Versions []*Version
	Aliases  map[string]int
	// Moves are the most recent alias moves, newest first.
	Moves []AliasMove
	// Keys are the metrics shown as columns.
	Keys []string
}

// Describe reads model for printing. keys are the metric columns; none
// means up to three of the usual ones (f1, roc_auc, accuracy, ... rmse,
// r2) that the versions have. An unknown model is an error wrapping
// ErrNotFound that lists the models there are.
func (r *Registry) Describe(ctx context.Context, q store.Querier, model string, keys ...string) (*ModelView, error) {
	ok, err := modelExists(ctx, q, model)
	if err != nil {
		return nil, err
	}
	if !ok {
		models, err := r.Models(ctx, q)
		if err != nil {
			return nil, err
		}
		known := "none yet"
		if len(models) > 0 {
			known = strings.Join(models, ", ")
		}
		return nil, fmt.Errorf("no model %q in the registry (models: %s): %w", model, known, ErrNotFound)
	}
	vs, err := r.Versions(ctx, q, model)
	if err != nil {
		return nil, err
	}
	aliases, err := r.Aliases(ctx, q, model)
	if err != nil {
		return nil, err
	}
	moves, err := r.History(ctx, q, model, "")
	if err != nil {
		return nil, err
	}
	m := &ModelView{Name: model, Aliases: aliases, Keys: keys}
	for i := len(vs) - 1; i >= 0; i-- {
		m.Versions = append(m.Versions, vs[i])
	}
	for i := len(moves) - 1; i >= 0 && len(m.Moves) < MaxDescribedMoves; i-- {
		m.Moves = append(m.Moves, moves[i])
	}
	if len(m.Keys) == 0 {
		m.Keys = defaultKeys(vs)
	}
	return m, nil
}

// defaultKeys picks the metric columns: preferred names first, then the
// others in order, at most maxKeys.
func defaultKeys(vs []*Version) []string {
	have := map[string]bool{}
	for _, v := range vs {
		for k := range v.Metrics {
			have[k] = true
		}
	}
	var keys []string
	for _, k := range keyPreference {
		if have[k] && len(keys) < maxKeys {
			keys = append(keys, k)
			delete(have, k)
		}
	}
	rest := make([]string, 0, len(have))
	for k := range have {
		rest = append(rest, k)
	}
	sort.Strings(rest)
	for _, k := range rest {
		if len(keys) < maxKeys {
			keys = append(keys, k)
		}
	}
	return keys
}

// WriteTo prints the model: its aliases, a table of versions (status,
// experiment, key metrics, aliases, created, commit), why versions failed or
// were archived, and the recent alias moves.
func (m *ModelView) WriteTo(w io.Writer) (int64, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "model %s\n", m.Name)
	fmt.Fprintf(&b, "aliases: %s\n\n", m.aliasLine())
	tw := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	head := []string{"VERSION", "STATUS", "EXPERIMENT"}
	for _, k := range m.Keys {
		head = append(head, strings.ToUpper(k))
	}
	fmt.Fprintln(tw, strings.Join(append(head, "ALIASES", "CREATED", "COMMIT"), "\t"))
	for _, v := range m.Versions {
		row := []string{fmt.Sprintf("v%d", v.Number), string(v.Status), orDash(v.Lineage.Experiment)}
		for _, k := range m.Keys {
			x, ok := v.Metrics[k]
			if !ok {
				row = append(row, "-")
				continue
			}
			row = append(row, formatValue(x))
		}
		aliases := orDash(strings.Join(v.Aliases, ","))
		row = append(row, aliases, v.CreatedAt.Format("2006-01-02 15:04"), shortCommit(v.Commit))
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush()
	notes := false
	for _, v := range m.Versions {
		if v.Message != "" {
			if !notes {
				b.WriteString("\n")
				notes = true
			}
			fmt.Fprintf(&b, "v%d %s: %s\n", v.Number, v.Status, v.Message)
		}
	}
	if len(m.Moves) > 0 {
		b.WriteString("\nrecent alias moves:\n")
		for _, mv := range m.Moves {
			fmt.Fprintf(&b, "  %s\n", mv)
		}
	}
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}

// String is what WriteTo prints.
func (m *ModelView) String() string {
	var b strings.Builder
	m.WriteTo(&b)
	return b.String()
}

// aliasLine lists aliases by name: "champion → v3, production → v3".
func (m *ModelView) aliasLine() string {
	if len(m.Aliases) == 0 {
		return "none"
	}
	names := make([]string, 0, len(m.Aliases))
	for a := range m.Aliases {
		names = append(names, a)
	}
	sort.Strings(names)
	for i, a := range names {
		names[i] = fmt.Sprintf("%s → v%d", a, m.Aliases[a])
	}
	return strings.Join(names, ", ")
}
