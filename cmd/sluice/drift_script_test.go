package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"sluice/runtime/drift"
	"sluice/runtime/store"
)

// cmdCapture writes captured requests into a state file as a serving
// endpoint's capture buffer would: capture STATE ENDPOINT VERSION N
// FEATURE=VALUE... A numeric VALUE may end in +i, adding the row's index,
// so rows spread out. Request ids are req-0 … req-(N-1).
func cmdCapture(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 4 {
		ts.Fatalf("usage: capture STATE ENDPOINT VERSION N FEATURE=VALUE...")
	}
	version, err := strconv.Atoi(args[2])
	ts.Check(err)
	n, err := strconv.Atoi(args[3])
	ts.Check(err)
	ctx := context.Background()
	db, err := store.Open(ctx, ts.MkAbs(args[0]))
	ts.Check(err)
	defer db.Close()
	_, err = drift.Open(ctx, db)
	ts.Check(err)
	buf := drift.NewCapture(db, drift.CaptureOptions{})
	rows := make([]drift.Row, n)
	for i := range rows {
		r := drift.Row{Endpoint: args[1], RequestID: fmt.Sprintf("req-%d", i), Version: version,
			Time: time.Now().Add(-time.Second), Numeric: map[string]float64{}, Category: map[string]string{}}
		for _, kv := range args[4:] {
			k, v, _ := strings.Cut(kv, "=")
			base, step := strings.CutSuffix(v, "+i")
			if f, err := strconv.ParseFloat(base, 64); err == nil {
				if step {
					f += float64(i)
				}
				r.Numeric[k] = f
			} else {
				r.Category[k] = v
			}
		}
		rows[i] = r
	}
	buf.Capture(rows)
	ts.Check(buf.Close(ctx))
	if buf.Written() != int64(n) {
		ts.Fatalf("captured %d of %d rows", buf.Written(), n)
	}
}
