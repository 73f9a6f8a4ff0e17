// Package store opens Sluice's state file: one SQLite database in WAL mode
// with foreign keys on, versioned migrations per component, and the tables
// that record what the engine applied.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	_ "github.com/mattn/go-sqlite3" // the database/sql driver "sqlite3"
)

// DefaultPath is where the state file lives unless --state says otherwise.
const DefaultPath = ".sluice/state.db"

// DB is an open state file.
type DB struct {
	*sql.DB
	// Path is the file's path; ":memory:" for an empty, throwaway state.
	Path     string
	ReadOnly bool
}

// Open opens (creating when needed) the state file at path and brings the
// engine's tables up to date.
func Open(ctx context.Context, path string) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("open state %s: %w", path, err)
	}
	db, err := open(ctx, path, false)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx, "engine", engineMigrations); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// OpenReadOnly opens the state file for reading only, as plan does: nothing
// is created or changed. A missing file reads as an empty state.
func OpenReadOnly(ctx context.Context, path string) (*DB, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		db, err := open(ctx, ":memory:", false)
		if err != nil {
			return nil, err
		}
		if err := db.Migrate(ctx, "engine", engineMigrations); err != nil {
			db.Close()
			return nil, err
		}
		return db, nil
	}
	return open(ctx, path, true)
}

func open(ctx context.Context, path string, readOnly bool) (*DB, error) {
	q := url.Values{}
	q.Set("_foreign_keys", "on")
	q.Set("_busy_timeout", "10000")
	q.Set("_txlock", "immediate")
	// A private in-memory database, not cache=shared: that one would be
	// shared by every empty state opened in the process.
	dsn := "file::memory:?" + q.Encode()
	if path != ":memory:" {
		if readOnly {
			q.Set("mode", "ro")
		} else {
			q.Set("_journal_mode", "WAL")
			q.Set("_synchronous", "NORMAL")
		}
		dsn = "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	}
	sdb, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("open state %s: %w", path, err)
	}
	if path == ":memory:" {
		// Every connection to a private in-memory database is a new empty
		// database; one connection keeps them the same.
		sdb.SetMaxOpenConns(1)
	}
	if err := sdb.PingContext(ctx); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("open state %s: %w", path, err)
	}
	return &DB{DB: sdb, Path: path, ReadOnly: readOnly}, nil
}

// Tx runs fn in one transaction, committing when it returns nil.
func (db *DB) Tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
