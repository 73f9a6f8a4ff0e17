package serving

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"net/http"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
)

// The Open Inference Protocol over gRPC: service inference.GRPCInferenceService
// on the data plane's one listener (HTTP/2 without TLS beside HTTP/1.1), so
// existing v2 gRPC clients work.

// wireCodec encodes the hand-written messages of grpcwire.go. It is the
// server's own (grpc.ForceServerCodec), never registered process-wide.
type wireCodec struct{}

func (wireCodec) Name() string { return "proto" }

func (wireCodec) Marshal(v any) ([]byte, error) {
	m, ok := v.(wireMessage)
	if !ok {
		return nil, fmt.Errorf("grpc codec: cannot marshal %T", v)
	}
	return m.marshal(), nil
}

func (wireCodec) Unmarshal(data []byte, v any) error {
	m, ok := v.(wireMessage)
	if !ok {
		return fmt.Errorf("grpc codec: cannot unmarshal into %T", v)
	}
	return m.unmarshal(data)
}

// newGRPC makes the gRPC server of s.
func (s *Server) newGRPC() *grpc.Server {
	g := grpc.NewServer(grpc.ForceServerCodec(wireCodec{}), grpc.MaxRecvMsgSize(int(s.opts.MaxBodyBytes)))
	unary := func(name string, newReq func() wireMessage, call func(context.Context, wireMessage) (wireMessage, error)) grpc.MethodDesc {
		return grpc.MethodDesc{MethodName: name, Handler: func(_ any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
			req := newReq()
			if err := dec(req); err != nil {
				return nil, status.Errorf(codes.InvalidArgument, "malformed %s request: %v", name, err)
			}
			return call(ctx, req)
		}}
	}
	empty := func() wireMessage { return &emptyRequest{} }
	model := func() wireMessage { return &modelRequest{} }
	g.RegisterService(&grpc.ServiceDesc{
		ServiceName: "inference.GRPCInferenceService",
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{
			unary("ServerLive", empty, func(context.Context, wireMessage) (wireMessage, error) {
				live := boolResponse(true)
				return &live, nil
			}),
			unary("ServerReady", empty, func(context.Context, wireMessage) (wireMessage, error) {
				ready := boolResponse(s.ready())
				return &ready, nil
			}),
			unary("ServerMetadata", empty, func(context.Context, wireMessage) (wireMessage, error) {
				b := rawResponse(appendStr(appendStr(nil, 1, "sluice"), 2, "1"))
				return &b, nil
			}),
			unary("ModelReady", model, func(_ context.Context, req wireMessage) (wireMessage, error) {
				m := req.(*modelRequest)
				v, err := s.resolve(m.name, m.version, "")
				if err != nil {
					return nil, grpcError(err)
				}
				v.release()
				ready := boolResponse(true)
				return &ready, nil
			}),
			unary("ModelMetadata", model, func(_ context.Context, req wireMessage) (wireMessage, error) {
				m := req.(*modelRequest)
				v, err := s.resolve(m.name, m.version, "")
				if err != nil {
					return nil, grpcError(err)
				}
				defer v.release()
				b := rawResponse(v.grpcMetadata(m.name))
				return &b, nil
			}),
			unary("ModelInfer", func() wireMessage { return &inferRequest{} }, func(ctx context.Context, req wireMessage) (wireMessage, error) {
				return s.grpcInfer(ctx, req.(*inferRequest))
			}),
		},
		Metadata: "grpc_predict_v2.proto",
	}, struct{}{})
	return g
}

// withGRPC sends HTTP/2 gRPC requests to g and the rest to h.
func withGRPC(g *grpc.Server, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 2 && strings.HasPrefix(r.Header.Get("Content-Type"), "application/grpc") {
			g.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// ready reports whether every endpoint has a model loaded.
func (s *Server) ready() bool {
	for _, st := range s.Statuses() {
		if !st.Loaded() {
			return false
		}
	}
	return true
}

// grpcError maps an error to the gRPC status the HTTP code stands for.
func grpcError(err error) error {
	code, _ := outcomeOf(err)
	c := codes.Internal
	switch code {
	case http.StatusBadRequest:
		c = codes.InvalidArgument
	case http.StatusNotFound:
		c = codes.NotFound
	case http.StatusRequestEntityTooLarge, http.StatusTooManyRequests:
		c = codes.ResourceExhausted
	case http.StatusServiceUnavailable:
		c = codes.Unavailable
	case 499:
		c = codes.Canceled
	}
	return status.Error(c, err.Error())
}

// grpcMetadata is ModelMetadataResponse.
func (v *version) grpcMetadata(name string) []byte {
	b := appendStr(nil, 1, name)
	b = appendStr(b, 2, v.label)
	b = appendStr(b, 3, "onnxruntime_onnx")
	for i, specs := range [][]TensorSpec{v.sig.Inputs, v.sig.Outputs} {
		for _, spec := range specs {
			m := appendStr(appendStr(nil, 1, spec.Name), 2, spec.DType.v2())
			m = appendPackedInts(m, 3, spec.Dims)
			b = appendMsg(b, protowire.Number(4+i), m)
		}
	}
	return b
}

// grpcInfer answers ModelInfer.
func (s *Server) grpcInfer(ctx context.Context, req *inferRequest) (wireMessage, error) {
	v, err := s.resolve(req.modelName, req.modelVersion, "")
	if err != nil {
		return nil, grpcError(err)
	}
	defer v.release()
	a := v.arrive()
	defer a.leave()
	out, err := a.grpcInfer(ctx, req)
	_, outcome := outcomeOf(err)
	v.metrics.count(outcome)
	if err != nil {
		return nil, grpcError(err)
	}
	return out, nil
}

func (a *arrival) grpcInfer(ctx context.Context, req *inferRequest) (wireMessage, error) {
	v := a.v
	named, err := v.grpcInputs(req)
	if err != nil {
		return nil, err
	}
	inputs, err := v.prepare(ctx, named)
	if err != nil {
		return nil, err
	}
	want, err := v.wantedOutputs(outputWants(req.outputs))
	if err != nil {
		return nil, err
	}
	v.route.mirror(ctx, v, inputs)
	outs, err := a.infer(ctx, inputs)
	if err != nil {
		return nil, err
	}
	b := appendStr(nil, 1, req.modelName)
	b = appendStr(b, 2, v.label)
	b = appendStr(b, 3, req.id)
	var raws [][]byte
	for i := range outs {
		o := &outs[i]
		if want != nil && !want[o.Name] {
			continue
		}
		m := appendStr(appendStr(nil, 1, o.Name), 2, o.DType.v2())
		m = appendPackedInts(m, 3, o.Shape)
		if req.raw != nil { // answer in the form the client asked in
			raws = append(raws, rawBytes(o))
		} else {
			m = appendMsg(m, 5, contentsOf(o))
		}
		b = appendMsg(b, 5, m)
	}
	for _, r := range raws {
		b = appendMsg(b, 6, r)
	}
	resp := rawResponse(b)
	return &resp, nil
}

func outputWants(names []string) []v2OutputWant {
	out := make([]v2OutputWant, len(names))
	for i, n := range names {
		out[i].Name = n
	}
	return out
}

// grpcInputs turns the request's tensors, typed or raw, into named tensors.
func (v *version) grpcInputs(req *inferRequest) (map[string]Tensor, error) {
	if len(req.inputs) == 0 {
		return nil, badInput("request has no inputs")
	}
	if req.raw != nil && len(req.raw) != len(req.inputs) {
		return nil, badInput("%d raw_input_contents for %d inputs", len(req.raw), len(req.inputs))
	}
	named := make(map[string]Tensor, len(req.inputs))
	for i, in := range req.inputs {
		where := fmt.Sprintf("inputs[%d] (%s)", i, in.name)
		dt, err := ParseDType(in.datatype)
		if err != nil {
			return nil, badInput("%s: %v", where, err)
		}
		if want, ok := v.typeOf(in.name); !ok {
			return nil, v.unknownInput(in.name)
		} else if want != dt && !(want == String && dt == Int64) {
			return nil, badInput("%s: datatype %s, the model takes %s", where, in.datatype, want.v2())
		}
		t := Tensor{Name: in.name, DType: dt, Shape: in.shape}
		if req.raw != nil {
			if err := t.fromRaw(req.raw[i]); err != nil {
				return nil, badInput("%s: raw_input_contents: %v", where, err)
			}
		} else {
			t.F32, t.F64, t.I64, t.Str = in.contents.F32, in.contents.F64, in.contents.I64, in.contents.Str
		}
		n := int64(1)
		for _, d := range in.shape {
			if d < 0 || (d > 0 && n > maxElements/d) {
				return nil, badInput("%s: shape %v is not a tensor shape", where, in.shape)
			}
			n *= d
		}
		if in.shape == nil || n != int64(t.Len()) {
			return nil, badInput("%s: shape %v needs %d elements, the contents have %d", where, in.shape, n, t.Len())
		}
		if !v.cfg.AllowNonFinite && !t.finite() {
			return nil, badInput("%s: NaN or infinity; the endpoint refuses non-finite numbers", where)
		}
		if dt == Int64 {
			if want, _ := v.typeOf(in.name); want == String {
				t = int64sAsText(t)
			}
		}
		named[in.name] = t
	}
	return named, nil
}

// finite reports whether every float element is finite.
func (t *Tensor) finite() bool {
	for _, f := range t.F32 {
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			return false
		}
	}
	for _, f := range t.F64 {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return false
		}
	}
	return true
}

// fromRaw reads the little-endian row-major elements of raw, as Triton's
// clients send them; a BYTES element is a 4-byte length and its bytes.
func (t *Tensor) fromRaw(raw []byte) error {
	size := map[DType]int{Float32: 4, Float64: 8, Int64: 8}[t.DType]
	if t.DType == String {
		for len(raw) > 0 {
			if len(raw) < 4 {
				return fmt.Errorf("truncated BYTES element length")
			}
			n := binary.LittleEndian.Uint32(raw)
			if uint64(len(raw)-4) < uint64(n) {
				return fmt.Errorf("BYTES element of %d bytes, %d left", n, len(raw)-4)
			}
			t.Str = append(t.Str, string(raw[4:4+n]))
			raw = raw[4+n:]
		}
		return nil
	}
	if len(raw)%size != 0 {
		return fmt.Errorf("%d bytes are not whole %s elements", len(raw), t.DType.v2())
	}
	for i := 0; i < len(raw); i += size {
		switch t.DType {
		case Float32:
			t.F32 = append(t.F32, math.Float32frombits(binary.LittleEndian.Uint32(raw[i:])))
		case Float64:
			t.F64 = append(t.F64, math.Float64frombits(binary.LittleEndian.Uint64(raw[i:])))
		case Int64:
			t.I64 = append(t.I64, int64(binary.LittleEndian.Uint64(raw[i:])))
		}
	}
	return nil
}

// rawBytes is t's elements as raw_output_contents.
func rawBytes(t *Tensor) []byte {
	var b []byte
	switch t.DType {
	case Float32:
		for _, f := range t.F32 {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(f))
		}
	case Float64:
		for _, f := range t.F64 {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
		}
	case Int64:
		for _, n := range t.I64 {
			b = binary.LittleEndian.AppendUint64(b, uint64(n))
		}
	case String:
		for _, s := range t.Str {
			b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
			b = append(b, s...)
		}
	}
	return b
}

// contentsOf is t's elements as InferTensorContents.
func contentsOf(t *Tensor) []byte {
	var p []byte
	switch t.DType {
	case Float32:
		for _, f := range t.F32 {
			p = protowire.AppendFixed32(p, math.Float32bits(f))
		}
		return appendMsg(nil, 6, p)
	case Float64:
		for _, f := range t.F64 {
			p = protowire.AppendFixed64(p, math.Float64bits(f))
		}
		return appendMsg(nil, 7, p)
	case Int64:
		for _, n := range t.I64 {
			p = protowire.AppendVarint(p, uint64(n))
		}
		return appendMsg(nil, 3, p)
	}
	var b []byte
	for _, s := range t.Str {
		b = protowire.AppendString(protowire.AppendTag(b, 8, protowire.BytesType), s)
	}
	return b
}
