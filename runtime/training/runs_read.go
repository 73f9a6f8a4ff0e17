package training

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// runColumns are the training_runs columns scanRun reads, in its order.
const runColumns = `r.id, r.run_id, r.experiment, r.run_name, r.status, r.trigger, r.spec_hash,
	r.dataset_digest, r.spec, r.git_commit, r.start_time, r.end_time, r.error`

type scanner interface{ Scan(dest ...any) error }

func scanRun(s scanner) (int64, *Run, error) {
	var id, start int64
	var end sql.NullInt64
	r := &Run{}
	err := s.Scan(&id, &r.ID, &r.Experiment, &r.Name, &r.Status, &r.Trigger, &r.SpecHash,
		&r.DatasetDigest, &r.Spec, &r.GitCommit, &start, &end, &r.Error)
	if err != nil {
		return 0, nil, err
	}
	r.Start = time.UnixMilli(start).UTC()
	if end.Valid {
		r.End = time.UnixMilli(end.Int64).UTC()
	}
	return id, r, nil
}

// GetRun returns the run runID with its params, latest metrics, tags,
// artifacts and datasets.
func (t *Tracker) GetRun(ctx context.Context, q Querier, runID string) (*Run, error) {
	id, r, err := scanRun(q.QueryRowContext(ctx, `SELECT `+runColumns+` FROM training_runs r WHERE r.run_id = ?`, runID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("no run %s", runID)
	}
	if err != nil {
		return nil, fmt.Errorf("read run %s: %w", runID, err)
	}
	if err := loadDetails(ctx, q, map[int64]*Run{id: r}); err != nil {
		return nil, fmt.Errorf("read run %s: %w", runID, err)
	}
	return r, nil
}

// RunLog returns the end of the run's log as EndRun recorded it.
func (t *Tracker) RunLog(ctx context.Context, q Querier, runID string) (string, error) {
	var log string
	err := q.QueryRowContext(ctx, `SELECT log FROM training_runs WHERE run_id = ?`, runID).Scan(&log)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("no run %s", runID)
	}
	return log, err
}

// FindRun returns the latest FINISHED run of the key (experiment spec
// hash, dataset fingerprint), or nil when there is none: the plan trains
// only when it is nil.
func (t *Tracker) FindRun(ctx context.Context, q Querier, specHash, datasetDigest string) (*Run, error) {
	id, r, err := scanRun(q.QueryRowContext(ctx, `SELECT `+runColumns+` FROM training_runs r
		WHERE r.spec_hash = ? AND r.dataset_digest = ? AND r.status = 'FINISHED'
		ORDER BY r.start_time DESC, r.id DESC LIMIT 1`, specHash, datasetDigest))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find run: %w", err)
	}
	if err := loadDetails(ctx, q, map[int64]*Run{id: r}); err != nil {
		return nil, fmt.Errorf("find run: %w", err)
	}
	return r, nil
}

// loadDetails fills the params, metrics, tags, artifacts and datasets of
// runs, keyed by row id.
func loadDetails(ctx context.Context, q Querier, runs map[int64]*Run) error {
	if len(runs) == 0 {
		return nil
	}
	ids := make([]any, 0, len(runs))
	for id, r := range runs {
		ids = append(ids, id)
		r.Params, r.Metrics, r.Tags = map[string]string{}, map[string]float64{}, map[string]string{}
	}
	// Batches stay under SQLite's limit on bound parameters.
	for lo := 0; lo < len(ids); lo += 500 {
		batch := ids[lo:min(lo+500, len(ids))]
		in := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(batch)), ", ") + ")"
		loads := []struct {
			query string
			// row returns where to scan a row's columns after the run id,
			// and how to add them to the run.
			row func() ([]any, func(*Run))
		}{
			{`SELECT run, key, value FROM training_params WHERE run IN ` + in, func() ([]any, func(*Run)) {
				var k, v string
				return []any{&k, &v}, func(r *Run) { r.Params[k] = v }
			}},
			{`SELECT run, key, value, is_nan FROM training_latest_metrics WHERE run IN ` + in, func() ([]any, func(*Run)) {
				var k string
				var v *float64
				var nan int
				return []any{&k, &v, &nan}, func(r *Run) { r.Metrics[k] = loadedValue(v, nan) }
			}},
			{`SELECT run, key, value FROM training_tags WHERE run IN ` + in, func() ([]any, func(*Run)) {
				var k, v string
				return []any{&k, &v}, func(r *Run) { r.Tags[k] = v }
			}},
			{`SELECT run, path, sha256, size FROM training_artifacts WHERE run IN ` + in + ` ORDER BY path`, func() ([]any, func(*Run)) {
				var a Artifact
				return []any{&a.Path, &a.SHA256, &a.Size}, func(r *Run) { r.Artifacts = append(r.Artifacts, a) }
			}},
			{`SELECT run, name, digest, context, rows FROM training_datasets WHERE run IN ` + in + ` ORDER BY context`, func() ([]any, func(*Run)) {
				var d Dataset
				return []any{&d.Name, &d.Digest, &d.Context, &d.Rows}, func(r *Run) { r.Datasets = append(r.Datasets, d) }
			}},
		}
		for _, l := range loads {
			if err := loadRows(ctx, q, l.query, batch, runs, l.row); err != nil {
				return err
			}
		}
	}
	return nil
}

// loadRows runs query, whose first column is a run's row id, adding each
// row's other columns to that run.
func loadRows(ctx context.Context, q Querier, query string, args []any, runs map[int64]*Run, row func() ([]any, func(*Run))) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		dest, add := row()
		if err := rows.Scan(append([]any{&id}, dest...)...); err != nil {
			return err
		}
		if r := runs[id]; r != nil {
			add(r)
		}
	}
	return rows.Err()
}
