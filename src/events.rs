//! Events and receipts: what happened, told in full.
//!
//! An event is one JSON object describing something that happened to an
//! object (it arrived, was ready, its load committed, a job failed or went
//! dead, it was a duplicate, ...). Events are appended to
//! `_droplake_events` in the transaction of the change they describe, so
//! the log never tells of something that did not commit. Each carries a
//! sequence number (the row id: increasing, never reused) and a time; a
//! reader that remembers the last number it saw can follow the log.
//!
//! A receipt is a response file for producers: `<name>.ack.json` when every
//! handler is done with an object and no row was rejected, else
//! `<name>.nak.json`, written atomically under the dataset's `receipts`
//! directory at the object's lake-relative path.

use std::io::Write;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

/// What an event says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A new object was registered: its content hashed, its jobs created.
    ObjectArrived,
    /// The same content is already an object of the dataset.
    DuplicateSeen,
    /// A marker declared something the file does not match.
    MarkerMismatch,
    /// A load committed (whatever its outcome: loaded, partial, failed).
    LoadCommitted,
    /// A handler finished an object.
    JobDone,
    /// An attempt failed; the job will be tried again.
    JobFailed,
    /// A job used up its attempts, or cannot succeed.
    JobDead,
    /// `droplake retry` returned a dead job (or one waiting for its retry)
    /// to pending, with a fresh budget of retries.
    JobRetried,
    /// An ordered handler holds a dataset's later objects behind a failed one.
    HeldBack,
    /// A dataset with `gap_check` holds later generations back while one is
    /// missing.
    GenerationGap,
    /// A dataset with `gap_check` starts its sequence of generations.
    GenerationsStarted,
    /// Every handler is done with the object (or one died): its outcome.
    ObjectFinished,
    /// A receipt was written.
    ReceiptWritten,
    /// A retained object's time was up: archived or deleted.
    ObjectRemoved,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::ObjectArrived => "object.arrived",
            Kind::DuplicateSeen => "object.duplicate",
            Kind::MarkerMismatch => "object.marker_mismatch",
            Kind::LoadCommitted => "load.committed",
            Kind::JobDone => "job.done",
            Kind::JobFailed => "job.failed",
            Kind::JobDead => "job.dead",
            Kind::JobRetried => "job.retried",
            Kind::HeldBack => "dataset.held_back",
            Kind::GenerationGap => "dataset.gap",
            Kind::GenerationsStarted => "dataset.generations_started",
            Kind::ObjectFinished => "object.finished",
            Kind::ReceiptWritten => "receipt.written",
            Kind::ObjectRemoved => "object.removed",
        }
    }
}

/// Appends an event; `body` holds its details (an object with at least the
/// `object` it is about, when there is one). Returns its sequence number.
pub fn append(
    connection: &Connection,
    kind: Kind,
    object_id: Option<i64>,
    handler: Option<&str>,
    body: &Value,
) -> rusqlite::Result<i64> {
    connection
        .prepare_cached(
            "INSERT INTO _droplake_events (at, kind, object_id, handler, body) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![
            jiff::Timestamp::now().to_string(),
            kind.name(),
            object_id,
            handler,
            body.to_string()
        ])?;
    Ok(connection.last_insert_rowid())
}

/// One event as stored, in the form readers see.
#[derive(Debug, Clone)]
pub struct Event {
    pub seq: i64,
    pub at: String,
    pub kind: String,
    pub object_id: Option<i64>,
    pub handler: Option<String>,
    pub body: Value,
}

impl Event {
    /// The event as one JSON object: `seq`, `at`, `kind`, then its details.
    pub fn to_json(&self) -> Value {
        let mut object = serde_json::Map::new();
        object.insert("seq".into(), self.seq.into());
        object.insert("at".into(), self.at.clone().into());
        object.insert("kind".into(), self.kind.clone().into());
        if let Some(handler) = &self.handler {
            object.insert("handler".into(), handler.clone().into());
        }
        if let Value::Object(details) = &self.body {
            for (key, value) in details {
                object.entry(key.clone()).or_insert_with(|| value.clone());
            }
        }
        Value::Object(object)
    }
}

/// Events after sequence number `after`, oldest first, at most `limit`.
pub fn since(connection: &Connection, after: i64, limit: u32) -> rusqlite::Result<Vec<Event>> {
    let mut statement = connection.prepare_cached(
        "SELECT seq, at, kind, object_id, handler, body FROM _droplake_events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    )?;
    let rows = statement.query_map(params![after, limit], event)?;
    rows.collect()
}

/// Every event about object `id`, oldest first.
pub fn of_object(connection: &Connection, id: i64) -> rusqlite::Result<Vec<Event>> {
    let mut statement = connection.prepare_cached(
        "SELECT seq, at, kind, object_id, handler, body FROM _droplake_events WHERE object_id = ?1 ORDER BY seq",
    )?;
    let rows = statement.query_map([id], event)?;
    rows.collect()
}

/// An event from its row: seq, at, kind, object_id, handler, body.
fn event(row: &rusqlite::Row<'_>) -> rusqlite::Result<Event> {
    let body: String = row.get(5)?;
    Ok(Event {
        seq: row.get(0)?,
        at: row.get(1)?,
        kind: row.get(2)?,
        object_id: row.get(3)?,
        handler: row.get(4)?,
        body: serde_json::from_str(&body).unwrap_or(Value::String(body)),
    })
}

/// Events of `kind` after sequence number `after` up to `until`, oldest
/// first: a range read of the log's primary key.
pub fn of_kind_between(
    connection: &Connection,
    kind: Kind,
    after: i64,
    until: i64,
) -> rusqlite::Result<Vec<Event>> {
    let mut statement = connection.prepare_cached(
        "SELECT seq, at, kind, object_id, handler, body FROM _droplake_events
         WHERE seq > ?1 AND seq <= ?2 AND kind = ?3 ORDER BY seq",
    )?;
    let rows = statement.query_map(params![after, until, kind.name()], event)?;
    rows.collect()
}

/// Whether the log tells of an event of `kind` about object `id`.
pub fn told_of(connection: &Connection, id: i64, kind: Kind) -> rusqlite::Result<bool> {
    connection
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM _droplake_events WHERE object_id = ?1 AND kind = ?2)",
        )?
        .query_row(params![id, kind.name()], |row| row.get(0))
}

/// Whether object `id`'s marker refused these jobs at registration: it was
/// told of as `object.marker_mismatch`, and every one of them is dead
/// without an attempt (a refused object's jobs are created dead; a job
/// that ran and died died of something else). `why` and `retry` decide it
/// alike.
pub fn refused_by_marker<'a>(
    connection: &Connection,
    id: i64,
    jobs: impl IntoIterator<Item = &'a crate::warehouse::ledger::JobRow>,
) -> rusqlite::Result<bool> {
    use crate::warehouse::ledger::JobState;
    let mut jobs = jobs.into_iter().peekable();
    if jobs.peek().is_none() {
        return Ok(false);
    }
    if !jobs.all(|job| job.state == JobState::Dead && job.attempts == 0) {
        return Ok(false);
    }
    told_of(connection, id, Kind::MarkerMismatch)
}

/// The newest sequence number, 0 for an empty log.
pub fn last_seq(connection: &Connection) -> rusqlite::Result<i64> {
    connection
        .query_row("SELECT max(seq) FROM _droplake_events", [], |row| {
            row.get::<_, Option<i64>>(0)
        })
        .optional()
        .map(|seq| seq.flatten().unwrap_or(0))
}

/// Writes the receipt for the object at lake-relative `relative` into
/// `dir`, atomically: a temporary file, fsync, rename, fsync of the
/// directory. A receipt of the other kind (an object retried by hand
/// finishes again) is removed after the new one is in place, so a producer
/// never finds two answers that disagree, nor a moment with none. Returns
/// its path.
pub fn write_receipt(
    dir: &Path,
    relative: &Path,
    accepted: bool,
    body: &Value,
) -> std::io::Result<PathBuf> {
    let (suffix, other) = if accepted {
        (".ack.json", ".nak.json")
    } else {
        (".nak.json", ".ack.json")
    };
    let receipt_name = |suffix: &str| {
        let mut name = relative.file_name().unwrap_or_default().to_os_string();
        name.push(suffix);
        name
    };
    let name = receipt_name(suffix);
    let target_dir = dir.join(relative.parent().unwrap_or(Path::new("")));
    std::fs::create_dir_all(&target_dir)?;
    let target = target_dir.join(&name);
    let mut temporary = tempfile::Builder::new()
        .prefix(".droplake-receipt-")
        .suffix(".tmp")
        .tempfile_in(&target_dir)?;
    serde_json::to_writer_pretty(&mut temporary, body)?;
    temporary.write_all(b"\n")?;
    temporary.as_file().sync_all()?;
    temporary.persist(&target).map_err(|error| error.error)?;
    match std::fs::remove_file(target_dir.join(receipt_name(other))) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(error),
        _ => {}
    }
    std::fs::File::open(&target_dir)?.sync_all()?;
    Ok(target)
}
