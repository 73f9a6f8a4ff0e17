// Package planjson is the JSON contract of a Sluice plan: what `sluice plan
// --format json` prints, what the text and markdown renderers read, and what
// a saved plan file holds. Changes to it are additive; a field's meaning never
// changes within a major format_version.
package planjson

import "encoding/json"

// FormatVersion is the version of this contract. The minor part grows when
// fields are added; the major part would change only if a meaning did.
const FormatVersion = "1.1"

// Plan is one plan of a revision against a state.
type Plan struct {
	FormatVersion string   `json:"format_version"`
	SluiceVersion string   `json:"sluice_version"`
	Revision      Revision `json:"revision"`
	State         State    `json:"state"`
	// Applyable is true when applying the plan would change something and
	// nothing in it is errored or refused.
	Applyable bool `json:"applyable"`
	// Complete is true when applying the plan makes the state equal the
	// revision (no resource was left out of planning).
	Complete bool `json:"complete"`
	// Errored is true when planning failed; Diagnostics says why.
	Errored         bool             `json:"errored"`
	ResourceChanges []ResourceChange `json:"resource_changes"`
	Summary         Summary          `json:"summary"`
	Diagnostics     []Diagnostic     `json:"diagnostics"`
}

// Revision is the commit a plan was made from.
type Revision struct {
	Repo   string `json:"repo"`
	Commit string `json:"commit"`
	Ref    string `json:"ref"`
	Path   string `json:"path"`
	// Dirty is true for a plan of uncommitted edits (--worktree).
	Dirty bool `json:"dirty"`
	// Base is the commit a pull-request plan merges into (plan --base):
	// the plan shows what the merge changes, as if Base were applied.
	Base string `json:"base,omitempty"`
}

// State is the state a plan was made against.
type State struct {
	Path string `json:"path"`
	// Serial moves with every change to the state; a saved plan applies only
	// to the serial it was made against.
	Serial int64 `json:"serial"`
	// CurrentCommit is the commit last applied, empty before the first apply.
	CurrentCommit string `json:"current_commit"`
}

// Actions. A resource's action is what happens to its record; runtime
// actions are the work its kind does (materialize, train, promote, swap).
const (
	ActionNoOp        = "no-op"
	ActionCreate      = "create"
	ActionUpdate      = "update"
	ActionReplace     = "replace"
	ActionDelete      = "delete"
	ActionMaterialize = "materialize"
	ActionTrain       = "train"
	ActionPromote     = "promote"
	ActionSwap        = "swap"
)

// Reasons: why a change is planned, fixed snake_case strings.
const (
	ReasonNewInGit            = "new_in_git"
	ReasonSpecChanged         = "spec_changed"
	ReasonIdentityChanged     = "identity_changed"
	ReasonMetadataChanged     = "metadata_changed"
	ReasonSourceDataChanged   = "source_data_changed"
	ReasonDependencyReplaced  = "dependency_replaced"
	ReasonDependencyChanged   = "dependency_changed"
	ReasonRemovedFromGit      = "removed_from_git"
	ReasonPreviousApplyFailed = "previous_apply_failed"
	ReasonSuspended           = "suspended"
)

// Effects: what a change costs, from cheapest to dearest.
const (
	EffectNone          = "none"
	EffectMetadataOnly  = "metadata_only"
	EffectReload        = "reload"
	EffectRematerialize = "rematerialize"
	EffectRetrain       = "retrain"
	EffectRedeploy      = "redeploy"
)

// ResourceChange is the plan for one resource.
type ResourceChange struct {
	Address string `json:"address"`
	Kind    string `json:"kind"`
	Name    string `json:"name"`
	Action  string `json:"action"`
	// RuntimeActions lists the work beyond recording the spec, in order.
	RuntimeActions []string `json:"runtime_actions"`
	// ActionReason is the main reason; Reasons holds all of them.
	ActionReason string   `json:"action_reason"`
	Reasons      []string `json:"reasons"`
	Effect       string   `json:"effect"`
	// Detail says in words what the runtime action will do, e.g.
	// "incremental: rows after 2026-11-20T00:00:00Z".
	Detail    string          `json:"detail,omitempty"`
	Before    json.RawMessage `json:"before"`
	After     json.RawMessage `json:"after"`
	Diff      []FieldChange   `json:"diff"`
	DependsOn []string        `json:"depends_on"`
	// Refused is set when apply would refuse this change, with why.
	Refused string `json:"refused,omitempty"`
	// Promotions are a model change's alias moves with their gate
	// verdicts (format 1.1); absent for other kinds.
	Promotions []Promotion `json:"promotions,omitempty"`
	// File and Line say where the resource is declared.
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
}

// FieldChange is one field that differs.
type FieldChange struct {
	Path   string          `json:"path"`
	Before json.RawMessage `json:"before,omitempty"`
	After  json.RawMessage `json:"after,omitempty"`
	// Class is identity, behaviour or metadata.
	Class string `json:"class"`
}

// Summary counts changes by action and by effect.
type Summary struct {
	Create   int            `json:"create"`
	Update   int            `json:"update"`
	Replace  int            `json:"replace"`
	Delete   int            `json:"delete"`
	Runtime  int            `json:"runtime_only"`
	NoOp     int            `json:"no_op"`
	ByEffect map[string]int `json:"by_effect"`
}

// Diagnostic is an error or warning found while planning.
type Diagnostic struct {
	Severity string `json:"severity"` // error or warning
	Summary  string `json:"summary"`
	Address  string `json:"address,omitempty"`
	File     string `json:"file,omitempty"`
	Line     int    `json:"line,omitempty"`
	Column   int    `json:"column,omitempty"`
}

// HasChanges reports whether applying the plan would do anything.
func (p *Plan) HasChanges() bool {
	for _, c := range p.ResourceChanges {
		if c.Action != ActionNoOp {
			return true
		}
	}
	return false
}

// Refused reports whether any change would be refused by apply.
func (p *Plan) Refused() bool {
	for _, c := range p.ResourceChanges {
		if c.Refused != "" {
			return true
		}
	}
	return false
}
