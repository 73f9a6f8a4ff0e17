package daemon

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"sluice/runtime/drift"
	"sluice/runtime/registry"
	"sluice/runtime/training"
)

// runs answers GET /api/runs: the training runs, searched as `sluice runs`
// searches them (?filter, ?order_by repeatable, ?max, ?experiment repeatable).
func (d *Daemon) runs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s := training.Search{Filter: q.Get("filter"), OrderBy: q["order_by"], Experiments: q["experiment"]}
	var err error
	if s.Max, err = intParam(q.Get("max"), 0); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	tr, err := training.NewTracker(r.Context(), d.cfg.DB)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	runs, err := tr.SearchRuns(r.Context(), d.cfg.DB, s)
	if err != nil {
		// A filter the grammar refuses is the caller's mistake, and the
		// error points at its column.
		writeError(w, http.StatusBadRequest, err)
		return
	}
	if runs == nil {
		runs = []*training.Run{}
	}
	writeJSON(w, http.StatusOK, runs)
}

// modelVersion is one version as GET /api/models/{name} shows it.
type modelVersion struct {
	Version            int                `json:"version"`
	Status             string             `json:"status"`
	Message            string             `json:"message,omitempty"`
	Experiment         string             `json:"experiment,omitempty"`
	RunID              string             `json:"run_id"`
	Metrics            map[string]float64 `json:"metrics"`
	DatasetFingerprint string             `json:"dataset_fingerprint,omitempty"`
	Commit             string             `json:"commit,omitempty"`
	Aliases            []string           `json:"aliases"`
	CreatedAt          string             `json:"created_at"`
}

// aliasMove is one entry of a model's alias history.
type aliasMove struct {
	Alias  string `json:"alias"`
	From   int    `json:"from"`
	To     int    `json:"to"`
	Commit string `json:"commit,omitempty"`
	Reason string `json:"reason,omitempty"`
	At     string `json:"at"`
}

// model answers GET /api/models/{name}: versions newest first, where each
// alias points, and the recent alias moves.
func (d *Daemon) model(w http.ResponseWriter, r *http.Request) {
	reg, err := registry.New(r.Context(), d.cfg.DB)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	v, err := reg.Describe(r.Context(), d.cfg.DB, r.PathValue("name"))
	if errors.Is(err, registry.ErrNotFound) {
		writeError(w, http.StatusNotFound, err)
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	out := struct {
		Name     string         `json:"name"`
		Aliases  map[string]int `json:"aliases"`
		Versions []modelVersion `json:"versions"`
		Moves    []aliasMove    `json:"alias_moves"`
	}{Name: v.Name, Aliases: v.Aliases, Versions: []modelVersion{}, Moves: []aliasMove{}}
	if out.Aliases == nil {
		out.Aliases = map[string]int{}
	}
	for _, x := range v.Versions {
		aliases := x.Aliases
		if aliases == nil {
			aliases = []string{}
		}
		out.Versions = append(out.Versions, modelVersion{x.Number, string(x.Status), x.Message, x.Lineage.Experiment,
			x.RunID, x.Metrics, x.DatasetFingerprint, x.Commit, aliases, x.CreatedAt.UTC().Format(time.RFC3339)})
	}
	for _, m := range v.Moves {
		out.Moves = append(out.Moves, aliasMove{m.Alias, m.From, m.To, m.Commit, string(m.Reason), m.At.UTC().Format(time.RFC3339)})
	}
	writeJSON(w, http.StatusOK, out)
}

// driftReport answers GET /api/drift/{policy}: the policy's last report,
// as JSON (default) or the self-contained HTML page of `sluice drift
// report --html` (?format=html).
func (d *Daemon) driftReport(w http.ResponseWriter, r *http.Request) {
	format := r.URL.Query().Get("format")
	if format != "" && format != "json" && format != "html" {
		writeError(w, http.StatusBadRequest, fmt.Errorf("format %q: want json or html", format))
		return
	}
	policy := r.PathValue("policy")
	rep, at, err := drift.LastReport(r.Context(), d.cfg.DB, policy)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	if rep == nil {
		writeError(w, http.StatusNotFound, fmt.Errorf("drift policy %q has no report yet: it is checked on its every schedule once its endpoint serves", policy))
		return
	}
	w.Header().Set("Last-Modified", at.Format(http.TimeFormat))
	if format == "html" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		var b strings.Builder
		if err := drift.WriteHTML(&b, rep); err != nil {
			writeError(w, http.StatusInternalServerError, err)
			return
		}
		fmt.Fprint(w, b.String())
		return
	}
	writeJSON(w, http.StatusOK, rep)
}
