//! Telling systemd the truth about the daemon: the `sd_notify` protocol,
//! spoken without libsystemd.
//!
//! [`Notifier`] is the protocol. When systemd starts a `Type=notify`
//! service it sets `NOTIFY_SOCKET` to a Unix datagram socket (a path, or
//! `@name` for an abstract one); each message is one datagram of
//! `KEY=value` lines. With `WatchdogSec=` it also sets `WATCHDOG_USEC` (and
//! `WATCHDOG_PID`, the process meant): that process must send `WATCHDOG=1`
//! more often than that, or it is killed and restarted. Sending is never
//! fatal: a failure is logged once and the daemon carries on.
//!
//! [`Supervisor`] is the daemon's side, driven by the main loop itself: the
//! loop calls [`Supervisor::tick`] every time round and wakes for
//! [`Supervisor::next_wake`], so `WATCHDOG=1` goes out only while the loop
//! turns — a wedged loop stops pinging and systemd restarts the daemon.
//! There is deliberately no timer task: one would keep pinging for a dead
//! loop. `tick` also sends `READY=1` once the startup reconciliation is
//! done (the first full scan processed and the files it found ready hashed
//! and registered) and a short `STATUS=` line at most every
//! [`STATUS_EVERY`].
//!
//! The fault hook, for tests of the watchdog: in a debug build only, the
//! environment variable `DROPLAKE_TEST_WEDGE_AFTER_MS=N` makes `tick` sleep
//! forever once the loop has run for N milliseconds, wedging the main loop
//! as a deadlock would. Release builds ignore it.

use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::{Duration, Instant};

use super::Daemon;

/// The shortest time between two `STATUS=` lines.
pub const STATUS_EVERY: Duration = Duration::from_secs(2);
/// How long `READY=1` waits, after the startup scan, for the files it found
/// to be registered: a lake of a million new files must not hold the start
/// past systemd's `TimeoutStartSec=`.
const READY_WAIT: Duration = Duration::from_secs(30);
/// How long one message may take to send before it is given up.
const SEND_TIMEOUT: Duration = Duration::from_secs(1);

/// A connection to systemd's notification socket.
#[derive(Debug)]
pub struct Notifier {
    socket: UnixDatagram,
    address: SocketAddr,
    /// Where `NOTIFY_SOCKET` pointed, for the log.
    name: String,
    /// Half of `WATCHDOG_USEC`, when the watchdog is meant for us.
    watchdog: Option<Duration>,
    /// Whether a failure was logged already (it is logged once).
    warned: bool,
}

impl Notifier {
    /// The notifier `NOTIFY_SOCKET` asks for, or `None` when it is unset
    /// (not started by systemd, or not `Type=notify`) or unusable (logged).
    pub fn from_env() -> Option<Notifier> {
        let name = std::env::var_os("NOTIFY_SOCKET")?;
        let name = name.to_string_lossy().into_owned();
        let address = match parse_address(&name) {
            Ok(address) => address,
            Err(error) => {
                tracing::warn!(socket = name, %error, "Cannot use NOTIFY_SOCKET; systemd will not hear from the daemon.");
                return None;
            }
        };
        let socket = UnixDatagram::unbound().and_then(|socket| {
            socket
                .set_write_timeout(Some(SEND_TIMEOUT))
                .map(|()| socket)
        });
        let socket = match socket {
            Ok(socket) => socket,
            Err(error) => {
                tracing::warn!(socket = name, %error, "Cannot open a socket to notify systemd.");
                return None;
            }
        };
        let watchdog = watchdog_interval(
            std::env::var("WATCHDOG_USEC").ok().as_deref(),
            std::env::var("WATCHDOG_PID").ok().as_deref(),
            std::process::id(),
        );
        Some(Notifier {
            socket,
            address,
            name,
            watchdog,
            warned: false,
        })
    }

    /// How often to send `WATCHDOG=1`: half of `WATCHDOG_USEC`, when it is
    /// set and `WATCHDOG_PID` is unset or names this process.
    pub fn watchdog_interval(&self) -> Option<Duration> {
        self.watchdog
    }

    /// Startup (or a reload) is complete.
    pub fn ready(&mut self) {
        self.send("READY=1");
    }

    /// A one-line description of what the daemon is doing.
    pub fn status(&mut self, status: &str) {
        // A line break would end the value early.
        let status = status.replace('\n', " ");
        self.send(&format!("STATUS={status}"));
    }

    /// The main loop is alive.
    pub fn watchdog(&mut self) {
        self.send("WATCHDOG=1");
    }

    /// Shutdown has begun.
    pub fn stopping(&mut self) {
        self.send("STOPPING=1");
    }

    /// A reload has begun; `READY=1` ends it. `MONOTONIC_USEC` lets a
    /// `Type=notify-reload` service's manager match it to its request.
    pub fn reloading(&mut self) {
        let now = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
        let usec = now.tv_sec.saturating_mul(1_000_000) + now.tv_nsec / 1_000;
        self.send(&format!("RELOADING=1\nMONOTONIC_USEC={usec}"));
    }

    fn send(&mut self, message: &str) {
        match self.socket.send_to_addr(message.as_bytes(), &self.address) {
            Ok(_) => {
                tracing::trace!(message, "Notified systemd.");
            }
            Err(error) if !self.warned => {
                self.warned = true;
                tracing::warn!(socket = self.name, %error, "Cannot notify systemd; carrying on (further failures are not logged).");
            }
            Err(_) => {}
        }
    }
}

/// `NOTIFY_SOCKET`'s address: an absolute path, or `@name` (abstract).
fn parse_address(name: &str) -> std::io::Result<SocketAddr> {
    if let Some(abstract_name) = name.strip_prefix('@') {
        SocketAddr::from_abstract_name(abstract_name.as_bytes())
    } else if name.starts_with('/') {
        SocketAddr::from_pathname(name)
    } else {
        Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "only a path or an @abstract name is supported",
        ))
    }
}

/// Half of `usec` when the watchdog is meant for process `pid`.
fn watchdog_interval(usec: Option<&str>, for_pid: Option<&str>, pid: u32) -> Option<Duration> {
    if let Some(for_pid) = for_pid
        && for_pid.trim().parse::<u32>().ok() != Some(pid)
    {
        return None;
    }
    let usec: u64 = usec?.trim().parse().ok()?;
    (usec > 0).then(|| Duration::from_micros(usec) / 2)
}

/// The main loop's dealings with systemd (see the module docs).
#[derive(Debug)]
pub struct Supervisor {
    notifier: Option<Notifier>,
    /// When the next `WATCHDOG=1` is due; `None` without a watchdog.
    next_ping: Option<Instant>,
    /// Whether `READY=1` was sent.
    ready: bool,
    /// When the first full scan was seen processed.
    first_scan: Option<Instant>,
    /// Full scans seen so far, to notice a new one.
    scans: u64,
    /// The time (UTC) of the last full scan, for the status line.
    last_scan: Option<String>,
    /// The last status line sent, and when.
    status: Option<(Instant, String)>,
    /// The fault hook's moment (debug builds only).
    wedge_at: Option<Instant>,
}

impl Supervisor {
    /// A supervisor for a loop starting now; it notifies nobody unless
    /// systemd gave us a socket.
    pub fn from_env() -> Supervisor {
        let notifier = Notifier::from_env();
        let now = Instant::now();
        let next_ping = notifier
            .as_ref()
            .and_then(Notifier::watchdog_interval)
            .map(|_| now);
        if let Some(notifier) = &notifier {
            tracing::debug!(socket = notifier.name, watchdog = ?notifier.watchdog, "Notifying systemd.");
        }
        Supervisor {
            notifier,
            next_ping,
            ready: false,
            first_scan: None,
            scans: 0,
            last_scan: None,
            status: None,
            wedge_at: wedge_at(now),
        }
    }

    /// When the loop must turn again, at the latest, to keep its promises.
    pub fn next_wake(&self) -> Option<Instant> {
        match (self.next_ping, self.wedge_at) {
            (Some(ping), Some(wedge)) => Some(ping.min(wedge)),
            (ping, wedge) => ping.or(wedge),
        }
    }

    /// Called by the main loop every time round: the watchdog, readiness
    /// and the status line.
    pub fn tick(&mut self, daemon: &Daemon) {
        let now = Instant::now();
        if self.wedge_at.is_some_and(|at| now >= at) {
            tracing::warn!("DROPLAKE_TEST_WEDGE_AFTER_MS: wedging the main loop for good.");
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
        if daemon.full_scans != self.scans {
            self.scans = daemon.full_scans;
            self.first_scan.get_or_insert(now);
            self.last_scan = Some(jiff::Timestamp::now().strftime("%H:%M:%SZ").to_string());
        }
        let Some(notifier) = self.notifier.as_mut() else {
            return;
        };
        if let Some(at) = self.next_ping
            && now >= at
        {
            notifier.watchdog();
            self.next_ping = notifier.watchdog_interval().map(|every| now + every);
        }
        if !self.ready
            && let Some(scanned) = self.first_scan
            && (daemon.tracker.hashing() == 0 || now >= scanned + READY_WAIT)
        {
            self.ready = true;
            notifier.ready();
            tracing::debug!("Told systemd the daemon is ready.");
        }
        let due = self
            .status
            .as_ref()
            .is_none_or(|(sent, _)| now >= *sent + STATUS_EVERY);
        if due {
            let line = self.status_line(daemon);
            if self.status.as_ref().is_none_or(|(_, last)| *last != line)
                && let Some(notifier) = self.notifier.as_mut()
            {
                notifier.status(&line);
                self.status = Some((now, line));
            }
        }
    }

    /// A stop signal arrived.
    pub fn stopping(&mut self) {
        if let Some(notifier) = self.notifier.as_mut() {
            notifier.stopping();
            notifier.status("stopping: letting running work finish");
        }
    }

    /// A reload (SIGHUP) begins.
    pub fn reloading(&mut self) {
        if let Some(notifier) = self.notifier.as_mut() {
            notifier.reloading();
        }
    }

    /// The reload is over, applied or refused (the old configuration runs
    /// on, and the log says why).
    pub fn reloaded(&mut self) {
        if let Some(notifier) = self.notifier.as_mut() {
            notifier.ready();
        }
    }

    /// "watching; 2 jobs running; 5 objects unfinished; 1 file settling;
    /// last scan 12:00:01Z".
    fn status_line(&self, daemon: &Daemon) -> String {
        let mode = if daemon.stopping {
            "stopping"
        } else if !self.ready {
            "starting: reconciling the lake with the ledger"
        } else if daemon.polling {
            "polling"
        } else {
            "watching"
        };
        let running = daemon.jobs.in_flight();
        let unfinished = daemon.queue.unfinished();
        let settling = daemon.tracker.waiting() + daemon.tracker.hashing();
        let mut line = format!(
            "{mode}; {running} job{} running; {unfinished} object{} unfinished; {settling} file{} settling",
            plural(running),
            plural(unfinished),
            plural(settling),
        );
        if let Some(at) = &self.last_scan {
            line.push_str("; last scan ");
            line.push_str(at);
        }
        line
    }
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

/// The fault hook's moment: `DROPLAKE_TEST_WEDGE_AFTER_MS` after `start`,
/// honoured by debug builds only.
#[cfg(debug_assertions)]
fn wedge_at(start: Instant) -> Option<Instant> {
    let ms: u64 = std::env::var("DROPLAKE_TEST_WEDGE_AFTER_MS")
        .ok()?
        .parse()
        .ok()?;
    Some(start + Duration::from_millis(ms))
}

#[cfg(not(debug_assertions))]
fn wedge_at(_start: Instant) -> Option<Instant> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_watchdog_is_pinged_at_half_its_timeout() {
        assert_eq!(
            watchdog_interval(Some("400000"), None, 7),
            Some(Duration::from_millis(200))
        );
    }

    #[test]
    fn a_watchdog_meant_for_another_process_is_not_ours() {
        assert_eq!(watchdog_interval(Some("400000"), Some("8"), 7), None);
        assert_eq!(
            watchdog_interval(Some("400000"), Some("7"), 7),
            Some(Duration::from_millis(200))
        );
    }

    #[test]
    fn no_or_a_broken_watchdog_timeout_means_no_watchdog() {
        assert_eq!(watchdog_interval(None, None, 7), None);
        assert_eq!(watchdog_interval(Some("0"), None, 7), None);
        assert_eq!(watchdog_interval(Some("soon"), None, 7), None);
    }

    #[test]
    fn notify_socket_is_a_path_or_an_abstract_name() {
        let path = parse_address("/run/systemd/notify").expect("a path");
        assert_eq!(
            path.as_pathname(),
            Some(std::path::Path::new("/run/systemd/notify"))
        );
        let abstract_name = parse_address("@droplake/notify").expect("an abstract name");
        assert_eq!(
            abstract_name.as_abstract_name(),
            Some(&b"droplake/notify"[..])
        );
        assert!(parse_address("vsock:2:1234").is_err());
    }

    #[test]
    fn messages_arrive_as_datagrams() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("notify");
        let receiver = UnixDatagram::bind(&path).expect("bind");
        let mut notifier = Notifier {
            socket: UnixDatagram::unbound().expect("socket"),
            address: SocketAddr::from_pathname(&path).expect("address"),
            name: path.display().to_string(),
            watchdog: None,
            warned: false,
        };
        notifier.ready();
        notifier.status("two\nlines");
        notifier.reloading();
        let mut buffer = [0; 256];
        let mut next = || {
            let read = receiver.recv(&mut buffer).expect("receive");
            String::from_utf8_lossy(&buffer[..read]).into_owned()
        };
        assert_eq!(next(), "READY=1");
        assert_eq!(next(), "STATUS=two lines");
        let reloading = next();
        assert!(
            reloading.starts_with("RELOADING=1\nMONOTONIC_USEC="),
            "{reloading}"
        );
    }

    #[test]
    fn a_missing_socket_is_not_fatal() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut notifier = Notifier {
            socket: UnixDatagram::unbound().expect("socket"),
            address: SocketAddr::from_pathname(dir.path().join("gone")).expect("address"),
            name: "gone".into(),
            watchdog: None,
            warned: false,
        };
        notifier.ready();
        notifier.watchdog();
        assert!(notifier.warned);
    }
}
