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

use rusqlite::{Connection, Transaction};

/// The migrations in order; the database's `user_version` counts how many
/// have been applied.
const MIGRATIONS: [&str; 1] = [r#"
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
"#];

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
