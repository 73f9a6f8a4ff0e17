package serving

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// tfPath is a parsed /v1/models/... path.
type tfPath struct {
	name, version, alias string
	verb                 string // "predict", "classify", "regress" or ""
	metadata             bool
}

// parseTFPath reads {name}[/versions/{v}|/labels/{l}][/metadata|:verb].
func parseTFPath(rest string) (tfPath, error) {
	var p tfPath
	if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		rest, p.verb = rest[:i], rest[i+1:]
	}
	if r, ok := strings.CutSuffix(rest, "/metadata"); ok {
		rest, p.metadata = r, true
	}
	// name, name/versions/v or name/labels/l, cut by hand: strings.Split
	// would allocate on every request.
	name, sub, nested := strings.Cut(rest, "/")
	kind, val, three := strings.Cut(sub, "/")
	three = three && !strings.Contains(val, "/") // exactly three parts
	p.name = name
	switch {
	case !nested:
	case three && kind == "versions":
		p.version = val
	case three && kind == "labels":
		p.alias = val
	default:
		return p, errorf(http.StatusNotFound, "no route /v1/models/%s: want /v1/models/{name}[/versions/{v}|/labels/{label}][:predict|/metadata]", rest)
	}
	if p.name == "" {
		return p, errorf(http.StatusNotFound, "no model name in /v1/models/%s", rest)
	}
	return p, nil
}

// tfPost answers TensorFlow Serving's predict API.
func (s *Server) tfPost(w http.ResponseWriter, r *http.Request) {
	s.tfPredict(&httpExchange{w: w, r: r}, r.PathValue("rest"))
}

// tfPredict answers POST /v1/models/{rest} on either HTTP server.
func (s *Server) tfPredict(x exchange, rest string) {
	p, err := parseTFPath(rest)
	if err == nil && p.verb != "predict" {
		err = errorf(http.StatusBadRequest, "unsupported method %q: Sluice serves :predict (ONNX models have no classify or regress signature)", ":"+p.verb)
		if p.verb == "" {
			err = errorf(http.StatusNotFound, "POST /v1/models/%s: want .../models/{name}:predict", rest)
		}
	}
	if err != nil {
		x.discard()
		writeErrorTo(x, err)
		return
	}
	s.infer(x, p.name, p.version, p.alias, s.tfRun)
}

func (s *Server) tfRun(ctx context.Context, a *arrival, body []byte) ([]byte, error) {
	v := a.v
	named, rowFormat, err := v.decodeTF(body)
	if err != nil {
		return nil, err
	}
	defer putNamed(named)
	inputs, err := a.prepare(ctx, named)
	if err != nil {
		return nil, err
	}
	v.route.mirror(ctx, v, inputs)
	outs, err := a.infer(ctx, inputs)
	if err != nil {
		return nil, err
	}
	return v.encodeTF(outs, rowFormat, a.id), nil
}

// encodeTF writes the response: "predictions" (one entry per row; an
// object per row when the model has several outputs) for the row format,
// "outputs" for the columnar one, and "model_version" and "request_id"
// always.
func (v *version) encodeTF(outs []Tensor, rowFormat bool, id string) []byte {
	b := make([]byte, 0, 64+16*outs[0].Len()*len(outs))
	if !rowFormat {
		b = append(b, `{"outputs":`...)
		if len(outs) == 1 {
			b = appendNested(b, &outs[0], 0, outs[0].Shape)
		} else {
			b = append(b, '{')
			for i := range outs {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendString(b, outs[i].Name)
				b = append(b, ':')
				b = appendNested(b, &outs[i], 0, outs[i].Shape)
			}
			b = append(b, '}')
		}
	} else {
		b = append(b, `{"predictions":[`...)
		for r := range outs[0].Rows() {
			if r > 0 {
				b = append(b, ',')
			}
			if len(outs) == 1 {
				b = appendRow(b, &outs[0], r)
				continue
			}
			b = append(b, '{')
			for i := range outs {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendString(b, outs[i].Name)
				b = append(b, ':')
				b = appendRow(b, &outs[i], r)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"model_version":`...)
	b = appendString(b, v.label)
	b = append(b, `,"request_id":`...)
	b = appendString(b, id)
	return append(b, "}\n"...)
}

// tfGet answers the model status and metadata routes.
func (s *Server) tfGet(w http.ResponseWriter, r *http.Request) {
	p, err := parseTFPath(r.PathValue("rest"))
	if err == nil && p.verb != "" {
		err = errorf(http.StatusMethodNotAllowed, "%s needs POST", r.URL.Path)
	}
	if err != nil {
		writeError(w, err)
		return
	}
	v, err := s.resolve(p.name, p.version, p.alias)
	if err != nil {
		writeError(w, err)
		return
	}
	defer v.release()
	w.Header().Set(VersionHeader, v.label)
	if p.metadata {
		writeJSON(w, v.tfMetadata(p.name))
		return
	}
	b := []byte(`{"model_version_status":[{"version":`)
	b = appendString(b, v.label)
	b = append(b, `,"state":"AVAILABLE","status":{"error_code":"OK","error_message":""}}]}`+"\n"...)
	writeJSON(w, b)
}

// tfMetadata is TensorFlow Serving's GetModelMetadata answer: the model's
// one signature, "serving_default".
func (v *version) tfMetadata(name string) []byte {
	b := []byte(`{"model_spec":{"name":`)
	b = appendString(b, name)
	b = append(b, `,"signature_name":"","version":`...)
	b = appendString(b, v.label)
	b = append(b, `},"metadata":{"signature_def":{"signature_def":{"serving_default":{"inputs":`...)
	b = appendTFSpecs(b, v.sig.Inputs)
	b = append(b, `,"outputs":`...)
	b = appendTFSpecs(b, v.sig.Outputs)
	return append(b, `,"method_name":"tensorflow/serving/predict"}}}}}`+"\n"...)
}

func appendTFSpecs(b []byte, specs []TensorSpec) []byte {
	b = append(b, '{')
	for i, s := range specs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s.Name)
		b = append(b, `:{"dtype":`...)
		b = appendString(b, s.DType.tf())
		b = append(b, `,"tensor_shape":{"dim":[`...)
		for j, d := range s.Dims {
			if j > 0 {
				b = append(b, ',')
			}
			b = fmt.Appendf(b, `{"size":"%d","name":""}`, d)
		}
		b = append(b, `],"unknown_rank":false},"name":`...)
		b = appendString(b, s.Name)
		b = append(b, '}')
	}
	return append(b, '}')
}
