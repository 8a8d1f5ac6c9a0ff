//! What the ledger says, gathered for people and programs: the facts behind
//! `droplake status`, `droplake files`, `droplake show` and `droplake why`.
//!
//! Each submodule reads the warehouse read-only and returns plain structs
//! that serialize to the documented JSON (`docs/inspect.md`); the CLI prints
//! the same structs for people. Nothing here writes anything.
//!
//! One vocabulary names where an object stands, [`ObjectState`], derived
//! from the ledger by [`STATE_SQL`] so that listing, counting and filtering
//! agree.

pub mod files;
pub mod status;
pub mod story;
pub mod why;

use std::path::Path;

use rusqlite::Connection;

use crate::exit::{ExitCode, HasExitCode};
use crate::warehouse::WarehouseError;

/// Where an object stands, one word each, in the order `status` counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectState {
    /// Registered, with jobs still to run: none running now (pending, or
    /// waiting for a retry).
    Waiting,
    /// A job is running (leased by a daemon or `run --once`).
    #[value(name = "in_progress", alias = "in-progress")]
    InProgress,
    /// Every job done, no row rejected.
    Done,
    /// Finished with rejected rows, and no job dead.
    Failed,
    /// Some job is dead: its attempts are spent or it can never run.
    Dead,
    /// The same content is an earlier object of the dataset; nothing ran.
    Duplicate,
}

impl ObjectState {
    pub const ALL: [ObjectState; 6] = [
        ObjectState::Waiting,
        ObjectState::InProgress,
        ObjectState::Done,
        ObjectState::Failed,
        ObjectState::Dead,
        ObjectState::Duplicate,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ObjectState::Waiting => "waiting",
            ObjectState::InProgress => "in_progress",
            ObjectState::Done => "done",
            ObjectState::Failed => "failed",
            ObjectState::Dead => "dead",
            ObjectState::Duplicate => "duplicate",
        }
    }

    pub fn parse(name: &str) -> Option<ObjectState> {
        ObjectState::ALL
            .into_iter()
            .find(|state| state.name() == name)
    }
}

/// The [`ObjectState`] of the object aliased `o`, as SQL. The first rule
/// that holds decides: a duplicate; a dead job; finished failed (rows
/// rejected); finished done; a running job; else waiting.
pub const STATE_SQL: &str = "CASE
    WHEN o.state = 'duplicate' THEN 'duplicate'
    WHEN EXISTS (SELECT 1 FROM _droplake_jobs dj WHERE dj.object_id = o.id AND dj.state = 'dead') THEN 'dead'
    WHEN o.state = 'failed' THEN 'failed'
    WHEN o.state = 'done' THEN 'done'
    WHEN EXISTS (SELECT 1 FROM _droplake_jobs rj WHERE rj.object_id = o.id AND rj.state = 'running') THEN 'in_progress'
    ELSE 'waiting'
END";

/// An inspection that could not answer.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    #[error(transparent)]
    Warehouse(#[from] WarehouseError),
    /// A table schema is broken (`why` builds the handlers a dataset gets).
    #[error(transparent)]
    Schema(#[from] crate::schema::SchemaError),
    /// No object matches what was asked for.
    #[error("{0}")]
    UnknownObject(String),
}

impl HasExitCode for InspectError {
    fn exit_code(&self) -> ExitCode {
        match self {
            InspectError::Warehouse(error) => error.exit_code(),
            InspectError::Schema(error) => error.exit_code(),
            InspectError::UnknownObject(_) => ExitCode::NoInput,
        }
    }
}

/// A SQLite error on the warehouse at `path`, classified.
fn sql(path: &Path) -> impl Fn(rusqlite::Error) -> InspectError + '_ {
    move |error| InspectError::Warehouse(WarehouseError::from_sqlite(path, error))
}

/// Whether the warehouse has every one of `tables`: one only ever written
/// by `insert` before the daemon's ledger existed has no ledger, and a
/// database droplake never wrote has none of its tables.
fn has_tables(connection: &Connection, tables: &[&str]) -> rusqlite::Result<bool> {
    let mut statement = connection
        .prepare_cached("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1")?;
    for table in tables {
        if statement.query_row([table], |row| row.get::<_, i64>(0))? == 0 {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The daemon's ledger tables.
const LEDGER: [&str; 5] = [
    "_droplake_objects",
    "_droplake_jobs",
    "_droplake_attempts",
    "_droplake_events",
    "_droplake_daemon",
];

/// The tables of loads.
const LOADS: [&str; 3] = ["_droplake_tables", "_droplake_loads", "_droplake_rejects"];

/// A time written as RFC 3339 (`2026-11-26T12:00:00Z`), or as a duration
/// before now (`30m`, `2h`, `7d`): what `--since` accepts.
pub fn parse_since(text: &str) -> Result<jiff::Timestamp, String> {
    if let Ok(time) = text.parse::<jiff::Timestamp>() {
        return Ok(time);
    }
    let duration = text.parse::<crate::config::Duration>().map_err(|_| {
        format!(
            "'{text}' is neither a time such as 2026-11-26T12:00:00Z nor a duration such as 30m, 2h or 7d"
        )
    })?;
    let span = jiff::SignedDuration::try_from(duration.get())
        .map_err(|_| format!("'{text}' is too long ago"))?;
    jiff::Timestamp::now()
        .checked_sub(span)
        .map_err(|_| format!("'{text}' is too long ago"))
}

/// A stored time as RFC 3339 from nanoseconds since the epoch.
fn from_nanos(nanos: i64) -> Option<String> {
    jiff::Timestamp::from_nanosecond(i128::from(nanos))
        .ok()
        .map(|time| time.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_reads_times_and_durations_before_now() {
        assert_eq!(
            parse_since("2026-11-26T12:00:00Z")
                .expect("a time")
                .to_string(),
            "2026-11-26T12:00:00Z"
        );
        let before = jiff::Timestamp::now();
        let since = parse_since("2h").expect("a duration");
        let ago = before.duration_since(since).as_secs();
        assert!((7_199..=7_201).contains(&ago), "{ago}");
        let error = parse_since("yesterday").expect_err("not a time");
        assert!(error.contains("30m"), "{error}");
    }

    #[test]
    fn state_names_read_back() {
        for state in ObjectState::ALL {
            assert_eq!(ObjectState::parse(state.name()), Some(state));
        }
    }
}
