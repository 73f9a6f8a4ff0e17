package drift

import (
	"bytes"
	"encoding/json"
	"math"
	"regexp"
	"strings"
	"testing"
)

func driftedReport(t *testing.T) *Report {
	ref := fit(t, numbers("amount", genSpec{Seed: 1, N: 2000, Scale: 1}.sample()), strs("category", "food", 1200, "travel", 800))
	cur := frame(numbers("amount", genSpec{Seed: 2, N: 600, Scale: 1, Shift: 1}.sample()), strs("category", "food", 300, "travel", 200, "<crypto>", 100))
	return evaluate(t, policy("amount", "category"), ref, cur)
}

func TestHTMLReportIsSelfContainedWithAHistogramPerFeature(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteHTML(&buf, driftedReport(t)); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	if n := strings.Count(page, "<svg "); n != 2 {
		t.Errorf("%d histograms, want 2", n)
	}
	for _, want := range []string{"Dataset verdict: <span class=\"drift\">drift</span>", "wasserstein", "jensenshannon", "&lt;crypto&gt;"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Nothing to fetch: no scripts, no external URLs besides the SVG namespace.
	if strings.Contains(page, "<script") || regexp.MustCompile(`(src|href)=`).MatchString(page) {
		t.Error("page loads something")
	}
	if urls := regexp.MustCompile(`https?://[^"]+`).FindAllString(page, -1); len(urls) != 2 || urls[0] != "http://www.w3.org/2000/svg" {
		t.Errorf("urls in page: %v", urls)
	}
}

func TestJSONReportCarriesInfiniteAndMissingNumbers(t *testing.T) {
	r := driftedReport(t)
	p := policy("category")
	p.Categorical = MethodChi2
	ref := fit(t, strs("category", "food", 1200, "travel", 800))
	r.Features = append(r.Features, evaluate(t, p, ref, frame(strs("category", "food", 3, "x", 10))).Features...)
	var buf bytes.Buffer
	if err := WriteJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	last := back.Features[len(back.Features)-1]
	if !math.IsInf(float64(last.Statistic), 1) || back.Features[0].PValue.Valid() || back.Verdict != VerdictDrift {
		t.Errorf("after JSON: chi2 %v, wasserstein p %v, verdict %s", last.Statistic, back.Features[0].PValue, back.Verdict)
	}
}
