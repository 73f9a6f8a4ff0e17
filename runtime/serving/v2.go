package serving

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
)

// The Open Inference Protocol (KServe v2) over REST.

func (s *Server) v2Server(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, []byte(`{"name":"sluice","version":"1","extensions":[]}`+"\n"))
}

func (s *Server) v2Live(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, []byte(`{"live":true}`+"\n"))
}

// v2Ready is ready when every endpoint has a model loaded.
func (s *Server) v2Ready(w http.ResponseWriter, r *http.Request) {
	if !s.ready() {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(`{"ready":false}` + "\n"))
		return
	}
	writeJSON(w, []byte(`{"ready":true}`+"\n"))
}

func (s *Server) v2ModelReady(w http.ResponseWriter, r *http.Request) {
	v, err := s.resolve(r.PathValue("name"), r.PathValue("version"), "")
	if err != nil {
		writeError(w, err)
		return
	}
	defer v.release()
	w.Header().Set(VersionHeader, v.label)
	writeJSON(w, []byte(`{"ready":true}`+"\n"))
}

func (s *Server) v2Metadata(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	v, err := s.resolve(name, r.PathValue("version"), "")
	if err != nil {
		writeError(w, err)
		return
	}
	defer v.release()
	b := []byte(`{"name":`)
	b = appendString(b, name)
	b = append(b, `,"versions":[`...)
	b = appendString(b, v.label)
	b = append(b, `],"platform":"onnxruntime_onnx","inputs":`...)
	b = appendV2Specs(b, v.sig.Inputs)
	b = append(b, `,"outputs":`...)
	b = appendV2Specs(b, v.sig.Outputs)
	b = append(b, "}\n"...)
	w.Header().Set(VersionHeader, v.label)
	writeJSON(w, b)
}

func appendV2Specs(b []byte, specs []TensorSpec) []byte {
	b = append(b, '[')
	for i, s := range specs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		b = appendString(b, s.Name)
		b = append(b, `,"datatype":`...)
		b = appendString(b, s.DType.v2())
		b = append(b, `,"shape":`...)
		b = appendInts(b, s.Dims)
		b = append(b, '}')
	}
	return append(b, ']')
}

// maxElements bounds a declared shape, so that products cannot overflow;
// the body limit bounds real data long before.
const maxElements = 1 << 40

// v2Request is an inference request body.
type v2Request struct {
	ID      string          `json:"id"`
	Inputs  []v2Input       `json:"inputs"`
	Outputs []v2OutputWant  `json:"outputs"`
	Params  json.RawMessage `json:"parameters"`
}

type v2Input struct {
	Name     string          `json:"name"`
	Shape    []int64         `json:"shape"`
	Datatype string          `json:"datatype"`
	Data     json.RawMessage `json:"data"`
}

type v2OutputWant struct {
	Name string `json:"name"`
}

func (s *Server) v2Infer(w http.ResponseWriter, r *http.Request) {
	s.v2Predict(&httpExchange{w: w, r: r}, r.PathValue("name"), r.PathValue("version"))
}

// v2Predict answers POST /v2/models/{name}[/versions/{version}]/infer on
// either HTTP server.
func (s *Server) v2Predict(x exchange, name, version string) {
	s.infer(x, name, version, "", func(ctx context.Context, a *arrival, body []byte) ([]byte, error) {
		return a.v2Infer(ctx, name, body)
	})
}

func (a *arrival) v2Infer(ctx context.Context, name string, body []byte) ([]byte, error) {
	v := a.v
	req, named, err := v.decodeV2(body)
	if err != nil {
		return nil, err
	}
	defer putNamed(named)
	if req.ID != "" && !a.idSent {
		a.id = req.ID // the request named itself in the body
	}
	inputs, err := a.prepare(ctx, named)
	if err != nil {
		return nil, err
	}
	want, err := v.wantedOutputs(req.Outputs)
	if err != nil {
		return nil, err
	}
	v.route.mirror(ctx, v, inputs)
	outs, err := a.infer(ctx, inputs)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, 128+16*outs[0].Len()*len(outs))
	b = append(b, `{"model_name":`...)
	b = appendString(b, name)
	b = append(b, `,"model_version":`...)
	b = appendString(b, v.label)
	b = append(b, `,"outputs":[`...)
	first := true
	for i := range outs {
		if want != nil && !want[outs[i].Name] {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, `{"name":`...)
		b = appendString(b, outs[i].Name)
		b = append(b, `,"datatype":`...)
		b = appendString(b, outs[i].DType.v2())
		b = append(b, `,"shape":`...)
		b = appendInts(b, outs[i].Shape)
		b = append(b, `,"data":`...)
		b = appendFlat(b, &outs[i])
		b = append(b, '}')
	}
	b = append(b, `],"id":`...)
	b = appendString(b, a.id)
	return append(b, "}\n"...), nil
}

// decodeV2 reads an inference request into named tensors. Data may be flat
// or nested; either way it must hold as many elements as the shape says.
func (v *version) decodeV2(body []byte) (*v2Request, map[string]Tensor, error) {
	var req v2Request
	if !decodeV2Envelope(body, &req) {
		// Not the plain form, or not valid: encoding/json decides, and
		// says where the JSON breaks.
		req = v2Request{}
		if err := json.Unmarshal(body, &req); err != nil {
			return nil, nil, badInput("malformed JSON: %v", jsonErr(err, body))
		}
	}
	if len(req.Inputs) == 0 {
		return nil, nil, badInput(`request has no "inputs"`)
	}
	named := getNamed()
	for i, in := range req.Inputs {
		where := "inputs[" + strconv.Itoa(i) + "]"
		if in.Name == "" {
			return nil, nil, badInput("%s: no name", where)
		}
		if _, dup := named[in.Name]; dup {
			return nil, nil, badInput("%s: input %q given twice", where, in.Name)
		}
		where += " (" + in.Name + ")"
		dt, err := ParseDType(in.Datatype)
		if err != nil {
			return nil, nil, badInput("%s: %v", where, err)
		}
		if want, ok := v.typeOf(in.Name); !ok {
			return nil, nil, v.unknownInput(in.Name)
		} else if want != dt && !(want == String && dt == Int64) {
			return nil, nil, badInput("%s: datatype %s, the model takes %s", where, in.Datatype, want.v2())
		}
		if in.Data == nil {
			return nil, nil, badInput("%s: no data", where)
		}
		t, err := parseWith(arrayParser{b: in.Data, dt: dt, finite: !v.cfg.AllowNonFinite, where: where + ".data", maxDepth: -1, keyText: dt == String})
		if err != nil {
			return nil, nil, &inputError{err.Error()}
		}
		n := int64(1)
		for _, d := range in.Shape {
			if d < 0 {
				return nil, nil, badInput("%s: negative dimension in shape %v", where, in.Shape)
			}
			if d > 0 && n > maxElements/d {
				return nil, nil, badInput("%s: shape %v has more than %d elements", where, in.Shape, maxElements)
			}
			n *= d
		}
		if in.Shape == nil || n != int64(t.Len()) {
			return nil, nil, badInput("%s: shape %v needs %d elements, data has %d", where, in.Shape, n, t.Len())
		}
		t.Name, t.Shape = in.Name, in.Shape
		if dt == Int64 && want(v, in.Name) == String {
			t = int64sAsText(t)
		}
		named[in.Name] = t
	}
	return &req, named, nil
}

func want(v *version, name string) DType {
	dt, _ := v.typeOf(name)
	return dt
}

// int64sAsText turns an INT64 entity key into the text the join looks up.
func int64sAsText(t Tensor) Tensor {
	s := Tensor{Name: t.Name, DType: String, Shape: t.Shape, Str: make([]string, len(t.I64))}
	for i, n := range t.I64 {
		s.Str[i] = strconv.FormatInt(n, 10)
	}
	return s
}

// wantedOutputs is the set of outputs a request asks for; nil means all.
func (v *version) wantedOutputs(outs []v2OutputWant) (map[string]bool, error) {
	if len(outs) == 0 {
		return nil, nil
	}
	want := map[string]bool{}
	for _, o := range outs {
		if !contains(v.sig.outputNames(), o.Name) {
			return nil, badInput("unknown output %q: the model gives %v", o.Name, v.sig.outputNames())
		}
		want[o.Name] = true
	}
	return want, nil
}
