//! Prometheus metrics (`metrics = "127.0.0.1:9464"`): what the daemon
//! counts, and the endpoint that serves it.
//!
//! [`Metrics`] owns the registry. The daemon's task counts where things are
//! recorded: an object registered (with how long after the file arrived),
//! a job's outcome committed (with a load's rows and duration). Each count
//! is an atomic addition. The gauges of unfinished jobs are read from the
//! ledger when a scrape asks, on a blocking thread with a read-only
//! connection: always true, and no work for the daemon's loop. When the
//! ledger cannot be read, those gauges are left out of the scrape (never
//! shown as 0, which would look healthy) and `droplake_ledger_up` is 0.
//!
//! The endpoint is a small HTTP/1.1 responder on its own tasks: `GET
//! /metrics` (or `HEAD`) answers in the Prometheus text format 0.0.4, any
//! other path 404, one request per connection. A request is read up to
//! 8 KiB within 5 seconds and its answer written within 10, and a silent
//! connection is closed then; at most 32 connections are served at once
//! (the rest wait in the kernel's backlog). A slow or hostile client holds
//! up nothing of the daemon, and a scraper only when dozens of them do.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::prometheus_text::{self, CONTENT_TYPE};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};
use rusqlite::Connection;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Semaphore;

use super::jobs::{Completion, Ran, Recorded};
use super::registry::Registry as Handlers;
use crate::handlers::loader::LoadResult;
use crate::warehouse::ledger::JobState;

/// Upper bounds of the load duration buckets, in seconds.
const LOAD_BUCKETS: [f64; 16] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0,
];
/// Upper bounds of the detection latency buckets, in seconds: the default
/// settle period is 2 s.
const DETECTION_BUCKETS: [f64; 14] = [
    0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0,
];
/// How a handler run can end, as counted.
const OUTCOMES: [&str; 3] = ["done", "retry", "dead"];
/// The job states that are not final, as the gauges tell them.
const UNFINISHED: [&str; 3] = ["pending", "retry", "running"];

/// The longest request head read; a longer one gets 431.
const MAX_REQUEST: usize = 8 * 1024;
/// How long a client has to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a client has to take its answer.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections served at once: plenty for scrapers, and a bound on what
/// idle clients can hold.
const CONNECTIONS: usize = 32;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DatasetLabel {
    dataset: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TableLabel {
    table: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HandlerLabel {
    handler: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RunLabels {
    handler: String,
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    handler: String,
    state: &'static str,
}

/// A family of histograms with fixed buckets.
type Histograms<S> = Family<S, Histogram, fn() -> Histogram>;

/// Everything the daemon counts, and the registry that encodes it. Labels
/// are datasets, tables, handlers and fixed words: never an object or a
/// path, so the number of series stays small.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    objects: Family<DatasetLabel, Counter>,
    duplicates: Family<DatasetLabel, Counter>,
    rows_loaded: Family<TableLabel, Counter>,
    rows_rejected: Family<TableLabel, Counter>,
    runs: Family<RunLabels, Counter>,
    load_seconds: Histograms<TableLabel>,
    detection_seconds: Histograms<DatasetLabel>,
    jobs: Family<JobLabels, Gauge>,
    /// Objects of `gap_check` datasets waiting for a missing generation,
    /// set by the daemon whenever that changes.
    generations_held: Family<DatasetLabel, Gauge>,
    oldest: Family<HandlerLabel, Gauge<f64, AtomicU64>>,
    /// 1 when the last scrape read the ledger, 0 when it could not.
    ledger_up: Gauge,
    /// The handlers configured: their gauges read 0 when they have nothing
    /// unfinished. Replaced on reload.
    handlers: Mutex<Vec<String>>,
    /// The ledger, read at scrape time; the lock also keeps two scrapes
    /// from refreshing the gauges at once.
    ledger: Mutex<Ledger>,
}

/// The read-only connection of scrapes, opened at the first one.
#[derive(Debug)]
struct Ledger {
    path: PathBuf,
    connection: Option<Connection>,
}

impl Metrics {
    /// The daemon's metrics, with the gauges read from the warehouse at
    /// `warehouse`.
    pub fn new(warehouse: &Path) -> Metrics {
        let mut registry = Registry::default();
        let build = Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]);
        registry.register(
            "droplake_build",
            "The droplake version serving these metrics",
            build,
        );
        let started: Gauge<f64, AtomicU64> = Gauge::default();
        let since_epoch = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        started.set(since_epoch.as_secs_f64());
        registry.register_with_unit(
            "droplake_start_time",
            "When the daemon started, in seconds since the Unix epoch",
            Unit::Seconds,
            started,
        );
        let metrics = Metrics {
            objects: Family::default(),
            duplicates: Family::default(),
            rows_loaded: Family::default(),
            rows_rejected: Family::default(),
            runs: Family::default(),
            load_seconds: Family::new_with_constructor(|| Histogram::new(LOAD_BUCKETS)),
            detection_seconds: Family::new_with_constructor(|| Histogram::new(DETECTION_BUCKETS)),
            jobs: Family::default(),
            generations_held: Family::default(),
            oldest: Family::default(),
            ledger_up: Gauge::default(),
            handlers: Mutex::default(),
            ledger: Mutex::new(Ledger {
                path: warehouse.to_path_buf(),
                connection: None,
            }),
            registry,
        };
        metrics.register()
    }

    fn register(mut self) -> Metrics {
        let registry = &mut self.registry;
        registry.register(
            "droplake_objects_registered",
            "Objects registered in the ledger, duplicates included",
            self.objects.clone(),
        );
        registry.register(
            "droplake_objects_duplicate",
            "Objects registered whose content another object of the dataset already had",
            self.duplicates.clone(),
        );
        registry.register(
            "droplake_rows_loaded",
            "Rows committed to the table by the loader",
            self.rows_loaded.clone(),
        );
        registry.register(
            "droplake_rows_rejected",
            "Rows the loader rejected, each kept in _droplake_rejects",
            self.rows_rejected.clone(),
        );
        registry.register(
            "droplake_handler_runs",
            "Attempts of handlers that ended, by outcome: done, retry (failed, will run again) or dead (failed for good)",
            self.runs.clone(),
        );
        registry.register(
            "droplake_jobs_pending",
            "Jobs not final yet, by state: pending (waiting to start or loading), retry (waiting for their next attempt), running (a command or Rust handler at work)",
            self.jobs.clone(),
        );
        registry.register(
            "droplake_generations_held",
            "Objects of a dataset with gap_check = true held back while an earlier generation is missing",
            self.generations_held.clone(),
        );
        registry.register_with_unit(
            "droplake_oldest_pending_job_age",
            "Time since the oldest object with a job not final yet was registered; 0 when there is none",
            Unit::Seconds,
            self.oldest.clone(),
        );
        registry.register(
            "droplake_ledger_up",
            "Whether this scrape could read the ledger (1) or not (0): when not, the job gauges are left out",
            self.ledger_up.clone(),
        );
        registry.register_with_unit(
            "droplake_load_duration",
            "Time of each committed load, from opening the file to the commit that made its rows durable (in a group of loads, the group's commit)",
            Unit::Seconds,
            self.load_seconds.clone(),
        );
        registry.register_with_unit(
            "droplake_detection_latency",
            "Time from a file's arrival (its ctime: the rename into place, or the last write) to its registration as an object",
            Unit::Seconds,
            self.detection_seconds.clone(),
        );
        self
    }

    /// Starts the series of every handler and table at zero, so that rates
    /// and alerts work before the first event, and remembers the handlers
    /// for the gauges. Called at startup and on reload.
    pub fn configure(&self, handlers: &Handlers) {
        let names: Vec<String> = handlers
            .handlers
            .iter()
            .map(|(settings, _)| settings.name.clone())
            .collect();
        // A series exists once its label set was asked for.
        for handler in &names {
            for outcome in OUTCOMES {
                let _ = self.runs.get_or_create(&RunLabels {
                    handler: handler.clone(),
                    outcome,
                });
            }
        }
        for table in handlers.tables.keys() {
            let label = TableLabel {
                table: table.clone(),
            };
            let _ = self.rows_loaded.get_or_create(&label);
            let _ = self.rows_rejected.get_or_create(&label);
            let _ = self.load_seconds.get_or_create(&label);
        }
        if let Ok(mut handlers) = self.handlers.lock() {
            *handlers = names;
        }
    }

    /// `held` objects of `dataset` wait for a missing generation.
    pub fn generations_held(&self, dataset: &str, held: usize) {
        let label = DatasetLabel {
            dataset: dataset.to_owned(),
        };
        self.generations_held
            .get_or_create(&label)
            .set(i64::try_from(held).unwrap_or(i64::MAX));
    }

    /// An object was registered, `arrived` being when its file arrived.
    pub fn registered(&self, dataset: &str, duplicate: bool, arrived: Option<SystemTime>) {
        let label = DatasetLabel {
            dataset: dataset.to_owned(),
        };
        self.objects.get_or_create(&label).inc();
        if duplicate {
            self.duplicates.get_or_create(&label).inc();
        }
        if let Some(arrived) = arrived {
            // A clock set back makes the latency negative: count it as 0.
            let latency = SystemTime::now()
                .duration_since(arrived)
                .unwrap_or_default();
            self.detection_seconds
                .get_or_create(&label)
                .observe(latency.as_secs_f64());
        }
    }

    /// A job's outcome was recorded: a handler run, and for a committed
    /// load its rows and duration. An interrupted attempt is not a run.
    pub fn recorded(&self, done: &Completion, recorded: &Recorded, table: &str) {
        let outcome = match recorded.state {
            JobState::Done | JobState::Duplicate => "done",
            JobState::Retry => "retry",
            JobState::Dead => "dead",
            JobState::Pending | JobState::Running => return,
        };
        self.runs
            .get_or_create(&RunLabels {
                handler: done.handler.clone(),
                outcome,
            })
            .inc();
        if let Ran::Load(LoadResult::Committed { report, took, .. }) = &done.result {
            let label = TableLabel {
                table: table.to_owned(),
            };
            self.rows_loaded
                .get_or_create(&label)
                .inc_by(report.rows_loaded);
            self.rows_rejected
                .get_or_create(&label)
                .inc_by(report.rows_rejected);
            self.load_seconds
                .get_or_create(&label)
                .observe(took.as_secs_f64());
        }
    }

    /// What a scrape gets: the gauges read from the ledger now, then every
    /// metric in the Prometheus text format. Blocks on SQLite.
    pub fn render(&self) -> String {
        let handlers = self
            .handlers
            .lock()
            .map(|handlers| handlers.clone())
            .unwrap_or_default();
        let mut ledger = match self.ledger.lock() {
            Ok(ledger) => ledger,
            Err(poisoned) => poisoned.into_inner(),
        };
        let read = ledger.unfinished();
        self.jobs.clear();
        self.oldest.clear();
        match read {
            Ok(unfinished) => {
                self.ledger_up.set(1);
                for handler in &handlers {
                    for state in UNFINISHED {
                        let _ = self.jobs.get_or_create(&JobLabels {
                            handler: handler.clone(),
                            state,
                        });
                    }
                    let _ = self.oldest.get_or_create(&HandlerLabel {
                        handler: handler.clone(),
                    });
                }
                for (handler, state, count) in unfinished.counts {
                    self.jobs
                        .get_or_create(&JobLabels { handler, state })
                        .set(count);
                }
                for (handler, age) in unfinished.oldest {
                    self.oldest
                        .get_or_create(&HandlerLabel { handler })
                        .set(age);
                }
            }
            Err(error) => {
                self.ledger_up.set(0);
                ledger.connection = None;
                tracing::warn!(%error, "Cannot read the pending jobs from the ledger for a metrics scrape.");
            }
        }
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_text::encode(&mut text, &self.registry);
        text
    }
}

/// The unfinished jobs per handler and state, and per handler the age of
/// the oldest object that has one, in seconds.
struct Unfinished {
    counts: Vec<(String, &'static str, i64)>,
    oldest: Vec<(String, f64)>,
}

impl Ledger {
    fn unfinished(&mut self) -> Result<Unfinished, crate::warehouse::WarehouseError> {
        let sql = |error| crate::warehouse::WarehouseError::from_sqlite(&self.path, error);
        if self.connection.is_none() {
            self.connection = Some(crate::warehouse::open_read_only(&self.path)?);
        }
        let Some(connection) = &self.connection else {
            return Ok(Unfinished {
                counts: Vec::new(),
                oldest: Vec::new(),
            });
        };
        let mut statement = connection
            .prepare_cached(
                "SELECT handler, state, count(*) FROM _droplake_jobs
                 WHERE state IN ('pending', 'retry', 'running') GROUP BY handler, state",
            )
            .map_err(sql)?;
        let rows: Vec<(String, String, i64)> = statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .and_then(Iterator::collect)
            .map_err(sql)?;
        let counts = rows
            .into_iter()
            .filter_map(|(handler, state, count)| {
                let state = UNFINISHED.into_iter().find(|known| *known == state)?;
                Some((handler, state, count))
            })
            .collect();
        let now = jiff::Timestamp::now();
        let oldest = crate::warehouse::ledger::oldest_unfinished(connection)
            .map_err(sql)?
            .into_iter()
            .map(|(handler, _, detected_at)| {
                let age = detected_at
                    .parse::<jiff::Timestamp>()
                    .map(|at| now.duration_since(at).as_secs_f64().max(0.0))
                    .unwrap_or_default();
                (handler, age)
            })
            .collect();
        Ok(Unfinished { counts, oldest })
    }
}

/// Binds the endpoint's address (before anything else starts, so that an
/// address in use stops startup).
pub fn bind(address: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    let listener = std::net::TcpListener::bind(address)?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// Serves `listener` on the current runtime until it ends.
pub fn serve(listener: std::net::TcpListener, metrics: Arc<Metrics>) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let permits = Arc::new(Semaphore::new(CONNECTIONS));
    tokio::spawn(async move {
        loop {
            let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
                return;
            };
            let stream = match listener.accept().await {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // Out of file descriptors, most likely: wait a little.
                    tracing::warn!(%error, "Cannot accept a connection to the metrics endpoint.");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let metrics = Arc::clone(&metrics);
            tokio::spawn(async move {
                answer(stream, metrics).await;
                drop(permit);
            });
        }
    });
    Ok(())
}

/// Reads one request from `stream` and answers it.
async fn answer(mut stream: tokio::net::TcpStream, metrics: Arc<Metrics>) {
    let head = match tokio::time::timeout(READ_TIMEOUT, read_head(&mut stream)).await {
        Ok(Ok(head)) => head,
        // Too slow, or gone: nothing to answer.
        Ok(Err(_)) | Err(_) => return,
    };
    let response = match route(&head) {
        Route::Metrics { head } => {
            let body = tokio::task::spawn_blocking(move || metrics.render()).await;
            match body {
                Ok(body) => response("200 OK", CONTENT_TYPE, &[], &body, head),
                Err(_) => plain(
                    "500 Internal Server Error",
                    "The metrics could not be read.\n",
                ),
            }
        }
        Route::NotFound => plain("404 Not Found", "Not found: the metrics are at /metrics.\n"),
        Route::MethodNotAllowed => response(
            "405 Method Not Allowed",
            "text/plain; charset=utf-8",
            &[("Allow", "GET, HEAD")],
            "Only GET and HEAD are served.\n",
            false,
        ),
        Route::BadRequest => plain("400 Bad Request", "Not an HTTP/1 request.\n"),
        Route::TooLarge => plain(
            "431 Request Header Fields Too Large",
            "The request is too large.\n",
        ),
    };
    let _ = tokio::time::timeout(WRITE_TIMEOUT, async {
        stream.write_all(&response).await?;
        stream.shutdown().await
    })
    .await;
}

/// The request's head, up to its blank line; past [`MAX_REQUEST`] bytes,
/// what was read (which [`route`] calls too large).
async fn read_head(stream: &mut tokio::net::TcpStream) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(1024);
    let mut buffer = [0; 1024];
    loop {
        let read = stream.read(&mut buffer).await?;
        if read == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        head.extend_from_slice(&buffer[..read]);
        if head_end(&head).is_some() || head.len() > MAX_REQUEST {
            return Ok(head);
        }
    }
}

/// Where the head's blank line ends, if it has arrived.
fn head_end(bytes: &[u8]) -> Option<usize> {
    let crlf = bytes.windows(4).position(|window| window == b"\r\n\r\n");
    let lf = bytes.windows(2).position(|window| window == b"\n\n");
    match (crlf, lf) {
        (Some(crlf), Some(lf)) => Some((crlf + 4).min(lf + 2)),
        (Some(crlf), None) => Some(crlf + 4),
        (None, lf) => lf.map(|lf| lf + 2),
    }
}

/// What a request asks for.
#[derive(Debug, PartialEq, Eq)]
enum Route {
    /// `GET /metrics`, or `HEAD` (`head`: no body).
    Metrics {
        head: bool,
    },
    NotFound,
    MethodNotAllowed,
    BadRequest,
    TooLarge,
}

/// Decides from a request's head what to answer.
fn route(head: &[u8]) -> Route {
    let Some(end) = head_end(head).filter(|end| *end <= MAX_REQUEST) else {
        return Route::TooLarge;
    };
    let line = head[..end]
        .split(|byte| *byte == b'\n')
        .next()
        .unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let mut parts = line.split(|byte| *byte == b' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Route::BadRequest;
    };
    if !version.starts_with(b"HTTP/1.") {
        return Route::BadRequest;
    }
    let path = target
        .split(|byte| *byte == b'?')
        .next()
        .unwrap_or_default();
    if path != b"/metrics" {
        return Route::NotFound;
    }
    match method {
        b"GET" => Route::Metrics { head: false },
        b"HEAD" => Route::Metrics { head: true },
        _ => Route::MethodNotAllowed,
    }
}

/// A plain-text answer.
fn plain(status: &str, body: &str) -> Vec<u8> {
    response(status, "text/plain; charset=utf-8", &[], body, false)
}

/// An HTTP/1.1 response that closes the connection; without its body when
/// answering `HEAD`.
fn response(
    status: &str,
    content_type: &str,
    headers: &[(&str, &str)],
    body: &str,
    head: bool,
) -> Vec<u8> {
    let mut text = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    if !head {
        text.push_str(body);
    }
    text.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_and_head_of_metrics_are_served_and_nothing_else() {
        let cases: [(&[u8], Route); 10] = [
            (
                b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
                Route::Metrics { head: false },
            ),
            (
                b"GET /metrics?x=1 HTTP/1.0\n\n",
                Route::Metrics { head: false },
            ),
            (
                b"HEAD /metrics HTTP/1.1\r\n\r\n",
                Route::Metrics { head: true },
            ),
            (b"GET / HTTP/1.1\r\n\r\n", Route::NotFound),
            (b"GET /metrics/x HTTP/1.1\r\n\r\n", Route::NotFound),
            (b"POST /metrics HTTP/1.1\r\n\r\n", Route::MethodNotAllowed),
            (b"GET /metrics\r\n\r\n", Route::BadRequest),
            (b"GET /metrics SPDY/3\r\n\r\n", Route::BadRequest),
            (b"GET /metrics HTTP/1.1\r\nHost: x\r\n", Route::TooLarge),
            (b"\r\n\r\n", Route::BadRequest),
        ];
        for (request, expected) in cases {
            assert_eq!(
                route(request),
                expected,
                "{}",
                String::from_utf8_lossy(request)
            );
        }
        let mut huge = b"GET /metrics HTTP/1.1\r\nX: ".to_vec();
        huge.resize(MAX_REQUEST + 10, b'a');
        huge.extend_from_slice(b"\r\n\r\n");
        assert_eq!(route(&huge), Route::TooLarge);
    }

    #[test]
    fn a_response_says_its_length_and_closes() {
        let text = String::from_utf8(plain("404 Not Found", "no\n")).expect("text");
        assert_eq!(
            text,
            "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 3\r\nConnection: close\r\n\r\nno\n"
        );
        let head = response("200 OK", CONTENT_TYPE, &[], "body", true);
        assert!(
            String::from_utf8(head)
                .expect("text")
                .ends_with("Content-Length: 4\r\nConnection: close\r\n\r\n")
        );
    }

    #[test]
    fn a_scrape_shows_counts_and_zero_gauges_in_the_text_format() {
        let dir = tempfile::tempdir().expect("tempdir");
        let warehouse = dir.path().join("warehouse.db");
        crate::warehouse::Warehouse::open(&warehouse).expect("create the warehouse");
        let metrics = Metrics::new(&warehouse);
        if let Ok(mut handlers) = metrics.handlers.lock() {
            *handlers = vec!["loader".into()];
        }
        let arrived = SystemTime::now() - Duration::from_millis(1500);
        metrics.registered("orders", false, Some(arrived));
        metrics.registered("orders", true, None);
        let text = metrics.render();
        for line in [
            "# TYPE droplake_objects_registered_total counter",
            "droplake_objects_registered_total{dataset=\"orders\"} 2",
            "droplake_objects_duplicate_total{dataset=\"orders\"} 1",
            "droplake_jobs_pending{handler=\"loader\",state=\"pending\"} 0",
            "droplake_oldest_pending_job_age_seconds{handler=\"loader\"} 0.0",
            "droplake_detection_latency_seconds_bucket{dataset=\"orders\",le=\"1\"} 0",
            "droplake_detection_latency_seconds_bucket{dataset=\"orders\",le=\"2\"} 1",
            "droplake_detection_latency_seconds_count{dataset=\"orders\"} 1",
        ] {
            assert!(text.lines().any(|got| got == line), "{line}\n{text}");
        }
        let build = format!(
            "droplake_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        );
        assert!(text.lines().any(|got| got == build), "{text}");
        assert!(
            text.lines().any(|got| got == "droplake_ledger_up 1"),
            "{text}"
        );
    }

    #[test]
    fn a_ledger_that_cannot_be_read_is_down_and_its_gauges_are_left_out_not_zero() {
        let dir = tempfile::tempdir().expect("tempdir");
        let warehouse = dir.path().join("warehouse.db");
        crate::warehouse::Warehouse::open(&warehouse).expect("create the warehouse");
        let metrics = Metrics::new(&warehouse);
        if let Ok(mut handlers) = metrics.handlers.lock() {
            *handlers = vec!["loader".into()];
        }
        assert!(metrics.render().contains("droplake_jobs_pending{"));
        // The warehouse is broken under the daemon: not a database now.
        std::fs::remove_file(dir.path().join("warehouse.db-wal")).ok();
        std::fs::remove_file(dir.path().join("warehouse.db-shm")).ok();
        std::fs::write(&warehouse, "not a database, not any more").expect("break it");
        if let Ok(mut ledger) = metrics.ledger.lock() {
            ledger.connection = None;
        }
        let text = metrics.render();
        assert!(
            text.lines().any(|line| line == "droplake_ledger_up 0"),
            "{text}"
        );
        for gauge in [
            "droplake_jobs_pending{",
            "droplake_oldest_pending_job_age_seconds{",
        ] {
            assert!(!text.contains(gauge), "{gauge} is left out:\n{text}");
        }
        assert!(text.contains("droplake_build_info"), "the rest is served");
    }
}
