package serving

import (
	"crypto/rand"
	"encoding/hex"
	"hash/fnv"
	"math"
	"strconv"
	"sync/atomic"
	"time"
)

// CaptureRow is one served row as drift monitoring sees it.
type CaptureRow struct {
	Endpoint, RequestID string
	Version             int
	Time                time.Time
	// Numeric holds the numeric request fields and joined features by
	// field name; NaN marks a value that was missing (a joined feature
	// the store did not hold, filled by on_missing_entity: default).
	Numeric map[string]float64
	// Category holds the string fields.
	Category map[string]string
	// Prediction is the model's outputs for the row: class probabilities,
	// or the value.
	Prediction []float64
}

// Capturer receives sampled rows. It must never block: the request that
// calls it is waiting to be answered.
type Capturer interface{ Capture(rows []CaptureRow) }

// RequestIDHeader carries a request's id: an incoming one is honoured,
// and every inference response names the id it was served under.
const RequestIDHeader = "X-Request-Id"

// requestIDs makes request ids: a random prefix per server and a counter,
// unique without a lock or a syscall per request.
type requestIDs struct {
	prefix string
	n      atomic.Uint64
}

func newRequestIDs() *requestIDs {
	var b [8]byte
	rand.Read(b[:])
	return &requestIDs{prefix: hex.EncodeToString(b[:]) + "-"}
}

func (g *requestIDs) next() string {
	b := make([]byte, 0, len(g.prefix)+16)
	b = append(b, g.prefix...)
	return string(strconv.AppendUint(b, g.n.Add(1), 16))
}

// sampled reports whether the request id falls in the capture sample: the
// same id always does or always does not, so a retried request and its
// feedback agree.
func sampled(id string, rate float64) bool {
	switch {
	case rate <= 0 || id == "":
		return false
	case rate >= 1:
		return true
	}
	h := fnv.New64a()
	h.Write([]byte(id))
	// FNV-1a's last multiply barely reaches the top bits, so ids that
	// differ only at the end (a server's prefix and a counter) would all
	// land on the same side of rate; splitmix64's finalizer mixes every
	// bit into the top ones first.
	x := h.Sum64()
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11)/(1<<53) < rate
}

// capture hands the request's rows to the endpoint's Capturer when the
// request is in the sample. It copies what it needs, so the tensors may be
// reused once it returns.
func (a *arrival) capture(inputs, outs []Tensor) {
	v := a.v
	c := v.cfg.Capture
	if c == nil || !sampled(a.id, v.cfg.CaptureRate) {
		return
	}
	now := time.Now()
	rows := make([]CaptureRow, inputs[0].Rows())
	for r := range rows {
		rows[r] = CaptureRow{
			Endpoint: v.cfg.Endpoint, RequestID: a.id, Version: v.cfg.Version, Time: now,
			Numeric: map[string]float64{}, Category: map[string]string{},
			Prediction: prediction(outs, r),
		}
	}
	for i := range inputs {
		t := &inputs[i]
		names := v.columnNames(i, t.rowLen())
		for r := range rows {
			for j, name := range names {
				k := r*len(names) + j
				switch t.DType {
				case Float32:
					rows[r].Numeric[name] = float64(t.F32[k])
				case Float64:
					rows[r].Numeric[name] = t.F64[k]
				case Int64:
					rows[r].Numeric[name] = float64(t.I64[k])
				case String:
					rows[r].Category[name] = t.Str[k]
				}
			}
		}
	}
	if j := v.joined; j != nil {
		for _, cell := range a.missing {
			r, f := cell/len(j.Features), j.Features[cell%len(j.Features)]
			name := f.Input
			if _, ok := rows[r].Category[name]; ok {
				delete(rows[r].Category, name)
			} else {
				rows[r].Numeric[name] = math.NaN()
			}
		}
	}
	c.Capture(rows)
}

// columnNames names the values of one row of input i: the input's name
// when it holds one value per row, the joined features' names for a
// dense join's input, else name[j].
func (v *version) columnNames(i, n int) []string {
	name := v.sig.Inputs[i].Name
	if n == 1 {
		return []string{name}
	}
	if j := v.joined; j != nil && j.dense == i && len(j.Features) == n {
		out := make([]string, n)
		for k, f := range j.Features {
			out[k] = f.Input
		}
		return out
	}
	out := make([]string, n)
	for k := range out {
		out[k] = name + "[" + strconv.Itoa(k) + "]"
	}
	return out
}

// prediction is row r of the model's float outputs (a classifier's
// probabilities, a regressor's value), or of its integer ones when it has
// no float output.
func prediction(outs []Tensor, r int) []float64 {
	var p []float64
	for pass := 0; pass < 2 && p == nil; pass++ {
		for i := range outs {
			o := &outs[i]
			n := o.rowLen()
			switch {
			case o.DType == Float32:
				for _, x := range o.F32[r*n : (r+1)*n] {
					p = append(p, float64(x))
				}
			case o.DType == Float64:
				p = append(p, o.F64[r*n:(r+1)*n]...)
			case o.DType == Int64 && pass == 1:
				for _, x := range o.I64[r*n : (r+1)*n] {
					p = append(p, float64(x))
				}
			}
		}
	}
	return p
}
