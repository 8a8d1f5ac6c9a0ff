//! `files`: the objects of the ledger with where each stands, newest first,
//! narrowed by dataset, [`ObjectState`] and detection time.

use rusqlite::{Connection, params};
use serde::Serialize;

use super::{InspectError, LEDGER, ObjectState, STATE_SQL, has_tables, sql};
use crate::config::Settings;

/// Which objects to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub dataset: Option<String>,
    pub state: Option<ObjectState>,
    /// Only objects detected at or after this time.
    pub since: Option<jiff::Timestamp>,
    /// At most this many, the newest; `None`: all.
    pub limit: Option<u64>,
}

/// The objects found.
#[derive(Debug, Clone, Serialize)]
pub struct Files {
    /// How many objects match, listed or not.
    pub total: u64,
    /// Whether `--limit` left some out.
    pub truncated: bool,
    pub objects: Vec<FileEntry>,
}

/// One object as listed.
#[derive(Debug, Clone, Serialize)]
pub struct FileEntry {
    pub id: i64,
    pub dataset: String,
    /// Relative to the lake (invalid UTF-8 replaced).
    pub path: String,
    pub state: ObjectState,
    pub detected_at: String,
    pub finished_at: Option<String>,
    pub size: u64,
    pub sha256: String,
    pub rows_loaded: Option<u64>,
    pub rows_rejected: Option<u64>,
    pub duplicate_of: Option<i64>,
    /// When retention archived or deleted its file.
    pub removed_at: Option<String>,
    /// Each handler's job state, by handler name.
    pub jobs: serde_json::Map<String, serde_json::Value>,
}

/// Lists the objects `filter` asks for. A warehouse that does not exist yet
/// has none.
pub fn list(settings: &Settings, filter: &Filter) -> Result<Files, InspectError> {
    let empty = Files {
        total: 0,
        truncated: false,
        objects: Vec::new(),
    };
    if !settings.warehouse.exists() {
        return Ok(empty);
    }
    let connection = super::open(&settings.warehouse)?;
    let sql = sql(&settings.warehouse);
    if !has_tables(&connection, &LEDGER).map_err(&sql)? {
        return Ok(empty);
    }
    query(&connection, filter).map_err(&sql)
}

fn query(connection: &Connection, filter: &Filter) -> rusqlite::Result<Files> {
    let from = format!(
        "FROM (SELECT o.*, {STATE_SQL} AS now FROM _droplake_objects o) o
         WHERE (?1 IS NULL OR o.dataset = ?1) AND (?2 IS NULL OR o.now = ?2)
           AND (?3 IS NULL OR julianday(o.detected_at) >= julianday(?3))"
    );
    let dataset = filter.dataset.as_deref();
    let state = filter.state.map(ObjectState::name);
    let since = filter.since.map(|time| time.to_string());
    let total: i64 = connection.query_row(
        &format!("SELECT count(*) {from}"),
        params![dataset, state, since],
        |row| row.get(0),
    )?;
    let limit = filter
        .limit
        .and_then(|limit| i64::try_from(limit).ok())
        .unwrap_or(-1);
    let mut statement = connection.prepare(&format!(
        "SELECT o.id, o.dataset, o.name, o.now, o.detected_at, o.finished_at, o.size, o.sha256,
                o.rows_loaded, o.rows_rejected, o.duplicate_of, o.removed_at,
                (SELECT json_group_object(handler, state)
                 FROM (SELECT handler, state FROM _droplake_jobs WHERE object_id = o.id ORDER BY handler))
         {from} ORDER BY o.id DESC LIMIT ?4"
    ))?;
    let objects = statement
        .query_map(params![dataset, state, since, limit], |row| {
            let state: String = row.get(3)?;
            let jobs: Option<String> = row.get(12)?;
            let jobs = jobs
                .and_then(|jobs| serde_json::from_str(&jobs).ok())
                .unwrap_or_default();
            Ok(FileEntry {
                id: row.get(0)?,
                dataset: row.get(1)?,
                path: row.get(2)?,
                state: ObjectState::parse(&state).unwrap_or(ObjectState::Waiting),
                detected_at: row.get(4)?,
                finished_at: row.get(5)?,
                size: row.get::<_, i64>(6)?.cast_unsigned(),
                sha256: row.get(7)?,
                rows_loaded: row.get::<_, Option<i64>>(8)?.map(i64::cast_unsigned),
                rows_rejected: row.get::<_, Option<i64>>(9)?.map(i64::cast_unsigned),
                duplicate_of: row.get(10)?,
                removed_at: row.get(11)?,
                jobs,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let total = total.cast_unsigned();
    Ok(Files {
        truncated: (objects.len() as u64) < total,
        total,
        objects,
    })
}
