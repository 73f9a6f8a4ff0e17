package engine

import (
	"context"
	"testing"

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
