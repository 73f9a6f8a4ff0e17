package features

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"sluice/schema"
)

// MaterializeRequest asks for one feature view to be brought up to date
// with its source.
type MaterializeRequest struct {
	View   *schema.FeatureView
	Source *schema.Source
	// Entities are the view's entities, in the order the view names them.
	Entities []*schema.Entity
	// FS is the revision's files; the source's path is relative to its
	// root unless it is absolute (a configured data root).
	FS fs.FS
	// Full rebuilds the view's tables even when the source only grew.
	Full bool
}

// Materialization modes.
const (
	ModeFull        = "full"
	ModeIncremental = "incremental"
	ModeUnchanged   = "unchanged"
)

// MaterializeResult says what a materialization did.
type MaterializeResult struct {
	View string
	// Mode is full, incremental (only rows appended to the source were
	// read) or unchanged (the source did not move).
	Mode string
	// Reason says why a materialization was full.
	Reason string
	// RowsRead are the data rows parsed; RowsWritten those inserted into
	// the offline table; OnlineRows the entities whose online value moved.
	RowsRead, RowsWritten, OnlineRows int64
	// Watermark is the newest event time the view holds.
	Watermark time.Time
	// SourceSHA256 is the hex SHA-256 of the source bytes the view now
	// holds, so a caller can tell a file that changed while it was read.
	SourceSHA256 string
}

// String is a one-line summary for status and events.
func (r MaterializeResult) String() string {
	s := fmt.Sprintf("%s: read %d rows, wrote %d", r.Mode, r.RowsRead, r.RowsWritten)
	if r.Mode == ModeFull && r.Reason != "" {
		s = fmt.Sprintf("full (%s): read %d rows, wrote %d", r.Reason, r.RowsRead, r.RowsWritten)
	}
	if r.OnlineRows > 0 {
		s += fmt.Sprintf(", %d online", r.OnlineRows)
	}
	if !r.Watermark.IsZero() {
		s += ", watermark " + r.Watermark.UTC().Format(time.RFC3339)
	}
	return s
}

// Materialize brings a view's offline and online tables up to date with
// its source, inside tx: on error the caller rolls back and the data
// materialized before stays. When the source only grew since the last
// run and the view is unchanged, only the new rows are read; otherwise the
// view is rebuilt. The online table keeps, per entity, the row with the
// newest event time, so materializing an old window never overwrites a
// newer value.
func (s *Store) Materialize(ctx context.Context, tx *sql.Tx, req MaterializeRequest) (MaterializeResult, error) {
	v, err := viewInfo(req)
	if err != nil {
		return MaterializeResult{}, err
	}
	res := MaterializeResult{View: v.Name, Mode: ModeIncremental}
	prev, err := readRecord(ctx, tx, v.Name)
	if err != nil && !errors.Is(err, errNoView) {
		return res, err
	}
	rec := &record{info: *v, layout: v.layout()}
	switch {
	case prev == nil:
		res.Reason = "new view"
	case prev.layout != rec.layout:
		res.Reason = "view changed"
	case req.Full:
		res.Reason = "rebuild requested"
	}
	src, err := s.openSource(ctx, tx, req.FS, v, prev, &res)
	if err != nil {
		return res, err
	}
	defer src.close()
	if res.Reason != "" {
		res.Mode = ModeFull
	}
	onlineNew, err := prepareTables(ctx, tx, v, res.Mode == ModeFull, prev != nil && prev.layout == rec.layout)
	if err != nil {
		return res, err
	}
	ld, err := s.loadRows(ctx, tx, v, src.rows, res.Mode == ModeIncremental && v.Online && !onlineNew)
	if err != nil {
		return res, err
	}
	res.RowsRead, res.RowsWritten = ld.read, ld.written
	if res.Mode == ModeIncremental && ld.read == 0 {
		res.Mode = ModeUnchanged
	}
	// The online table takes every entity's newest row after a rebuild,
	// and those of the entities an incremental load touched otherwise.
	if all := res.Mode == ModeFull || onlineNew; v.Online && (all || len(ld.touched) > 0) {
		keys := ld.touched
		if all {
			keys = nil
		}
		if res.OnlineRows, err = updateOnline(ctx, tx, v, keys); err != nil {
			return res, err
		}
	}
	if res.Mode != ModeFull && prev != nil {
		rec.info.Watermark = prev.info.Watermark
	}
	if ld.anyTS && (rec.info.Watermark.IsZero() || ld.maxTS > rec.info.Watermark.UnixNano()) {
		rec.info.Watermark = time.Unix(0, ld.maxTS).UTC()
	}
	res.Watermark = rec.info.Watermark
	rec.size, rec.sha, rec.lines = src.state()
	res.SourceSHA256 = rec.sha
	return res, writeRecord(ctx, tx, rec, prev, &res, time.Now())
}

// loadRows runs a loader over rr with a page cache big enough for the
// bulk load, restoring the connection's setting afterwards.
func (s *Store) loadRows(ctx context.Context, tx *sql.Tx, v *ViewInfo, rr rowReader, trackKeys bool) (*loader, error) {
	plan, err := planLoad(v, rr)
	if err != nil {
		return nil, err
	}
	var cache int64
	if err := tx.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&cache); err == nil && cache > -bulkCacheKiB {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size = -%d", bulkCacheKiB)); err == nil {
			defer tx.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf("PRAGMA cache_size = %d", cache))
		}
	}
	ld := &loader{tx: tx, plan: plan, rr: rr, runRows: max(1, s.RunRows), trackKeys: trackKeys}
	return ld, ld.load(ctx)
}

// bulkCacheKiB is the page cache a load uses: enough to keep the b-tree's
// working set of an incremental load of a large view in memory.
const bulkCacheKiB = 256 << 10

// prepareTables makes the view's tables ready for a load: a full load
// starts from an empty offline table; the online table is kept when its
// layout is unchanged (newer values win over what a rebuild brings) and
// made when missing, which onlineNew reports.
func prepareTables(ctx context.Context, tx *sql.Tx, v *ViewInfo, full, sameLayout bool) (onlineNew bool, err error) {
	var ddl []string
	if full {
		ddl = append(ddl, "DROP TABLE IF EXISTS "+offlineTable(v.Name), createOffline(v))
	}
	if !v.Online || !sameLayout {
		ddl = append(ddl, "DROP TABLE IF EXISTS "+onlineTable(v.Name))
	}
	for _, q := range ddl {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return false, fmt.Errorf("prepare tables of %s: %w", v.Name, err)
		}
	}
	if !v.Online {
		return false, nil
	}
	exists, err := tableExists(ctx, tx, "features_online_"+v.Name)
	if err != nil || exists {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, createOnline(v)); err != nil {
		return false, fmt.Errorf("prepare tables of %s: %w", v.Name, err)
	}
	return true, nil
}

func tableExists(ctx context.Context, tx *sql.Tx, name string) (bool, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?`, name).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("look up table %s: %w", name, err)
	}
	return n > 0, nil
}
