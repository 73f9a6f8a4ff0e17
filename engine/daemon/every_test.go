package daemon

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestAViewsEveryRunsItsIncrementalMaterializationBeforeTheRecheck: with
// the re-check an hour away, a view that says every: "50ms" still picks up
// rows appended to its data-root source on its own schedule.
func TestAViewsEveryRunsItsIncrementalMaterializationBeforeTheRecheck(t *testing.T) {
	root := t.TempDir()
	file := root + "/tx.csv"
	writeFile(t, file, txCSV)
	r := newRepo(t)
	spec := strings.Replace(viewSpec(""), `"data/tx.csv"`, `"`+file+`"`, 1)
	r.Write("specs/main.cue", strings.Replace(spec, `ttl: "87600h"`, `ttl: "87600h", every: "50ms"`, 1))
	r.Commit("a view materialized every 50ms")
	h := start(t, r.Dir(), "", func(c *Config) { c.DataRoots, c.Recheck = []string{root}, time.Hour })
	h.waitCurrent(r.Head())
	if s := h.status(); s.NextRecheck == nil || time.Until(*s.NextRecheck) > time.Second {
		t.Errorf("next re-check %v, want within the view's every", s.NextRecheck)
	}
	f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("4,2026-11-04T00:00:00Z,8\n")
	f.Close()
	eventually(t, "the view's every to materialize the new row", func() bool { return len(h.events(ReasonDriftHealed)) > 0 })
	if ev := h.events(ReasonDriftHealed)[0]; !strings.Contains(ev.Message, "features.spend") {
		t.Errorf("event %q does not name the view", ev.Message)
	}
}
