package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"

	"github.com/valyala/fasthttp"
)

// serveFast serves predict on every POST with fasthttp, encoding/json as
// the net/http handler does: only the HTTP server differs.
func serveFast(ln net.Listener, predict func(body io.Reader) (*response, int, error)) error {
	return fasthttp.Serve(ln, func(ctx *fasthttp.RequestCtx) {
		if !ctx.IsPost() {
			ctx.Error(`{"error":"not found"}`, http.StatusNotFound)
			return
		}
		resp, code, err := predict(bytes.NewReader(ctx.PostBody()))
		if err != nil {
			ctx.Error(`{"error":"`+err.Error()+`"}`, code)
			return
		}
		ctx.SetContentType("application/json")
		json.NewEncoder(ctx).Encode(resp)
	})
}
