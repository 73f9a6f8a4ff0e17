// Command naive is the serving code a team would write without Sluice: a
// net/http handler that decodes TF Serving's row format with encoding/json
// and calls ONNX Runtime once per request on one shared session. With
// -noinfer it skips ONNX Runtime and answers zeros: the HTTP + JSON ceiling
// for one-row requests. With -fasthttp it serves the same handler with
// github.com/valyala/fasthttp instead of net/http: with -noinfer, the
// ceiling of a server built on fasthttp, as Sluice's data plane is.
//
// It prints "listening on ADDR" once it accepts connections.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"syscall"

	ort "github.com/yalue/onnxruntime_go"
)

type request struct {
	Instances [][]float32 `json:"instances"`
}

type response struct {
	Predictions [][]float32 `json:"predictions"`
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	model := flag.String("model", "", "ONNX model with input \"input\" [N,D] and output \"variable\" [N,1]")
	lib := flag.String("ort", os.Getenv("SLUICE_ORT_LIB"), "ONNX Runtime library")
	noInfer := flag.Bool("noinfer", false, "answer zeros without running a model (the HTTP ceiling)")
	fast := flag.Bool("fasthttp", false, "serve with github.com/valyala/fasthttp instead of net/http (with -noinfer: the fasthttp ceiling)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile here until SIGTERM")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "naive:", err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
		go func() {
			<-sig
			pprof.StopCPUProfile()
			os.Exit(0)
		}()
	}
	if err := run(*listen, *model, *lib, *noInfer, *fast); err != nil {
		fmt.Fprintln(os.Stderr, "naive:", err)
		os.Exit(1)
	}
}

func run(listen, model, lib string, noInfer, fast bool) error {
	var sess *ort.DynamicAdvancedSession
	if !noInfer {
		ort.SetSharedLibraryPath(lib)
		if err := ort.InitializeEnvironment(); err != nil {
			return err
		}
		var err error
		// ONNX Runtime's defaults, as a first server would leave them.
		sess, err = ort.NewDynamicAdvancedSession(model, []string{"input"}, []string{"variable"}, nil)
		if err != nil {
			return err
		}
	}
	predict := func(body io.Reader) (*response, int, error) {
		var req request
		if err := json.NewDecoder(body).Decode(&req); err != nil || len(req.Instances) == 0 {
			return nil, http.StatusBadRequest, errors.New("bad request")
		}
		rows, width := len(req.Instances), len(req.Instances[0])
		resp := &response{Predictions: make([][]float32, rows)}
		if noInfer {
			for i := range resp.Predictions {
				resp.Predictions[i] = []float32{0}
			}
			return resp, http.StatusOK, nil
		}
		flat := make([]float32, 0, rows*width)
		for _, row := range req.Instances {
			flat = append(flat, row...)
		}
		in, err := ort.NewTensor(ort.NewShape(int64(rows), int64(width)), flat)
		if err != nil {
			return nil, http.StatusBadRequest, err
		}
		defer in.Destroy()
		outs := []ort.Value{nil}
		if err := sess.Run([]ort.Value{in}, outs); err != nil {
			return nil, http.StatusInternalServerError, err
		}
		defer outs[0].Destroy()
		// The response is encoded before the output is destroyed.
		data := slices.Clone(outs[0].(*ort.Tensor[float32]).GetData())
		k := len(data) / rows
		for i := range resp.Predictions {
			resp.Predictions[i] = data[i*k : (i+1)*k]
		}
		return resp, http.StatusOK, nil
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	if fast {
		return serveFast(ln, predict)
	}
	http.HandleFunc("POST /v1/models/{rest...}", func(w http.ResponseWriter, r *http.Request) {
		resp, code, err := predict(r.Body)
		if err != nil {
			http.Error(w, `{"error":"`+err.Error()+`"}`, code)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(resp)
	})
	return http.Serve(ln, nil)
}
