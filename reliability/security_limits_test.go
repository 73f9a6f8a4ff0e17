package reliability

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"sluice/internal/testgit"
)

// smallServedSpec trains a one-feature logistic regression on 40 rows and
// serves it: a model in a second, for tests of the data plane itself.
const smallServedSpec = `package sluice

sources: users: {path: "data/users.csv", timestamp: "ts"}
sources: labels: {path: "data/labels.csv", timestamp: "ts"}
entities: user: {join_key: "user_id", type: "string"}
features: user_stats: {entities: ["user"], source: "users", ttl: "87600h", fields: score: type: "float64"}
models: fraud: aliases: production: 1
experiments: lr: {
	model: "fraud"
	task: "classification"
	label: {source: "labels", column: "is_fraud", entities: ["user"]}
	features: ["user_stats:score"]
	trainer: {builtin: "logistic_regression", params: C: 1.0}
	split: {holdout: 0.25, seed: 1}
}
endpoints: fraud: {model: "fraud", alias: "production"}
`

func smallServedRepo(t *testing.T) *testgit.Repo {
	r := testgit.New(t)
	var users, labels strings.Builder
	users.WriteString("user_id,ts,score\n")
	labels.WriteString("user_id,ts,is_fraud\n")
	for i := range 40 {
		score := float64((i*37)%40) / 4
		fmt.Fprintf(&users, "u%d,2026-11-01T00:00:00Z,%g\n", i, score)
		fraud := 0
		if score > 5 {
			fraud = 1
		}
		fmt.Fprintf(&labels, "u%d,2026-11-02T00:00:00Z,%d\n", i, fraud)
	}
	r.Write("data/users.csv", users.String())
	r.Write("data/labels.csv", labels.String())
	r.Write("specs/main.cue", smallServedSpec)
	r.Commit("a served model")
	return r
}

// TestOversizedInputsAreRefused sends each input past its limit: a
// predict body over 16 MiB to the data plane and a webhook over 25 MiB to
// the operator API answer 413 and both servers go on answering; a spec
// directory over 8 MiB of CUE is refused by validate, naming the limit.
func TestOversizedInputsAreRefused(t *testing.T) {
	t.Parallel()
	needORT(t)
	repo := smallServedRepo(t)
	dir := t.TempDir()
	d := start(t, sluiceCmd(dir, []string{"SLUICE_WEBHOOK_SECRET=limits-secret"}, "daemon", "--repo", repo.Dir(), "--path", "specs",
		"--branch", "main", "--listen", "127.0.0.1:0", "--serve-listen", "127.0.0.1:0", "--poll", "0", "--recheck", "0", "--open-reads"))
	base, api := dataPlane(t, d), operatorAPI(t, d)
	if !waitServing(base, "1", time.Minute) {
		t.Fatalf("the endpoint never served:\n%s", d.output())
	}
	big := func(n int) []byte { return append([]byte(`{"instances":[`), bytes.Repeat([]byte(" "), n)...) }
	if code, body := call(t, "POST", base+"/v1/models/fraud:predict", nil, big(17<<20)); code != http.StatusRequestEntityTooLarge {
		t.Errorf("a 17 MiB predict body: %d %s, want 413", code, body)
	}
	if code, body := call(t, "POST", base+"/v1/models/fraud:predict", nil, []byte(`{"instances":[{"score":[9.0]}]}`)); code != http.StatusOK {
		t.Errorf("after a refused body, a predict answered %d %s", code, body)
	}
	if code, body := call(t, "POST", api+"/hooks/git", http.Header{"X-Gitlab-Token": {"limits-secret"}}, big(26<<20)); code != http.StatusRequestEntityTooLarge {
		t.Errorf("a 26 MiB webhook: %d %s, want 413", code, body)
	}
	if code, body := call(t, "GET", api+"/healthz", nil, nil); code != http.StatusOK {
		t.Errorf("after a refused webhook, /healthz answered %d %s", code, body)
	}
	if err := stopDaemon(t, d); err != nil {
		t.Fatal(err)
	}

	repo.Write("specs/padding.cue", "package sluice\n\n// "+strings.Repeat("x", 9<<20)+"\n")
	repo.Commit("nine MiB of CUE")
	p := start(t, sluiceCmd(t.TempDir(), nil, "validate", "--repo", repo.Dir(), "--path", "specs"))
	if err := p.wait(time.Minute); err == nil || !strings.Contains(p.output(), "more than the limit") {
		t.Errorf("validate of 9 MiB of CUE: %v\n%s", err, p.output())
	}
}
