package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"sluice/runtime/store"
)

// Promotion is a planned alias move with the evidence for it: what a plan
// shows a pull request's reviewer, and what decides whether apply may make
// the move.
type Promotion struct {
	Model, Alias string
	// From is the version the alias points to now (the incumbent); 0 when
	// it points nowhere. To is the version it would point to.
	From, To int
	// Verdicts hold one entry per gate, in the order the gates were given;
	// nil when nothing would move.
	Verdicts []Verdict
	// Refused says why apply would refuse the move; empty when it would not.
	Refused string
	// ToStatus is the status of version To now; ARCHIVED means the move
	// would make it READY again. Empty when To does not exist.
	ToStatus Status
	// FromShared lists the other aliases pointing to From, which keep it
	// from being archived by archive_previous.
	FromShared []string
	// Pending names the resource whose training, earlier in the same plan,
	// will register version To ("experiments.fraud-rf"): the move waits for
	// it, and its gates are judged on the real metrics when apply gets
	// there. Gates then lists them, since there are no verdicts yet.
	Pending string
	Gates   []Gate
}

// NoOp reports whether the alias already points to the version.
func (p *Promotion) NoOp() bool { return p.From == p.To }

// Archives returns the version the move would archive when the model has
// archive_previous set; 0 when none would be.
func (p *Promotion) Archives(archivePrevious bool) int {
	if !archivePrevious || p.NoOp() || p.From == 0 || p.To == 0 || len(p.FromShared) > 0 || p.Refused != "" {
		return 0
	}
	return p.From
}

// String reads like "promote fraud-detector production 2 → 3", or "unset
// fraud-detector staging (was 2)" when the alias is to be removed (To 0).
func (p *Promotion) String() string {
	if p.To == 0 {
		return fmt.Sprintf("unset %s %s (was %d)", p.Model, p.Alias, p.From)
	}
	return fmt.Sprintf("promote %s %s %s → %d", p.Model, p.Alias, versionOrNone(p.From), p.To)
}

// Detail is the verdicts on one line, with a note when the move restores
// an archived version: "f1 0.87 → 0.91 (gate f1 >= 0.85 ✓), recall ...".
func (p *Promotion) Detail() string {
	if p.Pending != "" {
		return p.pendingDetail()
	}
	parts := make([]string, 0, len(p.Verdicts)+1)
	for _, v := range p.Verdicts {
		parts = append(parts, v.String())
	}
	if p.ToStatus == StatusArchived && !p.NoOp() {
		parts = append(parts, fmt.Sprintf("version %d is ARCHIVED and becomes READY again", p.To))
	}
	return strings.Join(parts, ", ")
}

// PlanPromotion plans pointing alias of model at version to, reading only.
// The move is refused when the version does not exist or FAILED, or when a
// gate fails; Refused then names the version or every failing gate. The
// incumbent the gates compare with is the version the alias points to now;
// an incumbent-relative gate passes when there is none, and its verdict
// says so. An alias already at the version plans nothing and checks no
// gates: nothing moves. A bad alias name is an error, not a refusal.
func (r *Registry) PlanPromotion(ctx context.Context, q store.Querier, model, alias string, to int, gates []Gate) (*Promotion, error) {
	if err := ValidateAlias(alias); err != nil {
		return nil, fmt.Errorf("plan promotion of %s: %w", model, err)
	}
	aliases, err := r.Aliases(ctx, q, model)
	if err != nil {
		return nil, err
	}
	p := &Promotion{Model: model, Alias: alias, From: aliases[alias], To: to}
	for _, a := range aliasesOf(aliases, p.From) {
		if a != alias {
			p.FromShared = append(p.FromShared, a)
		}
	}
	cand, err := r.Version(ctx, q, model, to)
	if errors.Is(err, ErrNotFound) {
		p.Refused = strings.TrimSuffix(err.Error(), ": "+ErrNotFound.Error())
		return p, nil
	}
	if err != nil {
		return nil, err
	}
	p.ToStatus = cand.Status
	if cand.Status == StatusFailed {
		p.Refused = failedMessage(cand)
		return p, nil
	}
	if p.NoOp() {
		return p, nil
	}
	var incumbent *Version
	if p.From != 0 {
		if incumbent, err = r.Version(ctx, q, model, p.From); err != nil {
			return nil, err
		}
	}
	p.Verdicts = Evaluate(gates, cand.Metrics, incumbent)
	var failed []string
	for _, v := range p.Verdicts {
		if !v.Pass {
			failed = append(failed, fmt.Sprintf("gate %s %s%s failed: %s", v.Metric, v.Expr, declaredBy(v.From), v.Message))
		}
	}
	p.Refused = strings.Join(failed, "; ")
	return p, nil
}

func declaredBy(from string) string {
	if from == "" {
		return ""
	}
	return " (" + from + ")"
}

// pendingDetail reads like "gates checked when v2 is registered by
// experiments.fraud-rf: f1 >= 0.80, recall >= 0.75".
func (p *Promotion) pendingDetail() string {
	if len(p.Gates) == 0 {
		return fmt.Sprintf("moves when v%d is registered by %s (no gates)", p.To, p.Pending)
	}
	gates := make([]string, len(p.Gates))
	for i, g := range p.Gates {
		gates[i] = g.String()
	}
	return fmt.Sprintf("gates checked when v%d is registered by %s: %s", p.To, p.Pending, strings.Join(gates, ", "))
}
