package reliability

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3"
)

// openState opens dir/state.db read-only.
func openState(t *testing.T, dir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "state.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// rowsOf runs q and returns each row's columns joined by " | ", in the
// order the query gives.
func rowsOf(db *sql.DB, q string) ([]string, error) {
	rows, err := db.Query(q)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = v.String
			if !v.Valid {
				parts[i] = "NULL"
			}
		}
		out = append(out, strings.Join(parts, " | "))
	}
	return out, rows.Err()
}

// canonical is the state in a form two applies of the same revision must
// agree on, whatever crashed in between: what is in force and why, the
// feature tables' contents, the runs, versions and aliases. Ids, run ids,
// clocks and the history of interrupted attempts are left out.
func canonical(t *testing.T, dir string) string {
	t.Helper()
	db := openState(t, dir)
	var b strings.Builder
	section := func(name, q string) {
		rows, err := rowsOf(db, q)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "== %s\n", name)
		for _, r := range rows {
			b.WriteString(r + "\n")
		}
	}
	section("current revision", `SELECT r.commit_hash, r.outcome FROM state_meta m JOIN revisions r ON r.id = m.current_revision`)
	section("resources", `SELECT kind, name, hash, json_remove(outputs, '$.run_id', '$.run_name', '$.artifact') FROM resources ORDER BY kind, name`)
	section("conditions", `SELECT kind, name, status, reason FROM conditions ORDER BY kind, name`)
	section("feature views", `SELECT name, layout, ttl, source_size, source_sha256, source_lines, watermark FROM feature_views ORDER BY name`)
	tables, err := rowsOf(db, `SELECT name FROM sqlite_master WHERE type = 'table' AND (name LIKE 'features_offline_%' OR name LIKE 'features_online_%') ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range tables {
		fmt.Fprintf(&b, "== %s\n%s\n", tb, tableDigest(t, db, tb))
	}
	section("runs", `SELECT experiment, status, trigger, spec_hash, dataset_digest, git_commit, error FROM training_runs ORDER BY experiment, spec_hash, dataset_digest`)
	section("params", `SELECT r.experiment, p.key, p.value FROM training_params p JOIN training_runs r ON r.id = p.run ORDER BY 1, 2`)
	section("metrics", `SELECT r.experiment, m.key, m.step, m.value, m.is_nan FROM training_metrics m JOIN training_runs r ON r.id = m.run ORDER BY 1, 2, 3`)
	section("datasets", `SELECT r.experiment, d.context, d.digest, d.rows FROM training_datasets d JOIN training_runs r ON r.id = d.run ORDER BY 1, 2`)
	section("artifacts", `SELECT r.experiment, a.sha256, a.size FROM training_artifacts a JOIN training_runs r ON r.id = a.run ORDER BY 1, 2`)
	section("models", `SELECT name, last_version FROM registry_models ORDER BY name`)
	section("versions", `SELECT v.model, v.version, v.status, r.experiment, v.metrics, v.artifact_sha256, v.signature, v.dataset_fingerprint, v.commit_hash, v.lineage
		FROM registry_versions v JOIN training_runs r ON r.run_id = v.run_id ORDER BY v.model, v.version`)
	section("aliases", `SELECT model, alias, version FROM registry_aliases ORDER BY model, alias`)
	section("alias moves", `SELECT model, alias, from_version, to_version, commit_hash FROM registry_alias_history ORDER BY model, alias, id`)
	return b.String()
}

// tableDigest is a table's row count and a SHA-256 of its rows in a
// stable order.
func tableDigest(t *testing.T, db *sql.DB, table string) string {
	t.Helper()
	cols, err := rowsOf(db, fmt.Sprintf(`SELECT name FROM pragma_table_info('%s') ORDER BY cid`, table))
	if err != nil {
		t.Fatal(err)
	}
	order := make([]string, len(cols))
	for i := range cols {
		order[i] = fmt.Sprint(i + 1)
	}
	rows, err := rowsOf(db, fmt.Sprintf(`SELECT * FROM %q ORDER BY %s`, table, strings.Join(order, ", ")))
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	for _, r := range rows {
		io.WriteString(h, r+"\n")
	}
	return fmt.Sprintf("%d rows, sha256 %s", len(rows), hex.EncodeToString(h.Sum(nil))[:16])
}

// checkInvariants returns every way the state in dir breaks a promise
// that holds after any crash: an intact database, no apply left marked
// in progress, no run or version registered twice, contiguous version
// numbers, and every version's model file present with its recorded hash.
func checkInvariants(t *testing.T, dir string) []string {
	t.Helper()
	db := openState(t, dir)
	var bad []string
	expect := func(what, q string, want ...string) {
		got, err := rowsOf(db, q)
		if err != nil {
			bad = append(bad, err.Error())
			return
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			bad = append(bad, fmt.Sprintf("%s: got %q, want %q", what, got, want))
		}
	}
	expect("integrity_check", `PRAGMA integrity_check`, "ok")
	expect("foreign_key_check", `PRAGMA foreign_key_check`)
	expect("applies left in progress", `SELECT id, commit_hash FROM revisions WHERE outcome = 'applying'`)
	expect("runs left running", `SELECT run_id FROM training_runs WHERE status = 'RUNNING'`)
	expect("runs trained twice for one spec and dataset", `SELECT experiment, count(*) FROM training_runs
		WHERE status = 'FINISHED' GROUP BY experiment, spec_hash, dataset_digest HAVING count(*) > 1`)
	expect("versions registered twice for one run", `SELECT run_id, count(*) FROM registry_versions GROUP BY run_id HAVING count(*) > 1`)
	expect("versions registered twice for one experiment and dataset", `SELECT v.model, r.experiment, count(*) FROM registry_versions v
		JOIN training_runs r ON r.run_id = v.run_id GROUP BY v.model, r.experiment, r.spec_hash, r.dataset_digest HAVING count(*) > 1`)
	expect("version numbers with gaps", `SELECT m.name, m.last_version, count(v.version), min(v.version), max(v.version)
		FROM registry_models m LEFT JOIN registry_versions v ON v.model = m.name GROUP BY m.name
		HAVING count(v.version) != m.last_version OR coalesce(max(v.version), 0) != m.last_version OR coalesce(min(v.version), 1) != 1`)
	bad = append(bad, checkArtifacts(t, db, dir)...)
	return bad
}

// checkArtifacts checks that every registered version's model file exists
// with the SHA-256 recorded for it: zero bytes lost.
func checkArtifacts(t *testing.T, db *sql.DB, dir string) []string {
	rows, err := rowsOf(db, `SELECT model || ' v' || version, artifact_path, artifact_sha256 FROM registry_versions ORDER BY model, version`)
	if err != nil {
		return []string{err.Error()}
	}
	var bad []string
	for _, r := range rows {
		f := strings.Split(r, " | ")
		p := f[1]
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s: model file: %v", f[0], err))
			continue
		}
		if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != f[2] {
			bad = append(bad, fmt.Sprintf("%s: model file %s has sha256 %x, recorded %s", f[0], f[1], sum, f[2]))
		}
	}
	return bad
}

// orphanArtifacts counts model files under dir/artifacts that no version
// names: the leftovers of trainings a crash cut short (not lost data).
func orphanArtifacts(t *testing.T, dir string) int {
	t.Helper()
	db := openState(t, dir)
	known := map[string]bool{}
	rows, err := rowsOf(db, `SELECT artifact_path FROM registry_versions`)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		known[filepath.Clean(r)] = true
	}
	n := 0
	filepath.WalkDir(filepath.Join(dir, "artifacts"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			if !known[rel] {
				n++
			}
		}
		return nil
	})
	return n
}

// diffLines is a short line diff of two canonical states.
func diffLines(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	in := func(xs []string) map[string]bool {
		m := map[string]bool{}
		for _, x := range xs {
			m[x] = true
		}
		return m
	}
	am, bm := in(al), in(bl)
	var out []string
	for _, l := range al {
		if !bm[l] {
			out = append(out, "- "+l)
		}
	}
	for _, l := range bl {
		if !am[l] {
			out = append(out, "+ "+l)
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}
