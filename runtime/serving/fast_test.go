package serving

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
)

// A body sent in chunks has no Content-Length to refuse it by: the data
// plane reads it only up to the limit, on the inference routes and on the
// routes behind them alike, answers 413 in the protocols' error shape,
// and goes on serving.
func TestChunkedBodyOverTheLimitAnswers413(t *testing.T) {
	ts := newServer(t, func(o *Options, _ *Server) { o.MaxBodyBytes = 4096 })
	ts.deploy(t, regressor(1))
	for _, path := range []string{"/v1/models/reg:predict", "/v2/models/reg/infer", "/get-online-features"} {
		body := io.MultiReader(strings.NewReader(`{"instances":[`), strings.NewReader(strings.Repeat("[1,2,3,4],", 2000)+"[1,2,3,4]]}"))
		req, err := http.NewRequest("POST", ts.url+path, body)
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength, req.TransferEncoding = -1, []string{"chunked"}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var e struct{ Error string }
		json.Unmarshal(raw, &e)
		if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(e.Error, "larger than the limit of 4096 bytes") {
			t.Errorf("POST %s, chunked, 20 KB: %d %s; want 413 naming the limit", path, resp.StatusCode, raw)
		}
	}
	if r := ts.post(t, "/v1/models/reg:predict", `{"instances":[[1,2,3,4]]}`); r.code != 200 {
		t.Errorf("after the refused bodies: %d %s", r.code, r.raw)
	}
}

// A Mount's handler applies its own body limit, which may exceed the data
// plane's: its bodies are not cut at the data plane's limit.
func TestMountedHandlerReadsBodiesPastTheDataPlanesLimit(t *testing.T) {
	ts := newServer(t, func(o *Options, _ *Server) { o.MaxBodyBytes = 4096 })
	ts.Mount(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
		if err != nil {
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
			return
		}
		io.WriteString(w, strings.Repeat("x", len(b)))
	}), "/api/")
	body := strings.Repeat("y", 10000)
	r := ts.post(t, "/api/hook", body)
	if r.code != http.StatusOK || len(r.raw) != len(body) {
		t.Errorf("a 10,000-byte body to the mounted handler: %d, %d bytes back", r.code, len(r.raw))
	}
	if r := ts.post(t, "/api/hook", strings.Repeat("y", 100<<10)); r.code != http.StatusRequestEntityTooLarge {
		t.Errorf("a body past the mounted handler's own limit: %d", r.code)
	}
	if r := ts.post(t, "/get-online-features", body); r.code != http.StatusRequestEntityTooLarge {
		t.Errorf("the same body to a data plane route: %d %s, want 413", r.code, r.raw)
	}
}

// Close stops a Serve however early it comes: before Serve runs, while it
// starts, or once it accepts.
func TestCloseStopsAServeJustStarted(t *testing.T) {
	if ortErr != nil {
		t.Skipf("onnx runtime unavailable: %v", ortErr)
	}
	for i := range 100 {
		s, err := New(Options{ORTLibrary: ortLib})
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- s.Serve(ln) }()
		if i%2 == 1 {
			runtime.Gosched() // let Serve get further
		}
		if err := s.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: Serve still running 10s after Close returned", i)
		}
	}
}

// A body cut short by its client answers 400 naming the read that failed,
// not a parse of what came, on the inference routes and the rest alike.
func TestBodyCutShortAnswers400(t *testing.T) {
	ts := newServer(t)
	ts.deploy(t, regressor(1))
	for _, path := range []string{"/v1/models/reg:predict", "/get-online-features"} {
		conn, err := net.Dial("tcp", strings.TrimPrefix(ts.url, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		body := `{"instances":[[1,2,3,4]]}` + strings.Repeat(" ", 9000) // past what comes read with the headers
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", path, len(body)+1000, body)
		conn.(*net.TCPConn).CloseWrite()
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		raw, _ := io.ReadAll(conn)
		conn.Close()
		if !strings.HasPrefix(string(raw), "HTTP/1.1 400") || !strings.Contains(string(raw), "read request body") {
			t.Errorf("POST %s, a body 1,000 bytes short of its Content-Length: %q", path, raw)
		}
	}
}

// Headers past 16 KiB answer 431 in the protocols' error shape; the
// connection's next client is served.
func TestHeadersPast16KiBAnswer431(t *testing.T) {
	ts := newServer(t)
	ts.deploy(t, regressor(1))
	req, err := http.NewRequest("POST", ts.url+"/v1/models/reg:predict", strings.NewReader(`{"instances":[[1,2,3,4]]}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Padding", strings.Repeat("p", 17<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge || !strings.Contains(string(raw), `"error"`) {
		t.Errorf("17 KiB of headers: %d %s", resp.StatusCode, raw)
	}
	req.Header.Set("X-Padding", strings.Repeat("p", 8<<10))
	req.Body = io.NopCloser(strings.NewReader(`{"instances":[[1,2,3,4]]}`))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("8 KiB of headers: %v %v", err, resp)
	} else {
		resp.Body.Close()
	}
}

// A request to a mounted handler (the daemon's API) that is still running
// when Close gives up draining sees its context end, and nothing it left
// watching that context races with the shutdown.
func TestCloseEndsTheContextOfAMountedRequestItCuts(t *testing.T) {
	ts := newServer(t)
	started, ended := make(chan struct{}), make(chan error, 1)
	ts.Mount(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		go func() { // as database/sql watches a query's context
			for ctx.Err() == nil {
				time.Sleep(time.Millisecond)
			}
		}()
		close(started)
		<-ctx.Done()
		ended <- ctx.Err()
	}), "/api/")
	answered := make(chan struct{})
	go func() {
		defer close(answered)
		if resp, err := http.Post(ts.url+"/api/sync", "application/json", strings.NewReader("{}")); err == nil {
			resp.Body.Close()
		}
	}()
	defer func() { <-answered }()
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := ts.Close(ctx); err == nil {
		t.Error("Close drained a request that never returns")
	}
	select {
	case err := <-ended:
		if err == nil {
			t.Error("the cut request's context ended without an error")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the mounted request's context did not end when Close cut it")
	}
}
