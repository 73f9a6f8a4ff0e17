// Command naive is the serving code a team would write without Sluice: a
// net/http handler that decodes TF Serving's row format with encoding/json
// and calls ONNX Runtime once per request on one shared session. With
// -noinfer it skips ONNX Runtime and answers zeros: the HTTP + JSON ceiling
// for one-row requests.
//
// It prints "listening on ADDR" once it accepts connections.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
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
	if err := run(*listen, *model, *lib, *noInfer); err != nil {
		fmt.Fprintln(os.Stderr, "naive:", err)
		os.Exit(1)
	}
}

func run(listen, model, lib string, noInfer bool) error {
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
	http.HandleFunc("POST /v1/models/{rest...}", func(w http.ResponseWriter, r *http.Request) {
		var req request
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Instances) == 0 {
			http.Error(w, `{"error":"bad request"}`, http.StatusBadRequest)
			return
		}
		rows, width := len(req.Instances), len(req.Instances[0])
		resp := response{Predictions: make([][]float32, rows)}
		if noInfer {
			for i := range resp.Predictions {
				resp.Predictions[i] = []float32{0}
			}
		} else {
			flat := make([]float32, 0, rows*width)
			for _, row := range req.Instances {
				flat = append(flat, row...)
			}
			in, err := ort.NewTensor(ort.NewShape(int64(rows), int64(width)), flat)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			defer in.Destroy()
			outs := []ort.Value{nil}
			if err := sess.Run([]ort.Value{in}, outs); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			data := outs[0].(*ort.Tensor[float32]).GetData()
			k := len(data) / rows
			for i := range resp.Predictions {
				resp.Predictions[i] = data[i*k : (i+1)*k]
			}
			defer outs[0].Destroy()
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(resp)
	})
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	return http.Serve(ln, nil)
}
