package daemon

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"sluice/engine/planjson"
)

func request(t *testing.T, method, url, token string) int {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestAPIRoutesNeedTheTokenUnlessReadsAreOpen(t *testing.T) {
	repo := newRepo(t)
	closed := start(t, repo.Dir(), "", nil)
	open := start(t, repo.Dir(), "", func(c *Config) { c.OpenReads = true })
	closed.waitCurrent(repo.Head())
	noToken := start(t, repo.Dir(), "", func(c *Config) { c.Token = "" })

	for _, tc := range []struct {
		h            *harness
		method, path string
		token        string
		want         int
	}{
		{closed, "GET", "/healthz", "", http.StatusOK},
		{closed, "GET", "/readyz", "", http.StatusOK},
		{closed, "GET", "/api/status", "", http.StatusUnauthorized},
		{closed, "GET", "/api/events", "wrong", http.StatusUnauthorized},
		{closed, "GET", "/api/revisions", testToken + "x", http.StatusUnauthorized},
		{closed, "GET", "/api/status", testToken, http.StatusOK},
		{closed, "POST", "/api/sync", "", http.StatusUnauthorized},
		{closed, "POST", "/api/sync", "wrong", http.StatusUnauthorized},
		{closed, "POST", "/api/sync", testToken, http.StatusAccepted},
		{closed, "GET", "/api/sync", testToken, http.StatusMethodNotAllowed},
		{open, "GET", "/api/status", "", http.StatusOK},
		{open, "GET", "/api/plan", "", http.StatusOK},
		{open, "POST", "/api/sync", "", http.StatusUnauthorized},
		{noToken, "GET", "/api/status", "", http.StatusForbidden},
		{noToken, "POST", "/api/sync", "anything", http.StatusForbidden},
	} {
		if got := request(t, tc.method, tc.h.url+tc.path, tc.token); got != tc.want {
			t.Errorf("%s %s with token %q: %d, want %d", tc.method, tc.path, tc.token, got, tc.want)
		}
	}
}

func TestPlanOfAnyRefAgainstTheStateInForce(t *testing.T) {
	repo := newRepo(t)
	h := start(t, repo.Dir(), "", nil)
	h.waitCurrent(repo.Head())
	repo.Git("checkout", "-q", "-b", "feature")
	proposal := commitView(repo, 7)
	repo.Write("specs/main.cue", invalidSpec)
	repo.Git("checkout", "-q", "-b", "broken")
	repo.Commit("broken")
	repo.Git("checkout", "-q", "main")

	var pj planjson.Plan
	if code, body := h.call("GET", "/api/plan?rev=feature", nil, &pj); code != http.StatusOK {
		t.Fatalf("plan of feature: %d %s", code, body)
	}
	if pj.Revision.Commit != proposal || pj.State.CurrentCommit != h.status().Revision.Commit || !pj.Applyable {
		t.Errorf("plan of feature: revision %+v, state %+v, applyable %v", pj.Revision, pj.State, pj.Applyable)
	}
	var changed []string
	for _, c := range pj.ResourceChanges {
		if c.Action != planjson.ActionNoOp {
			changed = append(changed, c.Address+" "+c.Action)
		}
	}
	if len(changed) != 1 || changed[0] != "features.spend update" {
		t.Errorf("plan of feature changes %v, want only features.spend update", changed)
	}

	code, md := h.call("GET", "/api/plan?rev=feature&format=markdown", nil, nil)
	if code != http.StatusOK || !strings.HasPrefix(md, "### Sluice plan") || !strings.Contains(md, "features.spend") {
		t.Errorf("markdown plan: %d\n%s", code, md)
	}
	code, body := h.call("GET", "/api/plan?rev=broken", nil, nil)
	var bad struct{ Errors []string }
	json.Unmarshal([]byte(body), &bad)
	if code != http.StatusUnprocessableEntity || !contains(bad.Errors, "specs/main.cue:3:10") {
		t.Errorf("plan of an invalid ref: %d %s", code, body)
	}
	if code, body := h.call("GET", "/api/plan?rev=no-such-branch", nil, nil); code != http.StatusNotFound {
		t.Errorf("plan of a missing ref: %d %s", code, body)
	}
	if code, _ := h.call("GET", "/api/plan?format=yaml", nil, nil); code != http.StatusBadRequest {
		t.Errorf("plan in an unknown format: %d", code)
	}
	// Planning applies nothing.
	if s := h.status(); s.Revision.Commit == proposal {
		t.Errorf("a plan request applied %s", short(proposal))
	}
}

func TestRevisionsAreUnboundedAndLimitedOnRequest(t *testing.T) {
	repo := newRepo(t)
	h := start(t, repo.Dir(), "", nil)
	h.waitCurrent(repo.Head())
	var last string
	for i := 1; i <= 3; i++ {
		last = commitView(repo, i)
		h.waitCurrent(last)
	}
	if revs := h.revisions(); len(revs) != 4 || revs[0].Commit != last {
		t.Errorf("%d revisions, newest %+v; want 4, newest %s", len(revs), revs[0], short(last))
	}
	var one []RevisionInfo
	h.call("GET", "/api/revisions?limit=1", nil, &one)
	if len(one) != 1 || one[0].Commit != last {
		t.Errorf("limit=1 gave %+v", one)
	}
	if code, _ := h.call("GET", "/api/revisions?limit=-1", nil, nil); code != http.StatusBadRequest {
		t.Errorf("a negative limit: %d", code)
	}
}

func TestSyncWaitReportsTheOutcome(t *testing.T) {
	repo := newRepo(t)
	h := start(t, repo.Dir(), "", nil)
	h.waitCurrent(repo.Head())
	var s Status
	if code, body := h.call("POST", "/api/sync?wait=true", nil, &s); code != http.StatusOK || s.Revision.Commit != repo.Head() {
		t.Errorf("sync of an applied head: %d %s", code, body)
	}
	repo.Write("specs/main.cue", invalidSpec)
	bad := repo.Commit("broken")
	code, body := h.call("POST", "/api/sync?wait=true", nil, nil)
	if code != http.StatusConflict || !strings.Contains(body, "specs/main.cue:3:10") {
		t.Errorf("sync of an invalid head: %d %s", code, body)
	}
	if revs := h.revisions(); revs[0].Commit != bad || revs[0].Outcome != "failed" {
		t.Errorf("newest revision %+v", revs[0])
	}
}
