// Package render prints plans for people: text for a terminal and markdown
// for a pull-request comment. Both read only the JSON contract, so they can
// never disagree with `sluice plan --format json`.
package render

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"

	"sluice/engine/planjson"
)

// Text writes the plan in the manner of `terraform plan`: one block per
// change with a +, ~, -/+, - or ↻ marker, field diffs, and a summary line.
func Text(w io.Writer, p *planjson.Plan) {
	fmt.Fprintf(w, "Plan of %s against %s\n", revisionLine(p.Revision), stateLine(p.State))
	diagnostics(w, p.Diagnostics)
	if p.Errored {
		fmt.Fprintln(w, "\nPlanning failed; nothing would be applied.")
		return
	}
	suspended(w, p)
	if !p.HasChanges() {
		fmt.Fprintf(w, "\nNo changes. The state matches this revision (%d resources).\n", len(p.ResourceChanges))
		return
	}
	fmt.Fprintln(w, "\nSluice will perform these actions:")
	width := 0
	for _, c := range p.ResourceChanges {
		width = max(width, len(c.Address))
	}
	for _, c := range p.ResourceChanges {
		if c.Action == planjson.ActionNoOp {
			continue
		}
		fmt.Fprintln(w)
		change(w, c, width)
	}
	fmt.Fprintf(w, "\n%s\n", SummaryLine(p.Summary))
	if e := EffectsLine(p.Summary); e != "" {
		fmt.Fprintf(w, "%s\n", e)
	}
}

// suspended lists suspended resources that have changes waiting.
func suspended(w io.Writer, p *planjson.Plan) {
	for _, c := range p.ResourceChanges {
		if c.Action != planjson.ActionNoOp || c.Detail == "" || len(c.Diff) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n  ||  %s  suspended: %d field changes wait until suspend is false\n", c.Address, len(c.Diff))
		for _, d := range c.Diff {
			fmt.Fprintf(w, "        %s\n", fieldLine(d))
		}
	}
}

func change(w io.Writer, c planjson.ResourceChange, width int) {
	action := c.Action
	if len(c.RuntimeActions) > 0 && c.Action != c.RuntimeActions[0] {
		action += " + " + strings.Join(c.RuntimeActions, " + ")
	}
	fmt.Fprintf(w, "  %-3s %-*s  %-24s %s", Marker(c.Action), width, c.Address, action, strings.Join(c.Reasons, ", "))
	if c.Effect != "" && c.Effect != planjson.EffectNone {
		fmt.Fprintf(w, "  [%s]", c.Effect)
	}
	fmt.Fprintln(w)
	if len(c.Promotions) > 0 {
		promotionLines(w, c.Promotions)
	} else if c.Detail != "" {
		fmt.Fprintf(w, "        %s\n", c.Detail)
	}
	if c.Action == planjson.ActionDelete {
		fmt.Fprintf(w, "        %s\n", deleteNote(c.Kind))
		return
	}
	for _, d := range c.Diff {
		fmt.Fprintf(w, "        %s\n", fieldLine(d))
	}
	if c.Refused != "" {
		fmt.Fprintf(w, "        REFUSED: %s\n", c.Refused)
	}
}

// fieldLine prints one field change; behaviour is the unmarked default.
func fieldLine(d planjson.FieldChange) string {
	var b strings.Builder
	switch {
	case d.Before == nil:
		fmt.Fprintf(&b, "+ %s: %s", d.Path, d.After)
	case d.After == nil:
		fmt.Fprintf(&b, "- %s: %s", d.Path, d.Before)
	default:
		fmt.Fprintf(&b, "~ %s: %s → %s", d.Path, d.Before, d.After)
	}
	switch d.Class {
	case "identity":
		b.WriteString("   (identity: forces replacement)")
	case "metadata":
		b.WriteString("   (metadata)")
	}
	return b.String()
}

func deleteNote(kind string) string {
	switch kind {
	case "features":
		return "its materialized data (offline and online tables) will be deleted"
	case "sources":
		return "its recorded fingerprint will be forgotten; the file is not touched"
	}
	return "its record will be deleted"
}

// Marker is the one-glance sign of an action.
func Marker(action string) string {
	switch action {
	case planjson.ActionCreate:
		return "+"
	case planjson.ActionUpdate:
		return "~"
	case planjson.ActionReplace:
		return "-/+"
	case planjson.ActionDelete:
		return "-"
	case planjson.ActionNoOp:
		return " "
	}
	return "↻"
}

// SummaryLine counts the changes like Terraform's "Plan:" line.
func SummaryLine(s planjson.Summary) string {
	line := fmt.Sprintf("Plan: %d to create, %d to update, %d to replace, %d to delete", s.Create, s.Update, s.Replace, s.Delete)
	if s.Runtime > 0 {
		line += fmt.Sprintf(", %d to recompute", s.Runtime)
	}
	return line + fmt.Sprintf("; %d unchanged.", s.NoOp)
}

// EffectsLine says what the changes cost, dearest first.
func EffectsLine(s planjson.Summary) string {
	if len(s.ByEffect) == 0 {
		return ""
	}
	var parts []string
	for _, e := range effectOrder(s.ByEffect) {
		parts = append(parts, fmt.Sprintf("%d %s", s.ByEffect[e], e))
	}
	return "Effects: " + strings.Join(parts, ", ") + "."
}

var effectRank = map[string]int{
	planjson.EffectRedeploy: 0, planjson.EffectRetrain: 1, planjson.EffectRematerialize: 2,
	planjson.EffectReload: 3, planjson.EffectMetadataOnly: 4, planjson.EffectNone: 5,
}

func effectOrder(m map[string]int) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return effectRank[keys[i]] < effectRank[keys[j]] })
	return keys
}

func revisionLine(r planjson.Revision) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "revision %s", short(r.Commit))
	if r.Ref != "" && r.Ref != r.Commit {
		fmt.Fprintf(&b, " (%s)", r.Ref)
	}
	if r.Dirty {
		b.WriteString(" with uncommitted edits")
	}
	if r.Base != "" {
		fmt.Fprintf(&b, " merged into %s", short(r.Base))
	}
	if r.Path != "" && r.Path != "." {
		fmt.Fprintf(&b, ", path %s", r.Path)
	}
	return b.String()
}

func stateLine(s planjson.State) string {
	cur := "nothing applied yet"
	if s.CurrentCommit != "" {
		cur = "current revision " + short(s.CurrentCommit)
	}
	return fmt.Sprintf("state %s (serial %d, %s)", s.Path, s.Serial, cur)
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}

func diagnostics(w io.Writer, ds []planjson.Diagnostic) {
	for _, d := range ds {
		fmt.Fprintf(w, "\n%s: %s\n", capitalize(d.Severity), d.Summary)
		if d.File != "" {
			fmt.Fprintf(w, "  on %s:%d:%d", d.File, d.Line, d.Column)
			if d.Address != "" {
				fmt.Fprintf(w, ", in %s", d.Address)
			}
			fmt.Fprintln(w)
		}
	}
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
