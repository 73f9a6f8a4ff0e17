package drift

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
)

// WriteJSON writes the report as indented JSON, the --format json output.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteHTML writes the report as one self-contained page: inline CSS and
// an inline SVG histogram per feature (reference against current), no
// scripts and nothing fetched from the network.
func WriteHTML(w io.Writer, r *Report) error {
	return page.Execute(w, r)
}

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"num":       formatNumber4,
	"histogram": histogramSVG,
	"pct":       func(f float64) string { return fmt.Sprintf("%.0f%%", 100*f) },
	"missing":   func(n Number) string { return missingText(n) },
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Drift report: {{.Policy}}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#222;max-width:70em}
h1{font-size:1.4em}h2{font-size:1.1em;margin:1.6em 0 .3em}
table{border-collapse:collapse}td,th{padding:.2em .8em;text-align:left;border-bottom:1px solid #ddd}
.drift{color:#b00020;font-weight:600}.no_drift{color:#1b7a1b}.no_verdict{color:#777}
.legend span{display:inline-block;width:.9em;height:.9em;margin:0 .3em 0 1em;vertical-align:middle}
svg text{font:10px system-ui,sans-serif;fill:#444}
</style></head><body>
<h1>Drift report: {{.Policy}}</h1>
<p>Endpoint <b>{{.Endpoint}}</b>, model {{.Model}} version {{.Version}}.
{{if not .From.IsZero}}Window {{.From.Format "2006-01-02 15:04:05Z07:00"}} to {{.To.Format "2006-01-02 15:04:05Z07:00"}}.{{end}}
Reference {{.ReferenceRows}} rows, current {{.CurrentRows}} rows (min_samples {{.MinSamples}}).</p>
<p>Dataset verdict: <span class="{{.Verdict}}">{{.Verdict}}</span>{{if .Reason}} — {{.Reason}}{{end}}.
{{if .JudgedFeatures}}{{.DriftedFeatures}} of {{.JudgedFeatures}} judged features drifted ({{pct .DriftShare}}; the dataset drifts at {{pct .DatasetDriftShare}}).{{end}}</p>
{{if .Features}}<table><tr><th>feature</th><th>method</th><th>statistic</th><th>p-value</th><th>threshold</th><th>verdict</th><th>missing</th></tr>
{{range .Features}}<tr><td>{{.Name}}</td><td>{{.Method}}</td><td>{{num .Statistic}}</td><td>{{num .PValue}}</td><td>{{num .Threshold}}</td><td class="{{.Verdict}}">{{.Verdict}}</td><td>{{missing .MissingRate}}</td></tr>
{{end}}</table>{{end}}
<p class="legend"><span style="background:#7a9cc6"></span>reference<span style="background:#e08a3c"></span>current</p>
{{range .Features}}{{template "feature" .}}{{end}}
{{if .Prediction}}<h2>Prediction drift</h2>{{range .Prediction}}{{template "feature" .}}{{end}}{{end}}
</body></html>
{{define "feature"}}<h2>{{.Name}} <span class="{{.Verdict}}">{{.Verdict}}</span></h2>
<p>{{if .Method}}{{.Method}} {{num .Statistic}}{{if .PValue.Valid}}, p {{num .PValue}}{{end}}; threshold {{num .Threshold}} ({{.ThresholdSource}}). {{end}}{{.Reason}}
Reference {{.ReferenceRows}} rows, current {{.CurrentRows}} rows; missing {{missing .MissingRate}}{{if .MissingChange.Valid}} (change {{num .MissingChange}}){{end}}.
{{if .UnseenCategories}}Never seen in training: {{range $i, $c := .UnseenCategories}}{{if $i}}, {{end}}{{$c}}{{end}}.{{end}}</p>
{{histogram .}}
{{end}}`))

func formatNumber4(v any) string {
	var f float64
	switch x := v.(type) {
	case Number:
		f = float64(x)
	case float64:
		f = x
	}
	switch {
	case math.IsNaN(f):
		return "—"
	case math.IsInf(f, 1):
		return "∞"
	}
	return fmt.Sprintf("%.4g", f)
}

func missingText(n Number) string {
	if !n.Valid() {
		return "—"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(n))
}

// histogramSVG draws reference and current shares per bin side by side.
func histogramSVG(f FeatureReport) template.HTML {
	if len(f.Bins) == 0 {
		return ""
	}
	const height, barW, gap, top, bottom = 120.0, 14.0, 10.0, 10.0, 40.0
	rt, ct := float64(total(f.ReferenceCounts)), float64(total(f.CurrentCounts))
	shares := func(c []int64, t float64, i int) float64 {
		if t == 0 || i >= len(c) {
			return 0
		}
		return float64(c[i]) / t
	}
	peak := 0.0
	for i := range f.Bins {
		peak = math.Max(peak, math.Max(shares(f.ReferenceCounts, rt, i), shares(f.CurrentCounts, ct, i)))
	}
	if peak == 0 {
		peak = 1
	}
	width := float64(len(f.Bins))*(2*barW+gap) + gap
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" role="img" aria-label="histogram of %s">`,
		width, height+top+bottom, template.HTMLEscapeString(f.Name))
	for i, label := range f.Bins {
		x := gap + float64(i)*(2*barW+gap)
		for j, s := range []float64{shares(f.ReferenceCounts, rt, i), shares(f.CurrentCounts, ct, i)} {
			h := height * s / peak
			color := "#7a9cc6"
			if j == 1 {
				color = "#e08a3c"
			}
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.0f" height="%.1f" fill="%s"><title>%s: %.1f%%</title></rect>`,
				x+float64(j)*barW, top+height-h, barW, h, color, template.HTMLEscapeString(label), 100*s)
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" transform="rotate(30 %.1f %.1f)">%s</text>`,
			x, top+height+12, x, top+height+12, template.HTMLEscapeString(shorten(label, 18)))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
