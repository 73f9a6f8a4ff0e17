package serving

import (
	"errors"
	"fmt"
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	"sluice/schema"
)

// placement is the device one instance asks for.
type placement struct {
	GPU    bool
	Device int
}

func (p placement) String() string {
	if p.GPU {
		return fmt.Sprintf("gpu:%d", p.Device)
	}
	return "cpu"
}

// InstanceStatus says where one instance of an endpoint runs.
type InstanceStatus struct {
	// Name is "<group>-<index>" ("0-1": group 0, second instance).
	Name string `json:"name"`
	// Requested is the device the spec asked for: "cpu" or "gpu:N".
	Requested string `json:"requested"`
	// Device is where the instance runs; it differs from Requested when a
	// GPU instance fell back to the CPU.
	Device string `json:"device"`
	// Fallback says why the instance is not on the requested device.
	Fallback string `json:"fallback,omitempty"`
}

// instance is one session of an instance group: it runs one batch at a
// time.
type instance struct {
	name   string
	r      runner
	s      *session
	status InstanceStatus
	busy   prometheus.Counter

	// in and parts are the buffers gather fills, kept from batch to batch;
	// only the batch that holds the instance uses them.
	in    []Tensor
	parts []Tensor
	// chunks is the batch's list of request rows, kept likewise.
	chunks []chunk
}

// gather returns the batch's inputs, one tensor per model input: the
// request's own tensors when the batch is one whole request, else the
// chunks' rows joined into the instance's buffers, which ONNX Runtime is
// done with when the previous batch returns.
func (inst *instance) gather(batch []chunk) []Tensor {
	first := batch[0].p
	if len(batch) == 1 && batch[0].n == first.rows {
		return first.inputs
	}
	n := len(first.inputs)
	if len(inst.in) != n {
		inst.in = make([]Tensor, n)
	}
	inst.parts = slices.Grow(inst.parts[:0], len(batch))[:len(batch)]
	for i := range n {
		for j, c := range batch {
			inst.parts[j] = c.p.inputs[i]
			if c.n != c.p.rows {
				inst.parts[j] = inst.parts[j].slice(c.from, c.n)
			}
		}
		concatInto(&inst.in[i], inst.parts)
	}
	clear(inst.parts) // keep no request alive
	return inst.in
}

// errDevice marks a failure to place an instance on its device, which the
// status reports as DeviceUnavailable.
var errDevice = errors.New("device unavailable")

// placements lists the instances the groups ask for, as Triton does: count
// instances on each listed GPU (GPU 0 when none is listed), or count on the
// CPU.
func placements(groups []schema.InstanceGroup) ([]placement, []schema.InstanceGroup, []int) {
	var ps []placement
	var gs []schema.InstanceGroup
	var idx []int
	for gi, g := range groups {
		count := max(g.Count, 1)
		switch g.Kind {
		case "gpu":
			gpus := g.GPUs
			if len(gpus) == 0 {
				gpus = []int{0}
			}
			for _, d := range gpus {
				for range count {
					ps, gs, idx = append(ps, placement{GPU: true, Device: d}), append(gs, g), append(idx, gi)
				}
			}
		default:
			for range count {
				ps, gs, idx = append(ps, placement{}), append(gs, g), append(idx, gi)
			}
		}
	}
	return ps, gs, idx
}

// openInstances opens one session per instance the groups ask for. A GPU
// instance that cannot get its device fails the whole set, unless its
// group says fallback: "cpu", when it runs on the CPU and says why.
func openInstances(data []byte, sig signature, groups []schema.InstanceGroup) ([]*instance, error) {
	ps, gs, gidx := placements(groups)
	var out []*instance
	seen := map[int]int{}
	for i, p := range ps {
		g := gs[i]
		name := fmt.Sprintf("%d-%d", gidx[i], seen[gidx[i]])
		seen[gidx[i]]++
		st := InstanceStatus{Name: name, Requested: p.String(), Device: p.String()}
		s, err := openSession(data, sig, p, g.IntraOpThreads)
		if err != nil && p.GPU && g.Fallback == "cpu" {
			st.Device, st.Fallback = "cpu", err.Error()
			s, err = openSession(data, sig, placement{}, g.IntraOpThreads)
		}
		if err != nil {
			closeInstances(out)
			if p.GPU {
				return nil, fmt.Errorf("%w: instance %s on %s: %w (set fallback: \"cpu\" to run on the CPU instead)", errDevice, name, p, err)
			}
			return nil, fmt.Errorf("instance %s: %w", name, err)
		}
		out = append(out, &instance{name: name, r: s, s: s, status: st})
	}
	return out, nil
}

func closeInstances(insts []*instance) {
	for _, inst := range insts {
		inst.s.close()
	}
}
