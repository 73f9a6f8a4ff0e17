package serving

import (
	"crypto/rand"
	"encoding/hex"
	"math"
	"strconv"
	"sync/atomic"
	"time"
)

// CaptureRows is one captured request's rows as drift monitoring sees
// them, column by column: a request costs a few slices, not a map per row.
type CaptureRows struct {
	Endpoint, RequestID string
	Version             int
	Time                time.Time
	Rows                int
	// NumericNames name a row's numeric request fields and joined
	// features, and Numeric holds their values, row after row; NaN marks a
	// value that was missing (a joined feature the store did not hold,
	// filled by on_missing_entity: default). The names are the version's,
	// shared by all its requests: never modify them.
	NumericNames []string
	Numeric      []float64
	// CategoryNames and Category hold the string fields likewise; "" is
	// missing.
	CategoryNames []string
	Category      []string
	// Prediction holds each row's PredictionWidth outputs, row after row:
	// class probabilities, or the value.
	PredictionWidth int
	Prediction      []float64
}

// Capturer receives sampled rows. It must never block: the request that
// calls it is waiting to be answered. It may keep rows: capture hands
// over slices of its own.
type Capturer interface{ Capture(rows CaptureRows) }

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
	// FNV-1a over the id's bytes, inline: hash/fnv would cost an
	// allocation per request for the []byte and the hasher.
	x := uint64(14695981039346656037)
	for i := 0; i < len(id); i++ {
		x ^= uint64(id[i])
		x *= 1099511628211
	}
	// FNV-1a's last multiply barely reaches the top bits, so ids that
	// differ only at the end (a server's prefix and a counter) would all
	// land on the same side of rate; splitmix64's finalizer mixes every
	// bit into the top ones first.
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11)/(1<<53) < rate
}

// capture hands the request's rows to the endpoint's Capturer when the
// request is in the sample; an unsampled request costs a hash of its id.
// It copies what it needs, so the tensors may be reused once it returns.
// The request is waiting, so it allocates little: the column names are the
// version's, computed once, and the values take two slices (numbers and
// predictions share one), whatever the number of rows.
func (a *arrival) capture(inputs, outs []Tensor) {
	v := a.v
	c := v.cfg.Capture
	if c == nil || !sampled(a.id, v.cfg.CaptureRate) {
		return
	}
	names := v.captureNames(inputs)
	nrows := inputs[0].Rows()
	nn, nc := len(names.numeric), len(names.category)
	width := predictionWidth(outs)
	vals := make([]float64, nrows*(nn+width))
	nums, preds := vals[:nrows*nn:nrows*nn], vals[nrows*nn:nrows*nn]
	var strs []string
	if nc > 0 {
		strs = make([]string, nrows*nc)
	}
	for i := range inputs {
		t := &inputs[i]
		off, k := names.offsets[i], names.rowLens[i]
		for r := range nrows {
			for j := range k {
				x := r*k + j
				switch t.DType {
				case Float32:
					nums[r*nn+off+j] = float64(t.F32[x])
				case Float64:
					nums[r*nn+off+j] = t.F64[x]
				case Int64:
					nums[r*nn+off+j] = float64(t.I64[x])
				case String:
					strs[r*nc+off+j] = t.Str[x]
				}
			}
		}
	}
	for r := range nrows {
		preds = prediction(preds, outs, r)
	}
	if j := v.joined; j != nil {
		for _, cell := range a.missing {
			r, f := cell/len(j.Features), j.Features[cell%len(j.Features)]
			if k, ok := names.categoryAt[f.Input]; ok {
				strs[r*nc+k] = ""
			} else if k, ok := names.numericAt[f.Input]; ok {
				nums[r*nn+k] = math.NaN()
			}
		}
	}
	c.Capture(CaptureRows{Endpoint: v.cfg.Endpoint, RequestID: a.id, Version: v.cfg.Version, Time: time.Now(), Rows: nrows,
		NumericNames: names.numeric, Numeric: nums, CategoryNames: names.category, Category: strs,
		PredictionWidth: width, Prediction: preds})
}

// captureColumns names the values of one row of each input: input i's
// are numeric[offsets[i]:][:rowLens[i]], or category's for a string input.
type captureColumns struct {
	rowLens, offsets      []int
	numeric, category     []string
	numericAt, categoryAt map[string]int // a name's column, for missing values
}

// captureNames is the version's column names for inputs of these row
// lengths: computed on the first captured request and kept, recomputed
// only when an input's row length differs (a dynamic dimension).
func (v *version) captureNames(inputs []Tensor) *captureColumns {
	if c := v.capNames.Load(); c != nil && c.fits(inputs) {
		return c
	}
	c := &captureColumns{rowLens: make([]int, len(inputs)), offsets: make([]int, len(inputs)),
		numericAt: map[string]int{}, categoryAt: map[string]int{}}
	for i := range inputs {
		n := inputs[i].rowLen()
		c.rowLens[i] = n
		cols, at := &c.numeric, c.numericAt
		if inputs[i].DType == String {
			cols, at = &c.category, c.categoryAt
		}
		c.offsets[i] = len(*cols)
		for _, name := range v.columnNames(i, n) {
			at[name] = len(*cols)
			*cols = append(*cols, name)
		}
	}
	v.capNames.Store(c)
	return c
}

func (c *captureColumns) fits(inputs []Tensor) bool {
	if len(inputs) != len(c.rowLens) {
		return false
	}
	for i := range inputs {
		if inputs[i].rowLen() != c.rowLens[i] {
			return false
		}
	}
	return true
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

// predictionWidth is how many values prediction appends for a row.
func predictionWidth(outs []Tensor) int {
	var n int
	for pass := 0; pass < 2 && n == 0; pass++ {
		for i := range outs {
			o := &outs[i]
			if o.DType == Float32 || o.DType == Float64 || (o.DType == Int64 && pass == 1) {
				n += o.rowLen()
			}
		}
	}
	return n
}

// prediction appends row r of the model's float outputs (a classifier's
// probabilities, a regressor's value), or of its integer ones when it has
// no float output, to p.
func prediction(p []float64, outs []Tensor, r int) []float64 {
	start := len(p)
	for pass := 0; pass < 2 && len(p) == start; pass++ {
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
