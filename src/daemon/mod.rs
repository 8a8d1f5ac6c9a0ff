//! The daemon: notices files, decides when they are ready, registers them
//! as objects, and runs every handler on each object as often as it should.
//!
//! One task owns the state (the [`ready::Tracker`], the [`queue::Queue`],
//! the ledger connection) and reacts to messages: watcher hints, scan
//! results, hashed files, finished jobs, signals and timers; each second it
//! also reads the jobs `droplake retry` reset from the event log. The slow work
//! happens elsewhere and reports back: scans and hashing on blocking
//! threads, loads on the loader's threads (each with its own warehouse
//! connection), command handlers as child processes watched by tasks.
//!
//! `run --once` reconciles, processes what is ready, waits for the work in
//! flight, and ends; `run` keeps going until SIGTERM or SIGINT, reloading
//! its configuration on SIGHUP. With `metrics` set, either serves
//! Prometheus metrics beside the main loop ([`metrics`]).

pub mod generations;
mod jobs;
mod metrics;
mod notify;
mod poll;
mod queue;
pub(crate) mod ready;
pub(crate) mod registry;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use rusqlite::Connection;
use serde_json::{Value, json};
use tokio::sync::{Semaphore, mpsc};

pub use queue::ObjectInfo;
pub use ready::{Declared, is_marker, marker_for};
pub use registry::LOADER;

use crate::config::{DetectMode, Order, Readiness, Settings, Sources};
use crate::detect::scan::{self, Seen, Stat};
use crate::detect::watch::{Hint, Hints, Watcher};
use crate::events::{self, Kind};
use crate::exit::{ExitCode, HasExitCode};
use crate::handlers::embedded::Embedded;
use crate::lake::{DatasetName, Lake};
use crate::schema::SchemaError;
use crate::warehouse::ledger::{self, Finished, JobState, NewObject, Registered};
use crate::warehouse::{Warehouse, WarehouseError};
use metrics::Metrics;
use queue::{Job, Jobs, Queue};
use ready::{Tracker, Verdict};
use registry::Registry;

/// How to run.
#[derive(Debug, Default)]
pub struct Options {
    /// Reconcile, process what is ready, wait for it, and end.
    pub once: bool,
    /// Where the configuration came from, to read it again on SIGHUP.
    pub sources: Sources,
    /// Rust handlers registered by an embedding program.
    pub embedded: Vec<Embedded>,
    /// Counts the objects of the run, for a progress bar.
    pub tally: Arc<Tally>,
}

/// The objects a run has to finish (those unfinished at startup, and every
/// one registered since) and those it finished, counted as it goes.
#[derive(Debug, Default)]
pub struct Tally {
    /// Objects to finish: unfinished at startup, or registered since.
    pub objects: AtomicU64,
    /// Objects every handler is done with.
    pub finished: AtomicU64,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Everything ready was processed (or the daemon was told to stop).
    Done,
    /// Some objects had rejected rows or dead jobs.
    Failures,
    /// Work remains: retries not due yet, files not settled.
    WorkRemains,
}

impl Ended {
    pub fn exit_code(self) -> ExitCode {
        match self {
            Ended::Done => ExitCode::Ok,
            Ended::Failures => ExitCode::Problems,
            Ended::WorkRemains => ExitCode::TempFail,
        }
    }
}

/// Why the daemon could not start (or had to stop).
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    Schema(#[from] SchemaError),
    #[error(transparent)]
    Warehouse(#[from] WarehouseError),
    #[error(transparent)]
    Lake(#[from] crate::lake::OpenError),
    #[error(
        "another droplake daemon or `run --once` holds {} ({holder}); stop it first, or wait for it to end",
        path.display()
    )]
    Locked { path: PathBuf, holder: String },
    #[error("{what}: {error}")]
    Io { what: String, error: std::io::Error },
    #[error(
        "{origin}: `metrics`: cannot serve metrics on {address}: {error}; choose another address or port, or remove the key"
    )]
    Metrics {
        origin: String,
        address: std::net::SocketAddr,
        error: std::io::Error,
    },
}

impl HasExitCode for DaemonError {
    fn exit_code(&self) -> ExitCode {
        match self {
            DaemonError::Schema(error) => error.exit_code(),
            DaemonError::Warehouse(error) => error.exit_code(),
            DaemonError::Lake(_) => ExitCode::Config,
            DaemonError::Locked { .. } => ExitCode::TempFail,
            DaemonError::Io { .. } => ExitCode::IoErr,
            DaemonError::Metrics { .. } => ExitCode::Config,
        }
    }
}

/// Runs the daemon with `settings` until it ends (see [`Options`]).
pub fn run(settings: Settings, options: Options) -> Result<Ended, DaemonError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("droplake-worker")
        .enable_all()
        .build()
        .map_err(|error| DaemonError::Io {
            what: "cannot start the async runtime".into(),
            error,
        })?;
    let ended = runtime.block_on(async move {
        let daemon = Daemon::start(settings, options)?;
        daemon.run().await
    });
    // A Rust handler or a scan still running on a blocking thread must not
    // keep the process alive past the shutdown.
    runtime.shutdown_timeout(Duration::from_secs(1));
    ended
}

/// How many files are hashed at once.
const HASHING: usize = 4;
/// The watcher's channel: beyond this many queued hints, a full scan.
const HINTS: usize = 65_536;
/// Loads queued for the loader's threads beyond those running, so a
/// thread starts its next load without waiting for the daemon's task.
const LOADER_PREFETCH: usize = 64;
/// How long a job waits after the ledger could not record it.
const DEFER: Duration = Duration::from_secs(60);
/// How long an unreadable file waits before it is read again.
const REREAD: Duration = Duration::from_secs(5);
/// How long after a new directory appears it is scanned a second time.
const LATE_SCAN: Duration = Duration::from_millis(500);
/// How many hashed files are registered in one transaction, at most.
const REGISTER_BATCH: usize = 512;
/// How often the daemon looks for jobs `droplake retry` reset.
const RETRIED_CHECK: Duration = Duration::from_secs(1);

/// A scan's result.
struct Scanned {
    seen: Vec<Seen>,
    full: bool,
}

/// A hashed file, or why it could not be.
pub(crate) enum Hashed {
    /// `arrived`: the file's ctime, when it arrived complete (a rename
    /// into place or its last write).
    Stable {
        seen: Seen,
        sha256: String,
        arrived: Option<SystemTime>,
    },
    Changed(Seen),
    Gone(Seen),
    Failed(Seen, std::io::Error),
}

/// What the daemon's task reacts to.
enum Message {
    Stop(&'static str),
    Reload,
}

struct Daemon {
    settings: Settings,
    sources: Sources,
    embedded: Vec<Embedded>,
    once: bool,
    lake: Lake,
    registry: Registry,
    ledger: Warehouse,
    owner: String,
    _lock: std::fs::File,
    tracker: Tracker,
    queue: Queue,
    /// Files to look at again when they should have settled.
    rechecks: BinaryHeap<Reverse<(Instant, PathBuf)>>,
    /// In once mode: files that already had their one recheck.
    rechecked: HashSet<PathBuf>,
    /// New directories to scan once more, after their watch surely exists.
    late_scans: BinaryHeap<Reverse<(Instant, PathBuf)>>,
    hashing: Arc<Semaphore>,
    hashed_tx: mpsc::UnboundedSender<Hashed>,
    hashed_rx: mpsc::UnboundedReceiver<Hashed>,
    scans_tx: mpsc::UnboundedSender<Scanned>,
    scans_rx: mpsc::UnboundedReceiver<Scanned>,
    scans_in_flight: usize,
    rescan_wanted: bool,
    jobs: jobs::Runner,
    /// Whether any object ended failed during this run.
    failures: bool,
    stopping: bool,
    /// Whether the watcher delivered anything since the last full scan.
    hinted: bool,
    /// When the previous daemon started: receipts of objects finished since
    /// then that are missing (a crash came between) are written at startup.
    previous_start: Option<String>,
    /// In a batch: files that could not be read or registered, left for
    /// the next run.
    left_behind: bool,
    /// Jobs found at startup that can never run, to record dead.
    orphans: Vec<queue::Orphan>,
    /// The last event looked at for `job.retried`: jobs reset after it
    /// are not in the queue yet.
    retried_seen: i64,
    /// Full scans finished; the first is the startup reconciliation.
    full_scans: u64,
    /// The poller's memory of the lake's directories.
    poller: Arc<std::sync::Mutex<poll::Poller>>,
    polling: bool,
    /// What the daemon counts for Prometheus.
    metrics: Arc<Metrics>,
    /// The metrics endpoint, bound at startup and served once running.
    endpoint: Option<std::net::TcpListener>,
    /// The run's objects, counted for whoever shows progress.
    tally: Arc<Tally>,
    /// The generations of the datasets ordered by generation.
    generations: HashMap<DatasetName, generations::Sequence>,
}

impl Daemon {
    fn start(settings: Settings, options: Options) -> Result<Daemon, DaemonError> {
        let lake = Lake::open(&settings.lake, settings.filter.clone())?;
        let registry = Registry::build(&settings, &options.embedded)?;
        let lock = lock(&settings.warehouse, options.once)?;
        let endpoint = settings
            .metrics
            .map(|address| {
                metrics::bind(address).map_err(|error| DaemonError::Metrics {
                    origin: settings
                        .origins
                        .get("metrics")
                        .map_or_else(|| "configuration".to_string(), ToString::to_string),
                    address,
                    error,
                })
            })
            .transpose()?;
        let owner = format!(
            "pid {} since {}",
            std::process::id(),
            jiff::Timestamp::now()
        );
        let mut ledger = Warehouse::open(&settings.warehouse)?;
        let path = settings.warehouse.clone();
        let sql = |error| WarehouseError::from_sqlite(&path, error);
        let previous_start;
        {
            let connection = ledger.connection();
            // The ledger's own writes may wait for a long load to commit.
            connection
                .busy_timeout(Duration::from_secs(3600))
                .map_err(sql)?;
            // Losing the last ledger writes to a power cut only repeats
            // work (at least once); loads keep synchronous = full.
            connection
                .pragma_update(None, "synchronous", "normal")
                .map_err(sql)?;
            let recovered = ledger::recover(connection, &owner).map_err(sql)?;
            if recovered > 0 {
                tracing::warn!(
                    jobs = recovered,
                    "Returned jobs that a stopped daemon was running to pending."
                );
            }
            previous_start = ledger::previous_start(connection).map_err(sql)?;
            ledger::daemon_started(connection, &owner).map_err(sql)?;
        }
        // Read before the open jobs: a job retried in between is found by
        // both, and the queue takes it once.
        let retried_seen = events::last_seq(ledger.connection()).map_err(sql)?;
        let known: HashMap<PathBuf, Stat> = ledger::known_files(ledger.connection())
            .map_err(sql)?
            .into_iter()
            .map(|file| {
                (
                    path_of(file.path),
                    Stat {
                        size: file.size,
                        mtime_ns: file.mtime_ns,
                        inode: file.inode,
                    },
                )
            })
            .collect();
        let generations = sequences(&settings, ledger.connection()).map_err(sql)?;
        let mut queue = Queue::new(&registry.settings());
        queue.set_prefetch(LOADER, LOADER_PREFETCH);
        queue.set_gap_held(held_for_gaps(&generations));
        let open = ledger::open_jobs(ledger.connection()).map_err(sql)?;
        let mut by_object: HashMap<i64, (Arc<ObjectInfo>, Jobs)> = HashMap::new();
        for job in open {
            let entry = by_object
                .entry(job.object.id)
                .or_insert_with(|| (Arc::new(info_of(&settings.lake, &job.object)), Vec::new()));
            entry.1.push((
                job.handler,
                Job {
                    state: job.state,
                    attempts: job.attempts,
                },
                job.next_at_ms,
            ));
        }
        let mut unfinished = 0;
        let mut orphans = Vec::new();
        for (_, (info, jobs)) in by_object {
            // The queue needs the final jobs too, to know `after`.
            let mut jobs = jobs;
            for (handler, state) in ledger::jobs_of(ledger.connection(), info.id).map_err(sql)? {
                if !jobs.iter().any(|(name, _, _)| *name == handler) {
                    jobs.push((handler, Job { state, attempts: 0 }, 0));
                }
            }
            unfinished += 1;
            options.tally.objects.fetch_add(1, Ordering::Relaxed);
            orphans.extend(queue.add(info, &jobs));
        }
        // Dead jobs of ordered handlers still hold their datasets back.
        for handler in registry.settings().iter().filter(|handler| handler.ordered) {
            for object in ledger::dead_for(ledger.connection(), &handler.name).map_err(sql)? {
                queue.hold(Arc::new(info_of(&settings.lake, &object)), &handler.name);
            }
        }
        for handler in queue.handlers_with_jobs() {
            if registry.get(&handler).is_none() {
                orphans.extend(queue.retire(&handler));
            }
        }
        tracing::info!(
            lake = %settings.lake.display(),
            warehouse = %settings.warehouse.display(),
            tables = registry.tables.len(),
            handlers = registry.handlers.len(),
            known = known.len(),
            unfinished,
            "Starting the daemon."
        );
        let jobs = jobs::Runner::new(&settings, &registry)?;
        let metrics = Arc::new(Metrics::new(&settings.warehouse));
        metrics.configure(&registry);
        for (dataset, sequence) in &generations {
            metrics.generations_held(dataset.as_str(), sequence.held().count());
        }
        let (hashed_tx, hashed_rx) = mpsc::unbounded_channel();
        let (scans_tx, scans_rx) = mpsc::unbounded_channel();
        Ok(Daemon {
            sources: options.sources,
            embedded: options.embedded,
            once: options.once,
            lake,
            registry,
            ledger,
            owner,
            _lock: lock,
            tracker: Tracker::new(known),
            queue,
            rechecks: BinaryHeap::new(),
            rechecked: HashSet::new(),
            late_scans: BinaryHeap::new(),
            hashing: Arc::new(Semaphore::new(HASHING)),
            hashed_tx,
            hashed_rx,
            scans_tx,
            scans_rx,
            scans_in_flight: 0,
            rescan_wanted: false,
            jobs,
            failures: false,
            stopping: false,
            hinted: false,
            left_behind: false,
            orphans,
            retried_seen,
            previous_start,
            full_scans: 0,
            poller: Arc::default(),
            polling: false,
            metrics,
            endpoint,
            tally: options.tally,
            generations,
            settings,
        })
    }

    async fn run(mut self) -> Result<Ended, DaemonError> {
        let (messages_tx, mut messages) = mpsc::unbounded_channel();
        if let Some(endpoint) = self.endpoint.take() {
            self.serve_metrics(endpoint)?;
        }
        if !self.once {
            listen_for_signals(
                messages_tx,
                self.jobs.load_stop(),
                self.settings.shutdown_timeout.get(),
            )?;
        }
        let mut watching: Option<(Watcher, Hints)> = None;
        if !self.once && self.settings.detect.mode != DetectMode::Poll {
            match Watcher::start(&self.settings.lake, HINTS) {
                Ok(watcher) => watching = Some(watcher),
                Err(error) if self.settings.detect.mode == DetectMode::Auto => {
                    tracing::warn!(%error, "Cannot watch the lake; polling it instead.");
                    self.polling = true;
                }
                Err(error) => {
                    return Err(DaemonError::Io {
                        what: "cannot watch the lake (detect.mode = \"watch\")".into(),
                        error: std::io::Error::other(error.to_string()),
                    });
                }
            }
        }
        self.polling |= self.settings.detect.mode == DetectMode::Poll;
        let orphans = std::mem::take(&mut self.orphans);
        self.bury(orphans);
        self.write_missing_receipts();
        // Startup always reconciles.
        self.retain();
        self.full_scan();
        let mut next_poll = Instant::now() + self.settings.detect.poll_interval.get();
        let mut next_scan = Instant::now() + self.settings.detect.scan_interval.get();
        let mut stop_deadline: Option<Instant> = None;
        let mut systemd = notify::Supervisor::from_env();
        let mut next_retried_check = Instant::now() + RETRIED_CHECK;
        loop {
            // Retries already due (at startup, or while other messages kept
            // the loop busy) run now: `run --once` must not end before them.
            self.queue.wake(now_ms());
            if !self.once && !self.stopping && Instant::now() >= next_retried_check {
                self.pick_up_retried();
                next_retried_check = Instant::now() + RETRIED_CHECK;
            }
            self.start_generations();
            self.dispatch();
            if self.stopping && self.jobs.in_flight() == 0 {
                break;
            }
            if self.once && self.is_quiet() {
                break;
            }
            systemd.tick(&self);
            let now = Instant::now();
            let mut wake = now + Duration::from_secs(3600);
            if let Some(at) = systemd.next_wake() {
                wake = wake.min(at);
            }
            if let Some(Reverse((at, _))) = self.rechecks.peek() {
                wake = wake.min(*at);
            }
            if let Some(Reverse((at, _))) = self.late_scans.peek() {
                wake = wake.min(*at);
            }
            if let Some(at_ms) = self.queue.next_timer() {
                let wait_ms = u64::try_from(at_ms - now_ms()).unwrap_or(0);
                wake = wake.min(now + Duration::from_millis(wait_ms));
            }
            if !self.once {
                wake = wake.min(next_retried_check);
                if self.polling {
                    wake = wake.min(next_poll);
                }
                // In watch mode the periodic turn only runs retention.
                wake = wake.min(next_scan);
            }
            if let Some(deadline) = stop_deadline {
                wake = wake.min(deadline);
            }
            let hint = async {
                match watching.as_mut() {
                    Some((_, hints)) => hints.next().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                hint = hint => match hint {
                    Some(hint) => {
                        self.on_hint(hint);
                        // Take a burst in one go.
                        if let Some((_, hints)) = watching.as_mut() {
                            for _ in 0..4096 {
                                let Some(hint) = hints.try_next() else { break };
                                self.on_hint(hint);
                            }
                        }
                    }
                    None => {
                        tracing::warn!("The watcher stopped; polling the lake instead.");
                        watching = None;
                        self.polling = true;
                    }
                },
                Some(scanned) = self.scans_rx.recv() => self.on_scanned(scanned),
                Some(hashed) = self.hashed_rx.recv() => {
                    let mut batch = vec![hashed];
                    while batch.len() < REGISTER_BATCH {
                        let Ok(more) = self.hashed_rx.try_recv() else { break };
                        batch.push(more);
                    }
                    self.on_hashed(batch);
                }
                Some(done) = self.jobs.next_completion() => {
                    self.on_completion(done);
                    while let Some(done) = self.jobs.try_completion() {
                        self.on_completion(done);
                    }
                }
                Some(message) = messages.recv() => match message {
                    Message::Stop(signal) => {
                        if !self.stopping {
                            systemd.stopping();
                            tracing::info!(signal, in_flight = self.jobs.in_flight(), "Stopping: no new work; letting running loads and handlers finish.");
                            self.stopping = true;
                            self.jobs.stop();
                            stop_deadline = Some(Instant::now() + self.settings.shutdown_timeout.get());
                        }
                    }
                    Message::Reload => {
                        systemd.reloading();
                        self.reload();
                        systemd.reloaded();
                    }
                },
                () = tokio::time::sleep_until(wake.into()) => {
                    let now = Instant::now();
                    if stop_deadline.is_some_and(|deadline| now >= deadline) {
                        tracing::warn!(in_flight = self.jobs.in_flight(), "The shutdown timeout passed; leaving unfinished work pending.");
                        break;
                    }
                    self.queue.wake(now_ms());
                    self.recheck(now);
                    while let Some(Reverse((at, _))) = self.late_scans.peek()
                        && *at <= now
                    {
                        if let Some(Reverse((_, dir))) = self.late_scans.pop() {
                            self.spawn_scan(dir, false);
                        }
                    }
                    if !self.once && !self.stopping {
                        if self.polling && now >= next_poll {
                            self.poll_scan();
                            next_poll = now + self.settings.detect.poll_interval.get();
                        }
                        if now >= next_scan {
                            self.retain();
                            if self.settings.detect.mode != DetectMode::Watch || self.polling {
                                self.full_scan();
                            }
                            next_scan = now + self.settings.detect.scan_interval.get();
                        }
                    }
                }
            }
        }
        drop(watching);
        self.jobs.shutdown();
        let _ = ledger::daemon_stopped(self.ledger.connection());
        let ended = if self.stopping {
            Ended::Done
        } else if self.failures {
            Ended::Failures
        } else if !self.queue.is_idle() || self.tracker.waiting() > 0 || self.left_behind {
            Ended::WorkRemains
        } else {
            Ended::Done
        };
        tracing::info!(?ended, "The daemon stopped.");
        Ok(ended)
    }

    /// Serves the metrics endpoint on its own tasks.
    fn serve_metrics(&self, endpoint: std::net::TcpListener) -> Result<(), DaemonError> {
        let io = |error| DaemonError::Io {
            what: "cannot serve the metrics endpoint".into(),
            error,
        };
        let address = endpoint.local_addr().map_err(io)?;
        metrics::serve(endpoint, Arc::clone(&self.metrics)).map_err(io)?;
        tracing::info!(%address, "Serving metrics at http://{address}/metrics.");
        if !address.ip().is_loopback() {
            tracing::warn!(%address, "The metrics endpoint listens beyond loopback: anyone who can reach this address can read the metrics.");
        }
        Ok(())
    }

    /// In once mode: nothing in flight and nothing that can start now.
    fn is_quiet(&self) -> bool {
        self.scans_in_flight == 0
            && self.tracker.hashing() == 0
            && self.jobs.in_flight() == 0
            && self.rechecks.is_empty()
    }

    // ----- detection -----

    fn full_scan(&mut self) {
        self.spawn_scan(self.settings.lake.clone(), true);
    }

    fn spawn_scan(&mut self, under: PathBuf, full: bool) {
        if full && self.scans_in_flight > 0 {
            self.rescan_wanted = true;
            return;
        }
        self.scans_in_flight += 1;
        let lake = self.lake.clone();
        let sender = self.scans_tx.clone();
        tokio::task::spawn_blocking(move || {
            let mut seen = Vec::new();
            scan::scan(&lake, &under, |_, _| true, |found| seen.push(found));
            let _ = sender.send(Scanned { seen, full });
        });
    }

    /// A poll: lists the directories that changed and stats only the files
    /// it does not know (see [`poll`]).
    fn poll_scan(&mut self) {
        if self.scans_in_flight > 0 {
            return;
        }
        self.scans_in_flight += 1;
        let lake = self.lake.clone();
        let sender = self.scans_tx.clone();
        let known = self.tracker.known();
        let poller = Arc::clone(&self.poller);
        tokio::task::spawn_blocking(move || {
            let mut seen = Vec::new();
            if let Ok(mut poller) = poller.lock() {
                poller.poll(&lake, &known, |found| seen.push(found));
            }
            let _ = sender.send(Scanned { seen, full: false });
        });
    }

    fn on_scanned(&mut self, scanned: Scanned) {
        self.scans_in_flight = self.scans_in_flight.saturating_sub(1);
        let mut unhinted = 0;
        for seen in &scanned.seen {
            if self.observe(seen, false) == Some(true) {
                unhinted += 1;
            }
        }
        if scanned.full {
            let _ = ledger::daemon_scanned(self.ledger.connection());
            // In auto mode, a scan that finds new files the watcher never
            // told of, while the watcher told of nothing at all, means the
            // filesystem sends no events: poll.
            if !self.once
                && self.settings.detect.mode == DetectMode::Auto
                && !self.polling
                && unhinted > 0
                && !self.hinted
                && self.full_scans > 0
            {
                tracing::warn!(
                    files = unhinted,
                    "A scan found files the watcher never reported; polling the lake from now on."
                );
                self.polling = true;
            }
            self.hinted = false;
            self.full_scans += 1;
        }
        if self.rescan_wanted && self.scans_in_flight == 0 {
            self.rescan_wanted = false;
            self.full_scan();
        }
    }

    fn on_hint(&mut self, hint: Hint) {
        self.hinted = true;
        match hint {
            Hint::Arrived(path) => self.look(&path, true),
            Hint::Changed(path) => self.look(&path, false),
            Hint::Removed(path) => {
                if let Ok(relative) = path.strip_prefix(&self.settings.lake) {
                    self.tracker.removed(relative);
                }
            }
            Hint::Directory(dir) => {
                // The watcher adds the new directory's watch after telling
                // of it: a file made in between is found by a second look.
                self.late_scans
                    .push(Reverse((Instant::now() + LATE_SCAN, dir.clone())));
                self.spawn_scan(dir, false);
            }
            Hint::Rescan => {
                tracing::info!("Events were lost; scanning the whole lake.");
                self.full_scan();
            }
        }
    }

    /// Looks at one file a hint named.
    fn look(&mut self, path: &Path, arrived: bool) {
        let Some(seen) = scan::look(&self.lake, path) else {
            return;
        };
        let rule = self.settings.readiness(&seen.dataset);
        if let Readiness::Marker(pattern) = &rule
            && is_marker(&seen.relative, pattern)
        {
            // A marker arrived: look at the files of its directory (a
            // scan's own markers do not, or scans would beget scans).
            if let Some(dir) = seen.path.parent() {
                self.spawn_scan(dir.to_path_buf(), false);
            }
            return;
        }
        self.observe(&seen, arrived);
    }

    /// Decides about a file; returns `Some(true)` when it became ready.
    fn observe(&mut self, seen: &Seen, arrived: bool) -> Option<bool> {
        let rule = self.settings.readiness(&seen.dataset);
        match self.tracker.observe(seen, arrived, &rule, Instant::now()) {
            Verdict::Ready => {
                self.hash(seen.clone());
                Some(true)
            }
            Verdict::Settling(at) => {
                if !self.once || self.rechecked.insert(seen.relative.clone()) {
                    self.rechecks.push(Reverse((at, seen.relative.clone())));
                }
                Some(false)
            }
            Verdict::Marker => Some(false),
            Verdict::Known | Verdict::NoMarker(_) | Verdict::Busy => None,
        }
    }

    /// Looks at a file again a little later (in a batch, once: then it is
    /// work left for the next run).
    fn reread(&mut self, relative: &Path) {
        if self.once && !self.rechecked.insert(relative.to_path_buf()) {
            self.left_behind = true;
            return;
        }
        self.rechecks
            .push(Reverse((Instant::now() + REREAD, relative.to_path_buf())));
    }

    fn recheck(&mut self, now: Instant) {
        while let Some(Reverse((at, _))) = self.rechecks.peek()
            && *at <= now
        {
            let Some(Reverse((_, relative))) = self.rechecks.pop() else {
                break;
            };
            let path = self.settings.lake.join(&relative);
            match scan::look(&self.lake, &path) {
                Some(seen) => {
                    self.observe(&seen, false);
                }
                None => self.tracker.forget(&relative),
            }
        }
    }

    fn hash(&mut self, seen: Seen) {
        let permits = Arc::clone(&self.hashing);
        let sender = self.hashed_tx.clone();
        tokio::spawn(async move {
            let Ok(_permit) = permits.acquire_owned().await else {
                return;
            };
            let hashed = tokio::task::spawn_blocking(move || hash_stable(seen)).await;
            if let Ok(hashed) = hashed {
                let _ = sender.send(hashed);
            }
        });
    }

    // ----- registration -----

    fn on_hashed(&mut self, batch: Vec<Hashed>) {
        let mut stable = Vec::new();
        for hashed in batch {
            match hashed {
                Hashed::Stable {
                    seen,
                    sha256,
                    arrived,
                } => stable.push((seen, sha256, arrived)),
                Hashed::Changed(seen) => {
                    tracing::debug!(file = %seen.relative.display(), "A file changed while it was hashed; it must settle again.");
                    self.tracker.forget(&seen.relative);
                    self.look(&seen.path.clone(), false);
                }
                Hashed::Gone(seen) => {
                    tracing::info!(file = %seen.relative.display(), "A file was deleted before it could be read; nothing to do.");
                    self.tracker.removed(&seen.relative);
                }
                Hashed::Failed(seen, error) => {
                    tracing::warn!(file = %seen.relative.display(), %error, "Cannot read a file in the lake; it will be tried again.");
                    self.tracker.forget(&seen.relative);
                    self.reread(&seen.relative);
                }
            }
        }
        if stable.is_empty() {
            return;
        }
        let mut added = Vec::new();
        let (settings, registry) = (&self.settings, &self.registry);
        let connection = self.ledger.connection();
        // Registrations place generations; a transaction that fails takes
        // its registrations back, and so the places.
        let before = self.generations.clone();
        let generations = &mut self.generations;
        let result = (|| {
            let transaction =
                connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            for (seen, sha256, arrived) in &stable {
                if let Some(new) =
                    register(settings, registry, &transaction, generations, seen, sha256)?
                {
                    added.push((new, *arrived));
                }
            }
            transaction.commit()
        })();
        if let Err(error) = result {
            self.generations = before;
            tracing::error!(%error, "Cannot register new objects in the ledger; they will be tried again.");
            for (seen, _, _) in &stable {
                self.tracker.forget(&seen.relative);
                self.reread(&seen.relative);
            }
            return;
        }
        for (seen, _, _) in &stable {
            self.tracker.hashed(&seen.relative, seen.stat);
        }
        let mut released = Vec::new();
        let mut gapped = HashSet::new();
        for (new, arrived) in added {
            self.tally.objects.fetch_add(1, Ordering::Relaxed);
            self.metrics
                .registered(new.info.dataset.as_str(), new.duplicate, arrived);
            if new.held || !new.released.is_empty() {
                gapped.insert(new.info.dataset.clone());
            }
            if new.held {
                self.queue.hold_for_gap(new.info.id);
            }
            released.extend(new.released.iter().copied());
            if !new.released.is_empty() {
                tracing::info!(object = new.info.id, file = %new.info.name, released = new.released.len(), "A missing generation arrived: the generations held behind it go now, in order.");
            }
            if let Some(finished) = new.finished {
                self.finished_object(&new.info, &finished);
            } else {
                self.queue.add(new.info, &new.jobs);
            }
        }
        self.queue.release_from_gap(&released);
        for dataset in gapped {
            let held = self
                .generations
                .get(&dataset)
                .map_or(0, |s| s.held().count());
            self.metrics.generations_held(dataset.as_str(), held);
        }
    }

    /// Starts the generation sequences whose first generations wait, once
    /// nothing is being scanned or hashed: every file found ready with them
    /// is registered, and the lowest starts the sequence.
    fn start_generations(&mut self) {
        if self.scans_in_flight > 0 || self.tracker.hashing() > 0 || self.stopping {
            return;
        }
        let label =
            |absolute: i64| generations::Generation::label(generations::number_of(absolute));
        let mut released = Vec::new();
        for (dataset, sequence) in &mut self.generations {
            let Some((start, begun)) = sequence.begin() else {
                continue;
            };
            let connection = self.ledger.connection();
            let body =
                json!({"dataset": dataset.as_str(), "start": label(start), "absolute": start});
            if let Err(error) =
                events::append(connection, Kind::GenerationsStarted, None, None, &body)
            {
                tracing::warn!(%dataset, %error, "Cannot record where a dataset's generations start; a restart decides again.");
            }
            tracing::info!(%dataset, start = label(start), "A dataset's generations start here.");
            if let Some(missing) = begun.new_gap {
                let body = json!({"dataset": dataset.as_str(), "missing": label(missing), "after": label(missing - 1)});
                let _ = events::append(connection, Kind::GenerationGap, None, None, &body);
                tracing::warn!(%dataset, missing = label(missing), "A generation is missing: later ones wait until it arrives (gap_check).");
            }
            self.metrics
                .generations_held(dataset.as_str(), sequence.held().count());
            released.extend(begun.released);
        }
        self.queue.release_from_gap(&released);
    }

    // ----- jobs -----

    fn dispatch(&mut self) {
        if self.stopping {
            return;
        }
        let names: Vec<String> = self
            .registry
            .handlers
            .iter()
            .map(|(settings, _)| settings.name.clone())
            .collect();
        let mut held = Vec::new();
        for name in names {
            while let Some(next) = self.queue.next(&name, &mut held) {
                let started = self.jobs.start(
                    &self.settings,
                    &self.registry,
                    self.ledger.connection(),
                    &self.owner,
                    next.clone(),
                );
                if let Err(error) = started {
                    tracing::error!(object = next.info.id, handler = name, %error, "Cannot start a job; it will be tried again in a minute.");
                    self.defer(&next.info, &name, next.attempt - 1);
                    break;
                }
            }
        }
        for (info, handler) in held {
            tracing::warn!(object = info.id, file = %info.name, handler, "An ordered handler holds back the dataset's later objects until this one is done.");
            let body = json!({"object": object_json(&info), "dataset": info.dataset.as_str()});
            let _ = events::append(
                self.ledger.connection(),
                Kind::HeldBack,
                Some(info.id),
                Some(&handler),
                &body,
            );
        }
    }

    fn on_completion(&mut self, done: jobs::Completion) {
        let outcome = match self.jobs.record(&self.registry, &mut self.ledger, &done) {
            Ok(outcome) => outcome,
            Err(error) => {
                tracing::error!(object = done.info.id, handler = done.handler, %error, "Cannot record a job's outcome; it will run again in a minute.");
                self.defer(&done.info, &done.handler, done.attempt - 1);
                return;
            }
        };
        let table = self.settings.table_of(&done.info.dataset);
        self.metrics.recorded(&done, &outcome, &table);
        self.apply(&done.info, &done.handler, outcome, true);
    }

    /// Brings the queue in step with a job's recorded outcome, records the
    /// jobs that can no longer run, and finishes the object.
    fn apply(
        &mut self,
        info: &Arc<ObjectInfo>,
        handler: &str,
        outcome: jobs::Recorded,
        was_running: bool,
    ) {
        let jobs::Recorded {
            state,
            attempts,
            next_at_ms,
            finished,
        } = outcome;
        if state == JobState::Pending && was_running {
            self.queue.put_back(info.id, handler);
            return;
        }
        let (orphans, _) =
            self.queue
                .finished(info.id, handler, state, attempts, next_at_ms, was_running);
        if let Some(finished) = finished {
            self.finished_object(info, &finished);
        }
        self.bury(orphans);
    }

    /// Queues the jobs `droplake retry` reset since the last look.
    fn pick_up_retried(&mut self) {
        let (retried, seen) = match crate::retry::retried_since(
            self.ledger.connection(),
            self.retried_seen,
        ) {
            Ok(found) => found,
            Err(error) => {
                tracing::warn!(%error, "Cannot read the event log for retried jobs; will look again.");
                return;
            }
        };
        self.retried_seen = seen;
        if retried.is_empty() {
            return;
        }
        let mut objects: Vec<i64> = retried.iter().map(|(object, _)| *object).collect();
        objects.sort_unstable();
        objects.dedup();
        let mut orphans = Vec::new();
        for id in objects {
            let connection = self.ledger.connection();
            let (object, jobs) = match (
                ledger::object(connection, id),
                ledger::jobs(connection, id),
            ) {
                (Ok(Some(object)), Ok(jobs)) => (object, jobs),
                (Ok(None), _) => continue,
                (Err(error), _) | (_, Err(error)) => {
                    tracing::error!(object = id, %error, "Cannot read a retried object's jobs; the next start will run them.");
                    continue;
                }
            };
            let info = Arc::new(info_of(&self.settings.lake, &object));
            let jobs: Jobs = jobs
                .into_iter()
                .map(|job| {
                    let queued = Job {
                        state: job.state,
                        attempts: job.attempts,
                    };
                    (job.handler, queued, job.next_at_ms)
                })
                .collect();
            for (_, handler) in retried.iter().filter(|(object, _)| *object == id) {
                tracing::info!(object = id, file = %info.name, handler, "A job was retried by hand; it runs again.");
            }
            orphans.extend(self.queue.revive(info, &jobs));
        }
        for handler in self.queue.handlers_with_jobs() {
            if self.registry.get(&handler).is_none() {
                orphans.extend(self.queue.retire(&handler));
            }
        }
        self.bury(orphans);
    }

    /// Puts a job that could not start, or whose end could not be recorded,
    /// back for a minute (in memory: the ledger could not be written).
    fn defer(&mut self, info: &ObjectInfo, handler: &str, attempts: u32) {
        let at = now_ms() + DEFER.as_millis() as i64;
        let (orphans, _) =
            self.queue
                .finished(info.id, handler, JobState::Retry, attempts, at, true);
        self.bury(orphans);
    }

    /// Records jobs that can never run as dead (a handler they wait for
    /// died, or their handler is no longer configured).
    fn bury(&mut self, orphans: Vec<queue::Orphan>) {
        for orphan in orphans {
            tracing::warn!(
                object = orphan.info.id,
                handler = orphan.handler,
                reason = orphan.because,
                "A job can never run; it is dead."
            );
            let recorded = jobs::record_orphan(&mut self.ledger, &orphan);
            match recorded {
                Ok(recorded) => self.apply(&orphan.info, &orphan.handler, recorded, false),
                Err(error) => {
                    tracing::error!(object = orphan.info.id, handler = orphan.handler, %error, "Cannot record a job that can no longer run; the next start will.");
                }
            }
        }
    }

    /// Every handler is done with an object: count it, write its receipt.
    fn finished_object(&mut self, info: &ObjectInfo, finished: &Finished) {
        self.tally.finished.fetch_add(1, Ordering::Relaxed);
        if finished.state == "failed" {
            self.failures = true;
        }
        tracing::info!(object = info.id, file = %info.name, state = finished.state, "Every handler is done with an object.");
        self.write_receipt(info, finished);
    }

    /// Writes the receipts a crash or a failed write left unwritten, for
    /// objects finished since the previous daemon started.
    fn write_missing_receipts(&mut self) {
        let Some(since) = self.previous_start.clone() else {
            return;
        };
        let datasets: Vec<DatasetName> = self
            .settings
            .datasets
            .iter()
            .filter(|(_, settings)| settings.receipts.is_some())
            .map(|(name, _)| name.clone())
            .collect();
        for dataset in datasets {
            let objects =
                ledger::without_receipt(self.ledger.connection(), dataset.as_str(), &since)
                    .unwrap_or_default();
            for object in objects {
                let info = info_of(&self.settings.lake, &object);
                if let Ok(finished) = ledger::outcome(self.ledger.connection(), info.id) {
                    tracing::info!(object = info.id, file = %info.name, "Writing a receipt that was missing.");
                    self.write_receipt(&info, &finished);
                }
            }
        }
    }

    /// Writes an object's receipt, if its dataset wants them.
    fn write_receipt(&mut self, info: &ObjectInfo, finished: &Finished) {
        let Some(dir) = self.settings.dataset(&info.dataset).receipts else {
            return;
        };
        let body = receipt_body(self.ledger.connection(), info, finished);
        let accepted = finished.state != "failed";
        match events::write_receipt(&dir, &info.relative, accepted, &body) {
            Ok(path) => {
                let body = json!({"object": object_json(info), "receipt": path.to_string_lossy(), "accepted": accepted});
                let _ = events::append(
                    self.ledger.connection(),
                    Kind::ReceiptWritten,
                    Some(info.id),
                    None,
                    &body,
                );
            }
            Err(error) => {
                tracing::error!(object = info.id, dir = %dir.display(), %error, "Cannot write a receipt.");
            }
        }
    }

    // ----- reload and retention -----

    fn reload(&mut self) {
        let settings = match Settings::load(&self.sources) {
            Ok(settings) => settings,
            Err(error) => {
                tracing::error!(%error, "Kept the old configuration: the new one is broken.");
                return;
            }
        };
        let registry = match Registry::build(&settings, &self.embedded) {
            Ok(registry) => registry,
            Err(error) => {
                tracing::error!(%error, "Kept the old configuration and schemas: a schema is broken.");
                return;
            }
        };
        // These are bound at startup: a change waits for a restart.
        let restart: Vec<&str> = [
            ("lake", settings.lake != self.settings.lake),
            ("warehouse", settings.warehouse != self.settings.warehouse),
            ("metrics", settings.metrics != self.settings.metrics),
        ]
        .into_iter()
        .filter_map(|(key, changed)| changed.then_some(key))
        .collect();
        if !restart.is_empty() {
            tracing::warn!(
                keys = restart.join(", "),
                "Changed settings that take a restart ({}): the old values stay in force until then. Other settings are reloaded.",
                restart.join(", ")
            );
        }
        let mut settings = settings;
        settings.lake = self.settings.lake.clone();
        settings.warehouse = self.settings.warehouse.clone();
        settings.metrics = self.settings.metrics;
        match Lake::open(&settings.lake, settings.filter.clone()) {
            Ok(lake) => self.lake = lake,
            Err(error) => {
                tracing::error!(%error, "Kept the old configuration: the lake cannot be opened.");
                return;
            }
        }
        self.queue.set_handlers(&registry.settings());
        match sequences(&settings, self.ledger.connection()) {
            Ok(generations) => {
                self.queue.set_gap_held(held_for_gaps(&generations));
                for (dataset, sequence) in &generations {
                    self.metrics
                        .generations_held(dataset.as_str(), sequence.held().count());
                }
                self.generations = generations;
            }
            Err(error) => {
                tracing::error!(%error, "Cannot read the generations of the datasets from the ledger; keeping what was known.");
            }
        }
        let retired: Vec<queue::Orphan> = self
            .queue
            .handlers_with_jobs()
            .into_iter()
            .filter(|handler| registry.get(handler).is_none())
            .flat_map(|handler| self.queue.retire(&handler))
            .collect();
        tracing::info!(
            tables = registry.tables.len(),
            handlers = registry.handlers.len(),
            "Reloaded the configuration and schemas."
        );
        self.metrics.configure(&registry);
        self.registry = registry;
        self.settings = settings;
        self.bury(retired);
    }

    /// Archives or deletes the objects whose retention is up.
    fn retain(&mut self) {
        let datasets: Vec<(DatasetName, crate::config::DatasetSettings)> = self
            .settings
            .datasets
            .iter()
            .filter(|(_, settings)| settings.retain.is_some())
            .map(|(name, settings)| (name.clone(), settings.clone()))
            .collect();
        for (dataset, settings) in datasets {
            let Some(retain) = settings.retain else {
                continue;
            };
            let before = jiff::Timestamp::now()
                .checked_sub(jiff::SignedDuration::try_from(retain.get()).unwrap_or_default())
                .unwrap_or_default();
            let Ok(objects) = ledger::retainable(
                self.ledger.connection(),
                dataset.as_str(),
                &before.to_string(),
            ) else {
                continue;
            };
            for object in objects {
                let info = info_of(&self.settings.lake, &object);
                let removed = match &settings.archive {
                    Some(archive) => archive_file(&info.path, &archive.join(&info.relative)),
                    None => std::fs::remove_file(&info.path).or_else(|error| {
                        if error.kind() == std::io::ErrorKind::NotFound {
                            Ok(())
                        } else {
                            Err(error)
                        }
                    }),
                };
                match removed {
                    Ok(()) => {
                        self.tracker.removed(&info.relative);
                        let _ = ledger::mark_removed(self.ledger.connection(), info.id);
                        let body = json!({"object": object_json(&info), "archive": settings.archive.as_ref().map(|dir| dir.join(&info.relative).to_string_lossy().into_owned())});
                        let _ = events::append(
                            self.ledger.connection(),
                            Kind::ObjectRemoved,
                            Some(info.id),
                            None,
                            &body,
                        );
                        tracing::info!(object = info.id, file = %info.name, "Retention: removed an object every handler is done with.");
                    }
                    Err(error) => {
                        tracing::warn!(object = info.id, file = %info.name, %error, "Retention: cannot remove an object; will try again.");
                    }
                }
            }
        }
    }
}

/// The generation sequences of the datasets ordered by generation, as the
/// ledger makes them; a gap found is told in the log.
fn sequences(
    settings: &Settings,
    connection: &Connection,
) -> rusqlite::Result<HashMap<DatasetName, generations::Sequence>> {
    let mut sequences = HashMap::new();
    for (dataset, config) in &settings.datasets {
        let Order::Generation { gap_check } = config.order else {
            continue;
        };
        let sequence = generations::replay(connection, dataset.as_str(), gap_check)?;
        if let Some(missing) = sequence.missing() {
            let missing = generations::Generation::label(generations::number_of(missing));
            tracing::warn!(dataset = %dataset, %missing, held = sequence.held().count(), "Generations of a dataset wait for a missing one.");
        }
        sequences.insert(dataset.clone(), sequence);
    }
    Ok(sequences)
}

/// The objects held for gaps in `sequences`.
fn held_for_gaps(sequences: &HashMap<DatasetName, generations::Sequence>) -> HashSet<i64> {
    sequences
        .values()
        .flat_map(generations::Sequence::held)
        .collect()
}

/// Registers one hashed file in `connection`'s transaction, placing its
/// generation in `generations` when its dataset is ordered by generation.
fn register(
    settings: &Settings,
    registry: &Registry,
    connection: &Connection,
    generations: &mut HashMap<DatasetName, generations::Sequence>,
    seen: &Seen,
    sha256: &str,
) -> rusqlite::Result<Option<NewlyRegistered>> {
    let dataset = settings.dataset(&seen.dataset);
    let handlers = registry.handlers_for(settings, &seen.dataset);
    let raw = seen.relative.as_os_str().as_encoded_bytes();
    let name = seen.relative.to_string_lossy();
    let (rank, absolute) = match dataset.order {
        Order::Arrival => (seen.stat.mtime_ns, None),
        Order::Name => (0, None),
        Order::Generation { .. } => generations::rank(
            generations.entry(seen.dataset.clone()).or_default(),
            &seen.relative,
            seen.stat.mtime_ns,
        ),
    };
    let refused = match &dataset.ready {
        Readiness::Marker(pattern) => check_marker(&seen.path, pattern, seen.stat.size, sha256),
        Readiness::Settle(_) => None,
    };
    let registered = ledger::register(
        connection,
        &NewObject {
            dataset: seen.dataset.as_str(),
            path: raw,
            name: &name,
            sha256,
            size: seen.stat.size,
            mtime_ns: seen.stat.mtime_ns,
            inode: seen.stat.inode,
            rank,
            handlers: &handlers,
            skip_duplicates: dataset.duplicates == crate::config::Duplicates::Skip,
            refused: refused.as_deref(),
        },
    )?;
    let id = match registered {
        Registered::Known(_) => return Ok(None),
        Registered::New(id) | Registered::Duplicate { id, .. } => id,
    };
    let mut arrival = generations::Arrival::default();
    if let (Order::Generation { gap_check }, Some(absolute)) = (dataset.order, absolute) {
        let sequence = generations.entry(seen.dataset.clone()).or_default();
        if gap_check {
            arrival = sequence.arrive(id, absolute);
        } else {
            sequence.note(absolute);
        }
    }
    let info = Arc::new(ObjectInfo {
        id,
        dataset: seen.dataset.clone(),
        relative: seen.relative.clone(),
        path: seen.path.clone(),
        name: name.into_owned(),
        sha256: sha256.to_owned(),
        size: seen.stat.size,
        mtime_ns: seen.stat.mtime_ns,
        inode: seen.stat.inode,
        rank,
    });
    let object = object_json(&info);
    let body = json!({"object": object, "handlers": handlers});
    events::append(connection, Kind::ObjectArrived, Some(id), None, &body)?;
    tracing::info!(object = id, file = %info.name, handlers = handlers.len(), "Registered a new object.");
    if let Registered::Duplicate { of, .. } = registered {
        let body = json!({"object": object, "duplicate_of": of});
        events::append(connection, Kind::DuplicateSeen, Some(id), None, &body)?;
        tracing::info!(object = id, file = %info.name, duplicate_of = of, "Skipped a duplicate: the same content is object {of}.");
    }
    if let Some(refused) = &refused {
        let body = json!({"object": object, "error": refused});
        events::append(connection, Kind::MarkerMismatch, Some(id), None, &body)?;
        tracing::warn!(object = id, file = %info.name, error = %refused, "A marker does not match its file; the object is not processed.");
    }
    if let Some(missing) = arrival.new_gap {
        let label =
            |absolute: i64| generations::Generation::label(generations::number_of(absolute));
        let body = json!({
            "object": object,
            "dataset": info.dataset.as_str(),
            "missing": label(missing),
            "after": label(missing - 1),
        });
        events::append(connection, Kind::GenerationGap, Some(id), None, &body)?;
        tracing::warn!(object = id, file = %info.name, missing = label(missing), "A generation is missing: this one and any later ones wait until it arrives (gap_check).");
    }
    let finished = finish_object(connection, &info)?;
    let state = if refused.is_some() {
        JobState::Dead
    } else if matches!(registered, Registered::Duplicate { .. }) {
        JobState::Duplicate
    } else {
        JobState::Pending
    };
    let jobs = handlers
        .into_iter()
        .map(|handler| (handler, Job { state, attempts: 0 }, 0))
        .collect();
    Ok(Some(NewlyRegistered {
        info,
        jobs,
        finished,
        duplicate: matches!(registered, Registered::Duplicate { .. }),
        held: arrival.held,
        released: arrival.released,
    }))
}

/// A new object, its jobs, and its end if it has no job to wait for.
struct NewlyRegistered {
    info: Arc<ObjectInfo>,
    jobs: Jobs,
    finished: Option<Finished>,
    /// Its content is another object's of the dataset.
    duplicate: bool,
    /// It waits for a missing generation.
    held: bool,
    /// The held objects its arrival released.
    released: Vec<i64>,
}

/// The daemon lock of the warehouse at `warehouse`: `<warehouse>.lock`,
/// held (flock, exclusive) by the daemon or `run --once` while it runs.
pub fn lock_path(warehouse: &Path) -> PathBuf {
    let mut name = warehouse.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Takes the daemon lock next to the warehouse: one daemon (or `run
/// --once`) per warehouse. The lock file says who holds it: `pid N`, or
/// `pid N once` for `run --once`.
fn lock(warehouse: &Path, once: bool) -> Result<std::fs::File, DaemonError> {
    let path = lock_path(warehouse);
    if let Some(parent) = path.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    let io = |error| DaemonError::Io {
        what: format!("cannot open the daemon lock {}", path.display()),
        error,
    };
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io)?;
    // `droplake status` tests the lock by taking it shared for an instant;
    // a few tries keep that instant from refusing a daemon starting then.
    let mut tries = 0;
    let taken = loop {
        match file.try_lock() {
            Err(std::fs::TryLockError::WouldBlock) if tries < 5 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            taken => break taken,
        }
    };
    match taken {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let holder = std::fs::read_to_string(&path).unwrap_or_default();
            return Err(DaemonError::Locked {
                path,
                holder: holder.trim().to_owned(),
            });
        }
        Err(std::fs::TryLockError::Error(error)) => return Err(io(error)),
    }
    use std::io::Write;
    let _ = file.set_len(0);
    let mode = if once { " once" } else { "" };
    let _ = writeln!(file, "pid {}{mode}", std::process::id());
    Ok(file)
}

/// A daemon (or `run --once`) that holds a warehouse's lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// Its process id, as it wrote it into the lock file (`None` when the
    /// file does not say: it is being written).
    pub pid: Option<u32>,
    /// It is `run --once`: it takes the files its startup scan found and
    /// the jobs pending then, and ends; it reads no retried job.
    pub once: bool,
}

impl Holder {
    /// What holds the lock, for people: `the daemon (pid 42)`, or
    /// `` `droplake run --once` (pid 42) ``.
    pub fn describe(&self) -> String {
        let pid = self
            .pid
            .map(|pid| format!(" (pid {pid})"))
            .unwrap_or_default();
        if self.once {
            format!("`droplake run --once`{pid}")
        } else {
            format!("the daemon{pid}")
        }
    }

    /// `daemon` or `once`, as the JSON outputs say it.
    pub fn mode(&self) -> &'static str {
        if self.once { "once" } else { "daemon" }
    }

    /// Reads what the lock file says: `pid N`, or `pid N once`.
    fn parse(text: &str) -> Holder {
        let mut words = text.split_whitespace();
        let pid = match (words.next(), words.next()) {
            (Some("pid"), Some(pid)) => pid.parse().ok(),
            _ => None,
        };
        Holder {
            pid,
            once: words.next() == Some("once"),
        }
    }
}

/// The daemon that holds `warehouse`'s lock, if one does. Asks without
/// creating or writing the lock file: a shared lock is tried and dropped at
/// once (a daemon starting in that instant retries its own lock for a
/// moment, so asking never keeps one from starting).
pub fn running(warehouse: &Path) -> Option<Holder> {
    let path = lock_path(warehouse);
    let file = match std::fs::File::open(&path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return None,
        Err(error) => {
            tracing::warn!(lock = %path.display(), %error, "Cannot open the daemon lock to see whether a daemon runs; assuming none.");
            return None;
        }
    };
    match file.try_lock_shared() {
        Ok(()) => {
            let _ = file.unlock();
            None
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            Some(Holder::parse(&text))
        }
        Err(std::fs::TryLockError::Error(error)) => {
            tracing::warn!(lock = %path.display(), %error, "Cannot test the daemon lock; assuming no daemon runs.");
            None
        }
    }
}

/// Signals become messages; a stop also arms the load deadline, so a load
/// is rolled back in time even while the daemon's task waits on SQLite.
fn listen_for_signals(
    sender: mpsc::UnboundedSender<Message>,
    load_stop: Arc<AtomicBool>,
    timeout: Duration,
) -> Result<(), DaemonError> {
    use tokio::signal::unix::{SignalKind, signal};
    let io = |error| DaemonError::Io {
        what: "cannot install signal handlers".into(),
        error,
    };
    let mut terminate = signal(SignalKind::terminate()).map_err(io)?;
    let mut interrupt = signal(SignalKind::interrupt()).map_err(io)?;
    let mut hangup = signal(SignalKind::hangup()).map_err(io)?;
    tokio::spawn(async move {
        loop {
            let message = tokio::select! {
                _ = terminate.recv() => Message::Stop("SIGTERM"),
                _ = interrupt.recv() => Message::Stop("SIGINT"),
                _ = hangup.recv() => Message::Reload,
            };
            if let Message::Stop(_) = message {
                let load_stop = Arc::clone(&load_stop);
                // Loads get the shutdown timeout less a margin to roll back.
                let margin = Duration::from_secs(1).min(timeout / 4);
                tokio::spawn(async move {
                    tokio::time::sleep(timeout.saturating_sub(margin)).await;
                    load_stop.store(true, Ordering::Relaxed);
                });
            }
            if sender.send(message).is_err() {
                break;
            }
        }
    });
    Ok(())
}

/// Hashes a file and checks it did not change meanwhile.
pub(crate) fn hash_stable(seen: Seen) -> Hashed {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut file = match std::fs::File::open(&seen.path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Hashed::Gone(seen),
        Err(error) => return Hashed::Failed(seen, error),
    };
    let (before, arrived) = match file.metadata() {
        Ok(metadata) => (Stat::of(&metadata), changed_at(&metadata)),
        Err(error) => return Hashed::Failed(seen, error),
    };
    if before != seen.stat {
        return Hashed::Changed(seen);
    }
    let mut hasher = Sha256::new();
    // Small files are the common case in a storm: a buffer their size.
    let size = usize::try_from(before.size).unwrap_or(usize::MAX);
    let mut buffer = vec![0; size.saturating_add(1).clamp(4096, 256 * 1024)];
    loop {
        match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => hasher.update(&buffer[..read]),
            Err(error) => return Hashed::Failed(seen, error),
        }
    }
    let after = file.metadata().map(|metadata| Stat::of(&metadata));
    let now_at_path = std::fs::symlink_metadata(&seen.path).map(|metadata| Stat::of(&metadata));
    match (after, now_at_path) {
        (Ok(after), Ok(at_path)) if after == before && at_path == before => Hashed::Stable {
            sha256: hex::encode(hasher.finalize()),
            seen,
            arrived,
        },
        (_, Err(error)) if error.kind() == std::io::ErrorKind::NotFound => Hashed::Gone(seen),
        _ => Hashed::Changed(seen),
    }
}

/// A file's ctime: when its inode last changed, which a rename into place
/// and every write do.
fn changed_at(metadata: &std::fs::Metadata) -> Option<SystemTime> {
    use std::os::unix::fs::MetadataExt;
    let seconds = u64::try_from(metadata.ctime()).ok()?;
    let nanos = u32::try_from(metadata.ctime_nsec()).ok()?;
    SystemTime::UNIX_EPOCH.checked_add(Duration::new(seconds, nanos))
}

/// Checks what a marker declares against the file; the refusal, if any.
pub(crate) fn check_marker(path: &Path, pattern: &str, size: u64, sha256: &str) -> Option<String> {
    let marker = marker_for(path, pattern);
    let text = match std::fs::read_to_string(&marker) {
        Ok(text) => text,
        Err(error) => {
            return Some(format!(
                "cannot read the marker {}: {error}",
                marker.display()
            ));
        }
    };
    let declared = match Declared::parse(&text) {
        Ok(declared) => declared,
        Err(error) => return Some(format!("{}: {error}", marker.display())),
    };
    if let Some(expected) = declared.size
        && expected != size
    {
        return Some(format!(
            "the marker {} declares {expected} bytes but the file has {size}",
            marker.display()
        ));
    }
    if let Some(expected) = &declared.sha256
        && expected != sha256
    {
        return Some(format!(
            "the marker {} declares sha256 {expected} but the file's is {sha256}",
            marker.display()
        ));
    }
    None
}

/// The record count the marker of an object declares, if any.
pub(crate) fn declared_records(path: &Path, rule: &Readiness) -> Option<u64> {
    let Readiness::Marker(pattern) = rule else {
        return None;
    };
    let text = std::fs::read_to_string(marker_for(path, pattern)).ok()?;
    Declared::parse(&text).ok()?.records
}

/// Moves a file into the archive (copying across filesystems).
fn archive_file(from: &Path, to: &Path) -> std::io::Result<()> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent)?;
    }
    match std::fs::rename(from, to) {
        Ok(()) => Ok(()),
        // Moved before a crash kept the ledger from saying so.
        Err(error) if error.kind() == std::io::ErrorKind::NotFound && to.exists() => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::CrossesDevices => {
            std::fs::copy(from, to)?;
            std::fs::File::open(to)?.sync_all()?;
            std::fs::remove_file(from)
        }
        Err(error) => Err(error),
    }
}

/// An object of the ledger as the daemon works with it.
pub(crate) fn info_of(lake: &Path, object: &ledger::ObjectRow) -> ObjectInfo {
    let relative = PathBuf::from(
        <std::ffi::OsString as std::os::unix::ffi::OsStringExt>::from_vec(object.path.clone()),
    );
    ObjectInfo {
        id: object.id,
        dataset: DatasetName::new(&object.dataset)
            .unwrap_or_else(|_| DatasetName::new("invalid").unwrap_or_else(|_| unreachable!())),
        path: lake.join(&relative),
        relative,
        name: object.name.clone(),
        sha256: object.sha256.clone(),
        size: object.size,
        mtime_ns: object.mtime_ns,
        inode: object.inode,
        rank: object.rank,
    }
}

/// A path from the ledger's raw bytes.
fn path_of(bytes: Vec<u8>) -> PathBuf {
    PathBuf::from(<std::ffi::OsString as std::os::unix::ffi::OsStringExt>::from_vec(bytes))
}

/// The JSON that describes an object in events.
pub fn object_json(info: &ObjectInfo) -> Value {
    let mtime = jiff::Timestamp::from_nanosecond(i128::from(info.mtime_ns))
        .map(|time| time.to_string())
        .unwrap_or_default();
    json!({
        "id": info.id,
        "dataset": info.dataset.as_str(),
        "path": info.name,
        "file": info.path.to_string_lossy(),
        "sha256": info.sha256,
        "size": info.size,
        "mtime": mtime,
    })
}

/// If every job of the object is final, marks it finished and appends the
/// event that says how.
pub(crate) fn finish_object(
    connection: &Connection,
    info: &ObjectInfo,
) -> rusqlite::Result<Option<Finished>> {
    let Some(finished) = ledger::finish_if_complete(connection, info.id)? else {
        return Ok(None);
    };
    let body = finished_body(info, &finished);
    events::append(connection, Kind::ObjectFinished, Some(info.id), None, &body)?;
    Ok(Some(finished))
}

fn finished_body(info: &ObjectInfo, finished: &Finished) -> Value {
    let handlers: serde_json::Map<String, Value> = finished
        .jobs
        .iter()
        .map(|(handler, state, error)| {
            (
                handler.clone(),
                json!({"state": state.name(), "error": error}),
            )
        })
        .collect();
    json!({
        "object": object_json(info),
        "state": finished.state,
        "rows_loaded": finished.rows_loaded,
        "rows_rejected": finished.rows_rejected,
        "handlers": handlers,
    })
}

/// A receipt: the object's end, and its first rejected rows.
fn receipt_body(connection: &Connection, info: &ObjectInfo, finished: &Finished) -> Value {
    let mut body = finished_body(info, finished);
    let rejects: Vec<Value> = connection
        .prepare(
            "SELECT r.row_number, r.field, r.value, r.error_type, r.message FROM _droplake_rejects r
             JOIN _droplake_objects o ON o.load_id = r.load_id WHERE o.id = ?1 ORDER BY r.row_number LIMIT 10",
        )
        .and_then(|mut statement| {
            statement
                .query_map([info.id], |row| {
                    Ok(json!({
                        "row": row.get::<_, Option<i64>>(0)?,
                        "field": row.get::<_, Option<String>>(1)?,
                        "value": row.get::<_, Option<String>>(2)?,
                        "type": row.get::<_, String>(3)?,
                        "message": row.get::<_, String>(4)?,
                    }))
                })?
                .collect()
        })
        .unwrap_or_default();
    if let Value::Object(map) = &mut body {
        map.insert(
            "receipt".into(),
            if finished.state == "failed" {
                "nak"
            } else {
                "ack"
            }
            .into(),
        );
        map.insert("first_errors".into(), rejects.into());
    }
    body
}

/// Milliseconds since the epoch, now.
pub(crate) fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_file_says_who_holds_it() {
        let daemon = Holder::parse("pid 42\n");
        assert_eq!(
            daemon,
            Holder {
                pid: Some(42),
                once: false
            }
        );
        assert_eq!(daemon.describe(), "the daemon (pid 42)");
        let once = Holder::parse("pid 43 once\n");
        assert_eq!((once.pid, once.mode()), (Some(43), "once"));
        assert_eq!(once.describe(), "`droplake run --once` (pid 43)");
        assert_eq!(Holder::parse("").describe(), "the daemon");
    }
}
