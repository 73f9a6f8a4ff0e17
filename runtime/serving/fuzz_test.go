package serving

import (
	"context"
	"testing"
)

// fuzzVersion is a version with types.onnx's signature and a feature join,
// but no sessions: enough for the decoders, which never run a model.
func fuzzVersion(allowNonFinite bool) *version {
	v := &version{
		label: "1",
		sig: signature{Inputs: []TensorSpec{
			{Name: "x", DType: Float64, Dims: []int64{-1, 2}},
			{Name: "n", DType: Int64, Dims: []int64{-1, 1}},
			{Name: "tag", DType: String, Dims: []int64{-1, 1}},
			{Name: "f", DType: Float32, Dims: []int64{-1, 3}},
		}},
		inputAt: map[string]int{"x": 0, "n": 1, "tag": 2, "f": 3},
	}
	v.cfg.AllowNonFinite = allowNonFinite
	v.cfg.Join = &FeatureJoin{
		EntityKeys: []string{"user_id"},
		Features:   []JoinedFeature{{Ref: "u:a", Type: "float64"}, {Ref: "u:b", Type: "int64"}, {Ref: "u:c", Type: "float64"}},
		Input:      "f",
		OnMissing:  "error",
		Lookup: func(_ context.Context, entities [][]string) ([][]FeatureValue, error) {
			out := make([][]FeatureValue, len(entities))
			for i, e := range entities {
				out[i] = []FeatureValue{{Value: 1.0}, {Value: int64(2)}, {Value: 3.0}}
				if e[0] == "404" {
					out[i][1] = FeatureValue{Missing: "not found in the online store"}
				}
			}
			return out, nil
		},
	}
	jp, err := planJoin(v.cfg.Join, v.sig.Inputs)
	if err != nil {
		panic(err)
	}
	v.joined = jp
	return v
}

// FuzzDecoders feeds arbitrary bodies to both protocols' decoders and the
// input preparation. They must never panic, and whatever they accept must
// be tensors a session can take: data matching shape, one row count, the
// model's types. The bytes are also read as a gRPC ModelInferRequest.
// Seeds: testdata/fuzz/FuzzDecoders.
func FuzzDecoders(f *testing.F) {
	f.Add([]byte(`{"instances":[{"x":[1,2],"n":[3],"tag":["a"],"f":[1,2,3]}]}`), false)
	f.Add([]byte(`{"inputs":{"x":[[1,2]],"n":[[3]],"tag":[["a"]],"user_id":[1001]}}`), true)
	f.Add([]byte(`{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP64","data":[1,"NaN"]},{"name":"user_id","shape":[1],"datatype":"INT64","data":[7]}]}`), false)
	f.Add(grpcSeed("f", "FP32", []int64{1, 3}, contentsOf(&Tensor{DType: Float32, F32: []float32{1, 2, 3}}), nil), false)
	f.Add(grpcSeed("tag", "BYTES", []int64{1, 1}, nil, []byte{1, 0, 0, 0, 'a'}), false)
	f.Fuzz(func(t *testing.T, body []byte, allow bool) {
		v := fuzzVersion(allow)
		check := func(named map[string]Tensor) {
			inputs, err := v.prepare(context.Background(), named)
			if err != nil {
				return
			}
			rows := inputs[0].Rows()
			for i, in := range inputs {
				spec := v.sig.Inputs[i]
				n := 1
				for _, d := range in.Shape {
					n *= int(d)
				}
				if in.DType != spec.DType || in.Len() != n || in.Rows() != rows || rows < 1 || len(in.Shape) != len(spec.Dims) {
					t.Fatalf("accepted input %q: %s %v with %d values, %d rows (model: %s, %d rows)", in.Name, in.DType, in.Shape, in.Len(), in.Rows(), spec, rows)
				}
			}
		}
		if named, _, err := v.decodeTF(body); err == nil {
			check(named)
		}
		if _, named, err := v.decodeV2(body); err == nil {
			check(named)
		}
		// The same bytes as a gRPC ModelInferRequest.
		var req inferRequest
		if req.unmarshal(body) == nil {
			if named, err := v.grpcInputs(&req); err == nil {
				check(named)
			}
		}
	})
}

// grpcSeed encodes a ModelInferRequest with one input, typed or raw.
func grpcSeed(name, datatype string, shape []int64, contents, raw []byte) []byte {
	in := appendStr(appendStr(nil, 1, name), 2, datatype)
	in = appendPackedInts(in, 3, shape)
	if contents != nil {
		in = appendMsg(in, 5, contents)
	}
	b := appendMsg(appendStr(nil, 1, "m"), 5, in)
	if raw != nil {
		b = appendMsg(b, 7, raw)
	}
	return b
}
