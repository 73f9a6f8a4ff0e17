package engine

import (
	"encoding/json"

	"sluice/engine/planjson"
)

// Version is sluice's version, stamped into plans; the build may override it.
var Version = "dev"

// JSON returns the plan in its contract form, from which every output renders.
func (p *Plan) JSON() *planjson.Plan {
	out := &planjson.Plan{
		FormatVersion:   planjson.FormatVersion,
		SluiceVersion:   Version,
		Revision:        p.Revision,
		State:           p.State,
		Complete:        true,
		ResourceChanges: []planjson.ResourceChange{},
		Diagnostics:     append([]planjson.Diagnostic{}, p.Diagnostics...),
		Summary:         planjson.Summary{ByEffect: map[string]int{}},
	}
	for _, d := range p.Diagnostics {
		out.Errored = out.Errored || d.Severity == "error"
	}
	for _, c := range p.Changes {
		rc := planjson.ResourceChange{
			Address:        c.Addr.String(),
			Kind:           string(c.Addr.Kind),
			Name:           c.Addr.Name,
			Action:         c.Action,
			RuntimeActions: nonNilStrings(c.Runtime),
			Reasons:        nonNilStrings(c.Reasons),
			Effect:         c.Effect,
			Detail:         c.Detail,
			Diff:           c.Diff,
			DependsOn:      []string{},
			Refused:        c.Refused,
			Promotions:     promotionsJSON(c),
		}
		if rc.Diff == nil {
			rc.Diff = []planjson.FieldChange{}
		}
		if len(c.Reasons) > 0 {
			rc.ActionReason = c.Reasons[0]
		}
		if c.Recorded != nil {
			rc.Before = json.RawMessage(c.Recorded.Spec)
		}
		if c.Resource != nil {
			m := c.Resource.Metadata()
			rc.After = json.RawMessage(m.Spec)
			rc.File, rc.Line = m.Pos.Filename(), m.Pos.Line()
			for _, d := range c.Resource.DependsOn() {
				rc.DependsOn = append(rc.DependsOn, d.String())
			}
		}
		out.ResourceChanges = append(out.ResourceChanges, rc)
		count(&out.Summary, c)
	}
	out.Applyable = !out.Errored && out.HasChanges() && !out.Refused()
	return out
}

func count(s *planjson.Summary, c *Change) {
	switch c.Action {
	case planjson.ActionNoOp:
		s.NoOp++
		return
	case planjson.ActionCreate:
		s.Create++
	case planjson.ActionUpdate:
		s.Update++
	case planjson.ActionReplace:
		s.Replace++
	case planjson.ActionDelete:
		s.Delete++
	default:
		s.Runtime++
	}
	s.ByEffect[c.Effect]++
}

func nonNilStrings(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}
