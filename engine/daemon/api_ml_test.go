package daemon

import (
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"sluice/runtime/drift"
	"sluice/runtime/registry"
	"sluice/runtime/training"
)

// recordTraining writes two finished runs of experiment "lr", registers
// each as a version of model "fraud" and reports a drift policy, through
// the runtimes' own calls on the daemon's state file.
func recordTraining(t *testing.T, h *harness) {
	t.Helper()
	ctx := context.Background()
	tr, err := training.NewTracker(ctx, h.db)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := registry.New(ctx, h.db)
	if err != nil {
		t.Fatal(err)
	}
	err = h.db.Tx(ctx, func(tx *sql.Tx) error {
		for i, f1 := range []float64{0.81, 0.88} {
			run, err := tr.StartRun(ctx, tx, training.RunStart{Experiment: "lr", SpecHash: "h", DatasetDigest: strings.Repeat("d", i+1)})
			if err != nil {
				return err
			}
			if err := tr.LogMetrics(ctx, tx, run.ID, map[string]float64{"f1": f1}); err != nil {
				return err
			}
			if err := tr.EndRun(ctx, tx, run.ID, "FINISHED", "", ""); err != nil {
				return err
			}
			if _, err := reg.RegisterVersion(ctx, tx, "fraud", registry.VersionInput{RunID: run.ID, Metrics: registry.Metrics{"f1": f1}, Commit: "c0ffee",
				ArtifactPath: "artifacts/fraud/" + run.ID + "/model.onnx", ArtifactSHA256: strings.Repeat("0", 64), DatasetFingerprint: strings.Repeat("d", i+1)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := drift.Open(ctx, h.db); err != nil {
		t.Fatal(err)
	}
	rep := &drift.Report{Policy: "inputs", Endpoint: "fraud", Model: "fraud", Version: 2, Verdict: "drift", CurrentRows: 600, ReferenceRows: 1000}
	if err := drift.SaveReport(ctx, h.db, rep, time.Now()); err != nil {
		t.Fatal(err)
	}
}

func TestOperatorAPIShowsRunsModelVersionsAndDriftReports(t *testing.T) {
	repo := newRepo(t)
	h := start(t, repo.Dir(), "", nil)
	h.waitCurrent(repo.Head())
	recordTraining(t, h)

	var runs []struct {
		Experiment string
		Metrics    map[string]float64
	}
	if code, body := h.call("GET", "/api/runs?filter="+urlEscape("metrics.f1 > 0.85"), nil, &runs); code != http.StatusOK || len(runs) != 1 || runs[0].Metrics["f1"] != 0.88 {
		t.Errorf("runs with f1 > 0.85: %d %s", code, body)
	}
	if code, body := h.call("GET", "/api/runs?filter="+urlEscape("metrics.f1 >> 1"), nil, nil); code != http.StatusBadRequest || !strings.Contains(body, "column") {
		t.Errorf("a bad filter: %d %s, want 400 naming the column", code, body)
	}

	var m struct {
		Name     string
		Versions []struct {
			Version int
			Metrics map[string]float64
		}
	}
	if code, body := h.call("GET", "/api/models/fraud", nil, &m); code != http.StatusOK || len(m.Versions) != 2 || m.Versions[0].Version != 2 || m.Versions[0].Metrics["f1"] != 0.88 {
		t.Errorf("model fraud: %d %s", code, body)
	}
	if code, body := h.call("GET", "/api/models/nope", nil, nil); code != http.StatusNotFound || !strings.Contains(body, "fraud") {
		t.Errorf("unknown model: %d %s, want 404 listing the models there are", code, body)
	}

	var rep drift.Report
	if code, body := h.call("GET", "/api/drift/inputs", nil, &rep); code != http.StatusOK || rep.Verdict != "drift" || rep.CurrentRows != 600 {
		t.Errorf("drift report: %d %s", code, body)
	}
	if code, body := h.call("GET", "/api/drift/inputs?format=html", nil, nil); code != http.StatusOK || !strings.Contains(body, "<html") || !strings.Contains(body, "inputs") || strings.Contains(body, "src=\"http") {
		t.Errorf("drift report page: %d %.200s", code, body)
	}
	if code, body := h.call("GET", "/api/drift/never", nil, nil); code != http.StatusNotFound || !strings.Contains(body, "no report yet") {
		t.Errorf("a policy never checked: %d %s", code, body)
	}
	if code := request(t, "GET", h.url+"/api/models/fraud", ""); code != http.StatusUnauthorized {
		t.Errorf("model route without the token: %d, want 401", code)
	}
}

func urlEscape(s string) string { return url.QueryEscape(s) }
