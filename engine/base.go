package engine

import (
	"fmt"
	"io/fs"

	"sluice/runtime/store"
	"sluice/schema"
)

// useBase replaces the recorded resources with those the base revision
// would leave once applied, so a pull request's plan shows only what the
// merge changes, not also what the base has not applied yet. Failures
// recorded in the state belong to the base's history and are not retried
// by the head.
func (pl *planner) useBase(base *schema.Spec, fsys fs.FS) error {
	recorded := map[schema.Addr]*store.Resource{}
	for _, r := range base.Resources() {
		m := r.Metadata()
		rec := &store.Resource{Kind: string(m.Addr.Kind), Name: m.Addr.Name, Spec: m.Spec, Hash: m.Hash, Classes: m.Classes}
		if src, ok := r.(*schema.Source); ok {
			fp, err := fingerprint(fsys, src.Path)
			if err != nil {
				return fmt.Errorf("base revision: %w", err)
			}
			rec.Outputs = map[string]string{"fingerprint": fp}
		}
		recorded[m.Addr] = rec
	}
	pl.recorded, pl.fromBase = recorded, true
	pl.failed = map[schema.Addr]store.Condition{}
	return nil
}
