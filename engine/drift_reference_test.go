package engine

import (
	"context"
	"testing"
	"testing/fstest"

	"sluice/internal/ortlib"
	"sluice/runtime/drift"
)

func TestTrainingStoresTheVersionsDriftReference(t *testing.T) {
	ortlib.Need(t)
	ctx := context.Background()
	db := openState(t)
	d := newTrainingDrivers(t, db)
	ds, err := drift.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	d.Drift = ds
	applyWith(t, db, d.Drivers, fraudRepo(fraudSpec), "c1")
	ref, err := drift.GetReference(ctx, db, "fraud", 1)
	if err != nil {
		t.Fatal(err)
	}
	seg, score := ref.Features["segment"], ref.Features["score"]
	if seg == nil || seg.Numerical || seg.Counts["a"]+seg.Counts["b"] != ref.Rows || score == nil || !score.Numerical || len(score.Edges) != drift.DefaultBins-1 {
		t.Fatalf("reference features: segment %+v, score %+v", seg, score)
	}
	if _, ok := ref.Features["is_fraud"]; ok {
		t.Error("the label is in the reference")
	}
	// The classifier's probabilities of both classes are the prediction
	// reference, on the training split (38 joined rows less the holdout).
	p0, p1 := ref.Features["prediction_0"], ref.Features["prediction_1"]
	if p0 == nil || p1 == nil || ref.Rows != 30 || p1.Rows != 30 {
		t.Errorf("prediction reference: %v %v over %d rows", p0 != nil, p1 != nil, ref.Rows)
	}
}

// A command trainer's model exists only as ONNX: its prediction reference
// is scored in ONNX Runtime, and equals the built-in's for the same model.
func TestACommandTrainersVersionGetsAPredictionReference(t *testing.T) {
	ortlib.Need(t)
	ctx := context.Background()
	model := builtinModelBytes(t)
	refOf := func(fsys fstest.MapFS, command bool) *drift.Reference {
		db := openState(t)
		d := newTrainingDrivers(t, db)
		ds, err := drift.Open(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		d.Drift = ds
		if command {
			applyAllowing(t, db, d.Drivers, fsys, "c1")
		} else {
			applyWith(t, db, d.Drivers, fsys, "c1")
		}
		ref, err := drift.GetReference(ctx, db, "fraud", 1)
		if err != nil {
			t.Fatal(err)
		}
		return ref
	}
	cmd := refOf(commandRepo(`cp model.onnx "$SLUICE_OUTPUT/model.onnx"`+"\n", model, "1m"), true)
	builtin := refOf(fraudRepo(fraudSpec), false)
	for _, name := range []string{"prediction_0", "prediction_1"} {
		c, b := cmd.Features[name], builtin.Features[name]
		if c == nil || b == nil {
			t.Fatalf("%s: command trainer's %v, built-in's %v", name, c != nil, b != nil)
		}
		if c.Rows != b.Rows || len(c.Edges) != len(b.Edges) {
			t.Fatalf("%s: %d rows, %d edges; the built-in's %d, %d", name, c.Rows, len(c.Edges), b.Rows, len(b.Edges))
		}
		for i := range c.Edges {
			if d := c.Edges[i] - b.Edges[i]; d > 1e-6 || d < -1e-6 {
				t.Errorf("%s edge %d: %v, the built-in's %v", name, i, c.Edges[i], b.Edges[i])
			}
		}
	}
}
