package store

import (
	"context"
	"database/sql"
	"fmt"
)

// Migrate brings component's tables up to date: steps[i] is the SQL of
// version i+1, and each step that has not run yet runs in its own transaction
// with the record of it. Each runtime package owns its component's steps;
// they are append-only.
func (db *DB) Migrate(ctx context.Context, component string, steps []string) error {
	if db.ReadOnly {
		return db.checkMigrated(ctx, component, len(steps))
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		component TEXT NOT NULL PRIMARY KEY,
		version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("migrate %s: %w", component, err)
	}
	for {
		done, err := db.step(ctx, component, steps)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
	}
}

// step runs the next migration of component, reporting done when none is left.
func (db *DB) step(ctx context.Context, component string, steps []string) (done bool, err error) {
	err = db.Tx(ctx, func(tx *sql.Tx) error {
		var v int
		err := tx.QueryRowContext(ctx, `SELECT version FROM schema_migrations WHERE component = ?`, component).Scan(&v)
		if err != nil && err != sql.ErrNoRows {
			return err
		}
		if v > len(steps) {
			return fmt.Errorf("state file's %s tables are at version %d, newer than this sluice knows (%d): upgrade sluice", component, v, len(steps))
		}
		if v == len(steps) {
			done = true
			return nil
		}
		if _, err := tx.ExecContext(ctx, steps[v]); err != nil {
			return fmt.Errorf("migration %s #%d: %w", component, v+1, err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations(component, version) VALUES (?, ?)
			ON CONFLICT(component) DO UPDATE SET version = excluded.version`, component, v+1)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("migrate %s: %w", component, err)
	}
	return done, nil
}

// checkMigrated reports whether a read-only state is new enough to read.
func (db *DB) checkMigrated(ctx context.Context, component string, want int) error {
	var v int
	err := db.QueryRowContext(ctx, `SELECT version FROM schema_migrations WHERE component = ?`, component).Scan(&v)
	if err == sql.ErrNoRows || (err == nil && v < want) {
		return fmt.Errorf("state file %s predates this sluice (%s tables at version %d, want %d): run apply once to upgrade it", db.Path, component, v, want)
	}
	if err != nil {
		return fmt.Errorf("read state %s: %w", db.Path, err)
	}
	return nil
}
