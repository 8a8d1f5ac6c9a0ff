//! The daemon's ledger: every object it registered and, per handler, a job.
//!
//! An object is one content of one lake path: `(dataset, path, sha256)`,
//! with the path kept as raw bytes (a name may be any bytes) and, for people,
//! as text. Registering an object creates a job per handler of its dataset
//! in the same transaction, so an object is never half registered. A job
//! moves `pending -> running -> done`, or `-> retry` (with the time of its
//! next attempt) and, once its attempts are spent, `-> dead`; the jobs of a
//! duplicate are `duplicate`. A running job holds a lease (owner, expiry);
//! a daemon starting up returns jobs leased by a dead owner to `pending`.
//!
//! Every attempt is kept in `_droplake_attempts` with its times, exit code,
//! error and the handler's captured output. `droplake retry` returns a dead
//! job to `pending` with a fresh budget of retries: attempts keep counting
//! (their numbers stay unique, the history stays), and `retry_base` records
//! where the new budget starts.

use rusqlite::{Connection, OptionalExtension, params};

/// A job's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobState {
    Pending,
    Running,
    Done,
    Retry,
    Dead,
    Duplicate,
}

impl JobState {
    pub fn name(self) -> &'static str {
        match self {
            JobState::Pending => "pending",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Retry => "retry",
            JobState::Dead => "dead",
            JobState::Duplicate => "duplicate",
        }
    }

    pub fn parse(name: &str) -> Option<JobState> {
        [
            JobState::Pending,
            JobState::Running,
            JobState::Done,
            JobState::Retry,
            JobState::Dead,
            JobState::Duplicate,
        ]
        .into_iter()
        .find(|state| state.name() == name)
    }

    /// Whether the handler is finished with the object, for good or ill.
    pub fn is_final(self) -> bool {
        matches!(self, JobState::Done | JobState::Dead | JobState::Duplicate)
    }
}

/// An object as registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRow {
    pub id: i64,
    pub dataset: String,
    /// Its path relative to the lake, as raw bytes.
    pub path: Vec<u8>,
    /// The same path for people (invalid UTF-8 replaced).
    pub name: String,
    pub sha256: String,
    pub size: u64,
    pub mtime_ns: i64,
    pub inode: u64,
    /// Its place in the dataset's order (mtime, or 0 to order by name).
    pub rank: i64,
    pub state: String,
}

/// An object's columns, in `object_row`'s order; queries name the table `o`.
const OBJECT_COLUMNS: &str =
    "o.id, o.dataset, o.path, o.name, o.sha256, o.size, o.mtime_ns, o.inode, o.rank, o.state";

fn object_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ObjectRow> {
    Ok(ObjectRow {
        id: row.get(0)?,
        dataset: row.get(1)?,
        path: row.get(2)?,
        name: row.get(3)?,
        sha256: row.get(4)?,
        size: row.get::<_, i64>(5)?.try_into().unwrap_or(0),
        mtime_ns: row.get(6)?,
        inode: row.get::<_, i64>(7)?.cast_unsigned(),
        rank: row.get(8)?,
        state: row.get(9)?,
    })
}

/// An object about to be registered.
#[derive(Debug, Clone)]
pub struct NewObject<'a> {
    pub dataset: &'a str,
    pub path: &'a [u8],
    pub name: &'a str,
    pub sha256: &'a str,
    pub size: u64,
    pub mtime_ns: i64,
    pub inode: u64,
    pub rank: i64,
    /// The handlers that get a job.
    pub handlers: &'a [String],
    /// Whether content already present under another path makes it a
    /// duplicate (`duplicates = "skip"`).
    pub skip_duplicates: bool,
    /// Why its jobs can never run (a marker that does not match): they
    /// are created dead with this error.
    pub refused: Option<&'a str>,
}

/// What registering found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registered {
    /// A new object, with a pending job per handler.
    New(i64),
    /// This path with this content was registered before.
    Known(i64),
    /// A new object whose content is already object `of` of the dataset.
    Duplicate { id: i64, of: i64 },
}

/// Registers an object and its jobs. Run it in a transaction.
pub fn register(connection: &Connection, new: &NewObject<'_>) -> rusqlite::Result<Registered> {
    let known: Option<i64> = connection
        .prepare_cached(
            "SELECT id FROM _droplake_objects WHERE dataset = ?1 AND path = ?2 AND sha256 = ?3",
        )?
        .query_row(params![new.dataset, new.path, new.sha256], |row| row.get(0))
        .optional()?;
    if let Some(id) = known {
        // The same content again (touched, or the daemon restarted): the
        // object is the same; remember the file as it is now.
        connection
            .prepare_cached("UPDATE _droplake_objects SET mtime_ns = ?2, inode = ?3 WHERE id = ?1")?
            .execute(params![id, new.mtime_ns, new.inode.cast_signed()])?;
        return Ok(Registered::Known(id));
    }
    let first: Option<i64> = if new.skip_duplicates {
        first_with_content(connection, new.dataset, new.sha256, new.path)?
    } else {
        None
    };
    let now = jiff::Timestamp::now().to_string();
    let state = if first.is_some() {
        "duplicate"
    } else {
        "active"
    };
    connection
        .prepare_cached(
            "INSERT INTO _droplake_objects (dataset, path, name, sha256, size, mtime_ns, inode, rank, state, duplicate_of, detected_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?
        .execute(params![
            new.dataset,
            new.path,
            new.name,
            new.sha256,
            new.size.cast_signed(),
            new.mtime_ns,
            new.inode.cast_signed(),
            new.rank,
            state,
            first,
            now
        ])?;
    let id = connection.last_insert_rowid();
    let job_state = if first.is_some() {
        JobState::Duplicate
    } else if new.refused.is_some() {
        JobState::Dead
    } else {
        JobState::Pending
    };
    let mut insert = connection.prepare_cached(
        "INSERT INTO _droplake_jobs (object_id, handler, state, last_error, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for handler in new.handlers {
        insert.execute(params![id, handler, job_state.name(), new.refused, now])?;
    }
    Ok(match first {
        Some(of) => Registered::Duplicate { id, of },
        None => Registered::New(id),
    })
}

/// The first object of `dataset` with content `sha256` under a path other
/// than `path`: what a new object with that content is a duplicate of.
pub fn first_with_content(
    connection: &Connection,
    dataset: &str,
    sha256: &str,
    path: &[u8],
) -> rusqlite::Result<Option<i64>> {
    connection
        .prepare_cached(
            "SELECT min(id) FROM _droplake_objects WHERE dataset = ?1 AND sha256 = ?2 AND path != ?3",
        )?
        .query_row(params![dataset, sha256, path], |row| row.get(0))
}

/// A registered path's file as last seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownFile {
    pub path: Vec<u8>,
    pub size: u64,
    pub mtime_ns: i64,
    pub inode: u64,
}

/// The file each registered path had when last seen, newest object first
/// per path: what a restarted daemon compares a scan against.
pub fn known_files(connection: &Connection) -> rusqlite::Result<Vec<KnownFile>> {
    let mut statement = connection.prepare(
        "SELECT path, size, mtime_ns, inode FROM _droplake_objects WHERE id IN (SELECT max(id) FROM _droplake_objects GROUP BY dataset, path)",
    )?;
    let rows = statement.query_map([], |row| {
        Ok(KnownFile {
            path: row.get(0)?,
            size: row.get::<_, i64>(1)?.cast_unsigned(),
            mtime_ns: row.get(2)?,
            inode: row.get::<_, i64>(3)?.cast_unsigned(),
        })
    })?;
    rows.collect()
}

/// A job that is not finished, with its object.
#[derive(Debug, Clone)]
pub struct OpenJob {
    pub object: ObjectRow,
    pub handler: String,
    pub state: JobState,
    pub attempts: u32,
    pub next_at_ms: i64,
}

/// Every job that is not done, dead or a duplicate.
pub fn open_jobs(connection: &Connection) -> rusqlite::Result<Vec<OpenJob>> {
    let mut statement = connection.prepare(&format!(
        "SELECT {OBJECT_COLUMNS}, j.handler, j.state, j.attempts, j.next_at_ms
         FROM _droplake_jobs j JOIN _droplake_objects o ON o.id = j.object_id
         WHERE j.state NOT IN ('done', 'dead', 'duplicate')"
    ))?;
    let rows = statement.query_map([], |row| {
        let state: String = row.get(11)?;
        Ok(OpenJob {
            object: object_row(row)?,
            handler: row.get(10)?,
            state: JobState::parse(&state).unwrap_or(JobState::Pending),
            attempts: row.get(12)?,
            next_at_ms: row.get(13)?,
        })
    })?;
    rows.collect()
}

/// The objects whose job for `handler` is dead, for an ordered handler
/// that must keep holding their datasets back after a restart.
pub fn dead_for(connection: &Connection, handler: &str) -> rusqlite::Result<Vec<ObjectRow>> {
    let mut statement = connection.prepare(&format!(
        "SELECT {OBJECT_COLUMNS} FROM _droplake_jobs j JOIN _droplake_objects o ON o.id = j.object_id
         WHERE j.handler = ?1 AND j.state = 'dead'"
    ))?;
    let rows = statement.query_map([handler], object_row)?;
    rows.collect()
}

/// The state of every job of object `id`, by handler.
pub fn jobs_of(connection: &Connection, id: i64) -> rusqlite::Result<Vec<(String, JobState)>> {
    let mut statement = connection
        .prepare_cached("SELECT handler, state FROM _droplake_jobs WHERE object_id = ?1")?;
    let rows = statement.query_map([id], |row| {
        let state: String = row.get(1)?;
        Ok((
            row.get(0)?,
            JobState::parse(&state).unwrap_or(JobState::Pending),
        ))
    })?;
    rows.collect()
}

/// The object of `dataset` at lake-relative `path` with content `sha256`.
pub fn find(
    connection: &Connection,
    dataset: &str,
    path: &[u8],
    sha256: &str,
) -> rusqlite::Result<Option<ObjectRow>> {
    connection
        .prepare_cached(&format!(
            "SELECT {OBJECT_COLUMNS} FROM _droplake_objects o WHERE dataset = ?1 AND path = ?2 AND sha256 = ?3"
        ))?
        .query_row(params![dataset, path, sha256], object_row)
        .optional()
}

/// The newest object of `dataset` at lake-relative `path`: the one whose
/// file a daemon compares a scan against.
pub fn newest_at(
    connection: &Connection,
    dataset: &str,
    path: &[u8],
) -> rusqlite::Result<Option<ObjectRow>> {
    connection
        .prepare_cached(&format!(
            "SELECT {OBJECT_COLUMNS} FROM _droplake_objects o WHERE dataset = ?1 AND path = ?2 ORDER BY id DESC LIMIT 1"
        ))?
        .query_row(params![dataset, path], object_row)
        .optional()
}

/// Object `id`, if it is registered.
pub fn object(connection: &Connection, id: i64) -> rusqlite::Result<Option<ObjectRow>> {
    connection
        .prepare_cached(&format!(
            "SELECT {OBJECT_COLUMNS} FROM _droplake_objects o WHERE id = ?1"
        ))?
        .query_row([id], object_row)
        .optional()
}

/// What became of an object besides its jobs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fate {
    /// The object whose content it repeats, if it is a duplicate.
    pub duplicate_of: Option<i64>,
    pub rows_loaded: Option<u64>,
    pub rows_rejected: Option<u64>,
    /// When its last job became final (RFC 3339); cleared by a retry.
    pub finished_at: Option<String>,
    /// When retention archived or deleted its file (RFC 3339).
    pub removed_at: Option<String>,
}

pub fn fate(connection: &Connection, id: i64) -> rusqlite::Result<Fate> {
    connection
        .prepare_cached(
            "SELECT duplicate_of, rows_loaded, rows_rejected, finished_at, removed_at
             FROM _droplake_objects WHERE id = ?1",
        )?
        .query_row([id], |row| {
            Ok(Fate {
                duplicate_of: row.get(0)?,
                rows_loaded: row.get::<_, Option<i64>>(1)?.map(i64::cast_unsigned),
                rows_rejected: row.get::<_, Option<i64>>(2)?.map(i64::cast_unsigned),
                finished_at: row.get(3)?,
                removed_at: row.get(4)?,
            })
        })
}

/// One job as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRow {
    pub object_id: i64,
    pub handler: String,
    pub state: JobState,
    /// Attempts made, ever: the next one takes the number `attempts + 1`.
    pub attempts: u32,
    /// Attempts made before the job was last retried by hand; its budget
    /// of retries counts from here.
    pub retry_base: u32,
    /// When a `retry` job's next attempt is due (ms since the epoch).
    pub next_at_ms: i64,
    pub last_error: Option<String>,
}

const JOB_COLUMNS: &str =
    "j.object_id, j.handler, j.state, j.attempts, j.retry_base, j.next_at_ms, j.last_error";

fn job_row(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<JobRow> {
    let state: String = row.get(first + 2)?;
    Ok(JobRow {
        object_id: row.get(first)?,
        handler: row.get(first + 1)?,
        state: JobState::parse(&state).unwrap_or(JobState::Pending),
        attempts: row.get(first + 3)?,
        retry_base: row.get(first + 4)?,
        next_at_ms: row.get(first + 5)?,
        last_error: row.get(first + 6)?,
    })
}

/// Every job of object `id`, by handler name.
pub fn jobs(connection: &Connection, id: i64) -> rusqlite::Result<Vec<JobRow>> {
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {JOB_COLUMNS} FROM _droplake_jobs j WHERE j.object_id = ?1 ORDER BY j.handler"
    ))?;
    let rows = statement.query_map([id], |row| job_row(row, 0))?;
    rows.collect()
}

/// Jobs in one of `states`, with their objects, by object then handler:
/// of object `object` only, or of every object; of `handler` only, or of
/// every handler.
pub fn jobs_in(
    connection: &Connection,
    states: &[JobState],
    object: Option<i64>,
    handler: Option<&str>,
) -> rusqlite::Result<Vec<(ObjectRow, JobRow)>> {
    let states: Vec<String> = states
        .iter()
        .map(|state| format!("'{}'", state.name()))
        .collect();
    let mut statement = connection.prepare(&format!(
        "SELECT {OBJECT_COLUMNS}, {JOB_COLUMNS}
         FROM _droplake_jobs j JOIN _droplake_objects o ON o.id = j.object_id
         WHERE j.state IN ({}) AND (?1 IS NULL OR j.object_id = ?1) AND (?2 IS NULL OR j.handler = ?2)
         ORDER BY j.object_id, j.handler",
        states.join(", ")
    ))?;
    let rows = statement.query_map(params![object, handler], |row| {
        Ok((object_row(row)?, job_row(row, 10)?))
    })?;
    rows.collect()
}

/// Per handler, the oldest object with a job of it not final (pending,
/// retry or running), by handler name: `(handler, object id, detected_at)`.
/// Object ids grow with registration, so the smallest id is the object
/// detected first. `status` and the metrics both ask this.
pub fn oldest_unfinished(connection: &Connection) -> rusqlite::Result<Vec<(String, i64, String)>> {
    let mut statement = connection.prepare_cached(
        "SELECT f.handler, o.id, o.detected_at
         FROM (SELECT handler, min(object_id) AS id FROM _droplake_jobs
               WHERE state IN ('pending', 'retry', 'running') GROUP BY handler) f
         JOIN _droplake_objects o ON o.id = f.id
         ORDER BY f.handler",
    )?;
    let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?;
    rows.collect()
}

/// The head of `dataset` for the ordered handler `handler`: the first
/// object in the dataset's order (rank, then path bytes, then id, as the
/// scheduler orders them) whose job of `handler` is neither done nor a
/// duplicate, with that job. Later objects wait behind it.
pub fn ordered_head(
    connection: &Connection,
    dataset: &str,
    handler: &str,
) -> rusqlite::Result<Option<(ObjectRow, JobRow)>> {
    connection
        .prepare_cached(&format!(
            "SELECT {OBJECT_COLUMNS}, {JOB_COLUMNS}
             FROM _droplake_jobs j JOIN _droplake_objects o ON o.id = j.object_id
             WHERE o.dataset = ?1 AND j.handler = ?2 AND j.state NOT IN ('done', 'duplicate')
             ORDER BY o.rank, o.path, o.id LIMIT 1"
        ))?
        .query_row(params![dataset, handler], |row| {
            Ok((object_row(row)?, job_row(row, 10)?))
        })
        .optional()
}

/// The attempts a job's budget of retries counts from (see [`JobRow`]).
pub fn retry_base(connection: &Connection, object_id: i64, handler: &str) -> rusqlite::Result<u32> {
    connection
        .prepare_cached(
            "SELECT retry_base FROM _droplake_jobs WHERE object_id = ?1 AND handler = ?2",
        )?
        .query_row(params![object_id, handler], |row| row.get(0))
        .optional()
        .map(Option::unwrap_or_default)
}

/// Returns a dead job, or one waiting for its retry, to `pending` now, with
/// a fresh budget of retries. Its last error stays until an attempt
/// replaces it. Returns whether the job was in such a state.
pub fn reset_job(connection: &Connection, object_id: i64, handler: &str) -> rusqlite::Result<bool> {
    let changed = connection
        .prepare_cached(
            "UPDATE _droplake_jobs SET state = 'pending', retry_base = attempts, next_at_ms = 0,
             lease_owner = NULL, lease_expires_ms = NULL, updated_at = ?3
             WHERE object_id = ?1 AND handler = ?2 AND state IN ('dead', 'retry')",
        )?
        .execute(params![
            object_id,
            handler,
            jiff::Timestamp::now().to_string()
        ])?;
    Ok(changed > 0)
}

/// Makes a finished object active again (one of its jobs was reset), so
/// that it finishes anew, with a new `object.finished` event and receipt.
pub fn reopen(connection: &Connection, id: i64) -> rusqlite::Result<()> {
    connection
        .prepare_cached(
            "UPDATE _droplake_objects SET state = 'active', finished_at = NULL
             WHERE id = ?1 AND duplicate_of IS NULL",
        )?
        .execute([id])?;
    Ok(())
}

/// Returns every job leased by an owner other than `owner` to `pending`:
/// the caller holds the daemon lock, so such owners are dead. Returns how
/// many jobs were recovered.
pub fn recover(connection: &Connection, owner: &str) -> rusqlite::Result<usize> {
    connection.execute(
        "UPDATE _droplake_jobs SET state = 'pending', lease_owner = NULL, lease_expires_ms = NULL, updated_at = ?2
         WHERE state = 'running' AND (lease_owner IS NULL OR lease_owner != ?1)",
        params![owner, jiff::Timestamp::now().to_string()],
    )
}

/// Marks a job running under `owner`'s lease until `expires_ms`.
pub fn claim(
    connection: &Connection,
    object_id: i64,
    handler: &str,
    owner: &str,
    expires_ms: i64,
) -> rusqlite::Result<()> {
    connection
        .prepare_cached(
            "UPDATE _droplake_jobs SET state = 'running', lease_owner = ?3, lease_expires_ms = ?4, updated_at = ?5
             WHERE object_id = ?1 AND handler = ?2",
        )?
        .execute(params![
            object_id,
            handler,
            owner,
            expires_ms,
            jiff::Timestamp::now().to_string()
        ])?;
    Ok(())
}

/// A job's new state after an attempt (or without one, such as a job held
/// by a handler it waits for).
#[derive(Debug, Clone)]
pub struct JobUpdate<'a> {
    pub object_id: i64,
    pub handler: &'a str,
    pub state: JobState,
    pub attempts: u32,
    pub next_at_ms: i64,
    pub error: Option<&'a str>,
}

pub fn update_job(connection: &Connection, update: &JobUpdate<'_>) -> rusqlite::Result<()> {
    connection
        .prepare_cached(
            "UPDATE _droplake_jobs SET state = ?3, attempts = ?4, next_at_ms = ?5, last_error = ?6,
             lease_owner = NULL, lease_expires_ms = NULL, updated_at = ?7
             WHERE object_id = ?1 AND handler = ?2",
        )?
        .execute(params![
            update.object_id,
            update.handler,
            update.state.name(),
            update.attempts,
            update.next_at_ms,
            update.error,
            jiff::Timestamp::now().to_string()
        ])?;
    Ok(())
}

/// One attempt of one handler on one object, as kept.
#[derive(Debug, Clone, Default)]
pub struct Attempt<'a> {
    pub object_id: i64,
    pub handler: &'a str,
    pub attempt: u32,
    pub started_at: String,
    pub finished_at: String,
    /// `done`, `retry`, `dead` or `interrupted`.
    pub outcome: &'a str,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub error: Option<&'a str>,
    pub load_id: Option<i64>,
    pub stdout: &'a [u8],
    pub stdout_dropped: u64,
    pub stderr: &'a [u8],
    pub stderr_dropped: u64,
}

pub fn record_attempt(connection: &Connection, attempt: &Attempt<'_>) -> rusqlite::Result<()> {
    connection
        .prepare_cached(
            "INSERT OR REPLACE INTO _droplake_attempts (object_id, handler, attempt, started_at, finished_at, outcome,
             exit_code, signal, error, load_id, stdout, stdout_dropped, stderr, stderr_dropped)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        )?
        .execute(params![
            attempt.object_id,
            attempt.handler,
            attempt.attempt,
            attempt.started_at,
            attempt.finished_at,
            attempt.outcome,
            attempt.exit_code,
            attempt.signal,
            attempt.error,
            attempt.load_id,
            attempt.stdout,
            attempt.stdout_dropped.cast_signed(),
            attempt.stderr,
            attempt.stderr_dropped.cast_signed()
        ])?;
    Ok(())
}

/// Records what the loader's load of object `id` did.
pub fn record_load(
    connection: &Connection,
    id: i64,
    load_id: i64,
    rows_loaded: u64,
    rows_rejected: u64,
) -> rusqlite::Result<()> {
    connection
        .prepare_cached(
            "UPDATE _droplake_objects SET load_id = ?2, rows_loaded = ?3, rows_rejected = ?4 WHERE id = ?1",
        )?
        .execute(params![
            id,
            load_id,
            rows_loaded.cast_signed(),
            rows_rejected.cast_signed()
        ])?;
    Ok(())
}

/// Per handler of object `id`: its job's state and last error.
fn job_outcomes(
    connection: &Connection,
    id: i64,
) -> rusqlite::Result<Vec<(String, JobState, Option<String>)>> {
    let mut statement = connection.prepare_cached(
        "SELECT handler, state, last_error FROM _droplake_jobs WHERE object_id = ?1 ORDER BY handler",
    )?;
    let jobs = statement.query_map([id], |row| {
        let state: String = row.get(1)?;
        Ok((
            row.get::<_, String>(0)?,
            JobState::parse(&state).unwrap_or(JobState::Pending),
            row.get::<_, Option<String>>(2)?,
        ))
    })?;
    jobs.collect()
}

/// An object whose jobs are all final: how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    /// `done` (every job done, no row rejected), `failed` or `duplicate`.
    pub state: &'static str,
    pub rows_loaded: Option<u64>,
    pub rows_rejected: Option<u64>,
    /// Per handler: its state and last error.
    pub jobs: Vec<(String, JobState, Option<String>)>,
}

/// If every job of object `id` is final and the object was not finished
/// yet, marks it finished and says how; else `None`. A duplicate stays a
/// duplicate; an object with a dead job or a rejected row is `failed`.
pub fn finish_if_complete(connection: &Connection, id: i64) -> rusqlite::Result<Option<Finished>> {
    let jobs = job_outcomes(connection, id)?;
    if jobs.iter().any(|(_, state, _)| !state.is_final()) {
        return Ok(None);
    }
    let (loaded, rejected, duplicate_of): (Option<i64>, Option<i64>, Option<i64>) = connection
        .prepare_cached(
            "SELECT rows_loaded, rows_rejected, duplicate_of FROM _droplake_objects WHERE id = ?1",
        )?
        .query_row([id], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?;
    let failed = jobs.iter().any(|(_, state, _)| *state == JobState::Dead)
        || rejected.is_some_and(|rejected| rejected > 0);
    let state = match (duplicate_of, failed) {
        (Some(_), _) => "duplicate",
        (None, true) => "failed",
        (None, false) => "done",
    };
    let changed = connection
        .prepare_cached(
            "UPDATE _droplake_objects SET state = ?2, finished_at = ?3 WHERE id = ?1 AND finished_at IS NULL",
        )?
        .execute(params![id, state, jiff::Timestamp::now().to_string()])?;
    if changed == 0 {
        return Ok(None);
    }
    Ok(Some(Finished {
        state,
        rows_loaded: loaded.map(i64::cast_unsigned),
        rows_rejected: rejected.map(i64::cast_unsigned),
        jobs,
    }))
}

/// Objects finished before `before` (RFC 3339) and still in the lake whose
/// every job is done or a duplicate: what retention may remove.
pub fn retainable(
    connection: &Connection,
    dataset: &str,
    before: &str,
) -> rusqlite::Result<Vec<ObjectRow>> {
    let mut statement = connection.prepare(&format!(
        "SELECT {OBJECT_COLUMNS} FROM _droplake_objects o
         WHERE dataset = ?1 AND removed_at IS NULL AND finished_at IS NOT NULL AND finished_at < ?2
           AND state IN ('done', 'duplicate', 'failed')
           AND NOT EXISTS (SELECT 1 FROM _droplake_jobs j WHERE j.object_id = o.id AND j.state NOT IN ('done', 'duplicate'))"
    ))?;
    let rows = statement.query_map(params![dataset, before], object_row)?;
    rows.collect()
}

/// The finished objects of `dataset` with no `receipt.written` event
/// since their last `object.finished` (an object retried by hand finishes
/// again): receipts a crash (or a failed write) left unwritten.
pub fn without_receipt(
    connection: &Connection,
    dataset: &str,
    since: &str,
) -> rusqlite::Result<Vec<ObjectRow>> {
    let mut statement = connection.prepare(&format!(
        "SELECT {OBJECT_COLUMNS} FROM _droplake_objects o
         WHERE dataset = ?1 AND finished_at IS NOT NULL AND finished_at >= ?2
           AND NOT EXISTS (SELECT 1 FROM _droplake_events e WHERE e.object_id = o.id AND e.kind = 'receipt.written'
                           AND e.seq > coalesce((SELECT max(f.seq) FROM _droplake_events f
                                                 WHERE f.object_id = o.id AND f.kind = 'object.finished'), 0))"
    ))?;
    let rows = statement.query_map(params![dataset, since], object_row)?;
    rows.collect()
}

/// How a finished object ended, for a receipt written late.
pub fn outcome(connection: &Connection, id: i64) -> rusqlite::Result<Finished> {
    let jobs = job_outcomes(connection, id)?;
    let (state, loaded, rejected): (String, Option<i64>, Option<i64>) = connection
        .prepare_cached(
            "SELECT state, rows_loaded, rows_rejected FROM _droplake_objects WHERE id = ?1",
        )?
        .query_row([id], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?;
    Ok(Finished {
        state: match state.as_str() {
            "failed" => "failed",
            "duplicate" => "duplicate",
            _ => "done",
        },
        rows_loaded: loaded.map(i64::cast_unsigned),
        rows_rejected: rejected.map(i64::cast_unsigned),
        jobs,
    })
}

/// Records that object `id`'s file was archived or deleted.
pub fn mark_removed(connection: &Connection, id: i64) -> rusqlite::Result<()> {
    connection.execute(
        "UPDATE _droplake_objects SET removed_at = ?2 WHERE id = ?1",
        params![id, jiff::Timestamp::now().to_string()],
    )?;
    Ok(())
}

/// When the previous daemon started, if one ever did.
pub fn previous_start(connection: &Connection) -> rusqlite::Result<Option<String>> {
    connection
        .query_row(
            "SELECT started_at FROM _droplake_daemon WHERE id = 1",
            [],
            |row| row.get(0),
        )
        .optional()
}

/// Records the daemon that holds the lock.
pub fn daemon_started(connection: &Connection, owner: &str) -> rusqlite::Result<()> {
    connection.execute(
        "INSERT INTO _droplake_daemon (id, pid, owner, started_at) VALUES (1, ?1, ?2, ?3)
         ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, owner = excluded.owner,
         started_at = excluded.started_at, last_scan_at = NULL, stopped_at = NULL",
        params![
            std::process::id(),
            owner,
            jiff::Timestamp::now().to_string()
        ],
    )?;
    Ok(())
}

/// Records the end of a reconciliation scan.
pub fn daemon_scanned(connection: &Connection) -> rusqlite::Result<()> {
    connection.execute(
        "UPDATE _droplake_daemon SET last_scan_at = ?1 WHERE id = 1",
        [jiff::Timestamp::now().to_string()],
    )?;
    Ok(())
}

/// Records that the daemon stopped.
pub fn daemon_stopped(connection: &Connection) -> rusqlite::Result<()> {
    connection.execute(
        "UPDATE _droplake_daemon SET stopped_at = ?1 WHERE id = 1",
        [jiff::Timestamp::now().to_string()],
    )?;
    Ok(())
}
