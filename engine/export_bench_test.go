package engine

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"sluice/internal/ortlib"
	"sluice/runtime/training"
)

// BenchmarkForestScoring scores the holdout with the random forest
// bench/training/run.sh trains (100 trees, depth 10, two threads), once
// exported to ONNX and run in ONNX Runtime (the runtime that serves it)
// and once as the Go model it was exported from, and reports rows/s. The
// data is $SLUICE_TRAINING_BENCH_DATA's (its last 20% scored), or 100,000
// generated rows; SLUICE_BENCH_TREES overrides the trees.
func BenchmarkForestScoring(b *testing.B) {
	ortlib.Need(b)
	ctx := context.Background()
	train, holdout := forestBenchData(b)
	trees := int64(100)
	if s := os.Getenv("SLUICE_BENCH_TREES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			b.Fatal(err)
		}
		trees = int64(n)
	}
	res, err := training.Train(ctx, training.TrainRequest{Builtin: training.RandomForest, Task: training.TaskClassification,
		Params: map[string]any{"n_estimators": trees, "max_depth": int64(10)}, Train: train, Threads: 2})
	if err != nil {
		b.Fatal(err)
	}
	model, err := exportBytes(res.Model)
	if err != nil {
		b.Fatal(err)
	}
	sess, err := training.NewSession(model, training.SessionOptions{Task: training.TaskClassification,
		Classes: classesOf(res.Model), Threads: 2})
	if err != nil {
		b.Fatal(err)
	}
	defer sess.Close()
	for _, c := range []struct {
		name string
		p    training.Predictor
	}{{"onnxruntime", sess}, {"go", res.Model}} {
		b.Run(c.name, func(b *testing.B) {
			start := time.Now()
			for b.Loop() {
				if _, err := c.p.Predict(ctx, holdout); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(holdout.Rows()*b.N)/time.Since(start).Seconds(), "rows/s")
			b.ReportMetric(float64(len(model)), "model_bytes")
		})
	}
}

// forestBenchData reads bench/training's data set (raw float64, rows × 20
// and the labels) and splits it 80/20 in order, as scikit-learn's side does.
func forestBenchData(b *testing.B) (train, holdout *training.Frame) {
	const width = 20
	var x, y []float64
	if dir := os.Getenv("SLUICE_TRAINING_BENCH_DATA"); dir != "" {
		var err error
		if x, err = rawFloats(filepath.Join(dir, "X.f64")); err == nil {
			y, err = rawFloats(filepath.Join(dir, "y.f64"))
		}
		if err != nil {
			b.Fatal(err)
		}
	} else {
		rng := rand.New(rand.NewPCG(42, 0))
		x, y = make([]float64, 100_000*width), make([]float64, 100_000)
		for i := range y {
			s := 0.0
			for j := range width {
				x[i*width+j] = rng.NormFloat64()
				s += x[i*width+j] * float64(j%3-1)
			}
			y[i] = b2f(s+rng.NormFloat64() > 0)
		}
	}
	frame := func(lo, hi int) *training.Frame {
		f := &training.Frame{Label: "y"}
		for j := range width {
			col := make([]float64, hi-lo)
			for i := range col {
				col[i] = x[(lo+i)*width+j]
			}
			f.Columns = append(f.Columns, training.Column{Name: fmt.Sprintf("f%d", j), Floats: col})
		}
		f.Columns = append(f.Columns, training.Column{Name: "y", Floats: y[lo:hi]})
		return f
	}
	cut := len(y) - len(y)/5
	return frame(0, cut), frame(cut, len(y))
}

func rawFloats(path string) ([]float64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(data)/8)
	for i := range out {
		out[i] = math.Float64frombits(binary.LittleEndian.Uint64(data[8*i:]))
	}
	return out, nil
}
