package store

// engineMigrations are the engine's tables: applied revisions, each
// resource's applied spec and condition, and the event log. Append only.
var engineMigrations = []string{
	`CREATE TABLE revisions (
		id INTEGER PRIMARY KEY,
		commit_hash TEXT NOT NULL,
		ref TEXT NOT NULL DEFAULT '',
		path TEXT NOT NULL DEFAULT '',
		started_at TEXT NOT NULL,
		finished_at TEXT,
		outcome TEXT NOT NULL DEFAULT 'applying', -- applying, applied, partial, failed
		message TEXT NOT NULL DEFAULT ''
	);
	CREATE TABLE state_meta (
		id INTEGER PRIMARY KEY CHECK (id = 1),
		serial INTEGER NOT NULL,
		current_revision INTEGER REFERENCES revisions(id)
	);
	INSERT INTO state_meta(id, serial) VALUES (1, 0);
	CREATE TABLE resources (
		kind TEXT NOT NULL,
		name TEXT NOT NULL,
		spec TEXT NOT NULL,
		hash TEXT NOT NULL,
		revision_id INTEGER NOT NULL REFERENCES revisions(id),
		applied_at TEXT NOT NULL,
		classes TEXT NOT NULL DEFAULT '{}', -- field path -> identity|metadata, for diffs of removed fields
		outputs TEXT NOT NULL DEFAULT '{}', -- what the runtime reported, e.g. a source's fingerprint
		PRIMARY KEY (kind, name)
	) WITHOUT ROWID;
	CREATE TABLE conditions (
		kind TEXT NOT NULL,
		name TEXT NOT NULL,
		status TEXT NOT NULL CHECK (status IN ('Ready', 'Progressing', 'Failed', 'Held')),
		reason TEXT NOT NULL,
		message TEXT NOT NULL DEFAULT '',
		since TEXT NOT NULL,
		revision_id INTEGER REFERENCES revisions(id),
		PRIMARY KEY (kind, name)
	) WITHOUT ROWID;
	CREATE TABLE events (
		id INTEGER PRIMARY KEY,
		at TEXT NOT NULL,
		kind TEXT NOT NULL DEFAULT '',
		name TEXT NOT NULL DEFAULT '',
		type TEXT NOT NULL, -- Normal or Warning
		reason TEXT NOT NULL,
		message TEXT NOT NULL DEFAULT '',
		revision_id INTEGER REFERENCES revisions(id)
	);
	CREATE INDEX events_by_resource ON events(kind, name, id);`,
}
