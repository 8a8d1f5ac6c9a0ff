//! droplake's own tables in the warehouse, and their migrations.
//!
//! `PRAGMA user_version` records which migrations have run; each runs once,
//! in a transaction with the version bump, so a crash mid-migration leaves
//! the previous version intact.
//!
//! - `_droplake_tables`: each warehouse table, the schema version (a hash of
//!   the normalized descriptor) it has, and that descriptor.
//! - `_droplake_loads`: one row per load of one object into one table, with
//!   its counts, times and outcome.
//! - `_droplake_rejects`: every rejected row of a load, with its reason and
//!   the raw record so it can be re-processed.
//! - `_droplake_dedupe`: which load holds each (table, content hash), so the
//!   same content is loaded once.
//! - `_droplake_objects`, `_droplake_jobs`, `_droplake_attempts`: the
//!   daemon's ledger (see [`super::ledger`]).
//! - `_droplake_events`: the event log (see [`crate::events`]).
//! - `_droplake_daemon`: the running daemon, for `status` and for its lock.

use rusqlite::{Connection, Transaction};

/// The migrations in order; the database's `user_version` counts how many
/// have been applied.
const MIGRATIONS: [&str; 3] = [
    r#"
CREATE TABLE _droplake_tables (
    name           TEXT PRIMARY KEY,
    schema_version TEXT NOT NULL,
    descriptor     TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE TABLE _droplake_loads (
    id             INTEGER PRIMARY KEY,
    table_name     TEXT NOT NULL,
    object_path    TEXT NOT NULL,
    sha256         TEXT NOT NULL,
    size           INTEGER NOT NULL,
    schema_version TEXT NOT NULL,
    rows_read      INTEGER NOT NULL DEFAULT 0,
    rows_loaded    INTEGER NOT NULL DEFAULT 0,
    rows_rejected  INTEGER NOT NULL DEFAULT 0,
    started_at     TEXT NOT NULL,
    finished_at    TEXT,
    outcome        TEXT NOT NULL CHECK (outcome IN ('loaded', 'partial', 'failed', 'aborted', 'duplicate')),
    message        TEXT
);
CREATE INDEX _droplake_loads_by_table ON _droplake_loads (table_name, id);
CREATE INDEX _droplake_loads_by_sha256 ON _droplake_loads (sha256);
CREATE TABLE _droplake_rejects (
    load_id        INTEGER NOT NULL REFERENCES _droplake_loads (id),
    row_number     INTEGER,
    field          TEXT,
    field_number   INTEGER,
    value          TEXT,
    error_type     TEXT NOT NULL,
    constraint_name TEXT,
    message        TEXT NOT NULL,
    record         TEXT
);
CREATE INDEX _droplake_rejects_by_load ON _droplake_rejects (load_id, row_number);
CREATE TABLE _droplake_dedupe (
    table_name     TEXT NOT NULL,
    sha256         TEXT NOT NULL,
    load_id        INTEGER NOT NULL REFERENCES _droplake_loads (id),
    PRIMARY KEY (table_name, sha256)
);
"#,
    r#"
CREATE TABLE _droplake_objects (
    id             INTEGER PRIMARY KEY,
    dataset        TEXT NOT NULL,
    path           BLOB NOT NULL,
    name           TEXT NOT NULL,
    sha256         TEXT NOT NULL,
    size           INTEGER NOT NULL,
    mtime_ns       INTEGER NOT NULL,
    inode          INTEGER NOT NULL,
    rank           INTEGER NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('active', 'done', 'failed', 'duplicate')),
    duplicate_of   INTEGER REFERENCES _droplake_objects (id),
    load_id        INTEGER,
    rows_loaded    INTEGER,
    rows_rejected  INTEGER,
    detected_at    TEXT NOT NULL,
    finished_at    TEXT,
    removed_at     TEXT,
    UNIQUE (dataset, path, sha256)
);
CREATE INDEX _droplake_objects_by_sha256 ON _droplake_objects (dataset, sha256);
CREATE INDEX _droplake_objects_active ON _droplake_objects (state) WHERE state = 'active';
CREATE TABLE _droplake_jobs (
    object_id      INTEGER NOT NULL REFERENCES _droplake_objects (id),
    handler        TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('pending', 'running', 'done', 'retry', 'dead', 'duplicate')),
    attempts       INTEGER NOT NULL DEFAULT 0,
    next_at_ms     INTEGER NOT NULL DEFAULT 0,
    last_error     TEXT,
    lease_owner    TEXT,
    lease_expires_ms INTEGER,
    updated_at     TEXT NOT NULL,
    PRIMARY KEY (object_id, handler)
);
CREATE INDEX _droplake_jobs_unfinished ON _droplake_jobs (state) WHERE state NOT IN ('done', 'dead', 'duplicate');
CREATE TABLE _droplake_attempts (
    object_id      INTEGER NOT NULL REFERENCES _droplake_objects (id),
    handler        TEXT NOT NULL,
    attempt        INTEGER NOT NULL,
    started_at     TEXT NOT NULL,
    finished_at    TEXT NOT NULL,
    outcome        TEXT NOT NULL CHECK (outcome IN ('done', 'retry', 'dead', 'interrupted')),
    exit_code      INTEGER,
    signal         INTEGER,
    error          TEXT,
    load_id        INTEGER,
    stdout         BLOB,
    stdout_dropped INTEGER NOT NULL DEFAULT 0,
    stderr         BLOB,
    stderr_dropped INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (object_id, handler, attempt)
);
CREATE TABLE _droplake_events (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    at             TEXT NOT NULL,
    kind           TEXT NOT NULL,
    object_id      INTEGER,
    handler        TEXT,
    body           TEXT NOT NULL
);
CREATE INDEX _droplake_events_by_object ON _droplake_events (object_id);
CREATE TABLE _droplake_daemon (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    pid            INTEGER NOT NULL,
    owner          TEXT NOT NULL,
    started_at     TEXT NOT NULL,
    last_scan_at   TEXT,
    stopped_at     TEXT
);
"#,
    // `droplake retry` gives a job a fresh budget of retries: attempts keep
    // their numbers (the history stays), and the budget counts from here.
    r#"
ALTER TABLE _droplake_jobs ADD COLUMN retry_base INTEGER NOT NULL DEFAULT 0;
"#,
];

/// Whether a database migrated by an older droplake lacks later migrations
/// (a new, empty database has none and needs none to be read).
pub(super) fn is_behind(connection: &Connection) -> rusqlite::Result<bool> {
    let applied: i64 = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    Ok(applied > 0 && usize::try_from(applied).is_ok_and(|applied| applied < MIGRATIONS.len()))
}

/// Applies the migrations the database has not seen yet.
pub(super) fn migrate(connection: &mut Connection) -> rusqlite::Result<()> {
    let transaction =
        connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let applied: i64 = transaction.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    for (version, migration) in (1..)
        .zip(MIGRATIONS)
        .skip(usize::try_from(applied).unwrap_or(0))
    {
        apply(&transaction, version, migration)?;
    }
    transaction.commit()
}

fn apply(transaction: &Transaction<'_>, version: i64, sql: &str) -> rusqlite::Result<()> {
    transaction.execute_batch(sql)?;
    transaction.pragma_update(None, "user_version", version)?;
    tracing::info!(version, "Migrated the warehouse's bookkeeping tables.");
    Ok(())
}
