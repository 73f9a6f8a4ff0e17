package serving

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sluice/schema"
)

// ortLib is the ONNX Runtime library the tests load; ortErr says why there
// is none. Under CI=true a missing library fails the run.
var ortLib string
var ortErr error

func TestMain(m *testing.M) {
	if addr := os.Getenv("SLUICE_BENCH_SERVE"); addr != "" {
		os.Exit(benchServe(addr)) // bench/serving/run.sh's server, not a test run
	}
	if d, err := time.ParseDuration(os.Getenv("SLUICE_BENCH_RAW")); err == nil {
		os.Exit(benchRaw(d)) // bench/serving/run.sh's raw ONNX Runtime yardstick
	}
	ortLib, ortErr = findORT()
	if ortErr == nil {
		ortErr = InitORT(ortLib)
	}
	if ortErr != nil && os.Getenv("CI") == "true" {
		fmt.Fprintf(os.Stderr, "onnx runtime is required under CI: %v\n", ortErr)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// findORT returns SLUICE_ORT_LIB, else the path scripts/fetch-ort.sh prints.
func findORT() (string, error) {
	if lib := os.Getenv("SLUICE_ORT_LIB"); lib != "" {
		if _, err := os.Stat(lib); err != nil {
			return "", fmt.Errorf("SLUICE_ORT_LIB: %w", err)
		}
		return lib, nil
	}
	script, err := filepath.Abs("../../scripts/fetch-ort.sh")
	if err != nil {
		return "", err
	}
	out, err := exec.Command(script).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("%s: %w: %s", script, err, ee.Stderr)
		}
		return "", fmt.Errorf("%s: %w", script, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// testServer is a Server listening on 127.0.0.1:0.
type testServer struct {
	*Server
	url string
}

// newServer starts a server, closed with the test; opts may set a wrap or
// a body limit.
func newServer(t *testing.T, configure ...func(*Options, *Server)) *testServer {
	t.Helper()
	if ortErr != nil {
		t.Skipf("onnx runtime unavailable: %v", ortErr)
	}
	var opts Options
	opts.ORTLibrary = ortLib
	for _, c := range configure {
		c(&opts, nil)
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range configure {
		c(&opts, s)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return &testServer{Server: s, url: "http://" + ln.Addr().String()}
}

// model returns the path of a test model in testdata.
func model(name string) string { return filepath.Join("testdata", name) }

// regressor is the config of endpoint "reg" serving testdata's regressor.
func regressor(version int) Config {
	return Config{
		Endpoint: "reg", Model: "regressor", Version: version, Alias: "production",
		Path:         model(fmt.Sprintf("regressor_v%d.onnx", version)),
		MaxBatchSize: 8,
		Instances:    []schema.InstanceGroup{{Count: 1, Kind: "cpu", IntraOpThreads: 1}},
	}
}

func (ts *testServer) deploy(t *testing.T, cfg Config) {
	t.Helper()
	if err := ts.Deploy(context.Background(), cfg); err != nil {
		t.Fatalf("deploy %s v%d: %v", cfg.Endpoint, cfg.Version, err)
	}
}

// response is an HTTP answer with its JSON body decoded.
type response struct {
	code    int
	header  http.Header
	body    map[string]any
	raw     string
	version string
}

// post sends body to path and decodes the JSON answer.
func (ts *testServer) post(t *testing.T, path, body string) response {
	t.Helper()
	return ts.do(t, http.MethodPost, path, body)
}

func (ts *testServer) get(t *testing.T, path string) response {
	t.Helper()
	return ts.do(t, http.MethodGet, path, "")
}

func (ts *testServer) do(t *testing.T, method, path, body string) response {
	t.Helper()
	r, err := send(context.Background(), method, ts.url+path, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

// send is the client the tests use, goroutine-safe and free of testing.T.
func send(ctx context.Context, method, url, body string) (response, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return response{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, err
	}
	r := response{code: resp.StatusCode, header: resp.Header, raw: string(raw), version: resp.Header.Get(VersionHeader)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if err := d.Decode(&r.body); err != nil {
			return r, fmt.Errorf("decode %s: %w", raw, err)
		}
	}
	return r, nil
}

// floats reads a JSON array of numbers, nested or not, in order.
func floats(t *testing.T, v any) []float64 {
	t.Helper()
	var out []float64
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case []any:
			for _, e := range v {
				walk(e)
			}
		case json.Number:
			f, err := v.Float64()
			if err != nil {
				t.Fatalf("number %s: %v", v, err)
			}
			out = append(out, f)
		default:
			t.Fatalf("not a number: %#v", v)
		}
	}
	walk(v)
	return out
}

// rowsJSON renders rows as a JSON array of arrays.
func rowsJSON(rows [][]float64) string {
	b, _ := json.Marshal(rows)
	return string(b)
}

// testRows returns n rows of width w with distinct values.
func testRows(n, w int) [][]float64 {
	rows := make([][]float64, n)
	for i := range rows {
		rows[i] = make([]float64, w)
		for j := range rows[i] {
			rows[i][j] = float64(i+1)*0.25 - float64(j)*0.5
		}
	}
	return rows
}
