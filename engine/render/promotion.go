package render

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"

	"sluice/engine/planjson"
)

// promotionLines writes a model change's alias moves, one verdict a line
// beside the move: "~ promote fraud-detector production 2 → 3   f1 0.87 →
// 0.91 (gate f1 >= 0.85 ✓)".
func promotionLines(w io.Writer, ps []planjson.Promotion) {
	for _, p := range ps {
		head := fmt.Sprintf("%s %s", promotionMarker(p), moveLine(p))
		if p.Archives != 0 {
			head += fmt.Sprintf(" (archives v%d)", p.Archives)
		}
		evidence := promotionEvidence(p)
		if len(evidence) == 0 {
			fmt.Fprintf(w, "        %s\n", head)
			continue
		}
		for i, e := range evidence {
			if i == 0 {
				fmt.Fprintf(w, "        %s   %s\n", head, e)
			} else {
				fmt.Fprintf(w, "        %s   %s\n", strings.Repeat(" ", len([]rune(head))), e)
			}
		}
	}
}

// promotionEvidence is what backs a move: its verdicts, or for a move that
// waits for this plan's training, the gates it will be checked against.
func promotionEvidence(p planjson.Promotion) []string {
	if p.Pending != "" {
		what := "no gates"
		if len(p.Gates) > 0 {
			what = "gates " + strings.Join(p.Gates, ", ")
		}
		return []string{fmt.Sprintf("%s checked when v%d is registered by %s", what, p.To, p.Pending)}
	}
	var out []string
	for _, v := range p.Verdicts {
		out = append(out, verdictText(v))
	}
	return out
}

func promotionMarker(p planjson.Promotion) string {
	switch {
	case p.To == 0:
		return "-"
	case p.From == 0:
		return "+"
	}
	return "~"
}

// moveLine reads like "promote fraud-detector production 2 → 3", or
// "unset fraud-detector staging (was 2)" for an alias git removed.
func moveLine(p planjson.Promotion) string {
	if p.To == 0 {
		return fmt.Sprintf("unset %s %s (was %d)", p.Model, p.Alias, p.From)
	}
	from := "none"
	if p.From != 0 {
		from = strconv.Itoa(p.From)
	}
	return fmt.Sprintf("promote %s %s %s → %d", p.Model, p.Alias, from, p.To)
}

// verdictText reads like "f1 0.87 → 0.91 (gate f1 >= 0.85 ✓)".
func verdictText(v planjson.Verdict) string {
	var b strings.Builder
	b.WriteString(v.Metric + " ")
	if v.Incumbent != nil {
		b.WriteString(num(*v.Incumbent) + " → ")
	}
	if v.Candidate != nil {
		b.WriteString(num(*v.Candidate))
	} else {
		b.WriteString("missing")
	}
	fmt.Fprintf(&b, " (gate %s %s ", v.Metric, v.Gate)
	if v.Pass {
		b.WriteString("✓)")
	} else {
		b.WriteString("✗: " + v.Message + ")")
	}
	return b.String()
}

// num prints a metric with six significant digits, as the registry does.
func num(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }

func delta(v *float64) string {
	if v == nil {
		return ""
	}
	if *v >= 0 {
		return "+" + num(*v)
	}
	return num(*v)
}

func optNum(v *float64, version int) string {
	if v == nil {
		return "—"
	}
	if version != 0 {
		return fmt.Sprintf("%s (v%d)", num(*v), version)
	}
	return num(*v)
}

// promotionTable writes every promotion of the plan as a table a reviewer
// reads in the pull request: one row per gate, the metric's incumbent and
// candidate values, the delta and the verdict.
func promotionTable(b *bytes.Buffer, p *planjson.Plan) {
	var rows []string
	for _, c := range p.ResourceChanges {
		for _, pr := range c.Promotions {
			rows = append(rows, promotionRows(pr)...)
		}
	}
	if len(rows) == 0 {
		return
	}
	b.WriteString("| promotion | metric | incumbent | candidate | Δ | gate | verdict |\n|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		b.WriteString(r)
	}
	b.WriteString("\n")
}

func promotionRows(p planjson.Promotion) []string {
	move := "`" + moveLine(p) + "`"
	if p.Archives != 0 {
		move += fmt.Sprintf(" (archives v%d)", p.Archives)
	}
	switch {
	case p.Pending != "":
		gates := make([]string, len(p.Gates))
		for i, g := range p.Gates {
			gates[i] = "`" + g + "`"
		}
		return []string{fmt.Sprintf("| %s | | | | | %s | checked when v%d is registered by `%s` |\n",
			move, strings.Join(gates, ", "), p.To, p.Pending)}
	case len(p.Verdicts) == 0 && p.Refused != "":
		return []string{fmt.Sprintf("| %s | | | | | | ✗ %s |\n", move, escape(p.Refused))}
	case len(p.Verdicts) == 0:
		return []string{fmt.Sprintf("| %s | | | | | | ✓ no gates |\n", move)}
	}
	var out []string
	for i, v := range p.Verdicts {
		if i > 0 {
			move = ""
		}
		verdict := "✓"
		if !v.Pass {
			verdict = "✗ " + escape(v.Message)
		}
		cand := "missing"
		if v.Candidate != nil {
			cand = num(*v.Candidate)
		}
		out = append(out, fmt.Sprintf("| %s | %s | %s | %s | %s | `%s %s` | %s |\n", move, v.Metric,
			optNum(v.Incumbent, v.IncumbentVersion), cand, delta(v.Delta), v.Metric, v.Gate, verdict))
	}
	return out
}
