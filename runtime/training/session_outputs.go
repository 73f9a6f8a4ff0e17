package training

import (
	"fmt"

	ort "github.com/yalue/onnxruntime_go"
)

// run scores rows [lo, hi) and appends them to out.
func (s *Session) run(ro *ort.RunOptions, feeds []feed, lo, hi int, out *Predictions) error {
	inputs := make([]ort.Value, len(feeds))
	defer func() {
		for _, v := range inputs {
			if v != nil {
				v.Destroy()
			}
		}
	}()
	for i, fd := range feeds {
		v, err := fd(lo, hi)
		if err != nil {
			return err
		}
		inputs[i] = v
	}
	outputs := make([]ort.Value, len(s.outputs))
	defer func() {
		for _, v := range outputs {
			if v != nil {
				v.Destroy()
			}
		}
	}()
	if err := s.s.RunWithOptions(inputs, outputs, ro); err != nil {
		return err
	}
	rows := hi - lo
	values, shape, err := floatsOf(outputs[s.probs])
	if err != nil {
		return fmt.Errorf("output %q: %w", s.outputs[s.probs].Name, err)
	}
	width := 1
	if len(shape) == 2 {
		width = int(shape[1])
	}
	if len(shape) == 0 || len(shape) > 2 || int(shape[0]) != rows {
		return fmt.Errorf("output %q has shape %v for %d rows", s.outputs[s.probs].Name, shape, rows)
	}
	if s.opts.Task != TaskClassification {
		if width != 1 {
			return fmt.Errorf("output %q has %d values per row; a regressor gives one", s.outputs[s.probs].Name, width)
		}
		out.Values = append(out.Values, values...)
		return nil
	}
	return s.classify(outputs, values, width, rows, out)
}

// classify appends a classifier's probabilities and labels to out. A
// single probability per row is the second class's.
func (s *Session) classify(outputs []ort.Value, probs []float64, width, rows int, out *Predictions) error {
	if width == 1 {
		both := make([]float64, 2*rows)
		for i, p := range probs {
			both[2*i], both[2*i+1] = 1-p, p
		}
		probs, width = both, 2
	}
	if out.Classes == nil {
		out.Classes = s.opts.Classes
		if out.Classes == nil {
			for c := range width {
				out.Classes = append(out.Classes, int64(c))
			}
		}
	}
	if len(out.Classes) != width {
		return fmt.Errorf("output %q has %d probabilities per row for the %d classes %v", s.outputs[s.probs].Name, width, len(out.Classes), out.Classes)
	}
	if s.labels < 0 {
		p := classifierOutputs(out.Classes, probs)
		out.Labels = append(out.Labels, p.Labels...)
		out.Probabilities = append(out.Probabilities, probs...)
		return nil
	}
	t, ok := outputs[s.labels].(*ort.Tensor[int64])
	if !ok {
		return fmt.Errorf("output %q: want int64 labels, got %T", s.outputs[s.labels].Name, outputs[s.labels])
	}
	labels := t.GetData()
	if len(labels) != rows {
		return fmt.Errorf("output %q has %d labels for %d rows", s.outputs[s.labels].Name, len(labels), rows)
	}
	known := map[int64]bool{}
	for _, c := range out.Classes {
		known[c] = true
	}
	for i, l := range labels {
		if !known[l] {
			return fmt.Errorf("output %q row %d: label %d is not among the classes %v", s.outputs[s.labels].Name, i+1, l, out.Classes)
		}
	}
	out.Labels = append(out.Labels, labels...)
	out.Probabilities = append(out.Probabilities, probs...)
	return nil
}

// floatsOf reads a float or double tensor as float64s.
func floatsOf(v ort.Value) ([]float64, []int64, error) {
	switch t := v.(type) {
	case *ort.Tensor[float32]:
		data := t.GetData()
		out := make([]float64, len(data))
		for i, x := range data {
			out[i] = float64(x)
		}
		return out, t.GetShape(), nil
	case *ort.Tensor[float64]:
		return append([]float64(nil), t.GetData()...), t.GetShape(), nil
	}
	return nil, nil, fmt.Errorf("want a float tensor, got %T", v)
}
