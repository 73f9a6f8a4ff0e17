package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protowire"
)

// rawCodec sends and receives already-encoded protobuf messages, so the
// generator spends nothing on encoding: the request is built once.
type rawCodec struct{}

func (rawCodec) Name() string { return "proto" }

func (rawCodec) Marshal(v any) ([]byte, error) { return *v.(*[]byte), nil }

func (rawCodec) Unmarshal(data []byte, v any) error {
	*v.(*[]byte) = append((*v.(*[]byte))[:0], data...)
	return nil
}

// inferRequest encodes a ModelInferRequest of KServe's grpc_predict_v2.proto:
// one FP32 input "input" of shape [rows, width], each row the same random
// typed contents.
func inferRequest(model string, width, rows int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	var row []byte
	for range width {
		row = protowire.AppendFixed32(row, math.Float32bits(float32(rng.Float64()*2-1)))
	}
	data := bytes.Repeat(row, rows)
	contents := protowire.AppendBytes(protowire.AppendTag(nil, 6, protowire.BytesType), data) // fp32_contents
	var shape []byte
	shape = protowire.AppendVarint(protowire.AppendVarint(shape, uint64(rows)), uint64(width))
	var in []byte
	in = protowire.AppendString(protowire.AppendTag(in, 1, protowire.BytesType), "input")
	in = protowire.AppendString(protowire.AppendTag(in, 2, protowire.BytesType), "FP32")
	in = protowire.AppendBytes(protowire.AppendTag(in, 3, protowire.BytesType), shape)
	in = protowire.AppendBytes(protowire.AppendTag(in, 5, protowire.BytesType), contents)
	var req []byte
	req = protowire.AppendString(protowire.AppendTag(req, 1, protowire.BytesType), model)
	return protowire.AppendBytes(protowire.AppendTag(req, 5, protowire.BytesType), in)
}

// runGRPC drives n clients, each with its own connection, calling
// ModelInfer in a closed loop.
func runGRPC(addr string, req []byte, n int, warmup, duration time.Duration) (result, error) {
	conns := make([]*grpc.ClientConn, n)
	for i := range conns {
		c, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithDefaultCallOptions(grpc.ForceCodec(rawCodec{})))
		if err != nil {
			return result{}, fmt.Errorf("grpc client: %w", err)
		}
		defer c.Close()
		conns[i] = c
	}
	// Calls run under no deadline (see closedLoop); each worker has its
	// own connection.
	return closedLoop(n, warmup, duration, func(w int) func() error {
		var resp []byte
		return func() error {
			return conns[w].Invoke(context.Background(), "/inference.GRPCInferenceService/ModelInfer", &req, &resp)
		}
	}), nil
}
