package daemon

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sluice/engine"
	"sluice/internal/testgit"
	"sluice/runtime/features"
	"sluice/runtime/registry"
	"sluice/runtime/store"
	"sluice/runtime/training"
)

// trainSpec has one experiment trained by command, with policy as its
// on_new_revision; without command, the experiment is gone.
func trainSpec(command, policy string) string {
	s := `package sluice

sources: users: {path: "data/users.csv", timestamp: "ts"}
sources: labels: {path: "data/labels.csv", timestamp: "ts"}
entities: user: {join_key: "user_id", type: "string"}
features: user_stats: {entities: ["user"], source: "users", ttl: "87600h", fields: score: type: "float64"}
`
	if command == "" {
		return s
	}
	return s + fmt.Sprintf(`models: fraud: aliases: {}
experiments: slow: {
	model: "fraud"
	label: {source: "labels", column: "is_fraud", entities: ["user"]}
	features: ["user_stats:score"]
	trainer: {command: ["sh", "-c", %q], params: {}}
	on_new_revision: %q
}
`, command, policy)
}

func trainRepo(t *testing.T, command, policy string) *testgit.Repo {
	r := testgit.New(t)
	var users, labels strings.Builder
	users.WriteString("user_id,ts,score\n")
	labels.WriteString("user_id,ts,is_fraud\n")
	for i := range 20 {
		fmt.Fprintf(&users, "u%d,2026-11-01T00:00:00Z,%d\n", i, i)
		fmt.Fprintf(&labels, "u%d,2026-11-02T00:00:00Z,%d\n", i, i%2)
	}
	r.Write("data/users.csv", users.String())
	r.Write("data/labels.csv", labels.String())
	r.Write("specs/main.cue", trainSpec(command, policy))
	r.Commit("train")
	return r
}

func withTraining(t *testing.T) func(*Config) {
	return func(c *Config) {
		ctx := context.Background()
		fs, err := features.New(ctx, c.DB)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := training.NewTracker(ctx, c.DB)
		if err != nil {
			t.Fatal(err)
		}
		reg, err := registry.New(ctx, c.DB)
		if err != nil {
			t.Fatal(err)
		}
		c.Drivers = engine.Drivers{Features: fs, History: fs, Online: fs, Tracker: tr, Registry: reg,
			ArtifactDir: t.TempDir(), AllowCommandTrainers: true}
	}
}

func (h *harness) waitTraining() {
	h.t.Helper()
	eventually(h.t, "experiments.slow training", func() bool { return h.status().Step == "experiments.slow" })
}

func runStatuses(t *testing.T, db *store.DB) []string {
	t.Helper()
	var out []string
	err := db.Tx(context.Background(), func(tx *sql.Tx) error {
		rows, err := tx.Query(`SELECT status FROM training_runs ORDER BY rowid`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				return err
			}
			out = append(out, s)
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestNewerRevisionCancelsATrainingRunWhoseExperimentSaysCancel(t *testing.T) {
	repo := trainRepo(t, "sleep 600", "cancel")
	first := repo.Head()
	h := start(t, repo.Dir(), "", withTraining(t))
	h.waitTraining()

	repo.Write("specs/main.cue", trainSpec("", ""))
	newer := repo.Commit("drop the experiment")
	s := h.waitCurrent(newer)
	if s.Superseded == nil || s.Superseded.Commit != newer || len(s.Superseded.Cancelled) != 1 || s.Superseded.Cancelled[0] != "experiments.slow" {
		t.Errorf("status superseded %+v", s.Superseded)
	}
	evs := h.events(ReasonTrainingCancelled)
	if len(evs) != 1 || evs[0].Kind != "experiments" || !strings.Contains(evs[0].Message, short(newer)+" landed while experiments.slow trained for "+short(first)) {
		t.Errorf("cancel events %+v", evs)
	}
	if evs := h.events(engine.ReasonCancelled); len(evs) != 1 || evs[0].Name != "slow" {
		t.Errorf("the step's own record: %+v", evs)
	}
	if got := runStatuses(t, h.db); len(got) != 1 || got[0] != training.StatusKilled {
		t.Errorf("training runs %v, want one KILLED", got)
	}
}

func TestNewerRevisionLetsATrainingRunWhoseExperimentSaysFinishEnd(t *testing.T) {
	release := filepath.Join(t.TempDir(), "release")
	repo := trainRepo(t, "while [ ! -e "+release+" ]; do sleep 0.05; done; exit 3", "finish")
	h := start(t, repo.Dir(), "", withTraining(t))
	h.waitTraining()

	repo.Write("specs/main.cue", trainSpec("", ""))
	newer := repo.Commit("drop the experiment")
	eventually(t, "the run let finish", func() bool {
		s := h.status()
		return s.Superseded != nil && len(s.Superseded.Finishing) == 1
	})
	if s := h.status(); s.Step != "experiments.slow" || s.Superseded.Commit != newer || s.Superseded.Finishing[0] != "experiments.slow" {
		t.Errorf("while finishing: step %q, superseded %+v", s.Step, s.Superseded)
	}
	if err := os.WriteFile(release, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	h.waitCurrent(newer)
	if evs := h.events(ReasonTrainingFinishing); len(evs) != 1 || !strings.Contains(evs[0].Message, "on_new_revision: finish") {
		t.Errorf("finishing events %+v", evs)
	}
	if evs := h.events(engine.ReasonCancelled); len(evs) != 0 {
		t.Errorf("a finish run was cancelled: %+v", evs)
	}
	if got := runStatuses(t, h.db); len(got) != 1 || got[0] != training.StatusFailed {
		t.Errorf("training runs %v, want the one that ran to its end (FAILED, exit 3)", got)
	}
}
