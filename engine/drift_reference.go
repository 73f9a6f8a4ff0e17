package engine

import (
	"context"
	"fmt"

	"sluice/runtime/drift"
	"sluice/runtime/store"
	"sluice/runtime/training"
	"sluice/schema"
)

// ReferenceStore keeps the drift reference of each model version, fitted
// once when the version is trained.
type ReferenceStore interface {
	PutReference(ctx context.Context, q store.Querier, ref *drift.Reference) error
}

var _ ReferenceStore = (*drift.Store)(nil)

// storeReference fits the new version's drift reference from its training
// rows and the model's outputs on them, in the training step's transaction.
// Without a reference store (drift not configured) it does nothing.
func (a *applier) storeReference(ctx context.Context, q store.Querier, exp *schema.Experiment, version int, fit *fitted) error {
	if a.drivers.Drift == nil {
		return nil
	}
	cols := referenceColumns(fit.train)
	preds := fit.trainPredictions
	if preds == nil && fit.result != nil && fit.result.Model != nil {
		var err error
		if preds, err = fit.result.Model.Predict(ctx, fit.train); err != nil {
			return fmt.Errorf("drift reference of %s v%d: predict the training rows: %w", exp.Model, version, err)
		}
	}
	if preds != nil {
		cols = append(cols, predictionColumns(preds)...)
	}
	ref, err := drift.Fit(exp.Model, version, cols, a.opts.Now())
	if err != nil {
		return fmt.Errorf("drift reference of %s v%d: %w", exp.Model, version, err)
	}
	return a.drivers.Drift.PutReference(ctx, q, ref)
}

// referenceColumns are a training frame's feature columns, without the label.
func referenceColumns(f *training.Frame) []drift.Column {
	var out []drift.Column
	for _, c := range f.Columns {
		if c.Name == f.Label {
			continue
		}
		if c.IsString() {
			out = append(out, drift.Column{Name: c.Name, Strings: c.Strings})
		} else {
			out = append(out, drift.Column{Name: c.Name, Numbers: c.Floats})
		}
	}
	return out
}

// predictionColumns are the model's outputs as serving reports them: a
// classifier's class probabilities, a regressor's value.
func predictionColumns(p *training.Predictions) []drift.Column {
	if p.Classes == nil {
		return []drift.Column{{Name: drift.PredictionColumn(0, 1), Numbers: p.Values}}
	}
	k, rows := len(p.Classes), p.Rows()
	out := make([]drift.Column, k)
	for j := range out {
		out[j] = drift.Column{Name: drift.PredictionColumn(j, k), Numbers: make([]float64, rows)}
		for i := 0; i < rows; i++ {
			out[j].Numbers[i] = p.Probabilities[i*k+j]
		}
	}
	return out
}
