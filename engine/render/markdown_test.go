package render

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"sluice/engine/planjson"
)

func bigPlan(n int) *planjson.Plan {
	p := &planjson.Plan{Revision: planjson.Revision{Commit: "0123456789abcdef", Ref: "refs/heads/main", Path: "specs"},
		Summary: planjson.Summary{ByEffect: map[string]int{}}}
	for i := 0; i < n; i++ {
		p.ResourceChanges = append(p.ResourceChanges, planjson.ResourceChange{
			Address: fmt.Sprintf("features.view_%04d", i), Kind: "features", Name: fmt.Sprintf("view_%04d", i),
			Action: planjson.ActionUpdate, RuntimeActions: []string{planjson.ActionMaterialize},
			Reasons: []string{planjson.ReasonSpecChanged}, Effect: planjson.EffectRematerialize,
			Diff: []planjson.FieldChange{{Path: "ttl", Before: []byte(`"24h"`), After: []byte(`"48h"`), Class: "behaviour"}},
		})
		p.Summary.Update++
		p.Summary.ByEffect[planjson.EffectRematerialize]++
	}
	return p
}

func TestMarkdownFitsOneCommentAndSaysWhatItShortened(t *testing.T) {
	var b bytes.Buffer
	Markdown(&b, bigPlan(2000))
	out := b.String()
	if b.Len() > CommentLimit {
		t.Fatalf("markdown plan is %d bytes, over the %d a comment holds", b.Len(), CommentLimit)
	}
	if !strings.Contains(out, "Plan: 0 to create, 2000 to update") {
		t.Errorf("summary line missing:\n%s", out[:500])
	}
	if !strings.Contains(out, "changes are shortened to their addresses") || !strings.Contains(out, "addresses in all") {
		t.Errorf("a shortened plan must say so:\n%s", out[len(out)-600:])
	}
}

func TestMarkdownSmallPlanShowsEveryChangeInFull(t *testing.T) {
	var b bytes.Buffer
	Markdown(&b, bigPlan(3))
	out := b.String()
	for i := 0; i < 3; i++ {
		if !strings.Contains(out, fmt.Sprintf("features.view_%04d", i)) {
			t.Errorf("change %d missing", i)
		}
	}
	if strings.Contains(out, "shortened") {
		t.Errorf("a small plan was shortened:\n%s", out)
	}
	if !strings.Contains(out, `~ ttl: "24h" → "48h"`) {
		t.Errorf("field diff missing:\n%s", out)
	}
}
