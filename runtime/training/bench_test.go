package training

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"sluice/runtime/store"
)

// benchFeatures is the width of the training benchmark's data set.
const benchFeatures = 20

// benchData returns the training and holdout frames of the data set
// bench/training/run.sh writes into $SLUICE_TRAINING_BENCH_DATA (the first
// 80% of its rows, then the rest), or of 100,000 generated rows without it.
func benchData(b *testing.B) (train, holdout *Frame) {
	dir := os.Getenv("SLUICE_TRAINING_BENCH_DATA")
	var x, y []float64
	if dir == "" {
		x, y = generatedBenchData(100_000)
	} else {
		var err error
		if x, err = readFloats(filepath.Join(dir, "X.f64")); err == nil {
			y, err = readFloats(filepath.Join(dir, "y.f64"))
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	n := len(y)
	cut := n - n/5
	frame := func(lo, hi int) *Frame {
		f := &Frame{Label: "y"}
		for j := range benchFeatures {
			col := make([]float64, hi-lo)
			for i := range col {
				col[i] = x[(lo+i)*benchFeatures+j]
			}
			f.Columns = append(f.Columns, Column{Name: fmt.Sprintf("f%d", j), Floats: col})
		}
		f.Columns = append(f.Columns, Column{Name: "y", Floats: y[lo:hi]})
		return f
	}
	return frame(0, cut), frame(cut, n)
}

func readFloats(path string) ([]float64, error) {
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

// generatedBenchData is a linear problem with label noise.
func generatedBenchData(n int) (x, y []float64) {
	rng := rand.New(rand.NewPCG(42, 0))
	x, y = make([]float64, n*benchFeatures), make([]float64, n)
	for i := range n {
		var s float64
		for j := range benchFeatures {
			v := rng.NormFloat64()
			x[i*benchFeatures+j] = v
			if j < 10 {
				s += v * float64(j%3-1)
			}
		}
		if s+rng.NormFloat64() > 0 {
			y[i] = 1
		}
	}
	return x, y
}

// BenchmarkTrainVsSklearn times the built-ins bench/training/run.sh
// compares with scikit-learn, on two threads, and reports each model's
// holdout ROC AUC. SLUICE_BENCH_TREES overrides the forest's 100 trees.
func BenchmarkTrainVsSklearn(b *testing.B) {
	train, holdout := benchData(b)
	trees := int64(100)
	if s := os.Getenv("SLUICE_BENCH_TREES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			b.Fatal(err)
		}
		trees = int64(n)
	}
	for _, c := range []struct {
		builtin string
		params  map[string]any
	}{
		{LogisticRegression, nil},
		{RandomForest, map[string]any{"n_estimators": trees, "max_depth": int64(10)}},
	} {
		b.Run(c.builtin, func(b *testing.B) {
			var res *Result
			for b.Loop() {
				var err error
				res, err = Train(context.Background(), TrainRequest{Builtin: c.builtin, Task: TaskClassification,
					Params: c.params, Seed: 0, Train: train, Threads: 2})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			m, err := Evaluate(context.Background(), res.Model, holdout, TaskClassification)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(m["roc_auc"], "auc")
		})
	}
}

var runsBench struct {
	once sync.Once
	dir  string
	db   *store.DB
	tr   *Tracker
	err  error
}

// runsBenchState records 30,000 runs of 100 metrics, 3 params and a tag
// once per process, in a state file under the system's temporary
// directory, removed by TestMain.
func runsBenchState(b *testing.B) (*Tracker, *store.DB) {
	s := &runsBench
	s.once.Do(func() {
		ctx := context.Background()
		if s.dir, s.err = os.MkdirTemp("", "sluice-runs-bench"); s.err != nil {
			return
		}
		if s.db, s.err = store.Open(ctx, filepath.Join(s.dir, "state.db")); s.err != nil {
			return
		}
		if s.tr, s.err = NewTracker(ctx, s.db); s.err != nil {
			return
		}
		start := time.Now()
		s.err = fillRuns(ctx, s.tr, s.db, 30_000, 100)
		fmt.Fprintf(os.Stderr, "recorded 30,000 runs x 100 metrics in %s\n", time.Since(start).Round(time.Second))
	})
	if s.err != nil {
		b.Fatal(s.err)
	}
	return s.tr, s.db
}

func fillRuns(ctx context.Context, tr *Tracker, db *store.DB, runs, metrics int) error {
	rng := rand.New(rand.NewPCG(7, 0))
	const perTx = 1000
	for lo := 0; lo < runs; lo += perTx {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		for i := lo; i < min(lo+perTx, runs); i++ {
			r, err := tr.StartRun(ctx, tx, RunStart{Experiment: fmt.Sprintf("exp-%d", i%20)})
			if err != nil {
				tx.Rollback()
				return err
			}
			m := make(map[string]float64, metrics)
			for k := range metrics {
				m[fmt.Sprintf("m%d", k)] = rng.Float64()
			}
			err = tr.LogMetrics(ctx, tx, r.ID, m)
			if err == nil {
				err = tr.LogParams(ctx, tx, r.ID, map[string]string{
					"max_depth": strconv.Itoa(5 + rng.IntN(20)), "criterion": []string{"gini", "entropy"}[rng.IntN(2)],
					"n_estimators": strconv.Itoa(100 * (1 + rng.IntN(5)))})
			}
			if err == nil {
				err = tr.SetTags(ctx, tx, r.ID, map[string]string{"team": []string{"risk", "growth", "ops"}[rng.IntN(3)]})
			}
			if err == nil {
				err = tr.EndRun(ctx, tx, r.ID, StatusFinished, "", "")
			}
			if err != nil {
				tx.Rollback()
				return err
			}
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkRunsFilter times `sluice runs --filter` searches over 30,000
// runs of 100 metrics each.
func BenchmarkRunsFilter(b *testing.B) {
	tr, db := runsBenchState(b)
	for _, c := range []struct {
		name string
		s    Search
	}{
		{"mlflow", Search{Filter: "metrics.m17 > 0.5 and params.max_depth = 15", OrderBy: []string{"metrics.m3 desc"}, Max: 100}},
		{"or_parens", Search{Filter: "(metrics.m17 > 0.9 and params.criterion = 'gini') or (tags.team LIKE 'ri%' and metrics.m42 < 0.05)",
			OrderBy: []string{"params.max_depth desc", "metrics.m5"}, Max: 1000}},
	} {
		b.Run(c.name, func(b *testing.B) {
			var n int
			for b.Loop() {
				runs, err := tr.SearchRuns(context.Background(), db, c.s)
				if err != nil {
					b.Fatal(err)
				}
				n = len(runs)
			}
			b.ReportMetric(float64(n), "runs")
		})
	}
}
