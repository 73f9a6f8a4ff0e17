package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"sluice/engine/planjson"
	"sluice/runtime/features"
	"sluice/schema"
)

// kindEffect is what a behaviour change of a kind costs.
func kindEffect(k schema.Kind) string {
	switch k {
	case schema.KindSource, schema.KindEntity, schema.KindFeature:
		return planjson.EffectRematerialize
	case schema.KindExperiment:
		return planjson.EffectRetrain
	case schema.KindEndpoint:
		return planjson.EffectRedeploy
	}
	return planjson.EffectReload
}

// createEffect is what creating a resource of a kind costs: sources and
// entities are only recorded; the views that read them pay for themselves.
func createEffect(k schema.Kind) string {
	if k == schema.KindSource || k == schema.KindEntity {
		return planjson.EffectMetadataOnly
	}
	return kindEffect(k)
}

// runtimeAction is the action a kind takes when only its inputs changed.
func runtimeAction(k schema.Kind) string {
	switch k {
	case schema.KindFeature:
		return planjson.ActionMaterialize
	case schema.KindExperiment:
		return planjson.ActionTrain
	case schema.KindModel:
		return planjson.ActionPromote
	case schema.KindEndpoint:
		return planjson.ActionSwap
	}
	return planjson.ActionUpdate
}

// executed says which kinds this build reconciles beyond recording their
// spec; the others are validated and recorded, and the plan says so.
func executed(k schema.Kind) bool {
	switch k {
	case schema.KindSource, schema.KindEntity, schema.KindFeature, schema.KindExperiment, schema.KindModel, schema.KindEndpoint, schema.KindDrift:
		return true
	}
	return false
}

// runtime fills in the work a change needs beyond recording its spec.
func (pl *planner) runtime(c *Change) {
	if fv, ok := c.Resource.(*schema.FeatureView); ok && c.Action == planjson.ActionNoOp && c.Recorded != nil && !pl.fromBase {
		pl.lostTables(c, fv)
	}
	if e, ok := c.Resource.(*schema.Endpoint); ok && c.Action != planjson.ActionDelete {
		// An endpoint swaps when its alias moved or the server lost it,
		// even with nothing changed in git, unless a drift policy holds it.
		if !pl.driftHeld(c, e) {
			pl.endpoint(c, e)
			pl.driftReleased(c, e)
		}
		return
	}
	if d, ok := c.Resource.(*schema.Drift); ok {
		pl.driftPolicy(c, d)
		return
	}
	if c.Action == planjson.ActionNoOp || c.Action == planjson.ActionDelete {
		return
	}
	if !executed(c.Addr.Kind) {
		if c.Effect != planjson.EffectMetadataOnly {
			c.Detail = "recorded only: this build of sluice validates " + string(c.Addr.Kind) + " but does not execute them yet"
		}
		return
	}
	if exp, ok := c.Resource.(*schema.Experiment); ok && c.Effect != planjson.EffectMetadataOnly {
		c.Runtime, c.Detail = []string{planjson.ActionTrain}, trainDetail(exp)
		pl.commandTrainer(c, exp)
		return
	} else if ok {
		pl.regate(c, exp)
		return
	}
	fv, ok := c.Resource.(*schema.FeatureView)
	if !ok || c.Effect == planjson.EffectMetadataOnly {
		return
	}
	c.Runtime = []string{planjson.ActionMaterialize}
	store := "offline and online stores"
	if !fv.Online {
		store = "offline store"
	}
	if c.Full {
		c.Detail = "full materialization into the " + store
	} else {
		c.Detail = "materialization of the changed source into the " + store + " (only new rows when the file grew)"
	}
}

// source records the data file's fingerprint and plans a data change when
// it moved. A missing or unreadable file is a plan error at the path field.
func (pl *planner) source(c *Change, src *schema.Source) {
	fp, err := fingerprint(pl.plan.fsys, src.Path)
	if err != nil {
		pl.errorf(&src.Meta, "path", "%v", err)
		return
	}
	c.Outputs = map[string]string{"fingerprint": fp}
	if c.Recorded == nil || c.Recorded.Outputs["fingerprint"] == fp {
		return
	}
	c.Reasons = append(c.Reasons, planjson.ReasonSourceDataChanged)
	if c.Action == planjson.ActionNoOp || c.Effect == planjson.EffectMetadataOnly {
		c.Action, c.Effect = planjson.ActionUpdate, planjson.EffectRematerialize
	}
}

// fingerprint is the SHA-256 of a data file, read from the revision (a
// repo-relative path) or from a data root (an absolute path the loader
// already confined).
func fingerprint(fsys fs.FS, path string) (string, error) {
	var f io.ReadCloser
	var err error
	if filepath.IsAbs(path) {
		f, err = os.Open(path)
	} else {
		f, err = fsys.Open(filepath.ToSlash(filepath.Clean(path)))
	}
	if err != nil {
		return "", fmt.Errorf("data file %s: %w", path, unwrapPath(err))
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read data file %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// unwrapPath drops the *PathError wrapper whose path repeats ours.
func unwrapPath(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}

// planReasonTablesMissing: a view recorded as materialized has lost its
// offline or online table; a full materialization rebuilds it.
const planReasonTablesMissing = "feature_tables_missing"

// lostTables plans a full materialization of a view whose tables are gone
// although its record says they were written.
func (pl *planner) lostTables(c *Change, fv *schema.FeatureView) {
	if pl.tables == nil {
		t, err := features.ReadTables(pl.ctx, pl.q)
		if err != nil {
			pl.errorf(&fv.Meta, "", "%v", err)
			return
		}
		pl.tables = t
	}
	if len(pl.tables.Missing(fv.Addr.Name, fv.Online)) == 0 {
		return
	}
	c.Action, c.Effect, c.Full = planjson.ActionMaterialize, planjson.EffectRematerialize, true
	c.Reasons = append(c.Reasons, planReasonTablesMissing)
}
