package training

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// RunStart is what is known of a run when it starts.
type RunStart struct {
	Experiment string
	// Name defaults to the experiment's name and the run ID's first
	// eight characters.
	Name          string
	Trigger       string // "apply" when empty
	SpecHash      string
	DatasetDigest string
	Spec          []byte
	GitCommit     string
	// Start is when the run started; zero means now.
	Start time.Time
}

// maxStoredLog is how much of a run's log its record keeps, the end of
// it; the whole log belongs in an artifact.
const maxStoredLog = 1 << 20

// StartRun records a new run, RUNNING, and returns it.
func (t *Tracker) StartRun(ctx context.Context, q Querier, s RunStart) (*Run, error) {
	if s.Experiment == "" {
		return nil, errors.New("start run: no experiment")
	}
	id := make([]byte, 16)
	rand.Read(id)
	r := &Run{
		ID: hex.EncodeToString(id), Experiment: s.Experiment, Name: s.Name, Status: StatusRunning,
		Trigger: s.Trigger, SpecHash: s.SpecHash, DatasetDigest: s.DatasetDigest, Spec: string(s.Spec),
		GitCommit: s.GitCommit, Start: s.Start,
	}
	if r.Start.IsZero() {
		r.Start = t.now()
	}
	r.Start = r.Start.UTC().Truncate(time.Millisecond)
	if r.Name == "" {
		r.Name = s.Experiment + "-" + r.ID[:8]
	}
	if r.Trigger == "" {
		r.Trigger = "apply"
	}
	_, err := q.ExecContext(ctx, `INSERT INTO training_runs
		(run_id, experiment, run_name, status, trigger, spec_hash, dataset_digest, spec, git_commit, start_time)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.Experiment, r.Name, r.Status, r.Trigger, r.SpecHash, r.DatasetDigest, r.Spec, r.GitCommit, r.Start.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("start run of %s: %w", s.Experiment, err)
	}
	return r, nil
}

// EndRun records how a run ended: its status (FINISHED, FAILED or
// KILLED), the error that failed it, and the end of its log.
func (t *Tracker) EndRun(ctx context.Context, q Querier, runID, status, errText, log string) error {
	switch status {
	case StatusFinished, StatusFailed, StatusKilled:
	default:
		return fmt.Errorf("end run %s: status %q, want FINISHED, FAILED or KILLED", runID, status)
	}
	if len(log) > maxStoredLog {
		log = "[...]" + log[len(log)-maxStoredLog:]
	}
	res, err := q.ExecContext(ctx, `UPDATE training_runs SET status = ?, end_time = ?, error = ?, log = ?
		WHERE run_id = ?`, status, t.now().UnixMilli(), errText, log, runID)
	if err != nil {
		return fmt.Errorf("end run %s: %w", runID, err)
	}
	return mustChange(res, runID)
}

func mustChange(res sql.Result, runID string) error {
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("no run %s", runID)
	}
	return nil
}

// internalID returns the row id of runID.
func internalID(ctx context.Context, q Querier, runID string) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `SELECT id FROM training_runs WHERE run_id = ?`, runID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("no run %s", runID)
	}
	return id, err
}

// LogParams records params. Params are immutable, as in MLflow: logging
// one again with the same value does nothing, with another is an error. A
// value longer than MaxParamValueLength is an error, never truncated.
func (t *Tracker) LogParams(ctx context.Context, q Querier, runID string, params map[string]string) error {
	id, err := internalID(ctx, q, runID)
	if err != nil {
		return fmt.Errorf("log params: %w", err)
	}
	var errs []error
	for _, key := range sortedKeys(params) {
		value := params[key]
		if err := errors.Join(checkKey("param", key), checkValue("param", key, value, MaxParamValueLength)); err != nil {
			errs = append(errs, err)
			continue
		}
		var old string
		err := q.QueryRowContext(ctx, `SELECT value FROM training_params WHERE run = ? AND key = ?`, id, key).Scan(&old)
		switch {
		case err == nil && old != value:
			errs = append(errs, fmt.Errorf("param %s is already %q; params of a run do not change (new value %q)", key, old, value))
		case errors.Is(err, sql.ErrNoRows):
			_, err = q.ExecContext(ctx, `INSERT INTO training_params(run, key, value, num) VALUES (?, ?, ?, ?)`, id, key, value, paramNumber(value))
			if err != nil {
				errs = append(errs, err)
			}
		case err != nil:
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("log params of run %s: %w", runID, err)
	}
	return nil
}

// paramNumber is a param's value as a number, for filters that compare
// params with numbers, or nil when it is not one.
func paramNumber(value string) any {
	f, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
	if err != nil || math.IsNaN(f) {
		return nil
	}
	return f
}

// SetTags records tags; a tag set again takes the new value.
func (t *Tracker) SetTags(ctx context.Context, q Querier, runID string, tags map[string]string) error {
	id, err := internalID(ctx, q, runID)
	if err != nil {
		return fmt.Errorf("set tags: %w", err)
	}
	for _, key := range sortedKeys(tags) {
		if err := errors.Join(checkKey("tag", key), checkValue("tag", key, tags[key], MaxTagValueLength)); err != nil {
			return fmt.Errorf("set tags of run %s: %w", runID, err)
		}
		if _, err := q.ExecContext(ctx, `INSERT INTO training_tags(run, key, value) VALUES (?, ?, ?)
			ON CONFLICT(run, key) DO UPDATE SET value = excluded.value`, id, key, tags[key]); err != nil {
			return fmt.Errorf("set tags of run %s: %w", runID, err)
		}
	}
	return nil
}

// LogArtifact records the file at path as an artifact of the run, with
// its size and SHA-256.
func (t *Tracker) LogArtifact(ctx context.Context, q Querier, runID, path string) (Artifact, error) {
	f, err := os.Open(path)
	if err != nil {
		return Artifact{}, fmt.Errorf("log artifact: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	size, err := io.Copy(h, f)
	if err != nil {
		return Artifact{}, fmt.Errorf("log artifact %s: %w", path, err)
	}
	a := Artifact{Path: path, SHA256: hex.EncodeToString(h.Sum(nil)), Size: size}
	id, err := internalID(ctx, q, runID)
	if err != nil {
		return Artifact{}, fmt.Errorf("log artifact %s: %w", path, err)
	}
	if _, err := q.ExecContext(ctx, `INSERT INTO training_artifacts(run, path, sha256, size) VALUES (?, ?, ?, ?)
		ON CONFLICT(run, path) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size`, id, a.Path, a.SHA256, a.Size); err != nil {
		return Artifact{}, fmt.Errorf("log artifact %s: %w", path, err)
	}
	return a, nil
}

// LogDataset records a dataset the run used, one per context.
func (t *Tracker) LogDataset(ctx context.Context, q Querier, runID string, d Dataset) error {
	id, err := internalID(ctx, q, runID)
	if err != nil {
		return fmt.Errorf("log dataset: %w", err)
	}
	if _, err := q.ExecContext(ctx, `INSERT INTO training_datasets(run, context, name, digest, rows) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT(run, context) DO UPDATE SET name = excluded.name, digest = excluded.digest, rows = excluded.rows`,
		id, d.Context, d.Name, d.Digest, d.Rows); err != nil {
		return fmt.Errorf("log dataset of run %s: %w", runID, err)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
