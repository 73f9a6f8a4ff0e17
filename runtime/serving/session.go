package serving

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// ortMu guards ONNX Runtime's environment, which the library keeps per
// process: whichever Server starts first initialises it, the rest share it.
// This is the package's only shared state, and it mirrors the library's.
var ortMu sync.Mutex

// InitORT loads the ONNX Runtime shared library at path and starts its
// environment, once per process. A later call, or a call after another
// package started the environment, is a no-op.
func InitORT(path string) error {
	ortMu.Lock()
	defer ortMu.Unlock()
	if ort.IsInitialized() {
		return nil
	}
	if path == "" {
		return errors.New("onnx runtime library: no path given (set Options.ORTLibrary)")
	}
	ort.SetSharedLibraryPath(path)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		return fmt.Errorf("load onnx runtime library %s: %w", path, err)
	}
	return nil
}

// TensorSpec describes one model input or output: its name, element type
// and dimensions.
type TensorSpec struct {
	Name  string
	DType DType
	// Dims has -1 for a dimension the model leaves free; Dims[0] is the batch.
	Dims []int64
}

// String renders the value as "input: float32[-1,4]".
func (v TensorSpec) String() string {
	d := make([]string, len(v.Dims))
	for i, n := range v.Dims {
		d[i] = fmt.Sprint(n)
	}
	return fmt.Sprintf("%s: %s[%s]", v.Name, v.DType, strings.Join(d, ","))
}

// rowDims are the dimensions after the batch.
func (v TensorSpec) rowDims() []int64 { return v.Dims[1:] }

// signature is what a model takes and gives.
type signature struct {
	Inputs, Outputs []TensorSpec
	// MaxRows is the most rows one run may carry: 1 when an input fixes
	// its batch dimension to 1, 0 when the batch is free.
	MaxRows int
}

func (s signature) inputNames() []string  { return names(s.Inputs) }
func (s signature) outputNames() []string { return names(s.Outputs) }

func names(vs []TensorSpec) []string {
	n := make([]string, len(vs))
	for i, v := range vs {
		n[i] = v.Name
	}
	return n
}

// errUnloadable marks a model ONNX Runtime refuses to load.
var errUnloadable = errors.New("onnx runtime cannot load the model")

// readSignature asks ONNX Runtime for the model's inputs and outputs and
// checks that Sluice can batch them: tensors of a served type whose first
// dimension is the batch.
func readSignature(data []byte) (signature, error) {
	ins, outs, err := ort.GetInputOutputInfoWithONNXData(data)
	if err != nil {
		return signature{}, fmt.Errorf("%w: %w", errUnloadable, err)
	}
	var sig signature
	var errs []error
	conv := func(kind string, infos []ort.InputOutputInfo) []TensorSpec {
		var out []TensorSpec
		for _, in := range infos {
			if kind == "output" && in.OrtValueType == ort.ONNXTypeSequence {
				out = append(out, zipMapSpec(in.Name)) // a classifier's ZipMap (zipmap.go)
				continue
			}
			v := TensorSpec{Name: in.Name, DType: fromORTType(in.DataType), Dims: []int64(in.Dimensions)}
			switch {
			case in.OrtValueType != ort.ONNXTypeTensor:
				errs = append(errs, fmt.Errorf("%s %q is a %s; Sluice serves tensors", kind, in.Name, in.OrtValueType))
			case v.DType == Invalid:
				errs = append(errs, fmt.Errorf("%s %q is %s; Sluice serves float32, float64, int64 and string tensors", kind, in.Name, in.DataType))
			case len(v.Dims) == 0:
				errs = append(errs, fmt.Errorf("%s %q is a scalar; its first dimension must be the batch", kind, in.Name))
			case v.Dims[0] == 1:
				sig.MaxRows = 1
			case v.Dims[0] > 1:
				errs = append(errs, fmt.Errorf("%s %q has a fixed first dimension %d; it must be the batch (free, or 1)", kind, in.Name, v.Dims[0]))
			}
			out = append(out, v)
		}
		return out
	}
	sig.Inputs = conv("input", ins)
	sig.Outputs = conv("output", outs)
	return sig, errors.Join(errs...)
}

// session is one ONNX Runtime session: one instance of an instance group.
type session struct {
	s   *ort.DynamicAdvancedSession
	sig signature
}

// openSession starts a session of the model on the device the placement
// names; threads bounds ONNX Runtime's intra-op pool (0 keeps its default).
func openSession(data []byte, sig signature, p placement, threads int) (*session, error) {
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("session options: %w", err)
	}
	defer opts.Destroy()
	if threads > 0 {
		if err := opts.SetIntraOpNumThreads(threads); err != nil {
			return nil, fmt.Errorf("intra_op_threads %d: %w", threads, err)
		}
	}
	// Spinning threads hold a core between runs; with several instances,
	// and the HTTP work that feeds them, on few cores they starve each
	// other. ONNX Runtime's default pool (threads 0: one per core) spins
	// too, so it is turned off whatever the thread count.
	for _, key := range []string{"session.intra_op.allow_spinning", "session.inter_op.allow_spinning"} {
		if err := opts.AddSessionConfigEntry(key, "0"); err != nil {
			return nil, fmt.Errorf("session options: %w", err)
		}
	}
	if p.GPU {
		if err := appendCUDA(opts, p.Device); err != nil {
			return nil, err
		}
	}
	s, err := ort.NewDynamicAdvancedSessionWithONNXData(data, sig.inputNames(), sig.outputNames(), opts)
	if err != nil {
		return nil, fmt.Errorf("onnx runtime cannot load the model: %w", err)
	}
	return &session{s: s, sig: sig}, nil
}

// appendCUDA asks for ONNX Runtime's CUDA execution provider on device.
// A library built without CUDA refuses here.
func appendCUDA(opts *ort.SessionOptions, device int) error {
	cuda, err := ort.NewCUDAProviderOptions()
	if err != nil {
		return fmt.Errorf("cuda execution provider unavailable: %w", err)
	}
	defer cuda.Destroy()
	if err := cuda.Update(map[string]string{"device_id": fmt.Sprint(device)}); err != nil {
		return fmt.Errorf("cuda execution provider on gpu %d: %w", device, err)
	}
	if err := opts.AppendExecutionProviderCUDA(cuda); err != nil {
		return fmt.Errorf("cuda execution provider on gpu %d: %w", device, err)
	}
	return nil
}

// run feeds one tensor per model input, in the model's order, and returns
// one per output.
func (s *session) run(inputs []Tensor) ([]Tensor, error) {
	values := make([]ort.Value, len(inputs))
	defer func() {
		for _, v := range values {
			if v != nil {
				v.Destroy()
			}
		}
	}()
	for i := range inputs {
		v, err := inputs[i].value()
		if err != nil {
			return nil, fmt.Errorf("input %q: %w", inputs[i].Name, err)
		}
		values[i] = v
	}
	outs := make([]ort.Value, len(s.sig.Outputs))
	if err := s.s.Run(values, outs); err != nil {
		return nil, fmt.Errorf("onnx runtime: %w", err)
	}
	result := make([]Tensor, len(outs))
	var err error
	for i, v := range outs {
		if err == nil {
			result[i], err = tensorOf(s.sig.Outputs[i].Name, v)
		}
		v.Destroy()
	}
	return result, err
}

func (s *session) close() { s.s.Destroy() }
