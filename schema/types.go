// Package schema loads a repository's CUE specs, unifies them with Sluice's
// embedded schema and turns them into typed values that remember where in
// which file every field was written.
package schema

import (
	"strings"
	"time"

	"cuelang.org/go/cue/token"
)

// Kind names one of the seven resource kinds, as written at the top level of
// a spec file.
type Kind string

// The kinds, in the order their dependencies run.
const (
	KindSource     Kind = "sources"
	KindEntity     Kind = "entities"
	KindFeature    Kind = "features"
	KindExperiment Kind = "experiments"
	KindModel      Kind = "models"
	KindEndpoint   Kind = "endpoints"
	KindDrift      Kind = "drift"
)

// Kinds lists every kind in dependency order.
var Kinds = []Kind{KindSource, KindEntity, KindFeature, KindExperiment, KindModel, KindEndpoint, KindDrift}

// Field classes: what changing a field costs.
const (
	// ClassIdentity fields name what a resource is; changing one replaces it.
	ClassIdentity = "identity"
	// ClassBehaviour fields change what a resource computes.
	ClassBehaviour = "behaviour"
	// ClassMetadata fields describe a resource; changing them recomputes nothing.
	ClassMetadata = "metadata"
)

// ClassOf returns the class of the field at path, inherited from the nearest
// enclosing field that has one ("tags.team" is metadata because "tags" is).
func ClassOf(classes map[string]string, path string) string {
	for p := path; p != ""; p = parent(p) {
		if c, ok := classes[p]; ok {
			return c
		}
	}
	return ClassBehaviour
}

func parent(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// Addr is a resource's address, "kind.name", as plans and status print it.
type Addr struct {
	Kind Kind
	Name string
}

func (a Addr) String() string { return string(a.Kind) + "." + a.Name }

// Meta is what every resource has besides its kind-specific fields.
type Meta struct {
	Addr Addr `json:"-"`
	// Pos is where the resource's key was written.
	Pos token.Pos `json:"-"`
	// Fields maps a field path inside the resource ("fields.amount.type",
	// "entities[0]") to where its value was written.
	Fields map[string]token.Pos `json:"-"`
	// Classes maps a field path to the class the schema gives it:
	// ClassIdentity or ClassMetadata. Fields not listed are behaviour.
	Classes map[string]string `json:"-"`
	// Spec is the resource's complete value after defaults, as canonical JSON
	// (sorted keys, no insignificant space): what the state store records and
	// what diffs compare.
	Spec []byte `json:"-"`
	// Hash is the hex SHA-256 of Spec.
	Hash string `json:"-"`

	Description string            `json:"description"`
	Owner       string            `json:"owner"`
	Tags        map[string]string `json:"tags"`
	Suspend     bool              `json:"suspend"`
}

// Position returns where the field at path was written, falling back to the
// resource itself.
func (m *Meta) Position(path string) token.Pos {
	if p, ok := m.Fields[path]; ok {
		return p
	}
	return m.Pos
}

// Source is a data file with a declared event-time column.
type Source struct {
	Meta
	Path             string `json:"path"`
	Format           string `json:"format"` // "csv" or "parquet"; inferred from Path when not written
	Timestamp        string `json:"timestamp"`
	CreatedTimestamp string `json:"created_timestamp"`
}

// Entity is a typed join key.
type Entity struct {
	Meta
	JoinKey string `json:"join_key"`
	Type    string `json:"type"` // "int64" or "string"
}

// FeatureField is one typed field of a feature view.
type FeatureField struct {
	Name        string `json:"-"`
	Type        string `json:"type"` // int64, float64, string, bool
	Expr        string `json:"expr"` // SQL over source columns; empty means the column of the same name
	Description string `json:"description"`
}

// FeatureView is a set of fields computed from one source, keyed by entities.
type FeatureView struct {
	Meta
	Entities []string      `json:"entities"`
	Source   string        `json:"source"`
	TTL      time.Duration `json:"-"`
	Online   bool          `json:"online"`
	// Fields are sorted by name.
	Fields []FeatureField `json:"-"`
	Every  time.Duration  `json:"-"`
}

// Trainer says how an experiment trains: a built-in algorithm or a command.
type Trainer struct {
	Builtin string         `json:"builtin"`
	Command []string       `json:"command"`
	Params  map[string]any `json:"params"`
	Timeout time.Duration  `json:"-"`
}

// Label is where an experiment's labels come from.
type Label struct {
	Source   string   `json:"source"`
	Column   string   `json:"column"`
	Entities []string `json:"entities"`
}

// Split says how the dataset is divided into training and holdout rows.
type Split struct {
	Holdout float64 `json:"holdout"`
	Seed    int64   `json:"seed"`
	ByTime  bool    `json:"by_time"`
}

// Experiment trains a model version from features and labels.
type Experiment struct {
	Meta
	Model         string            `json:"model"`
	Task          string            `json:"task"` // classification or regression
	Label         Label             `json:"label"`
	Features      []string          `json:"features"` // "view:field"
	Trainer       Trainer           `json:"trainer"`
	Split         Split             `json:"split"`
	Gates         map[string]string `json:"gates"`
	OnNewRevision string            `json:"on_new_revision"`
	// After is the experiment of the same model just before this one by
	// name, derived by Load: experiments of one model register versions one
	// after another in name order, so a revision numbers them the same way
	// every time.
	After string `json:"-"`
}

// Model declares which version each alias of a registered model points to.
type Model struct {
	Meta
	Aliases         map[string]int    `json:"aliases"`
	Gates           map[string]string `json:"gates"`
	ArchivePrevious bool              `json:"archive_previous"`
	// Experiments are the experiments that register versions of this
	// model, sorted; derived by Load, not written in specs.
	Experiments []string `json:"-"`
}

// Target names a model version directly or through an alias.
type Target struct {
	Alias   string `json:"alias"`
	Version int    `json:"version"`
}

// DynamicBatching holds Triton's dynamic batcher settings.
type DynamicBatching struct {
	PreferredBatchSizes []int         `json:"preferred_batch_sizes"`
	MaxQueueDelay       time.Duration `json:"-"`
	MaxQueueSize        int           `json:"max_queue_size"`
	Timeout             time.Duration `json:"-"`
}

// InstanceGroup is a set of identical sessions on one kind of device.
type InstanceGroup struct {
	Count          int    `json:"count"`
	Kind           string `json:"kind"` // cpu or gpu
	GPUs           []int  `json:"gpus"`
	IntraOpThreads int    `json:"intra_op_threads"`
	Fallback       string `json:"fallback"`
}

// Input is a declared model input.
type Input struct {
	Name  string  `json:"name"`
	Type  string  `json:"type"`
	Shape []int64 `json:"shape"`
}

// Canary sends a share of traffic to a second version.
type Canary struct {
	Target
	Weight float64 `json:"weight"`
}

// Capture says how much live traffic an endpoint records for drift.
type Capture struct {
	Rate      float64       `json:"rate"`
	Retention time.Duration `json:"-"`
}

// Endpoint serves a model version over HTTP.
type Endpoint struct {
	Meta
	Model string `json:"model"`
	Target
	MaxBatchSize    int             `json:"max_batch_size"`
	DynamicBatching DynamicBatching `json:"dynamic_batching"`
	InstanceGroups  []InstanceGroup `json:"instance_groups"`
	Inputs          []Input         `json:"inputs"`
	Features        []string        `json:"features"`
	EntityKeys      []string        `json:"entity_keys"`
	OnMissingEntity string          `json:"on_missing_entity"`
	FeatureDefaults map[string]any  `json:"feature_defaults"`
	Canary          *Canary         `json:"canary"`
	Shadow          *Target         `json:"shadow"`
	Capture         Capture         `json:"capture"`
}

// Threshold is a drift threshold: a fixed number, or NannyML's
// mean + k·σ over reference chunks.
type Threshold struct {
	Value float64
	Kind  string // "" (fixed value, or the method's default when Value is 0) or "std"
	K     float64
}

// Drift watches an endpoint's captured traffic against the training reference.
type Drift struct {
	Meta
	Endpoint          string        `json:"endpoint"`
	Features          []string      `json:"features"`
	Numerical         string        `json:"-"`
	Categorical       string        `json:"-"`
	Threshold         Threshold     `json:"-"`
	Window            time.Duration `json:"-"`
	MinSamples        int           `json:"min_samples"`
	Every             time.Duration `json:"-"`
	DatasetDriftShare float64       `json:"dataset_drift_share"`
	OnDrift           []string      `json:"on_drift"`
	PromoteTo         string        `json:"promote_to"`
	// Quality, when set, also fires the policy on a drop of live quality.
	Quality *QualityGate `json:"quality,omitempty"`
}

// QualityGate is a drift policy's bound on live quality against the
// serving version's holdout metric.
type QualityGate struct {
	Metric    string  `json:"metric"`
	MaxDrop   float64 `json:"max_drop"`
	MinLabels int     `json:"min_labels"`
}

// Notification is a webhook that events are sent to.
type Notification struct {
	Name   string   `json:"-"`
	URL    string   `json:"url"`
	Events []string `json:"events"`
}

// Spec is one revision's desired state. Maps are keyed by resource name.
type Spec struct {
	Sources       map[string]*Source
	Entities      map[string]*Entity
	Features      map[string]*FeatureView
	Experiments   map[string]*Experiment
	Models        map[string]*Model
	Endpoints     map[string]*Endpoint
	Drift         map[string]*Drift
	Notifications map[string]*Notification
}
