package engine

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"sluice/engine/planjson"
	"sluice/runtime/drift"
	"sluice/schema"
)

// Plan reasons of a drift hold.
const (
	planReasonDriftHold         = "drift_hold"
	planReasonDriftHoldReleased = "drift_hold_released"
)

// driftHeld plans an endpoint a drift policy rolled back: while the
// revision is the one applied when it was rolled back, the endpoint keeps
// serving the held version and the plan says so instead of swapping back.
func (pl *planner) driftHeld(c *Change, e *schema.Endpoint) bool {
	// The Held condition the rollback left reads as a failed step to
	// retry; any other change comes with a new commit, which releases it.
	cond, held := pl.failed[e.Addr]
	retry := held && cond.Reason == ReasonDriftRollback && len(c.Reasons) == 1 && c.Reasons[0] == planjson.ReasonPreviousApplyFailed
	if c.Action != planjson.ActionNoOp && !retry {
		return false
	}
	h, err := drift.HoldOf(pl.ctx, pl.q, e.Addr.Name)
	if err != nil || !h.ActiveFor(pl.plan.Revision.Commit) {
		return false
	}
	c.Action, c.Effect, c.Full = planjson.ActionNoOp, planjson.EffectNone, false
	c.Outputs = map[string]string{outputVersion: strconv.Itoa(h.Version)}
	c.Reasons = []string{planReasonDriftHold}
	c.Detail = fmt.Sprintf("held at v%d by drift policy %s (rolled back from v%d at %s); a new commit releases it",
		h.Version, h.Policy, h.FromVersion, h.At.Format(time.RFC3339))
	pl.warnf(&e.Meta, "alias", "endpoint %s is held at v%d by drift policy %s, not at %s v%d; a new commit releases it",
		e.Addr.Name, h.Version, h.Policy, endpointRef(e), h.FromVersion)
	return true
}

// driftReleased notes on a swap that it ends a drift policy's hold.
func (pl *planner) driftReleased(c *Change, e *schema.Endpoint) {
	if !contains(c.Runtime, planjson.ActionSwap) {
		return
	}
	h, err := drift.HoldOf(pl.ctx, pl.q, e.Addr.Name)
	if err != nil || h == nil || h.ActiveFor(pl.plan.Revision.Commit) {
		return
	}
	if pl.serving != nil {
		if st, ok := pl.serving.Status(e.Addr.Name); !ok || st.Serving != h.Version {
			return // the held version is no longer what serves
		}
	}
	c.Reasons = appendNew(c.Reasons, planReasonDriftHoldReleased)
	c.Detail += fmt.Sprintf(" (releases the hold of drift policy %s at v%d)", h.Policy, h.Version)
}

// shortDuration prints 1h and 5m rather than 1h0m0s and 5m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
