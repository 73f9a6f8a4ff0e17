package registry

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"sluice/runtime/store"
)

// VersionInput is what a finished run hands the registry: plain values, so
// the registry never needs to know how training works.
type VersionInput struct {
	RunID   string
	Metrics Metrics
	// ArtifactPath is where the model file is kept; ArtifactSHA256 is the
	// hex SHA-256 of its bytes.
	ArtifactPath   string
	ArtifactSHA256 string
	// Signature is the model's inputs and outputs as JSON, as training read
	// them from the model; empty means unknown.
	Signature          json.RawMessage
	DatasetFingerprint string
	// Commit is the git commit whose specs produced the run.
	Commit  string
	Lineage Facts
}

// Version is one registered version of a model.
type Version struct {
	Model  string
	Number int
	Status Status
	// Message says why a version is FAILED or ARCHIVED.
	Message            string
	RunID              string
	Metrics            Metrics
	ArtifactPath       string
	ArtifactSHA256     string
	Signature          json.RawMessage
	DatasetFingerprint string
	Commit             string
	Lineage            Facts
	CreatedAt          time.Time
	UpdatedAt          time.Time
	// Aliases point at this version now, sorted.
	Aliases []string
}

// ErrNotFound is wrapped by every error about a model or version the
// registry does not hold.
var ErrNotFound = errors.New("not found")

// RegisterVersion records a new READY version of model and returns its
// number: one more than the highest number model ever had, 1 for its first.
// The number is taken inside tx, so if tx rolls back the number is given
// again by the next registration, and no two registrations share one.
func (r *Registry) RegisterVersion(ctx context.Context, tx *sql.Tx, model string, in VersionInput) (int, error) {
	if err := validateModel(model); err != nil {
		return 0, fmt.Errorf("register version: %w", err)
	}
	if err := in.validate(); err != nil {
		return 0, fmt.Errorf("register version of %s: %w", model, err)
	}
	metrics, err := json.Marshal(nonNilMetrics(in.Metrics))
	if err != nil {
		return 0, fmt.Errorf("register version of %s: metrics: %w", model, err)
	}
	lineage, err := json.Marshal(in.Lineage)
	if err != nil {
		return 0, fmt.Errorf("register version of %s: lineage: %w", model, err)
	}
	sig := "null"
	if len(in.Signature) > 0 {
		sig = string(in.Signature)
	}
	now := r.now().UnixNano()
	var v int
	err = tx.QueryRowContext(ctx, `INSERT INTO registry_models(name, last_version, created_at) VALUES (?, 1, ?)
		ON CONFLICT(name) DO UPDATE SET last_version = last_version + 1
		RETURNING last_version`, model, now).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("register version of %s: %w", model, err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO registry_versions(model, version, status, run_id, metrics, artifact_path,
			artifact_sha256, signature, dataset_fingerprint, commit_hash, lineage, created_at, updated_at)
		VALUES (?, ?, 'READY', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		model, v, in.RunID, string(metrics), in.ArtifactPath, strings.ToLower(in.ArtifactSHA256), sig,
		in.DatasetFingerprint, in.Commit, string(lineage), now, now)
	if err != nil {
		return 0, fmt.Errorf("register version %d of %s: %w", v, model, err)
	}
	return v, nil
}

// validate names the first field of in that cannot be recorded.
func (in *VersionInput) validate() error {
	switch {
	case in.RunID == "":
		return fmt.Errorf("run_id is empty")
	case in.ArtifactPath == "":
		return fmt.Errorf("artifact_path is empty")
	case len(in.ArtifactSHA256) != 64 || !isHex(in.ArtifactSHA256):
		return fmt.Errorf("artifact_sha256 %q is not a hex SHA-256 (64 hex digits)", in.ArtifactSHA256)
	case in.DatasetFingerprint == "":
		return fmt.Errorf("dataset_fingerprint is empty")
	case len(in.Signature) > 0 && !json.Valid(in.Signature):
		return fmt.Errorf("signature is not valid JSON")
	}
	for name := range in.Metrics {
		if name == "" {
			return fmt.Errorf("metrics: a metric has an empty name")
		}
	}
	return in.Lineage.validate()
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}

func nonNilMetrics(m Metrics) Metrics {
	if m == nil {
		return Metrics{}
	}
	return m
}

const versionColumns = `model, version, status, status_message, run_id, metrics, artifact_path, artifact_sha256,
	signature, dataset_fingerprint, commit_hash, lineage, created_at, updated_at`

func scanVersion(row interface{ Scan(...any) error }) (*Version, error) {
	var v Version
	var status, metrics, sig, lineage string
	var created, updated int64
	err := row.Scan(&v.Model, &v.Number, &status, &v.Message, &v.RunID, &metrics, &v.ArtifactPath, &v.ArtifactSHA256,
		&sig, &v.DatasetFingerprint, &v.Commit, &lineage, &created, &updated)
	if err != nil {
		return nil, err
	}
	v.Status = Status(status)
	if err := json.Unmarshal([]byte(metrics), &v.Metrics); err != nil {
		return nil, fmt.Errorf("version %d of %s: metrics: %w", v.Number, v.Model, err)
	}
	if err := json.Unmarshal([]byte(lineage), &v.Lineage); err != nil {
		return nil, fmt.Errorf("version %d of %s: lineage: %w", v.Number, v.Model, err)
	}
	if sig != "null" {
		v.Signature = json.RawMessage(sig)
	}
	v.CreatedAt, v.UpdatedAt = fromNanos(created), fromNanos(updated)
	return &v, nil
}

// Version returns version n of model with the aliases on it. The error
// wraps ErrNotFound when there is no such version.
func (r *Registry) Version(ctx context.Context, q store.Querier, model string, n int) (*Version, error) {
	row := q.QueryRowContext(ctx, `SELECT `+versionColumns+` FROM registry_versions WHERE model = ? AND version = ?`, model, n)
	v, err := scanVersion(row)
	if err == sql.ErrNoRows {
		return nil, r.missingVersion(ctx, q, model, n)
	}
	if err != nil {
		return nil, fmt.Errorf("read version %d of %s: %w", n, model, err)
	}
	aliases, err := r.Aliases(ctx, q, model)
	if err != nil {
		return nil, err
	}
	v.Aliases = aliasesOf(aliases, n)
	return v, nil
}

// missingVersion says what model does have, so the error can be acted on.
func (r *Registry) missingVersion(ctx context.Context, q store.Querier, model string, n int) error {
	var last sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT last_version FROM registry_models WHERE name = ?`, model).Scan(&last)
	switch {
	case err == sql.ErrNoRows:
		return fmt.Errorf("model %s has no versions: %w", model, ErrNotFound)
	case err != nil:
		return fmt.Errorf("read model %s: %w", model, err)
	case int64(n) <= last.Int64 && n >= 1:
		return fmt.Errorf("version %d of %s was deleted: %w", n, model, ErrNotFound)
	}
	return fmt.Errorf("model %s has no version %d (the newest is %d): %w", model, n, last.Int64, ErrNotFound)
}

// Versions returns every version of model, oldest first, with their aliases.
// A model the registry never saw has none.
func (r *Registry) Versions(ctx context.Context, q store.Querier, model string) ([]*Version, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+versionColumns+` FROM registry_versions WHERE model = ? ORDER BY version`, model)
	if err != nil {
		return nil, fmt.Errorf("read versions of %s: %w", model, err)
	}
	defer rows.Close()
	var out []*Version
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			return nil, fmt.Errorf("read versions of %s: %w", model, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read versions of %s: %w", model, err)
	}
	rows.Close()
	aliases, err := r.Aliases(ctx, q, model)
	if err != nil {
		return nil, err
	}
	for _, v := range out {
		v.Aliases = aliasesOf(aliases, v.Number)
	}
	return out, nil
}

// Models returns the name of every model that has had a version, sorted.
func (r *Registry) Models(ctx context.Context, q store.Querier) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT name FROM registry_models ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("read models: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("read models: %w", err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// LastVersion returns the highest number model was ever given, 0 when it
// never had a version: the next registration is numbered one more, which
// is how a plan tells the versions its training will register.
func (r *Registry) LastVersion(ctx context.Context, q store.Querier, model string) (int, error) {
	var last int
	err := q.QueryRowContext(ctx, `SELECT last_version FROM registry_models WHERE name = ?`, model).Scan(&last)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read model %s: %w", model, err)
	}
	return last, nil
}
