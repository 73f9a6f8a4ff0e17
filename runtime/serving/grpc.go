package serving

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

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
	arrived := time.Now() // grpc-go has read and decoded the message by now
	v, err := s.resolve(req.modelName, req.modelVersion, "")
	if err != nil {
		return nil, grpcError(err)
	}
	defer v.release()
	a := v.arrive(arrived)
	defer a.leave()
	if a.id = req.id; a.id == "" {
		a.id = s.ids.next()
	}
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
	defer putNamed(named)
	inputs, err := a.prepare(ctx, named)
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
	b = appendStr(b, 3, a.id)
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
