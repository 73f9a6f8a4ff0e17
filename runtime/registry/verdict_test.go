package registry

import (
	"math"
	"strings"
	"testing"
)

func mustGate(t *testing.T, metric, expr string) Gate {
	t.Helper()
	g, err := ParseGate(metric, expr)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestEvaluateComparesWithTheGateAndShowsTheIncumbent(t *testing.T) {
	inc := &Version{Number: 2, Metrics: Metrics{"f1": 0.87, "log_loss": 0.3}}
	cases := []struct {
		expr      string
		cand      float64
		incumbent *Version
		pass      bool
		str       string
	}{
		{">= 0.85", 0.91, inc, true, "f1 0.87 → 0.91 (gate f1 >= 0.85 ✓)"},
		{">= 0.85", 0.91, nil, true, "f1 0.91 (gate f1 >= 0.85 ✓)"},
		{">= 0.85", 0.82, inc, false, "f1 0.87 → 0.82 (gate f1 >= 0.85 ✗: 0.82 does not satisfy >= 0.85)"},
		{">= 0.85", 0.85, inc, true, ""},
		{"> 0.85", 0.85, inc, false, ""},
		{"<= 0.2", 0.2, inc, true, ""},
		{"<= 0.2", 0.2000001, inc, false, ""},
		{"< 0.9", 0.9, inc, false, ""},
		{"== 1", 1, inc, true, ""},
		{"== 1", 0.9999, inc, false, ""},
		{">= 0.85", math.Inf(-1), inc, false, ""},
		{"<= 0.2", math.Inf(1), inc, false, ""},
		{"> incumbent - 0.01", 0.86, inc, false,
			"f1 0.87 → 0.86 (gate f1 > incumbent - 0.01 ✗: 0.86 does not satisfy > 0.86 (version 2's 0.87 - 0.01))"},
		// In float64 0.1 + 0.2 is 0.30000000000000004 and 0.3 - 0.1 is
		// 0.19999999999999998; gates mean the decimal sums.
		{">= incumbent + 0.2", 0.3, &Version{Number: 1, Metrics: Metrics{"f1": 0.1}}, true, ""},
		{"> incumbent - 0.1", 0.2, &Version{Number: 1, Metrics: Metrics{"f1": 0.3}}, false, ""},
		{"== incumbent + 0.2", 0.3, &Version{Number: 1, Metrics: Metrics{"f1": 0.1}}, true, ""},
		{">= incumbent - 0.01", 0.86, inc, true, "f1 0.87 → 0.86 (gate f1 >= incumbent - 0.01 ✓)"},
		{">= incumbent", 0.8699, inc, false, ""},
		{">= incumbent + 0.02", 0.89, inc, true, ""},
	}
	for _, c := range cases {
		v := Evaluate([]Gate{mustGate(t, "f1", c.expr)}, Metrics{"f1": c.cand}, c.incumbent)[0]
		if v.Pass != c.pass {
			t.Errorf("%s with %v: pass %v (%s), want %v", c.expr, c.cand, v.Pass, v.Message, c.pass)
		}
		if c.str != "" && v.String() != c.str {
			t.Errorf("%s with %v:\n got %s\nwant %s", c.expr, c.cand, v, c.str)
		}
	}
}

func TestEvaluateReportsDeltaAndBound(t *testing.T) {
	inc := &Version{Number: 3, Metrics: Metrics{"f1": 0.8}}
	v := Evaluate([]Gate{mustGate(t, "f1", "> incumbent + 0.05")}, Metrics{"f1": 0.9}, inc)[0]
	if v.Candidate == nil || *v.Candidate != 0.9 || v.Incumbent == nil || *v.Incumbent != 0.8 || v.IncumbentVersion != 3 {
		t.Fatalf("verdict %+v does not carry both values", v)
	}
	if math.Abs(*v.Delta-0.1) > 1e-12 || math.Abs(*v.Bound-0.85) > 1e-12 || !v.Pass {
		t.Errorf("delta %v bound %v pass %v, want 0.1, 0.85, true", *v.Delta, *v.Bound, v.Pass)
	}
}

func TestIncumbentRelativeGatePassesWithoutAnIncumbentAndSaysSo(t *testing.T) {
	v := Evaluate([]Gate{mustGate(t, "f1", ">= incumbent - 0.01")}, Metrics{"f1": 0.1}, nil)[0]
	if !v.Pass || !strings.Contains(v.Message, "no incumbent to compare with") || v.Bound != nil || v.Incumbent != nil {
		t.Errorf("verdict %+v, want a pass that says there is no incumbent", v)
	}
	inc := &Version{Number: 4, Metrics: Metrics{"accuracy": 0.9}}
	v = Evaluate([]Gate{mustGate(t, "f1", ">= incumbent")}, Metrics{"f1": 0.1}, inc)[0]
	if !v.Pass || !strings.Contains(v.Message, "the incumbent, version 4, has no metric f1") {
		t.Errorf("verdict %+v, want a pass that says the incumbent lacks the metric", v)
	}
}

func TestGateFailsWhenTheCandidateLacksTheMetricOrItIsNaN(t *testing.T) {
	g := mustGate(t, "recall", ">= 0.75")
	v := Evaluate([]Gate{g}, Metrics{"f1": 0.9, "accuracy": 0.95}, nil)[0]
	if v.Pass || v.Message != "the candidate has no metric recall (it has accuracy, f1)" {
		t.Errorf("verdict %+v", v)
	}
	if s := v.String(); !strings.HasPrefix(s, "recall missing (gate recall >= 0.75 ✗") {
		t.Errorf("String %q", s)
	}
	v = Evaluate([]Gate{g}, Metrics{"recall": math.NaN()}, nil)[0]
	if v.Pass || v.Message != "the candidate's recall is NaN" {
		t.Errorf("verdict %+v", v)
	}
}
