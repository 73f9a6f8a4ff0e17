package registry

import (
	"database/sql"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestValidateAliasFollowsMLflowsRules(t *testing.T) {
	valid := []string{"production", "Production", "Staging", "Archived", "champion-2", "a_b", "latest2", "v", "v1a", "version1", "-", strings.Repeat("a", 255)}
	for _, a := range valid {
		if err := ValidateAlias(a); err != nil {
			t.Errorf("%q: %v", a, err)
		}
	}
	invalid := map[string]string{
		"":                       "alias name is empty",
		"latest":                 "reserved",
		"LATEST":                 "reserved",
		"Latest":                 "reserved",
		"v1":                     "reserved: v<number> names a version",
		"V12":                    "reserved: v<number> names a version",
		"prod.1":                 "may only contain letters, digits, underscores (_) and dashes (-)",
		"prod uction":            "may only contain",
		"café":                   "may only contain",
		strings.Repeat("a", 256): "is 256 characters, the limit is 255",
	}
	for a, want := range invalid {
		wantErr(t, ValidateAlias(a), want)
	}
}

func TestAnAliasPointsToOneVersionAndMovesWhole(t *testing.T) {
	f := newFixture(t)
	f.register("fraud", nil)
	f.register("fraud", nil)
	f.promote("fraud", "production", 1, false)
	m := f.promote("fraud", "production", 2, false)
	if m.From != 1 || m.To != 2 {
		t.Errorf("moved %+v, want 1 → 2", m)
	}
	if got := f.aliases("fraud"); !reflect.DeepEqual(got, map[string]int{"production": 2}) {
		t.Errorf("aliases %v, want production at 2 only", got)
	}
	if a := f.version("fraud", 1).Aliases; len(a) != 0 {
		t.Errorf("version 1 still carries %v", a)
	}
}

func TestAVersionCarriesManyAliases(t *testing.T) {
	f := newFixture(t)
	f.register("fraud", nil)
	for _, a := range []string{"production", "champion", "Staging"} {
		f.promote("fraud", a, 1, false)
	}
	if got, want := f.version("fraud", 1).Aliases, []string{"Staging", "champion", "production"}; !reflect.DeepEqual(got, want) {
		t.Errorf("version 1 carries %v, want %v", got, want)
	}
}

func TestLegacyStageNamesAreOrdinaryAliasesWithTheirCase(t *testing.T) {
	f := newFixture(t)
	f.register("fraud", nil)
	f.register("fraud", nil)
	f.promote("fraud", "Archived", 1, true)
	f.promote("fraud", "Production", 2, true)
	f.promote("fraud", "production", 1, true)
	want := map[string]int{"Archived": 1, "Production": 2, "production": 1}
	if got := f.aliases("fraud"); !reflect.DeepEqual(got, want) {
		t.Errorf("aliases %v, want %v (case kept, Production and production distinct)", got, want)
	}
	for _, n := range []int{1, 2} {
		if v := f.version("fraud", n); v.Status != StatusReady {
			t.Errorf("version %d is %s: the alias Archived must not change a status", n, v.Status)
		}
	}
}

func TestPromoteRefusesBadMovesAndChangesNothing(t *testing.T) {
	f := newFixture(t)
	f.register("fraud", nil)
	f.register("fraud", nil)
	f.tx(func(tx *sql.Tx) error { return f.r.SetStatus(f.ctx, tx, "fraud", 2, StatusFailed, "not ONNX") })
	cases := []struct {
		move Move
		want string
	}{
		{Move{Model: "fraud", Alias: "latest", Version: 1, Reason: ReasonGit}, `alias "latest" is reserved`},
		{Move{Model: "fraud", Alias: "v2", Version: 1, Reason: ReasonGit}, `alias "v2" is reserved`},
		{Move{Model: "fraud", Alias: "production", Version: 9, Reason: ReasonGit}, "model fraud has no version 9 (the newest is 2)"},
		{Move{Model: "churn", Alias: "production", Version: 1, Reason: ReasonGit}, "model churn has no versions"},
		{Move{Model: "fraud", Alias: "production", Version: 2, Reason: ReasonGit}, "version 2 of fraud is FAILED (not ONNX) and cannot be promoted"},
		{Move{Model: "fraud", Alias: "production", Version: 1, Reason: "cron"}, `unknown reason "cron"`},
	}
	for _, c := range cases {
		err := f.db.Tx(f.ctx, func(tx *sql.Tx) error {
			_, err := f.r.Promote(f.ctx, tx, c.move)
			return err
		})
		wantErr(t, err, c.want)
	}
	if a := f.aliases("fraud"); len(a) != 0 {
		t.Errorf("aliases after refused moves: %v", a)
	}
	if h, _ := f.r.History(f.ctx, f.db, "fraud", ""); len(h) != 0 {
		t.Errorf("history after refused moves: %v", h)
	}
}

func TestPromoteToWhereTheAliasPointsRecordsNothing(t *testing.T) {
	f := newFixture(t)
	f.register("fraud", nil)
	f.promote("fraud", "production", 1, true)
	if m := f.promote("fraud", "production", 1, true); !m.NoOp() || m.Archived != 0 {
		t.Errorf("second identical move %+v, want a no-op", m)
	}
	if h, _ := f.r.History(f.ctx, f.db, "fraud", "production"); len(h) != 1 {
		t.Errorf("history holds %d moves, want 1", len(h))
	}
	if v := f.version("fraud", 1); v.Status != StatusReady {
		t.Errorf("version 1 is %s, want READY", v.Status)
	}
}

func TestArchivePreviousArchivesTheVersionTheAliasLeft(t *testing.T) {
	f := newFixture(t)
	for i := 0; i < 3; i++ {
		f.register("fraud", nil)
	}
	if m := f.promote("fraud", "production", 1, true); m.Archived != 0 {
		t.Errorf("first move archived version %d; there was nothing to archive", m.Archived)
	}
	m := f.promote("fraud", "production", 2, true)
	if m.Archived != 1 {
		t.Errorf("moved %+v, want version 1 archived", m)
	}
	v1 := f.version("fraud", 1)
	if v1.Status != StatusArchived || v1.Message != "archived when production moved to version 2" {
		t.Errorf("version 1 is %s %q", v1.Status, v1.Message)
	}
	if v3 := f.version("fraud", 3); v3.Status != StatusReady {
		t.Errorf("version 3 was not involved and is %s", v3.Status)
	}
}

func TestArchivePreviousSparesAVersionAnotherAliasStillUses(t *testing.T) {
	f := newFixture(t)
	f.register("fraud", nil)
	f.register("fraud", nil)
	f.promote("fraud", "production", 1, true)
	f.promote("fraud", "champion", 1, true)
	if m := f.promote("fraud", "production", 2, true); m.Archived != 0 {
		t.Errorf("archived version %d, which champion still points to", m.Archived)
	}
	if v := f.version("fraud", 1); v.Status != StatusReady {
		t.Errorf("version 1 is %s, want READY", v.Status)
	}
}

func TestWithoutArchivePreviousTheOldVersionStaysReady(t *testing.T) {
	f := newFixture(t)
	f.register("fraud", nil)
	f.register("fraud", nil)
	f.promote("fraud", "production", 1, false)
	f.promote("fraud", "production", 2, false)
	if v := f.version("fraud", 1); v.Status != StatusReady {
		t.Errorf("version 1 is %s without archive_previous, want READY", v.Status)
	}
}

func TestRollingBackToAnArchivedVersionMakesItReadyAgain(t *testing.T) {
	f := newFixture(t)
	f.register("fraud", nil)
	f.register("fraud", nil)
	f.promote("fraud", "production", 1, true)
	f.promote("fraud", "production", 2, true)
	var m Moved
	f.tx(func(tx *sql.Tx) error {
		var err error
		m, err = f.r.Promote(f.ctx, tx, Move{Model: "fraud", Alias: "production", Version: 1,
			Commit: "c-2", Reason: ReasonDriftRollback, ArchivePrevious: true})
		return err
	})
	if !m.Restored || m.Archived != 2 {
		t.Errorf("rollback %+v, want version 1 restored and 2 archived", m)
	}
	if v := f.version("fraud", 1); v.Status != StatusReady || v.Message != "" {
		t.Errorf("version 1 is %s %q after the rollback, want READY", v.Status, v.Message)
	}
}

func TestResolveFindsAliasesLatestAndVersionNames(t *testing.T) {
	f := newFixture(t)
	for i := 0; i < 4; i++ {
		f.register("fraud", nil)
	}
	f.promote("fraud", "production", 2, false)
	f.tx(func(tx *sql.Tx) error { return f.r.SetStatus(f.ctx, tx, "fraud", 4, StatusFailed, "boom") })
	f.tx(func(tx *sql.Tx) error { return f.r.SetStatus(f.ctx, tx, "fraud", 3, StatusArchived, "old") })
	for ref, want := range map[string]int{"production": 2, "latest": 2, "LATEST": 2, "v3": 3, "V1": 1} {
		v, err := f.r.Resolve(f.ctx, f.db, "fraud", ref)
		if err != nil {
			t.Errorf("%s: %v", ref, err)
			continue
		}
		if v.Number != want {
			t.Errorf("%s resolves to %d, want %d", ref, v.Number, want)
		}
	}
	_, err := f.r.Resolve(f.ctx, f.db, "fraud", "staging")
	wantErr(t, err, `model fraud has no alias "staging"`)
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("%v does not wrap ErrNotFound", err)
	}
	_, err = f.r.Resolve(f.ctx, f.db, "fraud", "v9")
	wantErr(t, err, "no version 9")
	_, err = f.r.Resolve(f.ctx, f.db, "churn", "latest")
	wantErr(t, err, "model churn has no READY version")
}

func TestRemoveAliasUnsetsItAndKeepsTheVersion(t *testing.T) {
	f := newFixture(t)
	f.register("fraud", nil)
	f.promote("fraud", "staging", 1, false)
	f.tx(func(tx *sql.Tx) error { return f.r.RemoveAlias(f.ctx, tx, "fraud", "staging", "c-9", ReasonGit) })
	f.tx(func(tx *sql.Tx) error { return f.r.RemoveAlias(f.ctx, tx, "fraud", "staging", "c-10", ReasonGit) })
	if a := f.aliases("fraud"); len(a) != 0 {
		t.Errorf("aliases %v after removal", a)
	}
	h, _ := f.r.History(f.ctx, f.db, "fraud", "staging")
	if len(h) != 2 || h[1].From != 1 || h[1].To != 0 || h[1].Commit != "c-9" {
		t.Errorf("history %v, want the set and one removal at c-9", h)
	}
	if v := f.version("fraud", 1); v.Status != StatusReady {
		t.Errorf("version 1 is %s", v.Status)
	}
}
