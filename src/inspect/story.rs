//! `show`: one object's whole story, from the ledger and the event log.
//!
//! An object is named by its id or by its file's path relative to the lake
//! (the command line finds that path however the file was written, as for
//! `why` and `retry`). A path that held several contents names several
//! objects: the newest is told, the others listed.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde_json::Value;

use super::{InspectError, LEDGER, ObjectState, STATE_SQL, from_nanos, has_tables, sql};
use crate::config::{Readiness as Rule, Settings};
use crate::lake::DatasetName;

/// How many rejected rows the story shows; `droplake rejects` has them all.
pub const FIRST_REJECTS: u32 = 5;

/// Everything known about one object.
#[derive(Debug, Clone, Serialize)]
pub struct Story {
    pub object: Object,
    /// Other objects at the same path (earlier or later contents), newest first.
    pub same_path: Vec<i64>,
    /// Objects of the dataset with the same content, registered later as
    /// duplicates of this one.
    pub duplicates: Vec<i64>,
    pub readiness: Readiness,
    /// Each handler's job, in name order.
    pub handlers: Vec<HandlerJob>,
    /// The load of the object's rows, once the loader committed one.
    pub load: Option<Load>,
    /// The first rejected rows of that load.
    pub rejects: Option<Rejects>,
    /// The receipt written for the producer, if any.
    pub receipt: Option<Receipt>,
    /// Retention's removal of the file, if it happened.
    pub removed: Option<Removed>,
    /// Every event about the object, oldest first, as `droplake events --json`
    /// prints them.
    pub events: Vec<Value>,
}

/// The object as registered.
#[derive(Debug, Clone, Serialize)]
pub struct Object {
    pub id: i64,
    pub dataset: String,
    /// Relative to the lake (invalid UTF-8 replaced).
    pub path: String,
    /// The absolute path of its file.
    pub file: String,
    pub state: ObjectState,
    pub size: u64,
    pub sha256: String,
    /// The file's modification time when it was registered.
    pub mtime: Option<String>,
    /// When it was registered: ready, hashed, its jobs created.
    pub detected_at: String,
    /// When its last job became final.
    pub finished_at: Option<String>,
    /// The earlier object with the same content, if this is a duplicate.
    pub duplicate_of: Option<i64>,
    pub rows_loaded: Option<u64>,
    pub rows_rejected: Option<u64>,
}

/// When the object was ready: the dataset's rule (as configured now) and
/// what the ledger recorded.
#[derive(Debug, Clone, Serialize)]
pub struct Readiness {
    /// `settle` or `marker`.
    pub rule: &'static str,
    /// For `settle`: how long the file had to stay unchanged (`2s`).
    pub settle: Option<String>,
    /// For `marker`: the marker file's name this object needed.
    pub marker: Option<String>,
    /// When it was registered, which is all the ledger records of its
    /// readiness: the same as `detected_at`. It became ready a moment
    /// before (the time to read and hash it), not recorded.
    pub ready_at: String,
    /// What a marker declared that the file did not match, if so.
    pub marker_mismatch: Option<String>,
}

/// One handler's job on the object.
#[derive(Debug, Clone, Serialize)]
pub struct HandlerJob {
    pub name: String,
    /// `pending`, `running`, `done`, `retry`, `dead` or `duplicate`.
    pub state: String,
    /// Attempts made, as the job counts them.
    pub attempt_count: u32,
    /// For `retry`: when the next attempt is due.
    pub next_attempt_at: Option<String>,
    pub last_error: Option<String>,
    pub updated_at: String,
    /// Every attempt kept, in order.
    pub attempts: Vec<Attempt>,
}

/// One attempt of a handler.
#[derive(Debug, Clone, Serialize)]
pub struct Attempt {
    pub attempt: u32,
    pub started_at: String,
    pub finished_at: String,
    /// `done`, `retry`, `dead` or `interrupted`.
    pub outcome: String,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub error: Option<String>,
    /// The load the loader's attempt committed.
    pub load_id: Option<i64>,
    /// The start of a command's standard output (invalid UTF-8 replaced).
    pub stdout: String,
    /// Bytes of standard output read beyond what was kept.
    pub stdout_dropped: u64,
    pub stderr: String,
    pub stderr_dropped: u64,
}

/// A load of the object's rows.
#[derive(Debug, Clone, Serialize)]
pub struct Load {
    pub id: i64,
    pub table: String,
    /// `loaded`, `partial`, `failed`, `aborted` or `duplicate`.
    pub outcome: String,
    pub rows_read: u64,
    pub rows_loaded: u64,
    pub rows_rejected: u64,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub message: Option<String>,
}

/// The first rejected rows of a load.
#[derive(Debug, Clone, Serialize)]
pub struct Rejects {
    /// How many rows the load rejected in all.
    pub total: u64,
    pub first: Vec<Reject>,
    /// The command that lists them all.
    pub command: String,
}

/// One rejected row (one failed check of it).
#[derive(Debug, Clone, Serialize)]
pub struct Reject {
    pub row: Option<i64>,
    pub field: Option<String>,
    pub value: Option<String>,
    /// The Frictionless error type, such as `type-error`.
    #[serde(rename = "type")]
    pub kind: String,
    pub message: String,
}

/// The receipt written for the producer.
#[derive(Debug, Clone, Serialize)]
pub struct Receipt {
    pub path: String,
    /// An ack (true) or a nak (false).
    pub accepted: bool,
    pub written_at: String,
}

/// Retention's removal of the object's file.
#[derive(Debug, Clone, Serialize)]
pub struct Removed {
    pub at: String,
    /// Where it was moved; null if it was deleted.
    pub archive: Option<String>,
}

/// Which object to tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which<'a> {
    /// The object with this id.
    Id(i64),
    /// The objects at a file: `relative` is its path relative to the lake
    /// (`None` when it lies outside), `shown` the file for messages.
    File {
        relative: Option<&'a Path>,
        shown: &'a str,
    },
}

/// Tells the story of the object `which` names (for a file, the newest
/// object at its path, the others listed as `same_path`).
pub fn tell(settings: &Settings, which: Which<'_>) -> Result<Story, InspectError> {
    let (what, hint) = match which {
        Which::Id(id) => (id.to_string(), ""),
        Which::File { shown, .. } => (
            shown.to_owned(),
            ", and `droplake why PATH` tells why a file is not one",
        ),
    };
    let unknown = |why: String| {
        InspectError::UnknownObject(format!("{why}; `droplake files` lists the objects{hint}"))
    };
    if !settings.warehouse.exists() {
        return Err(unknown(format!(
            "no object {what}: the warehouse {} does not exist yet",
            settings.warehouse.display()
        )));
    }
    let connection = super::open(&settings.warehouse)?;
    let sql = sql(&settings.warehouse);
    if !has_tables(&connection, &LEDGER).map_err(&sql)? {
        return Err(unknown(format!(
            "no object {what}: the warehouse has no daemon ledger yet"
        )));
    }
    let ids = resolve(&connection, which).map_err(&sql)?;
    let Some((&id, others)) = ids.split_first() else {
        return Err(unknown(format!("no object {what} in the ledger")));
    };
    story(&connection, settings, id, others.to_vec()).map_err(&sql)
}

/// The objects `which` names, newest first: one for an id, every content
/// of a path.
fn resolve(connection: &Connection, which: Which<'_>) -> rusqlite::Result<Vec<i64>> {
    match which {
        Which::Id(id) => connection
            .prepare("SELECT id FROM _droplake_objects WHERE id = ?1")?
            .query_map([id], |row| row.get(0))?
            .collect(),
        Which::File { relative, .. } => {
            let Some(relative) = relative else {
                return Ok(Vec::new());
            };
            connection
                .prepare("SELECT id FROM _droplake_objects WHERE path = ?1 ORDER BY id DESC")?
                .query_map([relative.as_os_str().as_bytes()], |row| row.get(0))?
                .collect()
        }
    }
}

fn story(
    connection: &Connection,
    settings: &Settings,
    id: i64,
    same_path: Vec<i64>,
) -> rusqlite::Result<Story> {
    let (object, raw_path, load_id) = object(connection, settings, id)?;
    let events = crate::events::of_object(connection, id)?;
    let event = |kind: &str| events.iter().rev().find(|event| event.kind == kind);
    let readiness = readiness(
        settings,
        &object,
        &raw_path,
        event("object.marker_mismatch"),
    );
    let duplicates = connection
        .prepare("SELECT id FROM _droplake_objects WHERE duplicate_of = ?1 ORDER BY id")?
        .query_map([id], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let handlers = handlers(connection, id)?;
    let load = match load_id {
        Some(load_id) => load(connection, load_id)?,
        None => None,
    };
    let rejects = match &load {
        Some(load) if load.rows_rejected > 0 => Some(rejects(connection, load)?),
        _ => None,
    };
    let receipt = event("receipt.written").map(|event| Receipt {
        path: text(&event.body["receipt"]).unwrap_or_default(),
        accepted: event.body["accepted"].as_bool().unwrap_or(false),
        written_at: event.at.clone(),
    });
    let removed = event("object.removed").map(|event| Removed {
        at: event.at.clone(),
        archive: text(&event.body["archive"]),
    });
    Ok(Story {
        object,
        same_path,
        duplicates,
        readiness,
        handlers,
        load,
        rejects,
        receipt,
        removed,
        events: events.iter().map(crate::events::Event::to_json).collect(),
    })
}

fn text(value: &Value) -> Option<String> {
    value.as_str().map(str::to_owned)
}

/// The object, its raw path and its load's id.
fn object(
    connection: &Connection,
    settings: &Settings,
    id: i64,
) -> rusqlite::Result<(Object, Vec<u8>, Option<i64>)> {
    connection.query_row(
        &format!(
            "SELECT o.id, o.dataset, o.path, o.name, {STATE_SQL}, o.size, o.sha256, o.mtime_ns,
                    o.detected_at, o.finished_at, o.duplicate_of, o.rows_loaded, o.rows_rejected, o.load_id
             FROM _droplake_objects o WHERE o.id = ?1"
        ),
        [id],
        |row| {
            let raw: Vec<u8> = row.get(2)?;
            let state: String = row.get(4)?;
            let object = Object {
                id: row.get(0)?,
                dataset: row.get(1)?,
                path: row.get(3)?,
                file: settings
                    .lake
                    .join(OsStr::from_bytes(&raw))
                    .to_string_lossy()
                    .into_owned(),
                state: ObjectState::parse(&state).unwrap_or(ObjectState::Waiting),
                size: row.get::<_, i64>(5)?.cast_unsigned(),
                sha256: row.get(6)?,
                mtime: from_nanos(row.get(7)?),
                detected_at: row.get(8)?,
                finished_at: row.get(9)?,
                duplicate_of: row.get(10)?,
                rows_loaded: row.get::<_, Option<i64>>(11)?.map(i64::cast_unsigned),
                rows_rejected: row.get::<_, Option<i64>>(12)?.map(i64::cast_unsigned),
            };
            Ok((object, raw, row.get(13)?))
        },
    )
}

fn readiness(
    settings: &Settings,
    object: &Object,
    raw_path: &[u8],
    mismatch: Option<&crate::events::Event>,
) -> Readiness {
    let rule = DatasetName::new(&object.dataset)
        .map(|dataset| settings.readiness(&dataset))
        .unwrap_or_default();
    let (rule, settle, marker) = match rule {
        Rule::Settle(settle) => ("settle", Some(settle.to_string()), None),
        Rule::Marker(pattern) => {
            let marker =
                crate::daemon::marker_for(Path::new(OsStr::from_bytes(raw_path)), &pattern);
            let name = marker
                .file_name()
                .map(|name| name.to_string_lossy().into_owned());
            ("marker", None, name)
        }
    };
    Readiness {
        rule,
        settle,
        marker,
        ready_at: object.detected_at.clone(),
        marker_mismatch: mismatch.and_then(|event| text(&event.body["error"])),
    }
}

fn handlers(connection: &Connection, id: i64) -> rusqlite::Result<Vec<HandlerJob>> {
    let mut jobs: Vec<HandlerJob> = connection
        .prepare(
            "SELECT handler, state, attempts, next_at_ms, last_error, updated_at
             FROM _droplake_jobs WHERE object_id = ?1 ORDER BY handler",
        )?
        .query_map([id], |row| {
            let state: String = row.get(1)?;
            let next_at_ms: i64 = row.get(3)?;
            let next_attempt_at = (state == "retry")
                .then(|| jiff::Timestamp::from_millisecond(next_at_ms).ok())
                .flatten()
                .map(crate::cli::output::json_time);
            Ok(HandlerJob {
                name: row.get(0)?,
                state,
                attempt_count: row.get(2)?,
                next_attempt_at,
                last_error: row.get(4)?,
                updated_at: row.get(5)?,
                attempts: Vec::new(),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut statement = connection.prepare(
        "SELECT attempt, started_at, finished_at, outcome, exit_code, signal, error, load_id,
                stdout, stdout_dropped, stderr, stderr_dropped
         FROM _droplake_attempts WHERE object_id = ?1 AND handler = ?2 ORDER BY attempt",
    )?;
    let output =
        |bytes: Option<Vec<u8>>| String::from_utf8_lossy(&bytes.unwrap_or_default()).into_owned();
    for job in &mut jobs {
        job.attempts = statement
            .query_map(params![id, job.name], |row| {
                Ok(Attempt {
                    attempt: row.get(0)?,
                    started_at: row.get(1)?,
                    finished_at: row.get(2)?,
                    outcome: row.get(3)?,
                    exit_code: row.get(4)?,
                    signal: row.get(5)?,
                    error: row.get(6)?,
                    load_id: row.get(7)?,
                    stdout: output(row.get(8)?),
                    stdout_dropped: row.get::<_, i64>(9)?.cast_unsigned(),
                    stderr: output(row.get(10)?),
                    stderr_dropped: row.get::<_, i64>(11)?.cast_unsigned(),
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
    }
    Ok(jobs)
}

fn load(connection: &Connection, id: i64) -> rusqlite::Result<Option<Load>> {
    connection
        .query_row(
            "SELECT id, table_name, outcome, rows_read, rows_loaded, rows_rejected, started_at,
                    finished_at, message
             FROM _droplake_loads WHERE id = ?1",
            [id],
            |row| {
                Ok(Load {
                    id: row.get(0)?,
                    table: row.get(1)?,
                    outcome: row.get(2)?,
                    rows_read: row.get::<_, i64>(3)?.cast_unsigned(),
                    rows_loaded: row.get::<_, i64>(4)?.cast_unsigned(),
                    rows_rejected: row.get::<_, i64>(5)?.cast_unsigned(),
                    started_at: row.get(6)?,
                    finished_at: row.get(7)?,
                    message: row.get(8)?,
                })
            },
        )
        .optional()
}

fn rejects(connection: &Connection, load: &Load) -> rusqlite::Result<Rejects> {
    let first = connection
        .prepare(
            "SELECT row_number, field, value, error_type, message FROM _droplake_rejects
             WHERE load_id = ?1 ORDER BY row_number, field_number LIMIT ?2",
        )?
        .query_map(params![load.id, FIRST_REJECTS], |row| {
            Ok(Reject {
                row: row.get(0)?,
                field: row.get(1)?,
                value: row.get(2)?,
                kind: row.get(3)?,
                message: row.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Rejects {
        total: load.rows_rejected,
        first,
        command: format!("droplake rejects {} --load {}", load.table, load.id),
    })
}
