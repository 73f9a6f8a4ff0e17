package daemon

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"sluice/engine"
	"sluice/engine/render"
	"sluice/engine/source"
	"sluice/runtime/store"
	"sluice/schema"
)

// APIPrefixes are the paths of the operator API that another server
// carrying Handler on its listener must route to it (the data plane keeps
// its own /healthz and /metrics).
func APIPrefixes() []string { return []string{"/api/", "/hooks/", "/readyz"} }

// Handler serves the operator API:
//
//	GET  /healthz          the process serves (always open)
//	GET  /readyz           a revision is in force and the first pass is done (always open)
//	GET  /api/status       revision, every resource's condition, last error, next retry
//	GET  /api/events       the event log (?limit, ?kind, ?name, ?after)
//	GET  /api/revisions    every revision attempted, newest first (?limit)
//	GET  /api/plan         the plan of ?rev=REF against the state (?format=json|markdown|text)
//	GET  /api/runs         training runs (?filter, ?order_by, ?max, ?experiment: as `sluice runs`)
//	GET  /api/models/NAME  a model's versions, aliases and alias history
//	GET  /api/drift/POLICY a drift policy's last report (?format=json|html)
//	POST /api/sync         reconcile the branch now, past any backoff (?wait=true waits)
//	POST /hooks/git        a push webhook: verified, then only a hint to fetch
//
// Reading routes need the bearer token unless Config.OpenReads; /api/sync
// always does.
func (d *Daemon) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", d.readyz)
	mux.Handle("GET /api/status", d.reading(d.status))
	mux.Handle("GET /api/events", d.reading(d.events))
	mux.Handle("GET /api/revisions", d.reading(d.revisions))
	mux.Handle("GET /api/plan", d.reading(d.plan))
	mux.Handle("GET /api/runs", d.reading(d.runs))
	mux.Handle("GET /api/models/{name}", d.reading(d.model))
	mux.Handle("GET /api/drift/{policy}", d.reading(d.driftReport))
	mux.Handle("POST /api/sync", d.mutating(d.sync))
	mux.HandleFunc("POST /hooks/git", d.webhook)
	return mux
}

func (d *Daemon) readyz(w http.ResponseWriter, r *http.Request) {
	s, err := d.Status(r.Context())
	switch {
	case err != nil:
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
	case s.LockLost:
		http.Error(w, "not ready: another writer took the state over", http.StatusServiceUnavailable)
	case !s.Ready && s.LastError != nil:
		http.Error(w, "not ready: no revision applied yet: "+s.LastError.Message, http.StatusServiceUnavailable)
	case !s.Ready:
		http.Error(w, "not ready: no revision applied yet", http.StatusServiceUnavailable)
	default:
		fmt.Fprintf(w, "ready: %s\n", s.Revision.Commit)
	}
}

func (d *Daemon) status(w http.ResponseWriter, r *http.Request) {
	s, err := d.Status(r.Context())
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, s)
}

func (d *Daemon) events(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.EventFilter{Kind: q.Get("kind"), Name: q.Get("name"), Limit: 100}
	var err error
	if f.Limit, err = intParam(q.Get("limit"), 100); err == nil {
		f.AfterID, err = int64Param(q.Get("after"))
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	evs, err := store.Events(r.Context(), d.cfg.DB, f)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	type event struct {
		ID         int64  `json:"id"`
		At         string `json:"at"`
		Kind       string `json:"kind,omitempty"`
		Name       string `json:"name,omitempty"`
		Type       string `json:"type"`
		Reason     string `json:"reason"`
		Message    string `json:"message"`
		RevisionID int64  `json:"revision_id,omitempty"`
	}
	out := []event{}
	for _, e := range evs {
		out = append(out, event{e.ID, e.At.UTC().Format("2006-01-02T15:04:05.000Z07:00"), e.Kind, e.Name, e.Type, e.Reason, e.Message, e.RevisionID})
	}
	writeJSON(w, http.StatusOK, out)
}

func (d *Daemon) revisions(w http.ResponseWriter, r *http.Request) {
	limit, err := intParam(r.URL.Query().Get("limit"), 0)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	revs, err := store.Revisions(r.Context(), d.cfg.DB, limit)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	out := []*RevisionInfo{}
	for _, rv := range revs {
		out = append(out, revisionInfo(rv))
	}
	writeJSON(w, http.StatusOK, out)
}

// plan plans any ref against the state in force, as `sluice plan` would.
// A remote repository is read from its clone as last fetched.
func (d *Daemon) plan(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ref, format := r.URL.Query().Get("rev"), r.URL.Query().Get("format")
	if ref == "" {
		ref = d.cfg.Branch
	}
	if format != "" && format != "json" && format != "markdown" && format != "text" {
		writeError(w, http.StatusBadRequest, fmt.Errorf("format %q: want json, markdown or text", format))
		return
	}
	rev, err := source.Open(ctx, source.Options{Repo: d.cfg.Repo, Rev: ref, Path: d.cfg.Path, CacheDir: d.cfg.CacheDir, Offline: d.remote})
	if err != nil {
		writeError(w, http.StatusNotFound, err)
		return
	}
	spec, err := schema.Load(schema.LoadOptions{FS: rev.FS, Dir: rev.Path, DataRoots: d.cfg.DataRoots})
	if err != nil {
		var b bytes.Buffer
		schema.Print(&b, err, "")
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{
			"error": fmt.Sprintf("specs at %s are invalid", short(rev.Commit)), "errors": lines(b.String())})
		return
	}
	p, err := engine.MakePlan(ctx, d.cfg.DB, engine.Input{Spec: spec, FS: rev.FS, Revision: revisionOf(rev), StatePath: d.cfg.DB.Path, Serving: d.cfg.Drivers.Serving, AllowCommandTrainers: d.cfg.Drivers.AllowCommandTrainers})
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	pj := p.JSON()
	switch format {
	case "markdown":
		w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
		render.Markdown(w, pj)
	case "text":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		render.Text(w, pj)
	default:
		writeJSON(w, http.StatusOK, pj)
	}
}

// sync reconciles the branch now. With ?wait=true it answers when done:
// 200 with the status, or 409 with why the head is not applied.
func (d *Daemon) sync(w http.ResponseWriter, r *http.Request) {
	if wait, _ := strconv.ParseBool(r.URL.Query().Get("wait")); !wait {
		d.mu.Lock()
		d.st.force = true
		d.mu.Unlock()
		d.poke()
		writeJSON(w, http.StatusAccepted, map[string]any{"queued": true})
		return
	}
	// A long apply may outlast the write timeout of whichever server
	// carries the API (the data plane's is 30s).
	http.NewResponseController(w).SetWriteDeadline(time.Now().Add(10 * time.Minute))
	if err := d.Sync(r.Context()); err != nil {
		writeError(w, http.StatusConflict, err)
		return
	}
	d.status(w, r)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, map[string]string{"error": err.Error()})
}

func intParam(s string, def int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a count", s)
	}
	return n, nil
}

func int64Param(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not an event id", s)
	}
	return n, nil
}
