package serving

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
)

// version is one loaded model of an endpoint's route: its sessions and
// their batcher.
type version struct {
	cfg     Config
	label   string // the version as responses name it
	sig     signature
	insts   []*instance
	batch   batchConfig
	batcher *batcher
	metrics *versionMetrics
	inputAt map[string]int // input name → position in sig.Inputs
	joined  *joinPlan      // the feature join, if the endpoint has one
	route   *route         // the deploy this version belongs to
	// capNames is the capture's column names, kept from the first
	// captured request (see captureNames).
	capNames atomic.Pointer[captureColumns]
	// inFlight counts the requests between arrival and answer; admit
	// refuses one beyond what the queue and the instances could hold.
	inFlight atomic.Int64
}

// admit takes a request in unless more are in flight than the queue and
// the instances' batches could hold even at one row each: the rest would
// only wait to be decoded, and under overload that wait, not the queue,
// would set the latency (a client should hear 429 at once instead).
// done must be called when an admitted request is answered.
func (v *version) admit() (done func(), ok bool) {
	limit := int64(v.batch.maxQueue + v.batch.maxRows*len(v.insts))
	if v.inFlight.Add(1) > limit {
		v.inFlight.Add(-1)
		return nil, false
	}
	return func() { v.inFlight.Add(-1) }, true
}

// modelFile is a model file's bytes and hex sha256.
type modelFile struct {
	data   []byte
	digest string
}

// readModel reads the model file and checks its digest.
func readModel(cfg *Config) (modelFile, error) {
	data, err := os.ReadFile(cfg.Path)
	if err != nil {
		return modelFile{}, &DeployError{cfg.Endpoint, ReasonModelLoadFailed, fmt.Errorf("read model: %w", err)}
	}
	sum := sha256.Sum256(data)
	digest := hex.EncodeToString(sum[:])
	if cfg.SHA256 != "" && !strings.EqualFold(cfg.SHA256, digest) {
		return modelFile{}, &DeployError{cfg.Endpoint, ReasonChecksumMismatch,
			fmt.Errorf("model file %s has sha256 %s, want %s", cfg.Path, digest, cfg.SHA256)}
	}
	return modelFile{data, digest}, nil
}

// load opens, warms and probes a new version beside whatever serves now.
// Nothing it makes outlives a failure.
func (s *Server) load(ctx context.Context, cfg Config, data []byte) (*version, error) {
	fail := func(reason string, err error) error { return &DeployError{cfg.Endpoint, reason, err} }
	sig, err := readSignature(data)
	if err != nil {
		reason := ReasonSignatureMismatch
		if errors.Is(err, errUnloadable) {
			reason = ReasonModelLoadFailed
		}
		return nil, fail(reason, fmt.Errorf("model %s: %w", cfg.Path, err))
	}
	if err := CheckEndpoint(cfg.Inputs, cfg.Join, sig.Inputs); err != nil {
		return nil, fail(ReasonSignatureMismatch, fmt.Errorf("model %s: %w", cfg.Path, err))
	}
	var joined *joinPlan
	if cfg.Join != nil {
		joined, _ = planJoin(cfg.Join, sig.Inputs) // checked just above
	}
	if err := ctx.Err(); err != nil {
		return nil, fail(ReasonModelLoadFailed, err)
	}
	insts, err := openInstances(data, sig, cfg.instances())
	if err != nil {
		if errors.Is(err, errDevice) {
			return nil, fail(ReasonDeviceUnavailable, err)
		}
		return nil, fail(ReasonModelLoadFailed, err)
	}
	v := &version{
		cfg: cfg, label: strconv.Itoa(cfg.Version), sig: sig, insts: insts,
		batch: cfg.batching(sig.MaxRows), inputAt: map[string]int{}, joined: joined,
	}
	for i, in := range sig.Inputs {
		v.inputAt[in.Name] = i
	}
	if s.wrap != nil {
		for _, inst := range insts {
			inst.r = s.wrap(inst.r)
		}
	}
	if err := v.warm(); err != nil {
		closeInstances(insts)
		return nil, fail(ReasonWarmupFailed, err)
	}
	v.metrics = s.metrics.forVersion(cfg.Endpoint, v.label)
	for _, inst := range insts {
		inst.busy = v.metrics.busy(inst.name)
	}
	v.batcher = newBatcher(v.batch, v.metrics, insts, &s.conns.count)
	return v, nil
}

// warm runs one full batch of zeros through every instance and checks that
// each output comes back with a row per input row.
func (v *version) warm() error {
	rows := v.batch.maxRows
	inputs := zeroInputs(v.sig, rows)
	for _, inst := range v.insts {
		outs, err := inst.r.run(inputs)
		if err == nil {
			err = checkRows(outs, rows)
		}
		if err != nil {
			return fmt.Errorf("warm-up batch of %d rows on instance %s: %w", rows, inst.name, err)
		}
	}
	return nil
}

// release ends one request's use of v's route.
func (v *version) release() { v.route.release() }

// close stops v's batcher and sessions; its route has drained.
func (v *version) close() {
	v.batcher.close()
	closeInstances(v.insts)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// zeroInputs is a batch of rows of zeros for every input of sig.
func zeroInputs(sig signature, rows int) []Tensor {
	inputs := make([]Tensor, len(sig.Inputs))
	for i, in := range sig.Inputs {
		shape := append([]int64{int64(rows)}, in.rowDims()...)
		n := 1
		for j := range shape {
			if shape[j] < 0 {
				shape[j] = 1
			}
			n *= int(shape[j])
		}
		t := Tensor{Name: in.Name, DType: in.DType, Shape: shape}
		switch in.DType {
		case Float32:
			t.F32 = make([]float32, n)
		case Float64:
			t.F64 = make([]float64, n)
		case Int64:
			t.I64 = make([]int64, n)
		case String:
			t.Str = make([]string, n)
		}
		inputs[i] = t
	}
	return inputs
}
