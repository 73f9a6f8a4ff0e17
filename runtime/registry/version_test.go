package registry

import (
	"database/sql"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sync"
	"testing"
)

func TestRegisterVersionNumbersEachModelFromOne(t *testing.T) {
	f := newFixture(t)
	var got []int
	for _, m := range []string{"fraud", "fraud", "churn", "fraud", "churn"} {
		got = append(got, f.register(m, nil))
	}
	if want := []int{1, 2, 1, 3, 2}; !reflect.DeepEqual(got, want) {
		t.Errorf("numbers %v, want %v", got, want)
	}
	models, err := f.r.Models(f.ctx, f.db)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"churn", "fraud"}; !reflect.DeepEqual(models, want) {
		t.Errorf("models %v, want %v", models, want)
	}
}

func TestRegisterVersionInRolledBackTransactionLeavesNoGap(t *testing.T) {
	f := newFixture(t)
	f.register("fraud", nil)
	crash := errors.New("trainer crashed after registering")
	err := f.db.Tx(f.ctx, func(tx *sql.Tx) error {
		v, err := f.r.RegisterVersion(f.ctx, tx, "fraud", input("doomed", nil))
		if err != nil {
			return err
		}
		if v != 2 {
			t.Errorf("number inside the doomed transaction %d, want 2", v)
		}
		return crash
	})
	if !errors.Is(err, crash) {
		t.Fatalf("transaction error %v, want the crash", err)
	}
	if n := f.register("fraud", nil); n != 2 {
		t.Errorf("after the rollback the next number is %d, want 2 again", n)
	}
	vs, err := f.r.Versions(f.ctx, f.db, "fraud")
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 2 || vs[0].Number != 1 || vs[1].Number != 2 || vs[1].RunID == "doomed" {
		t.Errorf("versions after the rollback: %v", numbers(vs))
	}
}

func TestRegisterVersionFirstOfModelRolledBackLeavesNoModel(t *testing.T) {
	f := newFixture(t)
	f.db.Tx(f.ctx, func(tx *sql.Tx) error {
		f.r.RegisterVersion(f.ctx, tx, "fraud", input("doomed", nil))
		return errors.New("crash")
	})
	if models, _ := f.r.Models(f.ctx, f.db); len(models) != 0 {
		t.Errorf("models after a rolled-back first registration: %v", models)
	}
	if n := f.register("fraud", nil); n != 1 {
		t.Errorf("first committed version is %d, want 1", n)
	}
}

func TestVersionNumbersAreNeverReusedAfterDeleteOrFailure(t *testing.T) {
	f := newFixture(t)
	for i := 0; i < 3; i++ {
		f.register("fraud", nil)
	}
	f.tx(func(tx *sql.Tx) error { return f.r.DeleteVersion(f.ctx, tx, "fraud", 3) })
	f.tx(func(tx *sql.Tx) error {
		return f.r.SetStatus(f.ctx, tx, "fraud", 2, StatusFailed, "parity check failed")
	})
	if n := f.register("fraud", nil); n != 4 {
		t.Errorf("after deleting 3 and failing 2 the next version is %d, want 4", n)
	}
	_, err := f.r.Version(f.ctx, f.db, "fraud", 3)
	wantErr(t, err, "version 3 of fraud was deleted")
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("%v does not wrap ErrNotFound", err)
	}
	if v := f.version("fraud", 2); v.Status != StatusFailed || v.Message != "parity check failed" {
		t.Errorf("version 2 is %s %q, want FAILED with its message", v.Status, v.Message)
	}
}

func TestConcurrentRegistrationsNeverShareANumber(t *testing.T) {
	f := newFixture(t)
	f.r.Now = nil // the fixture's clock is not safe for concurrent use
	const writers, each = 4, 5
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				errs <- f.db.Tx(f.ctx, func(tx *sql.Tx) error {
					_, err := f.r.RegisterVersion(f.ctx, tx, "fraud", input(fmt.Sprintf("w%d-%d", w, i), nil))
					return err
				})
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	vs, err := f.r.Versions(f.ctx, f.db, "fraud")
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vs {
		if v.Number != i+1 {
			t.Fatalf("versions %v are not 1..%d", numbers(vs), writers*each)
		}
	}
	if len(vs) != writers*each {
		t.Errorf("%d versions, want %d", len(vs), writers*each)
	}
}

func TestRegisteredVersionKeepsEveryField(t *testing.T) {
	f := newFixture(t)
	in := input("run-7", Metrics{"f1": 0.91, "log_loss": math.Inf(1), "roc_auc": math.NaN(), "r2": -0.5})
	in.ArtifactSHA256 = "ABCDEF" + in.ArtifactSHA256[6:]
	var n int
	f.tx(func(tx *sql.Tx) error {
		var err error
		n, err = f.r.RegisterVersion(f.ctx, tx, "fraud", in)
		return err
	})
	v := f.version("fraud", n)
	if v.Status != StatusReady || v.RunID != "run-7" || v.ArtifactPath != in.ArtifactPath ||
		v.DatasetFingerprint != in.DatasetFingerprint || v.Commit != in.Commit {
		t.Errorf("version %+v does not hold what was registered", v)
	}
	if v.ArtifactSHA256 != "abcdef"+in.ArtifactSHA256[6:] {
		t.Errorf("sha256 %s, want it in lower case", v.ArtifactSHA256)
	}
	if v.Metrics["f1"] != 0.91 || !math.IsInf(v.Metrics["log_loss"], 1) || !math.IsNaN(v.Metrics["roc_auc"]) || v.Metrics["r2"] != -0.5 {
		t.Errorf("metrics %v do not round-trip", v.Metrics)
	}
	if string(v.Signature) != string(in.Signature) {
		t.Errorf("signature %s, want %s", v.Signature, in.Signature)
	}
	if !reflect.DeepEqual(v.Lineage, in.Lineage) {
		t.Errorf("lineage %+v, want %+v", v.Lineage, in.Lineage)
	}
	if !v.CreatedAt.Equal(t0) {
		t.Errorf("created %v, want %v", v.CreatedAt, t0)
	}
}

func TestRegisterVersionRefusesBadInputAndChangesNothing(t *testing.T) {
	cases := []struct {
		name  string
		model string
		edit  func(*VersionInput)
		want  string
	}{
		{"no model", "", func(*VersionInput) {}, "model name is empty"},
		{"no run", "fraud", func(in *VersionInput) { in.RunID = "" }, "run_id is empty"},
		{"no artifact", "fraud", func(in *VersionInput) { in.ArtifactPath = "" }, "artifact_path is empty"},
		{"short sha", "fraud", func(in *VersionInput) { in.ArtifactSHA256 = "abc" }, `artifact_sha256 "abc" is not a hex SHA-256`},
		{"no dataset", "fraud", func(in *VersionInput) { in.DatasetFingerprint = "" }, "dataset_fingerprint is empty"},
		{"bad signature", "fraud", func(in *VersionInput) { in.Signature = []byte(`{"inputs":`) }, "signature is not valid JSON"},
		{"unnamed metric", "fraud", func(in *VersionInput) { in.Metrics = Metrics{"": 1} }, "a metric has an empty name"},
		{"view of unknown source", "fraud", func(in *VersionInput) { in.Lineage.FeatureViews[0].Source = "clicks" },
			`feature view user_stats reads source "clicks", which is not among the sources`},
		{"source without fingerprint", "fraud", func(in *VersionInput) { in.Lineage.Sources[0].Fingerprint = "" },
			"source transactions has no fingerprint"},
		{"unknown label source", "fraud", func(in *VersionInput) { in.Lineage.Label = "labels" },
			`label source "labels" is not among the sources`},
	}
	f := newFixture(t)
	for _, c := range cases {
		in := input("run-1", Metrics{"f1": 0.9})
		c.edit(&in)
		err := f.db.Tx(f.ctx, func(tx *sql.Tx) error {
			_, err := f.r.RegisterVersion(f.ctx, tx, c.model, in)
			return err
		})
		t.Run(c.name, func(t *testing.T) { wantErr(t, err, c.want) })
	}
	if n := f.register("fraud", nil); n != 1 {
		t.Errorf("after %d refused registrations the first version is %d, want 1", len(cases), n)
	}
}

func TestVersionOfAMissingModelOrNumberSaysWhatExists(t *testing.T) {
	f := newFixture(t)
	_, err := f.r.Version(f.ctx, f.db, "fraud", 1)
	wantErr(t, err, "model fraud has no versions")
	f.register("fraud", nil)
	f.register("fraud", nil)
	_, err = f.r.Version(f.ctx, f.db, "fraud", 9)
	wantErr(t, err, "model fraud has no version 9 (the newest is 2)")
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("%v does not wrap ErrNotFound", err)
	}
}

func TestFailingIsFinal(t *testing.T) {
	f := newFixture(t)
	f.register("fraud", nil)
	f.tx(func(tx *sql.Tx) error { return f.r.SetStatus(f.ctx, tx, "fraud", 1, StatusFailed, "not ONNX") })
	err := f.db.Tx(f.ctx, func(tx *sql.Tx) error { return f.r.SetStatus(f.ctx, tx, "fraud", 1, StatusReady, "") })
	wantErr(t, err, "version 1 of fraud: it failed (not ONNX), and failing is final")
	err = f.db.Tx(f.ctx, func(tx *sql.Tx) error { return f.r.SetStatus(f.ctx, tx, "fraud", 1, "DONE", "") })
	wantErr(t, err, `unknown status "DONE"`)
}

func TestAnAliasedVersionCannotBeArchivedFailedOrDeleted(t *testing.T) {
	f := newFixture(t)
	f.register("fraud", nil)
	f.promote("fraud", "production", 1, false)
	f.promote("fraud", "champion", 1, false)
	for _, st := range []Status{StatusArchived, StatusFailed} {
		err := f.db.Tx(f.ctx, func(tx *sql.Tx) error { return f.r.SetStatus(f.ctx, tx, "fraud", 1, st, "") })
		wantErr(t, err, `aliases "champion", "production" point to it; move them first`)
	}
	err := f.db.Tx(f.ctx, func(tx *sql.Tx) error { return f.r.DeleteVersion(f.ctx, tx, "fraud", 1) })
	wantErr(t, err, "delete version 1 of fraud", `point to it`)
	if v := f.version("fraud", 1); v.Status != StatusReady {
		t.Errorf("version 1 is %s after refused changes, want READY", v.Status)
	}
}

func numbers(vs []*Version) []int {
	out := make([]int, len(vs))
	for i, v := range vs {
		out[i] = v.Number
	}
	return out
}
