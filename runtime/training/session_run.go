package training

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// Predict scores f's rows in batches; cancelling ctx stops a run midway.
func (s *Session) Predict(ctx context.Context, f *Frame) (*Predictions, error) {
	feeds, err := s.feeds(f)
	if err != nil {
		return nil, err
	}
	ro, err := ort.NewRunOptions()
	if err != nil {
		return nil, fmt.Errorf("predict: %w", err)
	}
	defer terminateOnCancel(ctx, ro)()
	batch := s.opts.BatchRows
	if batch <= 0 {
		batch = 65536
	}
	out := &Predictions{}
	n := f.Rows()
	for lo := 0; lo < n; lo += batch {
		if ctx.Err() != nil {
			// Terminate is set from another goroutine, which may not
			// have run yet: a run started now could finish regardless
			return nil, fmt.Errorf("predict: %w", ctx.Err())
		}
		hi := min(lo+batch, n)
		if err := s.run(ro, feeds, lo, hi, out); err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("predict: %w", ctx.Err())
			}
			return nil, fmt.Errorf("predict rows %d-%d: %w", lo+1, hi, err)
		}
	}
	return out, nil
}

// terminateOnCancel stops ro's run when ctx ends, and returns the function
// that destroys ro: it waits for a Terminate already under way, which would
// otherwise write into freed run options.
func terminateOnCancel(ctx context.Context, ro *ort.RunOptions) func() {
	var mu sync.Mutex
	destroyed := false
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if !destroyed {
			ro.Terminate()
		}
	})
	return func() {
		stop()
		mu.Lock()
		destroyed = true
		mu.Unlock()
		ro.Destroy()
	}
}

// feed makes one input's value for rows [lo, hi).
type feed func(lo, hi int) (ort.Value, error)

// feeds matches the model's inputs to f's columns.
func (s *Session) feeds(f *Frame) ([]feed, error) {
	out := make([]feed, len(s.inputs))
	for i, in := range s.inputs {
		if in.OrtValueType != ort.ONNXTypeTensor {
			return nil, fmt.Errorf("model input %q is not a tensor", in.Name)
		}
		c := f.Column(in.Name)
		switch {
		case c != nil && c.Name == f.Label:
			return nil, fmt.Errorf("model input %q is the label column", in.Name)
		case c != nil:
			fd, err := columnFeed(in, c)
			if err != nil {
				return nil, err
			}
			out[i] = fd
		case len(s.inputs) == 1 && len(in.Dimensions) == 2 && isFloatTensor(in):
			fd, err := denseFeed(in, f)
			if err != nil {
				return nil, err
			}
			out[i] = fd
		default:
			return nil, fmt.Errorf("model input %q matches no dataset column (columns: %s)", in.Name, strings.Join(f.names(), ", "))
		}
	}
	return out, nil
}

// columnFeed feeds column c as input in, [N,1] or [N].
func columnFeed(in ort.InputOutputInfo, c *Column) (feed, error) {
	if len(in.Dimensions) < 1 || len(in.Dimensions) > 2 || (len(in.Dimensions) == 2 && in.Dimensions[1] > 1) {
		return nil, fmt.Errorf("model input %q has shape %v; a column feeds [N,1] or [N]", in.Name, in.Dimensions)
	}
	shape := func(rows int) ort.Shape {
		if len(in.Dimensions) == 2 {
			return ort.NewShape(int64(rows), 1)
		}
		return ort.NewShape(int64(rows))
	}
	if (in.DataType == ort.TensorElementDataTypeString) != c.IsString() {
		return nil, fmt.Errorf("model input %q takes %s, column %q holds %s", in.Name, elemName(in.DataType), c.Name, kindOf(c.IsString()))
	}
	switch in.DataType {
	case ort.TensorElementDataTypeString:
		return func(lo, hi int) (ort.Value, error) {
			t, err := ort.NewStringTensor(shape(hi - lo))
			if err != nil {
				return nil, err
			}
			if err := t.SetContents(c.Strings[lo:hi]); err != nil {
				t.Destroy()
				return nil, err
			}
			return t, nil
		}, nil
	case ort.TensorElementDataTypeFloat:
		return func(lo, hi int) (ort.Value, error) {
			return ort.NewTensor(shape(hi-lo), toFloat32(c.Floats[lo:hi]))
		}, nil
	case ort.TensorElementDataTypeDouble:
		return func(lo, hi int) (ort.Value, error) {
			return ort.NewTensor(shape(hi-lo), append([]float64(nil), c.Floats[lo:hi]...))
		}, nil
	case ort.TensorElementDataTypeInt64:
		return func(lo, hi int) (ort.Value, error) {
			v := make([]int64, hi-lo)
			for i, x := range c.Floats[lo:hi] {
				if x != math.Trunc(x) {
					return nil, fmt.Errorf("model input %q takes int64, column %q row %d is %v", in.Name, c.Name, lo+i+1, x)
				}
				v[i] = int64(x)
			}
			return ort.NewTensor(shape(hi-lo), v)
		}, nil
	}
	return nil, fmt.Errorf("model input %q takes %s, which Sluice does not feed", in.Name, elemName(in.DataType))
}

// denseFeed feeds every feature column of f, all numbers, as one [N,D]
// matrix.
func denseFeed(in ort.InputOutputInfo, f *Frame) (feed, error) {
	cols := f.Features()
	for _, c := range cols {
		if c.IsString() {
			return nil, fmt.Errorf("model input %q is one [N,%d] matrix, but column %q holds strings", in.Name, in.Dimensions[1], c.Name)
		}
	}
	d := len(cols)
	if w := in.Dimensions[1]; w > 0 && int(w) != d {
		return nil, fmt.Errorf("model input %q is one [N,%d] matrix, the dataset has %d feature columns", in.Name, w, d)
	}
	double := in.DataType == ort.TensorElementDataTypeDouble
	return func(lo, hi int) (ort.Value, error) {
		x := make([]float64, (hi-lo)*d)
		for j, c := range cols {
			for i, v := range c.Floats[lo:hi] {
				x[i*d+j] = v
			}
		}
		shape := ort.NewShape(int64(hi-lo), int64(d))
		if double {
			return ort.NewTensor(shape, x)
		}
		return ort.NewTensor(shape, toFloat32(x))
	}, nil
}

func toFloat32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}
