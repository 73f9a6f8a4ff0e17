package main

import (
	"fmt"
	"slices"

	"sluice/engine"
	"sluice/engine/planjson"
)

// needORT refuses a plan that trains or deploys a model when ONNX Runtime
// does not load, before anything is applied: a missing or wrong library
// is one clear error naming the file, and the state is left untouched,
// rather than materializations followed by failed trainings.
func (a *app) needORT(p *engine.Plan) error {
	for _, c := range p.Changes {
		if slices.Contains(c.Runtime, planjson.ActionTrain) || slices.Contains(c.Runtime, planjson.ActionSwap) {
			if err := startORT(a.ortLib); err != nil {
				return fmt.Errorf("%s needs onnx runtime, which does not load (nothing was applied): %w", c.Addr, err)
			}
			return nil
		}
	}
	return nil
}
