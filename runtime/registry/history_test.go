package registry

import (
	"database/sql"
	"errors"
	"testing"
	"time"
)

func day(d int) time.Time { return time.Date(2026, 3, d, 12, 0, 0, 0, time.UTC) }

// moveAt moves (to > 0) or removes (to == 0) an alias at a given time.
func (f *fixture) moveAt(at time.Time, alias string, to int, reason Reason) {
	f.t.Helper()
	f.now = at
	f.tx(func(tx *sql.Tx) error {
		if to == 0 {
			return f.r.RemoveAlias(f.ctx, tx, "fraud", alias, "c-remove", reason)
		}
		_, err := f.r.Promote(f.ctx, tx, Move{Model: "fraud", Alias: alias, Version: to, Commit: "c-" + alias, Reason: reason})
		return err
	})
}

func TestAliasAtAnswersWhichVersionWasInProductionOnADay(t *testing.T) {
	f := newFixture(t)
	for i := 0; i < 3; i++ {
		f.register("fraud", nil)
	}
	f.moveAt(day(1), "production", 1, ReasonGit)
	f.moveAt(day(5), "staging", 3, ReasonGit)
	f.moveAt(day(10), "production", 2, ReasonGit)
	f.moveAt(day(20), "production", 1, ReasonDriftRollback)
	f.moveAt(day(25), "production", 0, ReasonManual)
	cases := []struct {
		at     time.Time
		want   int
		reason Reason
		since  time.Time
	}{
		{day(1).Add(-time.Nanosecond), 0, "", time.Time{}},
		{day(1), 1, ReasonGit, day(1)},
		{day(7), 1, ReasonGit, day(1)}, // staging's move on day 5 is another alias
		{day(10), 2, ReasonGit, day(10)},
		{day(19), 2, ReasonGit, day(10)},
		{day(21), 1, ReasonDriftRollback, day(20)},
		{day(26), 0, ReasonManual, day(25)},
	}
	for _, c := range cases {
		m, err := f.r.AliasAt(f.ctx, f.db, "fraud", "production", c.at)
		if err != nil {
			t.Fatal(err)
		}
		if m.To != c.want || m.Reason != c.reason || !m.At.Equal(c.since) {
			t.Errorf("production at %s: version %d (%s since %s), want %d (%s since %s)",
				c.at.Format(time.RFC3339Nano), m.To, m.Reason, m.At, c.want, c.reason, c.since)
		}
	}
}

func TestAliasAtTellsApartMovesMadeAtTheSameInstant(t *testing.T) {
	f := newFixture(t)
	f.register("fraud", nil)
	f.register("fraud", nil)
	f.moveAt(day(1), "production", 1, ReasonGit)
	f.moveAt(day(1), "production", 2, ReasonGit)
	m, err := f.r.AliasAt(f.ctx, f.db, "fraud", "production", day(1))
	if err != nil {
		t.Fatal(err)
	}
	if m.To != 2 {
		t.Errorf("at the instant of two moves production is %d, want the later move's 2", m.To)
	}
}

func TestHistoryKeepsEveryMoveWithItsCommitAndReason(t *testing.T) {
	f := newFixture(t)
	f.register("fraud", nil)
	f.register("fraud", nil)
	f.moveAt(day(1), "production", 1, ReasonGit)
	f.moveAt(day(2), "staging", 2, ReasonGit)
	f.moveAt(day(3), "production", 2, ReasonManual)
	h, err := f.r.History(f.ctx, f.db, "fraud", "")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"production none → 1 (git c-produ, 2026-03-01T12:00:00Z)",
		"staging none → 2 (git c-stagi, 2026-03-02T12:00:00Z)",
		"production 1 → 2 (manual c-produ, 2026-03-03T12:00:00Z)",
	}
	if len(h) != len(want) {
		t.Fatalf("history %v, want %d moves", h, len(want))
	}
	for i := range want {
		if h[i].String() != want[i] {
			t.Errorf("move %d: %s, want %s", i, h[i], want[i])
		}
	}
	if only, _ := f.r.History(f.ctx, f.db, "fraud", "staging"); len(only) != 1 || only[0].Alias != "staging" {
		t.Errorf("staging's history %v", only)
	}
}

func TestAliasHistoryCannotBeRewritten(t *testing.T) {
	f := newFixture(t)
	f.register("fraud", nil)
	f.promote("fraud", "production", 1, false)
	for _, stmt := range []string{
		`UPDATE registry_alias_history SET to_version = 7`,
		`DELETE FROM registry_alias_history`,
	} {
		_, err := f.db.ExecContext(f.ctx, stmt)
		wantErr(t, err, "alias history is append-only")
	}
	if h, _ := f.r.History(f.ctx, f.db, "fraud", ""); len(h) != 1 || h[0].To != 1 {
		t.Errorf("history after attempts to rewrite it: %v", h)
	}
}

func TestAMoveAndItsHistoryRollBackTogether(t *testing.T) {
	f := newFixture(t)
	f.register("fraud", nil)
	f.register("fraud", nil)
	f.promote("fraud", "production", 1, false)
	crash := errors.New("swap failed")
	err := f.db.Tx(f.ctx, func(tx *sql.Tx) error {
		if _, err := f.r.Promote(f.ctx, tx, Move{Model: "fraud", Alias: "production", Version: 2,
			Reason: ReasonGit, ArchivePrevious: true}); err != nil {
			return err
		}
		return crash
	})
	if !errors.Is(err, crash) {
		t.Fatal(err)
	}
	if a := f.aliases("fraud"); a["production"] != 1 {
		t.Errorf("production at %d after a rolled-back move, want 1", a["production"])
	}
	if h, _ := f.r.History(f.ctx, f.db, "fraud", ""); len(h) != 1 {
		t.Errorf("history holds %d moves after a rolled-back move, want 1", len(h))
	}
	if v := f.version("fraud", 1); v.Status != StatusReady {
		t.Errorf("version 1 is %s after a rolled-back archiving move", v.Status)
	}
}
