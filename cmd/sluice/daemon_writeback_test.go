package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"sluice/internal/testgit"
)

// twoVersionSpec trains versions 1 and 2 of model fraud (experiments lr
// and lr2) and serves its production alias, at version 1.
func twoVersionSpec() string {
	lr := serveSpec[strings.Index(serveSpec, "experiments: lr:"):strings.Index(serveSpec, "endpoints:")]
	return serveSpec + strings.Replace(strings.Replace(lr, "experiments: lr:", "experiments: lr2:", 1), "C: 1.0", "C: 2.0", 1)
}

// driftedTraffic sends n predictions far outside the training scores.
func driftedTraffic(t *testing.T, c *daemonChild, n int) {
	t.Helper()
	served := 0
	for i := 0; i < 900 && served < n; i++ {
		resp, err := http.Post(c.serve+"/v1/models/fraud/labels/production:predict", "application/json",
			strings.NewReader(fmt.Sprintf(`{"instances":[{"score":[%d]}]}`, 100+served)))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				served++
			}
		}
	}
	if served < n {
		t.Fatalf("the endpoint answered %d of %d requests; daemon said:\n%s", served, n, c.logged())
	}
}

// TestDaemonWritesADriftRollbackBackToGitAsTheAliasLine is the issue's
// write-back check: the daemon serves production at version 2 (moved from
// 1 by a commit), drifted traffic makes its policy roll the endpoint back
// to 1, and with --write-back the rollback is also a commit on the branch
// whose diff is exactly the alias line, which plans exactly that promotion.
func TestDaemonWritesADriftRollbackBackToGitAsTheAliasLine(t *testing.T) {
	if _, err := findORTLib(""); err != nil {
		t.Skipf("onnx runtime unavailable: %v", err)
	}
	r := serveRepo(t)
	spec := twoVersionSpec()
	r.Write("specs/main.cue", spec)
	r.Commit("train v1 and v2, serve v1")
	c := startDaemonChild(t, r.Dir(), "--write-back", "sluice/proposals")
	c.waitFor("production at version 1", func() bool { return strings.Contains(productionVersion(c.serve), `"model_version":"1"`) })

	watched := strings.Replace(strings.Replace(spec, "production: 1", "production: 2", 1),
		`endpoints: fraud: {model: "fraud", alias: "production"}`,
		`endpoints: fraud: {model: "fraud", alias: "production", capture: rate: 1.0}
drift: scores: {endpoint: "fraud", features: ["score"], min_samples: 30, window: "1h", every: "1s", on_drift: ["rollback"]}`, 1)
	r.Write("specs/main.cue", watched)
	base := r.Commit("promote v2 and watch its scores")
	c.waitFor("production at version 2", func() bool { return strings.Contains(productionVersion(c.serve), `"model_version":"2"`) })

	driftedTraffic(t, c, 40)
	c.waitFor("the write-back branch", func() bool { _, err := r.Run("rev-parse", "--verify", "-q", "sluice/proposals"); return err == nil })
	if got := productionVersion(c.serve); !strings.Contains(got, `"model_version":"1"`) {
		t.Errorf("after the rollback production answered %q, want version 1", got)
	}
	checkRollbackCommit(t, r, base)
	checkEvent(t, c, "DriftRollback", r.Git("rev-parse", "sluice/proposals"))
	checkPlanOfProposal(t, c)
	if err := c.terminate(); err != nil {
		t.Fatalf("daemon after SIGTERM: %v\n%s", err, c.logged())
	}
}

// checkRollbackCommit: one commit on base by sluice, changing one line.
func checkRollbackCommit(t *testing.T, r *testgit.Repo, base string) {
	t.Helper()
	if got := r.Git("rev-parse", "sluice/proposals^"); got != base {
		t.Errorf("the proposal is on %s, want the revision in force %s", got, base)
	}
	if got := r.Git("log", "-1", "--format=%an <%ae>", "sluice/proposals"); got != "sluice <sluice@localhost>" {
		t.Errorf("author %s", got)
	}
	msg := r.Git("log", "-1", "--format=%B", "sluice/proposals")
	for _, want := range []string{"sluice rollback: fraud@production v2 → v1", "drift policy scores rolled endpoint fraud back from v2 to v1",
		"score ks p=", "specs/main.cue:"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	diff := r.Git("diff", "--unified=0", base, "sluice/proposals")
	if changed := changedLines(diff); len(changed) != 2 || !strings.HasPrefix(changed[0], "-") || strings.Replace(changed[0][1:], "production: 2", "production: 1", 1) != changed[1][1:] {
		t.Errorf("the diff is not exactly the alias line:\n%s", diff)
	}
	if st := r.Git("status", "--porcelain"); st != "" {
		t.Errorf("the work tree changed: %s", st)
	}
}

// changedLines are a diff's removed and added lines.
func changedLines(diff string) []string {
	var changed []string
	for _, l := range strings.Split(diff, "\n") {
		if (strings.HasPrefix(l, "-") || strings.HasPrefix(l, "+")) && !strings.HasPrefix(l, "---") && !strings.HasPrefix(l, "+++") {
			changed = append(changed, l)
		}
	}
	return changed
}

// checkEvent: the policy's event of the action names the commit.
func checkEvent(t *testing.T, c *daemonChild, reason, commit string) {
	t.Helper()
	msg, ok := driftEvent(c, reason)
	if !ok {
		t.Errorf("no %s event of the policy", reason)
	} else if !strings.Contains(msg, "proposed in git as commit "+commit[:12]) {
		t.Errorf("%s event %q does not name the write-back commit %s", reason, msg, commit[:12])
	}
}

// driftEvent is the message of a drift policy's event with reason.
func driftEvent(c *daemonChild, reason string) (string, bool) {
	resp, err := http.Get(c.api + "/api/events")
	if err != nil {
		return "", false
	}
	defer resp.Body.Close()
	var events []struct{ Kind, Name, Reason, Message string }
	if err := json.NewDecoder(resp.Body).Decode(&events); err != nil {
		return "", false
	}
	for _, e := range events {
		if e.Kind == "drift" && e.Reason == reason {
			return e.Message, true
		}
	}
	return "", false
}

// checkPlanOfProposal: planning the branch changes one thing in the spec,
// the promotion of production back to 1; what follows from it (the
// endpoint swaps to the version it is held at, releasing the hold) is a
// dependency, and nothing trains or materializes.
func checkPlanOfProposal(t *testing.T, c *daemonChild) {
	t.Helper()
	resp, err := http.Get(c.api + "/api/plan?rev=sluice/proposals")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var plan struct {
		ResourceChanges []struct {
			Address, Action string
			Reasons         []string
			Promotions      []struct {
				Model, Alias string
				From, To     int
			}
		} `json:"resource_changes"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&plan); err != nil {
		t.Fatal(err)
	}
	var edited []string
	for _, ch := range plan.ResourceChanges {
		switch {
		case ch.Action == "no-op":
			continue
		case ch.Action != "update" && ch.Action != "swap":
			t.Errorf("the proposal plans %s %s", ch.Action, ch.Address)
		}
		if !slices.Contains(ch.Reasons, "spec_changed") {
			continue
		}
		edited = append(edited, ch.Address)
		for _, p := range ch.Promotions {
			edited = append(edited, fmt.Sprintf("%s@%s %d → %d", p.Model, p.Alias, p.From, p.To))
		}
	}
	if got := strings.Join(edited, "; "); got != "models.fraud; fraud@production 2 → 1" {
		t.Errorf("the proposal's spec changes: %s; want only the promotion of fraud@production from 2 to 1", got)
	}
}

// TestDaemonWritesARetrainsPromotionBackToGit: a policy that retrains on
// drift and names promote_to proposes the retrained version for that alias
// on the write-back branch, and its event names the commit.
func TestDaemonWritesARetrainsPromotionBackToGit(t *testing.T) {
	if _, err := findORTLib(""); err != nil {
		t.Skipf("onnx runtime unavailable: %v", err)
	}
	r := serveRepo(t)
	r.Write("specs/main.cue", strings.Replace(serveSpec, `endpoints: fraud: {model: "fraud", alias: "production"}`,
		`endpoints: fraud: {model: "fraud", alias: "production", capture: rate: 1.0}
drift: scores: {endpoint: "fraud", features: ["score"], min_samples: 30, window: "1h", every: "1s", on_drift: ["retrain"], promote_to: "production"}`, 1))
	base := r.Commit("serve v1, retrain it on drift")
	c := startDaemonChild(t, r.Dir(), "--write-back", "sluice/proposals")
	c.waitFor("production at version 1", func() bool { return strings.Contains(productionVersion(c.serve), `"model_version":"1"`) })

	driftedTraffic(t, c, 40)
	c.waitFor("the write-back branch", func() bool { _, err := r.Run("rev-parse", "--verify", "-q", "sluice/proposals"); return err == nil })
	msg := r.Git("log", "-1", "--format=%B", "sluice/proposals")
	for _, want := range []string{"sluice promote: fraud@production v1 → v2", "drift policy scores retrained lr as v2", "score ks p="} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	diff := r.Git("diff", "--unified=0", base, "sluice/proposals")
	if got := strings.Join(changedLines(diff), "\n"); got != "-models: fraud: aliases: production: 1\n+models: fraud: aliases: production: 2" {
		t.Errorf("the diff is not exactly the alias line:\n%s", diff)
	}
	checkEvent(t, c, "RetrainStarted", r.Git("rev-parse", "sluice/proposals"))
	if got := productionVersion(c.serve); !strings.Contains(got, `"model_version":"1"`) {
		t.Errorf("the proposal moved production before a merge: %q", got)
	}
	if err := c.terminate(); err != nil {
		t.Fatalf("daemon after SIGTERM: %v\n%s", err, c.logged())
	}
}

// TestDaemonDoesNotProposeARetrainTheGatesRefuse: the retrained version
// faces the gates a commit moving the alias would; one they refuse is not
// proposed, and the retrain's event says why.
func TestDaemonDoesNotProposeARetrainTheGatesRefuse(t *testing.T) {
	if _, err := findORTLib(""); err != nil {
		t.Skipf("onnx runtime unavailable: %v", err)
	}
	r := serveRepo(t)
	gated := strings.Replace(serveSpec, "models: fraud: aliases: production: 1", `models: fraud: {aliases: production: 1, gates: f1: ">= incumbent + 0.5"}`, 1)
	r.Write("specs/main.cue", strings.Replace(gated, `endpoints: fraud: {model: "fraud", alias: "production"}`,
		`endpoints: fraud: {model: "fraud", alias: "production", capture: rate: 1.0}
drift: scores: {endpoint: "fraud", features: ["score"], min_samples: 30, window: "1h", every: "1s", on_drift: ["retrain"], promote_to: "production"}`, 1))
	r.Commit("serve v1, retrain it on drift, promote only a much better one")
	c := startDaemonChild(t, r.Dir(), "--write-back", "sluice/proposals")
	c.waitFor("production at version 1", func() bool { return strings.Contains(productionVersion(c.serve), `"model_version":"1"`) })

	driftedTraffic(t, c, 40)
	var msg string
	c.waitFor("the retrain's event", func() bool { m, ok := driftEvent(c, "RetrainStarted"); msg = m; return ok })
	if !strings.Contains(msg, "v2 not proposed for production: gate f1 >= incumbent + 0.5") {
		t.Errorf("retrain event %q does not say the gate refused v2", msg)
	}
	if _, err := r.Run("rev-parse", "--verify", "-q", "sluice/proposals"); err == nil {
		t.Error("a version the gates refuse was proposed")
	}
	if err := c.terminate(); err != nil {
		t.Fatalf("daemon after SIGTERM: %v\n%s", err, c.logged())
	}
}
