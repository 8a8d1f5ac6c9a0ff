//! Running jobs and recording how they ended.
//!
//! Loads run on the loader's threads, each with its own warehouse
//! connection (SQLite is touched only from blocking threads); command
//! handlers are child processes watched by tasks; Rust handlers run on
//! blocking threads. Each reports a [`Completion`] to the daemon, which
//! records it here: the attempt with its output, the job's new state (a
//! retry at a time with exponential backoff and jitter, or dead once the
//! retries are spent), the events, and the object's end if this was its
//! last job. The loader records its own, in the load's transaction.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::Connection;
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

use super::queue::{Next, ObjectInfo, Orphan};
use super::registry::{Kind, LOADER, Registry};
use super::{DaemonError, declared_records, finish_object, now_ms, object_json};
use crate::config::{HandlerSettings, Settings};
use crate::events::{self, Kind as EventKind};
use crate::handlers::command::{self, CommandSpec, Invocation, Status};
use crate::handlers::embedded::{Delivery, Refusal};
use crate::handlers::loader::{self, LoadJob, LoadResult, Uncommitted};
use crate::warehouse::ledger::{self, Attempt, Finished, JobState, JobUpdate};
use crate::warehouse::{Warehouse, WarehouseError};

/// At most this many queued loads share one commit, and at most this many
/// bytes of files: a large file loads in a transaction of its own.
const GROUP: usize = 64;
const GROUP_BYTES: u64 = 4 << 20;

/// The next load and whatever small loads are queued behind it; empty
/// when the daemon has gone.
fn take_group(receiver: &std::sync::mpsc::Receiver<LoadJob>) -> Vec<LoadJob> {
    let Ok(first) = receiver.recv() else {
        return Vec::new();
    };
    let mut bytes = first.info.size;
    let mut jobs = vec![first];
    while jobs.len() < GROUP && bytes < GROUP_BYTES {
        let Ok(job) = receiver.try_recv() else { break };
        bytes += job.info.size;
        jobs.push(job);
    }
    jobs
}

/// How much of a handler's output is kept per stream.
const CAPTURE_LIMIT: usize = 64 * 1024;

/// A job that ended, one way or another.
#[derive(Debug)]
pub struct Completion {
    pub info: Arc<ObjectInfo>,
    pub handler: String,
    pub attempt: u32,
    pub started_at: String,
    pub result: Ran,
}

/// What the handler did.
#[derive(Debug)]
pub enum Ran {
    Load(LoadResult),
    Command(command::Finished),
    Embedded(Result<(), Refusal>),
}

/// A job's state as recorded.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub state: JobState,
    pub attempts: u32,
    pub next_at_ms: i64,
    pub finished: Option<Finished>,
}

/// Starts jobs and collects their completions.
pub struct Runner {
    loads: Option<std::sync::mpsc::Sender<LoadJob>>,
    completions_tx: mpsc::UnboundedSender<Completion>,
    completions_rx: mpsc::UnboundedReceiver<Completion>,
    in_flight: usize,
    stop: watch::Sender<bool>,
    /// Set when the daemon stops: queued loads are handed back unstarted.
    stopping: Arc<AtomicBool>,
    load_stop: Arc<AtomicBool>,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("in_flight", &self.in_flight)
            .finish_non_exhaustive()
    }
}

impl Runner {
    /// Opens the loader's connections and starts its threads.
    pub fn new(settings: &Settings, registry: &Registry) -> Result<Runner, DaemonError> {
        let (completions_tx, completions_rx) = mpsc::unbounded_channel();
        let (loads_tx, loads_rx) = std::sync::mpsc::channel::<LoadJob>();
        let loads_rx = Arc::new(Mutex::new(loads_rx));
        let threads = registry
            .get(LOADER)
            .map_or(1, |(settings, _)| settings.concurrency);
        let stopping = Arc::new(AtomicBool::new(false));
        for number in 0..threads {
            let mut warehouse = Warehouse::open(&settings.warehouse)?;
            let receiver = Arc::clone(&loads_rx);
            let sender = completions_tx.clone();
            let stopping = Arc::clone(&stopping);
            std::thread::Builder::new()
                .name(format!("droplake-loader-{number}"))
                .spawn(move || {
                    loop {
                        let jobs = match receiver.lock() {
                            Ok(receiver) => take_group(&receiver),
                            Err(_) => break,
                        };
                        if jobs.is_empty() {
                            break;
                        }
                        let started_at = jiff::Timestamp::now().to_string();
                        let results = if stopping.load(Ordering::Relaxed) {
                            jobs.iter().map(|_| LoadResult::Stopped).collect()
                        } else {
                            loader::load_group(&mut warehouse, &jobs)
                        };
                        for (job, result) in jobs.iter().zip(results) {
                            let completion = Completion {
                                info: Arc::clone(&job.info),
                                handler: LOADER.to_owned(),
                                attempt: job.attempt,
                                started_at: started_at.clone(),
                                result: Ran::Load(result),
                            };
                            if sender.send(completion).is_err() {
                                return;
                            }
                        }
                    }
                })
                .map_err(|error| DaemonError::Io {
                    what: "cannot start a loader thread".into(),
                    error,
                })?;
        }
        let (stop, _) = watch::channel(false);
        Ok(Runner {
            loads: Some(loads_tx),
            completions_tx,
            completions_rx,
            in_flight: 0,
            stop,
            stopping,
            load_stop: Arc::new(AtomicBool::new(false)),
        })
    }

    /// The flag that rolls running loads back.
    pub fn load_stop(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.load_stop)
    }

    /// Jobs started and not completed.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    pub async fn next_completion(&mut self) -> Option<Completion> {
        let completion = self.completions_rx.recv().await;
        if completion.is_some() {
            self.in_flight = self.in_flight.saturating_sub(1);
        }
        completion
    }

    pub fn try_completion(&mut self) -> Option<Completion> {
        let completion = self.completions_rx.try_recv().ok();
        if completion.is_some() {
            self.in_flight = self.in_flight.saturating_sub(1);
        }
        completion
    }

    /// Tells running command and Rust handlers the daemon is stopping;
    /// loads run on until the load deadline.
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::Relaxed);
        let _ = self.stop.send(true);
    }

    /// Stops the loader threads once their current load is over.
    pub fn shutdown(&mut self) {
        self.load_stop.store(true, Ordering::Relaxed);
        self.loads = None;
    }

    /// Starts `next`.
    pub fn start(
        &mut self,
        settings: &Settings,
        registry: &Registry,
        connection: &Connection,
        owner: &str,
        next: Next,
    ) -> Result<(), String> {
        let Some((handler, kind)) = registry.get(&next.handler) else {
            return Err(format!("no handler named {} is configured", next.handler));
        };
        let started_at = jiff::Timestamp::now().to_string();
        match kind {
            Kind::Loader => {
                let table = registry
                    .table_of(settings, &next.info.dataset)
                    .ok_or_else(|| {
                        format!(
                            "dataset {} has no table schema {}.json any more",
                            next.info.dataset,
                            settings.table_of(&next.info.dataset)
                        )
                    })?;
                let dataset = settings.dataset(&next.info.dataset);
                let job = LoadJob {
                    options: settings.load_options(&next.info.dataset, &table.schema.name),
                    records: declared_records(&next.info.path, &dataset.ready),
                    info: next.info,
                    table,
                    read: dataset.read,
                    attempt: next.attempt,
                    stop: Arc::clone(&self.load_stop),
                };
                let loads = self.loads.as_ref().ok_or("the loader has stopped")?;
                loads
                    .send(job)
                    .map_err(|_| "the loader's threads have stopped".to_string())?;
            }
            Kind::Command(argv) => {
                claim(connection, &next, owner, handler)?;
                let event = delivery_event(connection, &next);
                let spec = CommandSpec {
                    argv: argv.clone(),
                    timeout: handler.timeout.get(),
                    grace: handler.grace.get(),
                    capture_limit: CAPTURE_LIMIT,
                };
                let call = Invocation {
                    path: next.info.path.clone(),
                    dataset: next.info.dataset.to_string(),
                    object_id: next.info.id,
                    sha256: next.info.sha256.clone(),
                    handler: next.handler.clone(),
                    attempt: next.attempt,
                    event: event.to_string().into_bytes(),
                    cwd: None,
                };
                let stop = self.stop.subscribe();
                let sender = self.completions_tx.clone();
                tokio::spawn(async move {
                    let finished = command::run(&spec, &call, stop).await;
                    let _ = sender.send(Completion {
                        info: next.info,
                        handler: next.handler,
                        attempt: next.attempt,
                        started_at,
                        result: Ran::Command(finished),
                    });
                });
            }
            Kind::Embedded(code) => {
                claim(connection, &next, owner, handler)?;
                let event = delivery_event(connection, &next);
                let code = Arc::clone(code);
                let timeout = handler.timeout.get();
                let sender = self.completions_tx.clone();
                tokio::spawn(async move {
                    let info = Arc::clone(&next.info);
                    let attempt = next.attempt;
                    let work = tokio::task::spawn_blocking(move || {
                        code.handle(&Delivery {
                            object_id: info.id,
                            dataset: info.dataset.as_str(),
                            path: &info.path,
                            sha256: &info.sha256,
                            attempt,
                            event: &event,
                        })
                    });
                    // A thread cannot be killed: a handler past its timeout
                    // keeps its slot until it returns, then counts as failed,
                    // so it never runs twice at once for the object.
                    let began = std::time::Instant::now();
                    let result = match work.await {
                        Ok(_) if began.elapsed() > timeout => Err(Refusal::Retry(format!(
                            "the handler took {:.1}s, longer than its timeout of {}s",
                            began.elapsed().as_secs_f64(),
                            timeout.as_secs_f64()
                        ))),
                        Ok(result) => result,
                        Err(panic) => Err(Refusal::Retry(format!("the handler panicked: {panic}"))),
                    };
                    let _ = sender.send(Completion {
                        info: next.info,
                        handler: next.handler,
                        attempt: next.attempt,
                        started_at,
                        result: Ran::Embedded(result),
                    });
                });
            }
        }
        self.in_flight += 1;
        Ok(())
    }

    /// Records how `done` ended and returns the job's new state.
    pub fn record(
        &mut self,
        registry: &Registry,
        ledger: &mut Warehouse,
        done: &Completion,
    ) -> Result<Recorded, WarehouseError> {
        let handler = registry
            .get(&done.handler)
            .map(|(settings, _)| settings.clone())
            .unwrap_or_else(|| HandlerSettings::new(&done.handler));
        let mut attempt = AttemptRecord::default();
        let verdict = match &done.result {
            Ran::Load(LoadResult::Committed {
                state,
                report,
                finished,
                ..
            }) => {
                tracing::info!(
                    object = done.info.id,
                    file = %done.info.name,
                    load = report.load_id,
                    outcome = report.outcome.name(),
                    loaded = report.rows_loaded,
                    rejected = report.rows_rejected,
                    "Loaded an object."
                );
                return Ok(Recorded {
                    state: *state,
                    attempts: done.attempt,
                    next_at_ms: 0,
                    finished: finished.clone(),
                });
            }
            Ran::Load(LoadResult::Stopped) => {
                return Ok(Recorded {
                    state: JobState::Pending,
                    attempts: done.attempt - 1,
                    next_at_ms: 0,
                    finished: None,
                });
            }
            Ran::Load(LoadResult::Uncommitted { outcome, error }) => {
                attempt.error = Some(error.clone());
                match outcome {
                    Uncommitted::Done => Verdict::Done,
                    Uncommitted::Retry => Verdict::Failed,
                    Uncommitted::Dead => Verdict::Dead,
                }
            }
            Ran::Command(finished) => {
                attempt.command(finished);
                match &finished.status {
                    Status::Exited(0) => Verdict::Done,
                    Status::Stopped => Verdict::Interrupted,
                    _ => Verdict::Failed,
                }
            }
            Ran::Embedded(result) => match result {
                Ok(()) => Verdict::Done,
                Err(Refusal::Retry(error)) => {
                    attempt.error = Some(error.clone());
                    Verdict::Failed
                }
                Err(Refusal::Dead(error)) => {
                    attempt.error = Some(error.clone());
                    Verdict::Dead
                }
            },
        };
        // The budget of retries counts from the last `droplake retry`.
        let budget_used = if verdict == Verdict::Failed {
            let base = ledger::retry_base(ledger.connection(), done.info.id, &done.handler)
                .map_err(|error| WarehouseError::from_sqlite(ledger.path(), error))?;
            done.attempt.saturating_sub(base)
        } else {
            0
        };
        let (state, attempts, next_at_ms) = match verdict {
            Verdict::Done => (JobState::Done, done.attempt, 0),
            Verdict::Dead => (JobState::Dead, done.attempt, 0),
            Verdict::Interrupted => (JobState::Pending, done.attempt - 1, 0),
            Verdict::Failed if budget_used > handler.retries => (JobState::Dead, done.attempt, 0),
            Verdict::Failed => (
                JobState::Retry,
                done.attempt,
                now_ms() + backoff(&handler, budget_used).as_millis() as i64,
            ),
        };
        let outcome_name = match (verdict, state) {
            (Verdict::Interrupted, _) => "interrupted",
            (_, JobState::Done) => "done",
            (_, JobState::Dead) => "dead",
            _ => "retry",
        };
        let error = attempt.error.clone();
        let next_attempt_at = (state == JobState::Retry)
            .then(|| jiff::Timestamp::from_millisecond(next_at_ms).ok())
            .flatten()
            .map(|time| time.to_string());
        let event = match state {
            JobState::Done => Some(EventKind::JobDone),
            JobState::Dead => Some(EventKind::JobDead),
            JobState::Retry => Some(EventKind::JobFailed),
            _ => None,
        }
        .map(|kind| {
            let body = json!({
                "object": object_json(&done.info),
                "state": state.name(),
                "attempt": done.attempt,
                "retries": handler.retries,
                "error": error,
                "exit_code": attempt.exit_code,
                "signal": attempt.signal,
                "next_attempt_at": next_attempt_at,
            });
            (kind, body)
        });
        let update = JobUpdate {
            object_id: done.info.id,
            handler: &done.handler,
            state,
            attempts,
            next_at_ms,
            error: error.as_deref(),
        };
        let finished = in_transaction(ledger, |transaction| {
            // An attempt the stop interrupted is not kept: the job is
            // pending again, and its next attempt takes the same number.
            if verdict != Verdict::Interrupted {
                ledger::record_attempt(
                    transaction,
                    &Attempt {
                        object_id: done.info.id,
                        handler: &done.handler,
                        attempt: done.attempt,
                        started_at: done.started_at.clone(),
                        finished_at: jiff::Timestamp::now().to_string(),
                        outcome: outcome_name,
                        exit_code: attempt.exit_code,
                        signal: attempt.signal,
                        error: error.as_deref(),
                        load_id: None,
                        stdout: &attempt.stdout,
                        stdout_dropped: attempt.stdout_dropped,
                        stderr: &attempt.stderr,
                        stderr_dropped: attempt.stderr_dropped,
                    },
                )?;
            }
            settle_job(transaction, &done.info, &update, event.as_ref())
        })?;
        log_outcome(done, state, error.as_deref(), next_at_ms);
        Ok(Recorded {
            state,
            attempts,
            next_at_ms,
            finished,
        })
    }
}

/// How an attempt ended, before retries are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Done,
    Failed,
    Dead,
    Interrupted,
}

/// What is kept of an attempt.
#[derive(Debug, Default)]
struct AttemptRecord {
    exit_code: Option<i32>,
    signal: Option<i32>,
    error: Option<String>,
    stdout: Vec<u8>,
    stdout_dropped: u64,
    stderr: Vec<u8>,
    stderr_dropped: u64,
}

impl AttemptRecord {
    fn command(&mut self, finished: &command::Finished) {
        self.stdout = finished.stdout.bytes.clone();
        self.stdout_dropped = finished.stdout.dropped;
        self.stderr = finished.stderr.bytes.clone();
        self.stderr_dropped = finished.stderr.dropped;
        let last_line = String::from_utf8_lossy(&finished.stderr.bytes)
            .lines()
            .rev()
            .find(|line| !line.trim().is_empty())
            .map(|line| format!(": {}", line.trim()))
            .unwrap_or_default();
        self.error = match &finished.status {
            Status::Exited(0) => None,
            Status::Exited(75) => {
                self.exit_code = Some(75);
                Some(format!("asked to be retried (exit 75){last_line}"))
            }
            Status::Exited(code) => {
                self.exit_code = Some(*code);
                Some(format!("exited with code {code}{last_line}"))
            }
            Status::Signaled(signal) => {
                self.signal = Some(*signal);
                Some(format!("killed by signal {signal}{last_line}"))
            }
            Status::TimedOut { killed } => Some(if *killed {
                "timed out: sent SIGTERM to its process group, then SIGKILL after the grace period"
                    .to_string()
            } else {
                "timed out: stopped by SIGTERM to its process group".to_string()
            }),
            Status::Stopped => Some("interrupted: the daemon was stopping".into()),
            Status::SpawnFailed(message) | Status::WaitFailed(message) => Some(message.clone()),
        };
    }
}

fn log_outcome(done: &Completion, state: JobState, error: Option<&str>, next_at_ms: i64) {
    let object = done.info.id;
    let handler = done.handler.as_str();
    match state {
        JobState::Done => tracing::info!(
            object,
            handler,
            attempt = done.attempt,
            "A handler finished an object."
        ),
        JobState::Retry => tracing::warn!(
            object,
            handler,
            attempt = done.attempt,
            error,
            retry_in_ms = next_at_ms - now_ms(),
            "A handler failed; it will be tried again."
        ),
        JobState::Dead => tracing::error!(
            object,
            handler,
            attempt = done.attempt,
            error,
            "A handler failed for good; the job is dead."
        ),
        _ => tracing::info!(
            object,
            handler,
            "A handler was interrupted; the job will run again."
        ),
    }
}

/// The delay before attempt `attempt + 1`: `backoff` doubled per attempt,
/// at most `max_backoff`, and between half and all of that (jitter, so
/// failing jobs do not retry in lockstep).
fn backoff(handler: &HandlerSettings, attempt: u32) -> Duration {
    let doubled = handler
        .backoff
        .get()
        .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)));
    let ceiling = doubled.min(handler.max_backoff.get());
    ceiling.mul_f64(0.5 + fastrand::f64() * 0.5)
}

/// Marks a job running under this daemon's lease.
fn claim(
    connection: &Connection,
    next: &Next,
    owner: &str,
    handler: &HandlerSettings,
) -> Result<(), String> {
    let lease = handler.timeout.get() + handler.grace.get() + Duration::from_secs(60);
    ledger::claim(
        connection,
        next.info.id,
        &next.handler,
        owner,
        now_ms() + lease.as_millis() as i64,
    )
    .map_err(|error| format!("cannot record the job as running: {error}"))
}

/// The event a handler is given: the object, the attempt and, once the
/// loader is done, the load.
fn delivery_event(connection: &Connection, next: &Next) -> Value {
    let load = connection
        .query_row(
            "SELECT o.load_id, o.rows_loaded, o.rows_rejected, l.table_name, l.outcome
             FROM _droplake_objects o JOIN _droplake_loads l ON l.id = o.load_id WHERE o.id = ?1",
            [next.info.id],
            |row| {
                Ok(json!({
                    "id": row.get::<_, i64>(0)?,
                    "rows_loaded": row.get::<_, Option<i64>>(1)?,
                    "rows_rejected": row.get::<_, Option<i64>>(2)?,
                    "table": row.get::<_, String>(3)?,
                    "outcome": row.get::<_, String>(4)?,
                }))
            },
        )
        .ok();
    json!({
        "kind": "object.ready",
        "at": jiff::Timestamp::now().to_string(),
        "object": object_json(&next.info),
        "handler": next.handler,
        "attempt": next.attempt,
        "idempotency_key": next.info.id.to_string(),
        "load": load,
    })
}

/// Records a job that can no longer run (a handler it waits for died, or
/// its handler is no longer configured).
pub fn record_orphan(ledger: &mut Warehouse, orphan: &Orphan) -> Result<Recorded, WarehouseError> {
    let update = JobUpdate {
        object_id: orphan.info.id,
        handler: &orphan.handler,
        state: JobState::Dead,
        attempts: orphan.attempts,
        next_at_ms: 0,
        error: Some(&orphan.because),
    };
    let body =
        json!({"object": object_json(&orphan.info), "state": "dead", "error": orphan.because});
    let finished = in_transaction(ledger, |transaction| {
        settle_job(
            transaction,
            &orphan.info,
            &update,
            Some(&(EventKind::JobDead, body)),
        )
    })?;
    Ok(Recorded {
        state: JobState::Dead,
        attempts: orphan.attempts,
        next_at_ms: 0,
        finished,
    })
}

/// Runs `work` in one immediate transaction of the ledger.
fn in_transaction<T>(
    ledger: &mut Warehouse,
    work: impl FnOnce(&Connection) -> rusqlite::Result<T>,
) -> Result<T, WarehouseError> {
    let path = ledger.path().to_path_buf();
    let sql = |error| WarehouseError::from_sqlite(&path, error);
    let transaction = ledger
        .connection()
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(sql)?;
    let result = work(&transaction).map_err(sql)?;
    transaction.commit().map_err(sql)?;
    Ok(result)
}

/// Writes a job's new state and the event that tells of it, and finishes
/// its object if this was the last job.
fn settle_job(
    transaction: &Connection,
    info: &ObjectInfo,
    update: &JobUpdate<'_>,
    event: Option<&(EventKind, Value)>,
) -> rusqlite::Result<Option<Finished>> {
    ledger::update_job(transaction, update)?;
    if let Some((kind, body)) = event {
        events::append(
            transaction,
            *kind,
            Some(info.id),
            Some(update.handler),
            body,
        )?;
    }
    finish_object(transaction, info)
}
