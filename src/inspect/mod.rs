//! What the ledger says, gathered for people and programs: the facts behind
//! `droplake status`, `droplake files`, `droplake show` and `droplake why`.
//!
//! Each submodule reads the warehouse read-only and returns plain structs
//! that serialize to the documented JSON (`docs/inspect.md`); the CLI prints
//! the same structs for people. Nothing here writes anything.
//!
//! One vocabulary names where an object stands, [`ObjectState`], decided
//! by one function, [`ObjectState::of`]: `why` calls it, and `status`,
//! `files` and `show` call it from SQL ([`STATE_SQL`], through the SQL
//! function [`open`] registers), so that explaining, listing, counting and
//! filtering agree.

pub mod files;
pub mod status;
pub mod story;
pub mod why;

use std::path::Path;

use rusqlite::Connection;

use crate::exit::{ExitCode, HasExitCode};
use crate::warehouse::WarehouseError;
use crate::warehouse::ledger::JobState;

/// Where an object stands, one word each, in the order `status` counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectState {
    /// Registered, with jobs still to run and none running now (pending,
    /// or waiting for a retry).
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
    /// Registered with no job: its dataset had no table schema and no
    /// handler, so nothing ran and nothing will.
    Unhandled,
}

impl ObjectState {
    pub const ALL: [ObjectState; 7] = [
        ObjectState::Waiting,
        ObjectState::InProgress,
        ObjectState::Done,
        ObjectState::Failed,
        ObjectState::Dead,
        ObjectState::Duplicate,
        ObjectState::Unhandled,
    ];

    /// Where an object stands, from what the ledger holds about it: whether
    /// it is a duplicate, how many rows its load rejected, and its jobs'
    /// states. The first rule that holds decides: a duplicate; no job at
    /// all (unhandled); a dead job; every job final (failed with rejected
    /// rows, else done); a running job (in progress); else waiting.
    pub fn of(
        duplicate: bool,
        rows_rejected: Option<u64>,
        jobs: impl IntoIterator<Item = JobState>,
    ) -> ObjectState {
        if duplicate {
            return ObjectState::Duplicate;
        }
        let (mut any, mut dead, mut running, mut open) = (false, false, false, false);
        for job in jobs {
            any = true;
            dead |= job == JobState::Dead;
            running |= job == JobState::Running;
            open |= !job.is_final();
        }
        match () {
            () if !any => ObjectState::Unhandled,
            () if dead => ObjectState::Dead,
            () if !open && rows_rejected.is_some_and(|rejected| rejected > 0) => {
                ObjectState::Failed
            }
            () if !open => ObjectState::Done,
            () if running => ObjectState::InProgress,
            () => ObjectState::Waiting,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ObjectState::Waiting => "waiting",
            ObjectState::InProgress => "in_progress",
            ObjectState::Done => "done",
            ObjectState::Failed => "failed",
            ObjectState::Dead => "dead",
            ObjectState::Duplicate => "duplicate",
            ObjectState::Unhandled => "unhandled",
        }
    }

    pub fn parse(name: &str) -> Option<ObjectState> {
        ObjectState::ALL
            .into_iter()
            .find(|state| state.name() == name)
    }
}

/// The [`ObjectState`] of the object aliased `o`, as SQL: the facts
/// [`ObjectState::of`] decides from, handed to it through the function
/// [`open`] registers. Only connections from [`open`] know it.
pub const STATE_SQL: &str = "droplake_object_state(o.duplicate_of IS NOT NULL, o.rows_rejected,
    (SELECT group_concat(sj.state) FROM _droplake_jobs sj WHERE sj.object_id = o.id))";

/// The warehouse at `path`, read-only, with the SQL function
/// `droplake_object_state(duplicate, rows_rejected, job_states)` that
/// [`STATE_SQL`] calls: [`ObjectState::of`], the job states given as
/// `group_concat` joins them.
pub fn open(path: &Path) -> Result<Connection, InspectError> {
    use rusqlite::functions::FunctionFlags;
    let connection = crate::warehouse::open_read_only(path)?;
    connection
        .create_scalar_function(
            "droplake_object_state",
            3,
            FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
            |context| {
                let duplicate: bool = context.get(0)?;
                let rejected: Option<i64> = context.get(1)?;
                let jobs: Option<String> = context.get(2)?;
                let jobs = jobs.unwrap_or_default();
                let states = jobs.split(',').filter_map(JobState::parse);
                let state = ObjectState::of(duplicate, rejected.map(i64::cast_unsigned), states);
                Ok(state.name())
            },
        )
        .map_err(sql(path))?;
    Ok(connection)
}

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
        .map(crate::cli::output::json_time)
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
    fn an_object_state_is_decided_by_the_first_rule_that_holds() {
        use JobState::*;
        let of = |duplicate, rejected, jobs: &[JobState]| {
            ObjectState::of(duplicate, rejected, jobs.iter().copied())
        };
        assert_eq!(of(true, None, &[Duplicate]), ObjectState::Duplicate);
        assert_eq!(of(true, None, &[]), ObjectState::Duplicate);
        assert_eq!(of(false, None, &[]), ObjectState::Unhandled);
        assert_eq!(of(false, Some(0), &[Running, Dead]), ObjectState::Dead);
        assert_eq!(of(false, Some(2), &[Done, Dead]), ObjectState::Dead);
        assert_eq!(of(false, Some(2), &[Done, Done]), ObjectState::Failed);
        assert_eq!(of(false, Some(0), &[Done]), ObjectState::Done);
        assert_eq!(of(false, None, &[Done]), ObjectState::Done);
        assert_eq!(
            of(false, Some(2), &[Done, Running]),
            ObjectState::InProgress
        );
        assert_eq!(of(false, None, &[Retry, Running]), ObjectState::InProgress);
        assert_eq!(of(false, None, &[Done, Retry]), ObjectState::Waiting);
        assert_eq!(of(false, None, &[Pending]), ObjectState::Waiting);
    }

    #[test]
    fn sql_asks_the_same_function() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("warehouse.db");
        let mut warehouse = crate::warehouse::Warehouse::open(&path).expect("create");
        warehouse
            .connection()
            .execute_batch(
                "INSERT INTO _droplake_objects (id, dataset, path, name, sha256, size, mtime_ns, inode, rank, state, detected_at, rows_rejected)
                 VALUES (1, 'd', x'61', 'a', 'h1', 1, 0, 1, 0, 'failed', '2026-01-01T00:00:00Z', 3),
                        (2, 'd', x'62', 'b', 'h2', 1, 0, 2, 0, 'active', '2026-01-01T00:00:00Z', NULL),
                        (3, 'd', x'63', 'c', 'h3', 1, 0, 3, 0, 'done', '2026-01-01T00:00:00Z', NULL);
                 INSERT INTO _droplake_jobs (object_id, handler, state, updated_at)
                 VALUES (1, 'loader', 'done', 'x'), (1, 'probe', 'dead', 'x'),
                        (2, 'loader', 'done', 'x'), (2, 'probe', 'retry', 'x');",
            )
            .expect("a ledger");
        drop(warehouse);
        let connection = open(&path).expect("open");
        let states: Vec<String> = connection
            .prepare(&format!(
                "SELECT {STATE_SQL} FROM _droplake_objects o ORDER BY o.id"
            ))
            .expect("prepare")
            .query_map([], |row| row.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        assert_eq!(states, ["dead", "waiting", "unhandled"]);
    }

    #[test]
    fn state_names_read_back() {
        for state in ObjectState::ALL {
            assert_eq!(ObjectState::parse(state.name()), Some(state));
        }
    }
}
