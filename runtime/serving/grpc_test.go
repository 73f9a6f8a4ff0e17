package serving

import (
	"context"
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// v2Proto describes the messages of KServe's grpc_predict_v2.proto the
// test sends and reads, so that a client built on the protobuf library's
// own encoder (dynamicpb), not on the server's hand-written one, talks to
// the server: what an existing v2 client does.
func v2Proto(t *testing.T) protoreflect.FileDescriptor {
	t.Helper()
	type F = descriptorpb.FieldDescriptorProto
	field := func(name string, n int32, typ descriptorpb.FieldDescriptorProto_Type, repeated bool, msg string) *F {
		label := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL
		if repeated {
			label = descriptorpb.FieldDescriptorProto_LABEL_REPEATED
		}
		f := &F{Name: proto.String(name), Number: proto.Int32(n), Type: typ.Enum(), Label: label.Enum(), JsonName: proto.String(name)}
		if msg != "" {
			f.TypeName = proto.String(".inference." + msg)
		}
		return f
	}
	const (
		str   = descriptorpb.FieldDescriptorProto_TYPE_STRING
		i64   = descriptorpb.FieldDescriptorProto_TYPE_INT64
		flt   = descriptorpb.FieldDescriptorProto_TYPE_FLOAT
		dbl   = descriptorpb.FieldDescriptorProto_TYPE_DOUBLE
		byt   = descriptorpb.FieldDescriptorProto_TYPE_BYTES
		boo   = descriptorpb.FieldDescriptorProto_TYPE_BOOL
		msg   = descriptorpb.FieldDescriptorProto_TYPE_MESSAGE
		multi = true
	)
	message := func(name string, fields []*F, nested ...*descriptorpb.DescriptorProto) *descriptorpb.DescriptorProto {
		return &descriptorpb.DescriptorProto{Name: proto.String(name), Field: fields, NestedType: nested}
	}
	tensor := []*F{field("name", 1, str, false, ""), field("datatype", 2, str, false, ""), field("shape", 3, i64, multi, ""),
		field("contents", 5, msg, false, "InferTensorContents")}
	file := &descriptorpb.FileDescriptorProto{
		Name: proto.String("grpc_predict_v2.proto"), Package: proto.String("inference"), Syntax: proto.String("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{
			message("ServerLiveRequest", nil),
			message("ServerLiveResponse", []*F{field("live", 1, boo, false, "")}),
			message("ModelMetadataRequest", []*F{field("name", 1, str, false, ""), field("version", 2, str, false, "")}),
			message("ModelMetadataResponse", []*F{
				field("name", 1, str, false, ""), field("versions", 2, str, multi, ""), field("platform", 3, str, false, ""),
				field("inputs", 4, msg, multi, "ModelMetadataResponse.TensorMetadata"),
				field("outputs", 5, msg, multi, "ModelMetadataResponse.TensorMetadata"),
			}, message("TensorMetadata", tensor[:3])),
			message("ModelInferRequest", []*F{
				field("model_name", 1, str, false, ""), field("model_version", 2, str, false, ""), field("id", 3, str, false, ""),
				field("inputs", 5, msg, multi, "ModelInferRequest.InferInputTensor"),
				field("outputs", 6, msg, multi, "ModelInferRequest.InferRequestedOutputTensor"),
				field("raw_input_contents", 7, byt, multi, ""),
			}, message("InferInputTensor", tensor), message("InferRequestedOutputTensor", []*F{field("name", 1, str, false, "")})),
			message("ModelInferResponse", []*F{
				field("model_name", 1, str, false, ""), field("model_version", 2, str, false, ""), field("id", 3, str, false, ""),
				field("outputs", 5, msg, multi, "ModelInferResponse.InferOutputTensor"),
				field("raw_output_contents", 6, byt, multi, ""),
			}, message("InferOutputTensor", tensor)),
			message("InferTensorContents", []*F{
				field("int64_contents", 3, i64, multi, ""), field("fp32_contents", 6, flt, multi, ""),
				field("fp64_contents", 7, dbl, multi, ""), field("bytes_contents", 8, byt, multi, ""),
			}),
		},
	}
	fd, err := protodesc.NewFile(file, nil)
	if err != nil {
		t.Fatal(err)
	}
	return fd
}

// dyn is a dynamic message of the v2 proto, filled by path.
type dyn struct{ *dynamicpb.Message }

// newDyn makes a message by name; "Outer.Inner" names a nested one.
func newDyn(fd protoreflect.FileDescriptor, name string) dyn {
	outer, inner, nested := strings.Cut(name, ".")
	md := fd.Messages().ByName(protoreflect.Name(outer))
	if nested {
		md = md.Messages().ByName(protoreflect.Name(inner))
	}
	return dyn{dynamicpb.NewMessage(md)}
}

func (d dyn) set(name string, v any) dyn {
	f := d.Descriptor().Fields().ByName(protoreflect.Name(name))
	if f.IsList() {
		l := d.Mutable(f).List()
		switch v := v.(type) {
		case []int64:
			for _, x := range v {
				l.Append(protoreflect.ValueOfInt64(x))
			}
		case []float32:
			for _, x := range v {
				l.Append(protoreflect.ValueOfFloat32(x))
			}
		case [][]byte:
			for _, x := range v {
				l.Append(protoreflect.ValueOfBytes(x))
			}
		case dyn:
			l.Append(protoreflect.ValueOfMessage(v.Message))
		}
		return d
	}
	switch v := v.(type) {
	case string:
		d.Set(f, protoreflect.ValueOfString(v))
	case dyn:
		d.Set(f, protoreflect.ValueOfMessage(v.Message))
	}
	return d
}

func (d dyn) get(name string) protoreflect.Value {
	return d.Get(d.Descriptor().Fields().ByName(protoreflect.Name(name)))
}

func TestOpenInferenceProtocolOverGRPCOnTheSameListener(t *testing.T) {
	ts := newServer(t)
	ts.deploy(t, regressor(1))
	fd := v2Proto(t)
	conn, err := grpc.NewClient(strings.TrimPrefix(ts.url, "http://"), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := context.Background()
	call := func(method string, req, resp dyn) error {
		return conn.Invoke(ctx, "/inference.GRPCInferenceService/"+method, req.Message, resp.Message)
	}

	live := newDyn(fd, "ServerLiveResponse")
	if err := call("ServerLive", newDyn(fd, "ServerLiveRequest"), live); err != nil || !live.get("live").Bool() {
		t.Fatalf("ServerLive: %v %v", err, live)
	}
	meta := newDyn(fd, "ModelMetadataResponse")
	if err := call("ModelMetadata", newDyn(fd, "ModelMetadataRequest").set("name", "reg"), meta); err != nil {
		t.Fatal(err)
	}
	in := dyn{meta.get("inputs").List().Get(0).Message().Interface().(*dynamicpb.Message)}
	if meta.get("versions").List().Get(0).String() != "1" || in.get("name").String() != "input" ||
		in.get("shape").List().Len() != 2 || in.get("shape").List().Get(1).Int() != 4 {
		t.Errorf("ModelMetadata: %v", meta)
	}

	rows := testRows(2, 4)
	want := reference(t, model("regressor_v1.onnx"), rows)
	flat := []float32{}
	raw := []byte{}
	for _, r := range rows {
		for _, f := range r {
			flat = append(flat, float32(f))
			raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(float32(f)))
		}
	}
	tensor := func() dyn {
		return newDyn(fd, "ModelInferRequest.InferInputTensor").set("name", "input").set("datatype", "FP32").set("shape", []int64{2, 4})
	}
	// Typed contents in, typed contents out.
	req := newDyn(fd, "ModelInferRequest").set("model_name", "reg").set("id", "g1").
		set("inputs", tensor().set("contents", newDyn(fd, "InferTensorContents").set("fp32_contents", flat)))
	resp := newDyn(fd, "ModelInferResponse")
	if err := call("ModelInfer", req, resp); err != nil {
		t.Fatal(err)
	}
	out := dyn{resp.get("outputs").List().Get(0).Message().Interface().(*dynamicpb.Message)}
	var got []float64
	contents := dyn{out.get("contents").Message().Interface().(*dynamicpb.Message)}
	for i, l := 0, contents.get("fp32_contents").List(); i < l.Len(); i++ {
		got = append(got, l.Get(i).Float())
	}
	if resp.get("model_version").String() != "1" || resp.get("id").String() != "g1" || out.get("datatype").String() != "FP32" || !near(got, want) {
		t.Errorf("ModelInfer: version %q id %q, %v, want %v", resp.get("model_version"), resp.get("id"), got, want)
	}

	// Raw contents in (as Triton's clients send), raw contents out.
	req = newDyn(fd, "ModelInferRequest").set("model_name", "reg").set("inputs", tensor()).set("raw_input_contents", [][]byte{raw})
	resp = newDyn(fd, "ModelInferResponse")
	if err := call("ModelInfer", req, resp); err != nil {
		t.Fatal(err)
	}
	b := resp.get("raw_output_contents").List().Get(0).Bytes()
	got = nil
	for i := 0; i+4 <= len(b); i += 4 {
		got = append(got, float64(math.Float32frombits(binary.LittleEndian.Uint32(b[i:]))))
	}
	if !near(got, want) {
		t.Errorf("raw ModelInfer: %v, want %v", got, want)
	}

	// Errors carry gRPC codes and the same messages as REST.
	for _, tt := range []struct {
		req  dyn
		code codes.Code
		says string
	}{
		{newDyn(fd, "ModelInferRequest").set("model_name", "nope").set("inputs", tensor()), codes.NotFound, `model "nope" not found`},
		{newDyn(fd, "ModelInferRequest").set("model_name", "reg").set("inputs", tensor().set("datatype", "FP64")), codes.InvalidArgument, "datatype FP64, the model takes FP32"},
		{newDyn(fd, "ModelInferRequest").set("model_name", "reg").set("inputs", tensor()), codes.InvalidArgument, "shape [2 4] needs 8 elements, the contents have 0"},
	} {
		err := call("ModelInfer", tt.req, newDyn(fd, "ModelInferResponse"))
		if st, _ := status.FromError(err); st.Code() != tt.code || !strings.Contains(st.Message(), tt.says) {
			t.Errorf("ModelInfer error %v, want %s saying %q", err, tt.code, tt.says)
		}
	}
	// HTTP/1.1 on the same listener still answers.
	if r := ts.post(t, "/v1/models/reg:predict", `{"instances":[[1,2,3,4]]}`); r.code != 200 {
		t.Errorf("REST beside gRPC: %d %s", r.code, r.raw)
	}
}
