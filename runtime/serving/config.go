package serving

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"sluice/schema"
)

// Defaults for what a Config leaves zero. The schema gives every endpoint
// its own defaults (max_batch_size 64, max_queue_delay 1ms, max_queue_size
// 1024, timeout 1s, one CPU instance with one thread); these apply to a
// Config built by hand. Triton's own defaults are beside each.
const (
	// DefaultMaxBatchSize is the most rows one batch carries. Triton's
	// max_batch_size defaults to 0, which turns batching off; in Sluice
	// max_batch_size 1 turns it off, and 0 means this default.
	DefaultMaxBatchSize = 64
	// DefaultMaxQueueSize bounds the rows waiting in the queue. Triton's
	// max_queue_size defaults to 0, an unbounded queue, and counts
	// requests; Sluice counts rows, the unit memory grows with, and never
	// queues without bound: a full queue answers 429 at once.
	DefaultMaxQueueSize = 1024
	// A zero MaxQueueDelay sends a batch as soon as an instance is free,
	// as Triton's default max_queue_delay_microseconds of 0 does.
	// A zero Timeout lets a request wait in the queue as long as it takes,
	// as Triton's default_timeout_microseconds of 0 does. A Timeout counts
	// from the request's arrival, before its body is read, not from when
	// it is queued (see the README's "Dynamic batching").
)

// Config is one endpoint's desired serving state: which model file serves
// under which name, and how it is batched and placed.
type Config struct {
	// Endpoint is the name requests use: /v1/models/{Endpoint}:predict.
	Endpoint string
	// Model is the registered model's name, reported in metadata.
	Model string
	// Version is the model version, named by every response.
	Version int
	// Alias is the registry alias the endpoint follows ("production"),
	// which /v1/models/{name}/labels/{alias} also answers to.
	Alias string
	// Path is the ONNX model file; SHA256, when set, is its hex digest,
	// checked before loading.
	Path   string
	SHA256 string

	MaxBatchSize int
	Batching     schema.DynamicBatching
	Instances    []schema.InstanceGroup
	// Inputs are the declared inputs the model's signature must match.
	// Their Shape leaves out the batch dimension, as Triton's dims do when
	// max_batch_size > 0; -1 matches any size. Empty skips the check.
	Inputs []schema.Input
	// AllowNonFinite accepts NaN and ±Inf in requests; by default they are
	// refused as bad input.
	AllowNonFinite bool

	// Canary, when set, answers Weight percent of the requests that name
	// no version; Shadow, when set, gets a copy of every request, and its
	// answers are counted in its metrics and dropped. Both must take the
	// primary's inputs.
	Canary *Variant
	Shadow *Variant

	// Capture, when set, receives CaptureRate of the requests (chosen by
	// request id, so always the same ones), a row each; the engine wires
	// it, and only the rate is part of the config's hash.
	Capture     Capturer
	CaptureRate float64

	// Join, when set, fills model inputs from the online store for
	// requests that name entities. The engine wires its Lookup; the rest
	// (keys, features, policy) is part of the config's hash.
	Join *FeatureJoin
}

// Variant is a second version of an endpoint's model: a canary or a
// shadow. It shares the primary's batching and instance settings.
type Variant struct {
	Version int
	Alias   string
	Path    string
	SHA256  string
	// Weight is the percent (0-100) of requests a canary answers.
	Weight float64
}

// variant returns the Config that loads v beside c, or nil.
func (c *Config) variant(v *Variant) *Config {
	if v == nil {
		return nil
	}
	vc := *c
	vc.Version, vc.Alias, vc.Path, vc.SHA256 = v.Version, v.Alias, v.Path, v.SHA256
	vc.Canary, vc.Shadow = nil, nil
	return &vc
}

var endpointName = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)

// check reports every problem with c's fields.
func (c *Config) check() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if !endpointName.MatchString(c.Endpoint) {
		add("endpoint name %q: want lower-case letters, digits, - and _, starting with a letter", c.Endpoint)
	}
	if c.Path == "" {
		add("no model file path")
	}
	if c.Version < 0 {
		add("version %d is negative", c.Version)
	}
	if c.MaxBatchSize < 0 {
		add("max_batch_size %d is negative", c.MaxBatchSize)
	}
	b := c.Batching
	if b.MaxQueueSize < 0 || b.MaxQueueDelay < 0 || b.Timeout < 0 {
		add("dynamic_batching: max_queue_size, max_queue_delay and timeout must not be negative")
	}
	for i, g := range c.Instances {
		if g.Kind != "" && g.Kind != "cpu" && g.Kind != "gpu" {
			add("instance_groups[%d].kind %q: want cpu or gpu", i, g.Kind)
		}
		if g.Fallback != "" && g.Fallback != "cpu" {
			add("instance_groups[%d].fallback %q: want cpu", i, g.Fallback)
		}
		if g.Count < 0 || g.IntraOpThreads < 0 {
			add("instance_groups[%d]: count and intra_op_threads must not be negative", i)
		}
	}
	for kind, v := range map[string]*Variant{"canary": c.Canary, "shadow": c.Shadow} {
		if v == nil {
			continue
		}
		if v.Path == "" {
			add("%s: no model file path", kind)
		}
		if v.Version == c.Version {
			add("%s: version %d is the primary's; a variant needs its own version", kind, v.Version)
		}
		if kind == "canary" && (v.Weight <= 0 || v.Weight >= 100) {
			add("canary: weight %v, want a percent above 0 and below 100", v.Weight)
		}
	}
	if c.Canary != nil && c.Shadow != nil && c.Canary.Version == c.Shadow.Version {
		add("canary and shadow are both version %d", c.Canary.Version)
	}
	if j := c.Join; j != nil {
		if j.Lookup == nil || len(j.Features) == 0 || len(j.EntityKeys) == 0 {
			add("feature join: needs Lookup, Features and EntityKeys")
		}
		if j.OnMissing != "" && j.OnMissing != "error" && j.OnMissing != "default" {
			add("feature join: on_missing_entity %q: want error or default", j.OnMissing)
		}
		for _, f := range j.Features {
			if f.Default != nil && !defaultFits(f.Type, f.Default) {
				add("feature join: %s: default %v (%T) is not a %s", f.Ref, f.Default, f.Default, f.Type)
			}
		}
	}
	return errors.Join(errs...)
}

// defaultFits says whether a feature's default is a value of its type, as
// the online store would hold it.
func defaultFits(typ string, v any) bool {
	switch v.(type) {
	case float64:
		return typ == "float64"
	case int64:
		return typ == "int64"
	case bool:
		return typ == "bool"
	case string:
		return typ == "string"
	}
	return false
}

// batching returns c's batch settings after defaults, for a model that
// takes at most modelMax rows per run (0: any number).
func (c *Config) batching(modelMax int) batchConfig {
	bc := batchConfig{
		maxRows:  c.MaxBatchSize,
		delay:    c.Batching.MaxQueueDelay,
		maxQueue: c.Batching.MaxQueueSize,
		timeout:  c.Batching.Timeout,
	}
	if bc.maxRows == 0 {
		bc.maxRows = DefaultMaxBatchSize
	}
	if modelMax > 0 {
		bc.maxRows = min(bc.maxRows, modelMax)
	}
	if bc.maxQueue == 0 {
		bc.maxQueue = DefaultMaxQueueSize
	}
	bc.preferred = sortedPreferred(c.Batching.PreferredBatchSizes, bc.maxRows)
	return bc
}

// instances returns c's instance groups, or one CPU instance with one
// thread when there are none. Triton's default is one instance per
// visible GPU, else one on the CPU.
func (c *Config) instances() []schema.InstanceGroup {
	if len(c.Instances) == 0 {
		return []schema.InstanceGroup{{Count: 1, Kind: "cpu", IntraOpThreads: 1}}
	}
	return c.Instances
}

// hash identifies what c deploys: every field but the hooks, and the model
// files' digests. Deploying the same hash again is a no-op.
func (c *Config) hash(fileDigest, canaryDigest, shadowDigest string) string {
	h := sha256.New()
	enc := json.NewEncoder(h)
	enc.Encode(struct {
		Endpoint, Model, Alias, Path, File string
		Version, MaxBatchSize              int
		Preferred                          []int
		Delay, Timeout                     time.Duration
		QueueSize                          int
		Instances                          []schema.InstanceGroup
		Inputs                             []schema.Input
		AllowNonFinite                     bool
		CaptureRate                        float64
		Join                               *FeatureJoin
		Canary, Shadow                     *Variant
		CanaryFile, ShadowFile             string
	}{
		c.Endpoint, c.Model, c.Alias, c.Path, fileDigest,
		c.Version, c.MaxBatchSize,
		c.Batching.PreferredBatchSizes,
		c.Batching.MaxQueueDelay, c.Batching.Timeout,
		c.Batching.MaxQueueSize,
		c.Instances, c.Inputs, c.AllowNonFinite, c.CaptureRate, c.Join,
		c.Canary, c.Shadow, canaryDigest, shadowDigest,
	})
	return hex.EncodeToString(h.Sum(nil))
}

// EndpointConfig builds the Config of a schema endpoint serving version
// from the model file at path (with its hex sha256, or ""). The caller
// resolves the endpoint's canary and shadow targets to files (Canary,
// Shadow) and wires the feature join (Join), which need the registry and
// the online store.
func EndpointConfig(e *schema.Endpoint, version int, path, sha string) Config {
	return Config{
		Endpoint:     e.Addr.Name,
		Model:        e.Model,
		Version:      version,
		Alias:        e.Alias,
		Path:         path,
		SHA256:       sha,
		MaxBatchSize: e.MaxBatchSize,
		Batching:     e.DynamicBatching,
		Instances:    e.InstanceGroups,
		Inputs:       e.Inputs,
		CaptureRate:  e.Capture.Rate,
	}
}
