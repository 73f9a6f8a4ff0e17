package engine

import (
	"context"
	"strings"
	"testing"

	"sluice/engine/planjson"
	"sluice/internal/ortlib"
	"sluice/runtime/store"
	"sluice/runtime/training"
)

func TestTrainRegistersAVersionTaggedManualAndMovesNoAlias(t *testing.T) {
	ortlib.Need(t)
	ctx := context.Background()
	db := openState(t)
	d := newTrainingDrivers(t, db)
	fsys := fraudRepo(withAliases(fraudSpec, "models: fraud: aliases: production: 1"))
	applyWith(t, db, d.Drivers, fsys, "c1")

	res, err := Train(ctx, db, d.Drivers, TrainRequest{Spec: loadSpec(t, fsys), FS: fsys,
		Revision: planjson.Revision{Commit: "c1"}, Experiment: "lr"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Model != "fraud" || res.Version != 2 || !strings.HasPrefix(res.RunName, "lr-") {
		t.Fatalf("result %+v, want a run of lr registering fraud v2", res)
	}
	run, err := d.tracker.GetRun(ctx, db, res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if run.Tags[TagTrigger] != TriggerManual || run.Trigger != TriggerManual || run.Status != training.StatusFinished {
		t.Fatalf("run %+v, want FINISHED with sluice.trigger=manual", run)
	}
	if a, _ := d.registry.Aliases(ctx, db, "fraud"); a["production"] != 1 {
		t.Fatalf("aliases %v, want production still at 1", a)
	}
	if p := planRevision(t, db, fsys, "c1"); p.hasWork() {
		t.Fatal("a manual run made the next plan of the same revision do something")
	}
	events, err := store.Events(ctx, db, store.EventFilter{Kind: "experiments", Name: "lr"})
	if err != nil || !strings.Contains(events[len(events)-1].Message, "manual run: run "+res.RunName) {
		t.Fatalf("events %+v (%v), want the manual run's", events, err)
	}
}

func TestTrainKeepsAFailedRunAndReturnsItsError(t *testing.T) {
	ortlib.Need(t)
	ctx := context.Background()
	db := openState(t)
	d := newTrainingDrivers(t, db)
	applyWith(t, db, d.Drivers, fraudRepo(fraudSpec), "c1")
	bad := fraudRepo(strings.Replace(fraudSpec, "C: 1.0", "C: -1.0", 1))
	_, err := Train(ctx, db, d.Drivers, TrainRequest{Spec: loadSpec(t, bad), FS: bad,
		Revision: planjson.Revision{Commit: "c2"}, Experiment: "lr", Trigger: TriggerDrift})
	if err == nil || !strings.Contains(err.Error(), "train lr") {
		t.Fatalf("err %v, want the failure", err)
	}
	runs, err := d.tracker.SearchRuns(ctx, db, training.Search{Filter: "attributes.status = 'FAILED' and tags.`sluice.trigger` = 'drift'"})
	if err != nil || len(runs) != 1 {
		t.Fatalf("failed drift runs %v (%v), want one", runs, err)
	}
	if n, _ := d.registry.LastVersion(ctx, db, "fraud"); n != 1 {
		t.Fatalf("last version %d, want 1: a failed run registers nothing", n)
	}
}

func TestTrainNamesTheExperimentsWhenItDoesNotKnowOne(t *testing.T) {
	db := openState(t)
	d := newTrainingDrivers(t, db)
	fsys := fraudRepo(fraudSpec)
	_, err := Train(context.Background(), db, d.Drivers, TrainRequest{Spec: loadSpec(t, fsys), FS: fsys, Experiment: "rf"})
	if err == nil || !strings.Contains(err.Error(), `no experiment "rf"`) || !strings.Contains(err.Error(), "experiments: lr") {
		t.Fatalf("err %v, want the unknown name and the known ones", err)
	}
}
