package render

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"sluice/engine/planjson"
)

// CommentLimit is what one pull-request comment holds comfortably; the
// markdown plan stays under it by folding, and says what it left out.
const CommentLimit = 10 << 10

// Markdown writes the plan as one pull-request comment: a summary table of
// actions by effect, then every change folded in a details block. When the
// details would pass CommentLimit, the rest are listed by address only and
// the comment says how many were shortened — never cut silently.
func Markdown(w io.Writer, p *planjson.Plan) {
	var head bytes.Buffer
	fmt.Fprintf(&head, "### Sluice plan: %s\n\n", revisionLine(p.Revision))
	if len(p.Diagnostics) > 0 {
		for _, d := range p.Diagnostics {
			loc := ""
			if d.File != "" {
				loc = fmt.Sprintf(" (`%s:%d:%d`)", d.File, d.Line, d.Column)
			}
			fmt.Fprintf(&head, "- **%s**: %s%s\n", d.Severity, escape(d.Summary), loc)
		}
		head.WriteString("\n")
	}
	switch {
	case p.Errored:
		head.WriteString("**Planning failed; nothing would be applied.**\n")
		w.Write(head.Bytes())
		return
	case !p.HasChanges():
		fmt.Fprintf(&head, "**No changes.** The state matches this revision (%d resources).\n", len(p.ResourceChanges))
		w.Write(head.Bytes())
		return
	}
	fmt.Fprintf(&head, "**%s**  \n%s\n\n", SummaryLine(p.Summary), EffectsLine(p.Summary))
	effectTable(&head, p)
	promotionTable(&head, p)
	w.Write(head.Bytes())
	details(w, p, CommentLimit-head.Len())
}

func effectTable(b *bytes.Buffer, p *planjson.Plan) {
	byEffect := map[string][]string{}
	for _, c := range p.ResourceChanges {
		if c.Action == planjson.ActionNoOp {
			continue
		}
		byEffect[c.Effect] = append(byEffect[c.Effect], fmt.Sprintf("`%s` %s", c.Address, c.Action))
	}
	b.WriteString("| effect | changes |\n|---|---|\n")
	for _, e := range effectOrder(p.Summary.ByEffect) {
		list := byEffect[e]
		shown := list
		if len(shown) > 8 {
			shown = append(shown[:8:8], fmt.Sprintf("and %d more", len(list)-8))
		}
		fmt.Fprintf(b, "| %s | %s |\n", e, strings.Join(shown, ", "))
	}
	b.WriteString("\n")
}

func details(w io.Writer, p *planjson.Plan, budget int) {
	var body bytes.Buffer
	var rest []string
	n, width := 0, 0
	for _, c := range p.ResourceChanges {
		if c.Action != planjson.ActionNoOp {
			width = max(width, len(c.Address))
		}
	}
	for _, c := range p.ResourceChanges {
		if c.Action == planjson.ActionNoOp {
			continue
		}
		n++
		var one bytes.Buffer
		change(&one, c, width)
		// Full changes get two thirds of the room, addresses the rest.
		if len(rest) > 0 || body.Len()+one.Len() > (budget-512)*2/3 {
			rest = append(rest, c.Address)
			continue
		}
		body.Write(one.Bytes())
	}
	fmt.Fprintf(w, "<details><summary>All %d changes</summary>\n\n```\n%s```\n", n, body.String())
	if len(rest) > 0 {
		fmt.Fprintf(w, "\n%d changes are shortened to their addresses to fit one comment; run `sluice plan` for them in full:\n", len(rest))
		line := strings.Join(rest, ", ")
		if room := budget - body.Len() - 300; len(line) > room && room > 0 {
			line = line[:room] + fmt.Sprintf("… (%d addresses in all)", len(rest))
		}
		fmt.Fprintf(w, "%s\n", line)
	}
	fmt.Fprintf(w, "\n</details>\n")
}

func escape(s string) string {
	return strings.NewReplacer("|", "\\|", "<", "&lt;", ">", "&gt;").Replace(s)
}
