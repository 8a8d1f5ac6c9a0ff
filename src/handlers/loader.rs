//! The built-in loader as a handler: one object's load, with its job.
//!
//! The load's transaction also carries the job's new state, the attempt,
//! the object's counts and the events that tell of them, so the loader is
//! exactly once: a crash before the commit leaves the job pending and no
//! rows; after it, the job done and every row.
//!
//! Before committing, the loader checks that what it read is the object
//! that was registered: the bytes it read are hashed as they stream past,
//! the rest of the file is hashed after, and size and mtime are compared.
//! A file that changed is not loaded; its new content becomes a new object
//! when the scan sees it. A marker's declared record count is checked too.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::daemon::ObjectInfo;
use crate::detect::scan::Stat;
use crate::events::{self, Kind};
use crate::formats::{self, OpenError, ReadOptions};
use crate::loader::Table;
use crate::warehouse::ledger::{self, Attempt, Finished, JobState, JobUpdate};
use crate::warehouse::{
    LoadHook, LoadOptions, LoadReport, ObjectRef, Outcome, Warehouse, WarehouseError,
};

/// One load to do.
#[derive(Debug, Clone)]
pub struct LoadJob {
    pub info: Arc<ObjectInfo>,
    pub table: Arc<Table>,
    pub read: ReadOptions,
    pub options: LoadOptions,
    /// The attempt this is (1 for the first).
    pub attempt: u32,
    /// The record count a marker declared.
    pub records: Option<u64>,
    /// Set when the daemon stops: the load rolls back.
    pub stop: Arc<AtomicBool>,
}

/// How a load job ended.
#[derive(Debug, Clone)]
pub enum LoadResult {
    /// The load committed, with the job's new state and the object's end
    /// if it was its last job: all of it is in the ledger already.
    Committed {
        state: JobState,
        report: Box<LoadReport>,
        finished: Option<Finished>,
        /// From opening the file to the commit that made its rows
        /// durable: in a group, the group's commit, so it includes the
        /// loads after it in the group and the one fsync they share.
        took: std::time::Duration,
    },
    /// Nothing was committed; the daemon records the job's new state.
    /// `retry`: a temporary problem (the warehouse busy or full, a schema
    /// that cannot be applied yet); otherwise final with `done` or dead.
    Uncommitted { outcome: Uncommitted, error: String },
    /// The daemon is stopping; the load rolled back, the job is pending.
    Stopped,
}

/// The job state the daemon records for a load that committed nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uncommitted {
    /// Nothing to load (an empty file).
    Done,
    /// Try again later.
    Retry,
    /// It will never load as it is.
    Dead,
}

/// Runs `jobs`, queued together, sharing one commit where they can: each
/// load is a savepoint of one transaction, so a storm of small files costs
/// one fsync per group, not per file. A load that fails rolls back its own
/// savepoint only; a job whose table cannot be prepared runs alone. If the
/// group's commit fails, none of its loads happened, and each is retried.
pub fn load_group(warehouse: &mut Warehouse, jobs: &[LoadJob]) -> Vec<LoadResult> {
    if jobs.len() < 2 {
        return jobs.iter().map(|job| load(warehouse, job)).collect();
    }
    let mut prepared = std::collections::HashSet::new();
    let mut alone = vec![false; jobs.len()];
    for (index, job) in jobs.iter().enumerate() {
        let table = &job.table.schema.name;
        if prepared.contains(table) {
            continue;
        }
        match warehouse.prepare_load(&job.table.schema, &job.table.descriptor, job.options) {
            Ok(()) => {
                prepared.insert(table.clone());
            }
            Err(_) => alone[index] = true,
        }
    }
    let mut results: Vec<Option<LoadResult>> = vec![None; jobs.len()];
    // When each load's savepoint was released: its time runs on to the
    // group's commit.
    let mut released: Vec<Option<std::time::Instant>> = vec![None; jobs.len()];
    if warehouse.begin_group().is_ok() {
        for (index, job) in jobs.iter().enumerate() {
            // A failure that ended the whole transaction ends the group.
            if alone[index] || warehouse.connection().is_autocommit() {
                alone[index] = true;
                continue;
            }
            if prepared.contains(&job.table.schema.name) {
                results[index] = Some(load(warehouse, job));
                released[index] = Some(std::time::Instant::now());
            } else {
                alone[index] = true;
            }
        }
        match warehouse.commit_group() {
            Ok(()) => {
                for (result, released) in results.iter_mut().zip(&released) {
                    if let (Some(LoadResult::Committed { took, .. }), Some(released)) =
                        (result, released)
                    {
                        *took += released.elapsed();
                    }
                }
            }
            Err(error) => {
                for result in results.iter_mut().flatten() {
                    if matches!(result, LoadResult::Committed { .. }) {
                        *result = LoadResult::Uncommitted {
                            outcome: Uncommitted::Retry,
                            error: format!("the commit of a group of loads failed: {error}"),
                        };
                    }
                }
            }
        }
    } else {
        alone.iter_mut().for_each(|alone| *alone = true);
    }
    tracing::debug!(
        loads = jobs.len(),
        alone = alone.iter().filter(|alone| **alone).count(),
        "Loaded a group of objects in one transaction."
    );
    jobs.iter()
        .zip(results)
        .zip(alone)
        .map(|((job, result), alone)| match result {
            Some(result) if !alone => result,
            _ => load(warehouse, job),
        })
        .collect()
}

/// Hashes the bytes the reader takes, so the loader knows what it read.
struct Hashing {
    file: std::fs::File,
    seen: Arc<Mutex<(Sha256, u64)>>,
}

impl Read for Hashing {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let read = self.file.read(buffer)?;
        if let Ok(mut seen) = self.seen.lock() {
            seen.0.update(&buffer[..read]);
            seen.1 += read as u64;
        }
        Ok(read)
    }
}

/// Runs `job` on `warehouse`.
pub fn load(warehouse: &mut Warehouse, job: &LoadJob) -> LoadResult {
    let timer = std::time::Instant::now();
    let started = jiff::Timestamp::now().to_string();
    let seen = Arc::new(Mutex::new((Sha256::new(), 0u64)));
    let opened = formats::open_through(&job.info.path, &job.read, |file| {
        Box::new(Hashing {
            file,
            seen: Arc::clone(&seen),
        })
    });
    let mut reader = match opened {
        Ok(reader) => reader,
        Err(OpenError::Empty { .. }) if job.info.size == 0 => {
            return LoadResult::Uncommitted {
                outcome: Uncommitted::Done,
                error: "the file is empty: there is nothing to load".into(),
            };
        }
        Err(OpenError::Open { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            return LoadResult::Uncommitted {
                outcome: Uncommitted::Dead,
                error: "the file was deleted before it was loaded".into(),
            };
        }
        Err(error @ OpenError::Open { .. }) => {
            return LoadResult::Uncommitted {
                outcome: Uncommitted::Retry,
                error: error.to_string(),
            };
        }
        Err(error) => {
            return LoadResult::Uncommitted {
                outcome: Uncommitted::Dead,
                error: error.to_string(),
            };
        }
    };
    let object = ObjectRef {
        path: job.info.name.clone(),
        sha256: job.info.sha256.clone(),
        size: job.info.size,
    };
    let mut hook = Hook {
        job,
        seen,
        started,
        refusal: None,
        committed: None,
    };
    let loaded = warehouse.load_with(
        &job.table.schema,
        &job.table.descriptor,
        &object,
        reader.as_mut(),
        job.options,
        &mut hook,
    );
    match loaded {
        Ok(report) => match hook.committed {
            Some((state, finished)) => LoadResult::Committed {
                state,
                report: Box::new(report),
                finished,
                took: timer.elapsed(),
            },
            None => LoadResult::Uncommitted {
                outcome: Uncommitted::Retry,
                error: "the load ended without recording its job; it will be tried again".into(),
            },
        },
        Err(WarehouseError::Interrupted { .. }) => LoadResult::Stopped,
        Err(WarehouseError::Refused { message }) => LoadResult::Uncommitted {
            outcome: Uncommitted::Dead,
            error: hook.refusal.unwrap_or(message),
        },
        Err(error) => LoadResult::Uncommitted {
            outcome: Uncommitted::Retry,
            error: error.to_string(),
        },
    }
}

struct Hook<'a> {
    job: &'a LoadJob,
    seen: Arc<Mutex<(Sha256, u64)>>,
    started: String,
    refusal: Option<String>,
    committed: Option<(JobState, Option<Finished>)>,
}

impl Hook<'_> {
    /// Whether the file is still the registered object: the bytes read,
    /// then the rest of the file, hash to its SHA-256, and its size and
    /// mtime are unchanged.
    fn verify(&self) -> Result<(), String> {
        let path = &self.job.info.path;
        let changed = |what: &str| {
            format!(
                "{} changed while it was read ({what}); it was not loaded, and its new content will be a new object",
                self.job.info.name
            )
        };
        let (mut hasher, consumed) = self
            .seen
            .lock()
            .map(|seen| (seen.0.clone(), seen.1))
            .map_err(|_| changed("the hash was lost"))?;
        let mut file = std::fs::File::open(path).map_err(|_| changed("it is gone"))?;
        let metadata = file.metadata().map_err(|_| changed("it is gone"))?;
        let stat = Stat::of(&metadata);
        if stat.size != self.job.info.size || stat.mtime_ns != self.job.info.mtime_ns {
            return Err(changed("its size or modification time differs"));
        }
        file.seek(SeekFrom::Start(consumed))
            .map_err(|error| changed(&error.to_string()))?;
        let rest = usize::try_from(stat.size.saturating_sub(consumed)).unwrap_or(usize::MAX);
        let mut buffer = vec![0; rest.saturating_add(1).clamp(4096, 256 * 1024)];
        loop {
            let read = file
                .read(&mut buffer)
                .map_err(|error| changed(&error.to_string()))?;
            if read == 0 {
                break;
            }
            hasher.update(&buffer[..read]);
        }
        if hex::encode(hasher.finalize()) != self.job.info.sha256 {
            return Err(changed("its content hash differs"));
        }
        Ok(())
    }

    fn refuse(&mut self, message: String) -> WarehouseError {
        self.refusal = Some(message.clone());
        WarehouseError::Refused { message }
    }
}

impl LoadHook for Hook<'_> {
    fn stopped(&self) -> bool {
        self.job.stop.load(Ordering::Relaxed)
    }

    fn before_commit(
        &mut self,
        transaction: &Connection,
        report: &LoadReport,
    ) -> Result<(), WarehouseError> {
        if self.stopped() {
            return Err(WarehouseError::Interrupted {
                table: self.job.table.schema.name.clone(),
            });
        }
        if let Err(message) = self.verify() {
            return Err(self.refuse(message));
        }
        if let Some(records) = self.job.records
            && report.outcome != Outcome::Duplicate
            && report.rows_read != records
        {
            let message = format!(
                "the marker declares {records} records but {} holds {}; nothing was loaded",
                self.job.info.name, report.rows_read
            );
            return Err(self.refuse(message));
        }
        let (state, error) = match report.outcome {
            Outcome::Loaded | Outcome::Partial => (JobState::Done, None),
            Outcome::Duplicate => (JobState::Duplicate, None),
            Outcome::Failed | Outcome::Aborted => (JobState::Dead, Some(summary(report))),
        };
        let path = transaction.path().map(Path::new).unwrap_or(Path::new(""));
        let sql = |error| WarehouseError::from_sqlite(path, error);
        let info = &self.job.info;
        let finished_at = jiff::Timestamp::now().to_string();
        ledger::update_job(
            transaction,
            &JobUpdate {
                object_id: info.id,
                handler: "loader",
                state,
                attempts: self.job.attempt,
                next_at_ms: 0,
                error: error.as_deref(),
            },
        )
        .map_err(sql)?;
        ledger::record_attempt(
            transaction,
            &Attempt {
                object_id: info.id,
                handler: "loader",
                attempt: self.job.attempt,
                started_at: self.started.clone(),
                finished_at,
                outcome: if state == JobState::Dead {
                    "dead"
                } else {
                    "done"
                },
                error: error.as_deref(),
                load_id: Some(report.load_id),
                ..Attempt::default()
            },
        )
        .map_err(sql)?;
        ledger::record_load(
            transaction,
            info.id,
            report.load_id,
            report.rows_loaded,
            report.rows_rejected,
        )
        .map_err(sql)?;
        let object = crate::daemon::object_json(info);
        let errors = serde_json::to_value(&report.first_errors).unwrap_or_default();
        let load = json!({
            "id": report.load_id,
            "table": self.job.table.schema.name,
            "outcome": report.outcome.name(),
            "rows_read": report.rows_read,
            "rows_loaded": report.rows_loaded,
            "rows_rejected": report.rows_rejected,
            "duplicate_of": report.duplicate_of,
            "first_errors": errors,
        });
        let body = json!({"object": object, "load": load});
        events::append(
            transaction,
            Kind::LoadCommitted,
            Some(info.id),
            Some("loader"),
            &body,
        )
        .map_err(sql)?;
        let kind = if state == JobState::Dead {
            Kind::JobDead
        } else {
            Kind::JobDone
        };
        let body = json!({"object": object, "state": state.name(), "attempt": self.job.attempt, "error": error, "load": load});
        events::append(transaction, kind, Some(info.id), Some("loader"), &body).map_err(sql)?;
        let finished = crate::daemon::finish_object(transaction, info).map_err(sql)?;
        self.committed = Some((state, finished));
        Ok(())
    }
}

/// One line on why a load committed no rows.
fn summary(report: &LoadReport) -> String {
    if let Some(unreadable) = &report.unreadable {
        return format!("{}; nothing was loaded", unreadable.why_nothing_loaded());
    }
    let first = report
        .first_errors
        .first()
        .map(|error| format!("; first: row {}: {}", error.row, error.message))
        .unwrap_or_default();
    format!(
        "{} row(s) rejected and nothing loaded ({}){first}",
        report.rows_rejected,
        report.outcome.name()
    )
}
