//! `status`: the whole warehouse at a glance. Per dataset, how many objects
//! stand in each [`ObjectState`]; per handler, its unfinished jobs, the
//! oldest of them and its recent failures; per table, its rows and last
//! load; and whether a daemon is running.
//!
//! A daemon (or `run --once`) is running exactly when it holds the
//! exclusive flock on `<warehouse>.lock`. We test that by taking the lock
//! shared without waiting and releasing it at once: if that fails, someone
//! holds it. The daemon retries its own lock briefly, so this instant never
//! refuses one that is starting. Its pid and times come from
//! `_droplake_daemon`.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::{InspectError, LEDGER, LOADS, ObjectState, STATE_SQL, has_tables, sql};
use crate::config::Settings;
use crate::warehouse::ledger;

/// Failures counted as recent: the last day's.
const RECENT: jiff::SignedDuration = jiff::SignedDuration::from_hours(24);

/// Everything `status` reports.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// When the status was taken (RFC 3339); ages are relative to it.
    pub at: String,
    pub warehouse: WarehouseFile,
    pub daemon: Daemon,
    pub datasets: Vec<DatasetCounts>,
    pub handlers: Vec<HandlerStatus>,
    pub tables: Vec<TableStatus>,
}

/// The warehouse file, which may not exist yet.
#[derive(Debug, Clone, Serialize)]
pub struct WarehouseFile {
    pub path: String,
    pub exists: bool,
}

/// The daemon of this warehouse.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Daemon {
    /// A daemon or `run --once` holds the lock now.
    pub running: bool,
    /// While one runs: `daemon` or `once`, as its lock file says.
    pub mode: Option<&'static str>,
    /// The pid of the running daemon, else of the last one (null if none
    /// ever ran).
    pub pid: Option<u32>,
    /// When the running (or last) daemon started.
    pub started_at: Option<String>,
    /// When it last finished a reconciliation scan of the whole lake.
    pub last_scan_at: Option<String>,
    /// When the last daemon stopped cleanly; null while one runs, and after
    /// one that was killed.
    pub stopped_at: Option<String>,
}

/// How many objects of a dataset stand in each state.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DatasetCounts {
    pub name: String,
    pub waiting: u64,
    pub in_progress: u64,
    pub done: u64,
    pub failed: u64,
    pub dead: u64,
    pub duplicate: u64,
    pub unhandled: u64,
    pub total: u64,
}

impl DatasetCounts {
    fn add(&mut self, state: ObjectState, count: u64) {
        let slot = match state {
            ObjectState::Waiting => &mut self.waiting,
            ObjectState::InProgress => &mut self.in_progress,
            ObjectState::Done => &mut self.done,
            ObjectState::Failed => &mut self.failed,
            ObjectState::Dead => &mut self.dead,
            ObjectState::Duplicate => &mut self.duplicate,
            ObjectState::Unhandled => &mut self.unhandled,
        };
        *slot += count;
        self.total += count;
    }
}

/// One handler's jobs.
#[derive(Debug, Clone, Default, Serialize)]
pub struct HandlerStatus {
    pub name: String,
    /// Jobs ready to run, or waiting for a handler in their `after`.
    pub pending: u64,
    /// Jobs that failed and wait for their next attempt.
    pub retry: u64,
    /// Jobs running now.
    pub running: u64,
    pub done: u64,
    pub dead: u64,
    /// The oldest object (by detection) whose job is pending, retry or
    /// running.
    pub oldest_pending: Option<Oldest>,
    /// Attempts that failed (outcome `retry` or `dead`) in the last 24 hours.
    pub failures_24h: u64,
    /// The most recent failed attempt, at any time.
    pub last_failure: Option<LastFailure>,
}

/// The oldest object a handler has not finished.
#[derive(Debug, Clone, Serialize)]
pub struct Oldest {
    pub object_id: i64,
    pub detected_at: String,
    /// Seconds from its detection to `at`.
    pub age_seconds: i64,
}

/// A handler's most recent failed attempt.
#[derive(Debug, Clone, Serialize)]
pub struct LastFailure {
    pub object_id: i64,
    pub at: String,
    pub error: Option<String>,
}

/// One warehouse table.
#[derive(Debug, Clone, Serialize)]
pub struct TableStatus {
    pub name: String,
    /// Rows in the table now (null if it cannot be counted).
    pub rows: Option<u64>,
    /// Loads into it, of any outcome.
    pub loads: u64,
    pub last_load: Option<LastLoad>,
}

/// A table's newest load.
#[derive(Debug, Clone, Serialize)]
pub struct LastLoad {
    pub id: i64,
    /// The lake path of the object it loaded.
    pub object: String,
    /// `loaded`, `partial`, `failed`, `aborted` or `duplicate`.
    pub outcome: String,
    pub rows_loaded: u64,
    pub rows_rejected: u64,
    pub finished_at: Option<String>,
}

/// Takes the status of the warehouse `settings` name. A warehouse that does
/// not exist yet is reported as such, with the configured datasets and
/// handlers at zero.
pub fn gather(settings: &Settings) -> Result<Status, InspectError> {
    let now = jiff::Timestamp::now();
    let path = &settings.warehouse;
    let exists = path.exists();
    let holder = crate::daemon::running(path);
    let mut status = Status {
        at: crate::cli::output::json_time(now),
        warehouse: WarehouseFile {
            path: path.display().to_string(),
            exists,
        },
        daemon: Daemon {
            running: holder.is_some(),
            mode: holder.as_ref().map(crate::daemon::Holder::mode),
            ..Daemon::default()
        },
        datasets: Vec::new(),
        handlers: Vec::new(),
        tables: Vec::new(),
    };
    let mut datasets: BTreeMap<String, DatasetCounts> = settings
        .datasets
        .keys()
        .map(|name| (name.to_string(), DatasetCounts::default()))
        .collect();
    let mut handlers: BTreeMap<String, HandlerStatus> = settings
        .handlers
        .iter()
        .map(|handler| (handler.name.clone(), HandlerStatus::default()))
        .collect();
    if exists {
        let connection = super::open(path)?;
        let sql = sql(path);
        if has_tables(&connection, &LEDGER).map_err(&sql)? {
            read_daemon(&connection, &mut status.daemon).map_err(&sql)?;
            count_objects(&connection, &mut datasets).map_err(&sql)?;
            count_jobs(&connection, now, &mut handlers).map_err(&sql)?;
        }
        if has_tables(&connection, &LOADS).map_err(&sql)? {
            status.tables = tables(&connection).map_err(&sql)?;
        }
    }
    // The running one's pid is its lock file's: the table may still hold
    // the previous daemon's row.
    if let Some(holder) = holder {
        status.daemon.pid = holder.pid;
    }
    status.datasets = datasets
        .into_iter()
        .map(|(name, counts)| DatasetCounts { name, ..counts })
        .collect();
    status.handlers = handlers
        .into_iter()
        .map(|(name, handler)| HandlerStatus { name, ..handler })
        .collect();
    Ok(status)
}

fn read_daemon(connection: &Connection, daemon: &mut Daemon) -> rusqlite::Result<()> {
    let row: Option<(u32, String, Option<String>, Option<String>)> = connection
        .query_row(
            "SELECT pid, started_at, last_scan_at, stopped_at FROM _droplake_daemon WHERE id = 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
        )
        .optional()?;
    if let Some((pid, started_at, last_scan_at, stopped_at)) = row {
        daemon.pid = Some(pid);
        daemon.started_at = Some(started_at);
        daemon.last_scan_at = last_scan_at;
        // A daemon that just took the lock may not have rewritten the row.
        daemon.stopped_at = stopped_at.filter(|_| !daemon.running);
    }
    Ok(())
}

fn count_objects(
    connection: &Connection,
    datasets: &mut BTreeMap<String, DatasetCounts>,
) -> rusqlite::Result<()> {
    let mut statement = connection.prepare(&format!(
        "SELECT o.dataset, {STATE_SQL} AS now, count(*) FROM _droplake_objects o GROUP BY 1, 2"
    ))?;
    let rows = statement.query_map([], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, i64>(2)?,
        ))
    })?;
    for row in rows {
        let (dataset, state, count) = row?;
        if let Some(state) = ObjectState::parse(&state) {
            datasets
                .entry(dataset)
                .or_default()
                .add(state, count.cast_unsigned());
        }
    }
    Ok(())
}

fn count_jobs(
    connection: &Connection,
    now: jiff::Timestamp,
    handlers: &mut BTreeMap<String, HandlerStatus>,
) -> rusqlite::Result<()> {
    let mut statement =
        connection.prepare("SELECT handler, state, count(*) FROM _droplake_jobs GROUP BY 1, 2")?;
    let rows = statement.query_map([], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, i64>(2)?,
        ))
    })?;
    for row in rows {
        let (handler, state, count) = row?;
        let handler = handlers.entry(handler).or_default();
        let count = count.cast_unsigned();
        match state.as_str() {
            "pending" => handler.pending += count,
            "retry" => handler.retry += count,
            "running" => handler.running += count,
            "done" => handler.done += count,
            "dead" => handler.dead += count,
            _ => {}
        }
    }
    for (handler, object_id, detected_at) in ledger::oldest_unfinished(connection)? {
        let age_seconds = detected_at
            .parse::<jiff::Timestamp>()
            .map_or(0, |then| now.duration_since(then).as_secs().max(0));
        handlers.entry(handler).or_default().oldest_pending = Some(Oldest {
            object_id,
            detected_at,
            age_seconds,
        });
    }
    let since = now.checked_sub(RECENT).unwrap_or(now).to_string();
    let mut statement = connection.prepare(
        "SELECT handler, count(*) FROM _droplake_attempts
         WHERE outcome IN ('retry', 'dead') AND julianday(finished_at) >= julianday(?1) GROUP BY handler",
    )?;
    let rows = statement.query_map([since], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
    })?;
    for row in rows {
        let (handler, count) = row?;
        handlers.entry(handler).or_default().failures_24h = count.cast_unsigned();
    }
    let mut statement = connection.prepare(
        "SELECT handler, object_id, finished_at, error, max(julianday(finished_at))
         FROM _droplake_attempts WHERE outcome IN ('retry', 'dead') GROUP BY handler",
    )?;
    let rows = statement.query_map([], |row| {
        Ok((
            row.get::<_, String>(0)?,
            LastFailure {
                object_id: row.get(1)?,
                at: row.get(2)?,
                error: row.get(3)?,
            },
        ))
    })?;
    for row in rows {
        let (handler, failure) = row?;
        handlers.entry(handler).or_default().last_failure = Some(failure);
    }
    Ok(())
}

fn tables(connection: &Connection) -> rusqlite::Result<Vec<TableStatus>> {
    let names: Vec<String> = connection
        .prepare("SELECT name FROM _droplake_tables ORDER BY name")?
        .query_map([], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut tables = Vec::with_capacity(names.len());
    for name in names {
        let quoted = name.replace('"', "\"\"");
        let rows = connection
            .query_row(&format!("SELECT count(*) FROM \"{quoted}\""), [], |row| {
                row.get::<_, i64>(0)
            })
            .ok()
            .map(i64::cast_unsigned);
        let (loads, last): (i64, Option<i64>) = connection.query_row(
            "SELECT count(*), max(id) FROM _droplake_loads WHERE table_name = ?1",
            [&name],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        let last_load = match last {
            Some(id) => connection
                .query_row(
                    "SELECT id, object_path, outcome, rows_loaded, rows_rejected, finished_at
                     FROM _droplake_loads WHERE id = ?1",
                    params![id],
                    |row| {
                        Ok(LastLoad {
                            id: row.get(0)?,
                            object: row.get(1)?,
                            outcome: row.get(2)?,
                            rows_loaded: row.get::<_, i64>(3)?.cast_unsigned(),
                            rows_rejected: row.get::<_, i64>(4)?.cast_unsigned(),
                            finished_at: row.get(5)?,
                        })
                    },
                )
                .optional()?,
            None => None,
        };
        tables.push(TableStatus {
            name,
            rows,
            loads: loads.cast_unsigned(),
            last_load,
        });
    }
    Ok(tables)
}
