//! `droplake run` under systemd: the sd_notify protocol against a real Unix
//! datagram socket set as `NOTIFY_SOCKET`, the way systemd's manager
//! listens for a `Type=notify` service.

use std::os::unix::net::UnixDatagram;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};

use crate::util::{ITEMS, TestEnv, drop_settled};

const CONFIG: &str = "[detect]\nmode = \"watch\"\n\n[datasets.items]\nsettle = \"300ms\"\n";

/// What systemd sets for `WatchdogSec=400ms`.
const WATCHDOG_USEC: &str = "400000";

/// The manager's end: the socket the daemon notifies, and its messages.
struct Manager {
    socket: UnixDatagram,
}

impl Manager {
    fn bind(env: &TestEnv) -> Manager {
        let socket = UnixDatagram::bind(env.root().join("notify.sock")).expect("bind");
        socket
            .set_read_timeout(Some(Duration::from_millis(50)))
            .expect("read timeout");
        Manager { socket }
    }

    /// The next message within `timeout`.
    fn next(&self, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        let mut buffer = [0; 4096];
        while Instant::now() < deadline {
            if let Ok(read) = self.socket.recv(&mut buffer) {
                return Some(String::from_utf8_lossy(&buffer[..read]).into_owned());
            }
        }
        None
    }

    /// Messages until one has a line starting with `wanted` (which ends
    /// the list), within `timeout`; panics with what arrived otherwise.
    fn until(&self, wanted: &str, timeout: Duration) -> Vec<String> {
        let deadline = Instant::now() + timeout;
        let mut seen = Vec::new();
        while let Some(message) = self.next(deadline.saturating_duration_since(Instant::now())) {
            let found = message.lines().any(|line| line.starts_with(wanted));
            seen.push(message);
            if found {
                return seen;
            }
        }
        panic!("no {wanted} within {timeout:?}; received {seen:?}");
    }

    /// The times `WATCHDOG=1` arrived during `window`.
    fn pings(&self, window: Duration) -> Vec<Instant> {
        let deadline = Instant::now() + window;
        let mut pings = Vec::new();
        while let Some(message) = self.next(deadline.saturating_duration_since(Instant::now())) {
            if message == "WATCHDOG=1" {
                pings.push(Instant::now());
            }
        }
        pings
    }
}

/// A lake with the `items` table.
fn env() -> TestEnv {
    let env = TestEnv::new();
    env.write("warehouse-schema/items.json", ITEMS);
    env.write("droplake.toml", CONFIG);
    env
}

/// `droplake run` as systemd starts it, notifying `manager`; `extra` adds
/// environment variables. Killed when dropped.
struct Daemon {
    child: Child,
}

impl Daemon {
    fn start(env: &TestEnv, extra: &[(&str, &str)]) -> Daemon {
        let log = std::fs::File::create(env.root().join("daemon.log")).expect("log file");
        let mut command = env.command(["run"]);
        command
            .env("DROPLAKE_LOG", "debug")
            .env("NOTIFY_SOCKET", env.root().join("notify.sock"))
            .env("WATCHDOG_USEC", WATCHDOG_USEC)
            // systemd names the main pid; a child cannot know its own
            // before it is spawned, and unset means "you".
            .env_remove("WATCHDOG_PID")
            .stdout(Stdio::null())
            .stderr(log);
        for (key, value) in extra {
            command.env(key, value);
        }
        Daemon {
            child: command.spawn().expect("start the daemon"),
        }
    }

    fn signal(&self, signal: &str) {
        let status = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
    }

    fn exit_code(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status.code();
            }
            assert!(Instant::now() < deadline, "the daemon did not exit in time");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn objects(env: &TestEnv) -> i64 {
    let path = env.root().join("warehouse.db");
    Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .and_then(|connection| {
            connection.query_row("SELECT count(*) FROM _droplake_objects", [], |row| {
                row.get(0)
            })
        })
        .unwrap_or(-1)
}

#[test]
fn ready_comes_after_the_startup_reconciliation_has_registered_the_lake() {
    let env = env();
    for n in 0..40 {
        drop_settled(
            &env,
            format!("items/f{n:02}.csv"),
            format!("id,label\n{n},item {n}\n"),
        );
    }
    let manager = Manager::bind(&env);
    let _daemon = Daemon::start(&env, &[]);
    let before = manager.until("READY=1", Duration::from_secs(30));
    assert_eq!(
        objects(&env),
        40,
        "every file that was in the lake is registered when READY=1 arrives"
    );
    assert!(
        before[..before.len() - 1]
            .iter()
            .all(|message| !message.contains("READY")),
        "READY=1 is sent once: {before:?}"
    );
    // Then a live summary, once the loads are done.
    manager.until(
        "STATUS=watching; 0 jobs running; 0 objects unfinished; 0 files settling; last scan ",
        Duration::from_secs(20),
    );
}

#[test]
fn the_main_loop_pings_the_watchdog_at_half_its_timeout() {
    let env = env();
    let manager = Manager::bind(&env);
    let _daemon = Daemon::start(&env, &[]);
    manager.until("READY=1", Duration::from_secs(30));
    let pings = manager.pings(Duration::from_secs(3));
    let gaps: Vec<Duration> = pings.windows(2).map(|pair| pair[1] - pair[0]).collect();
    assert!(
        (8..=16).contains(&pings.len()),
        "WATCHDOG_USEC=400000 means a ping every 200ms; {} in 3s, gaps {gaps:?}",
        pings.len()
    );
    assert!(
        gaps.iter().all(|gap| *gap >= Duration::from_millis(150)),
        "never faster than half the timeout: {gaps:?}"
    );
    assert!(
        gaps.iter().all(|gap| *gap < Duration::from_millis(400)),
        "always within the timeout: {gaps:?}"
    );
}

#[test]
fn a_wedged_main_loop_stops_pinging_the_watchdog() {
    let env = env();
    let manager = Manager::bind(&env);
    let mut daemon = Daemon::start(&env, &[("DROPLAKE_TEST_WEDGE_AFTER_MS", "1500")]);
    manager.until("READY=1", Duration::from_secs(30));
    // Pings until the hook wedges the loop, then silence.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut pings = 0;
    loop {
        match manager.next(Duration::from_millis(1500)) {
            Some(message) if message == "WATCHDOG=1" => pings += 1,
            Some(_) => {}
            None => break,
        }
        assert!(Instant::now() < deadline, "the pings never stopped");
    }
    assert!(pings >= 2, "the loop pinged before it was wedged ({pings})");
    assert_eq!(
        daemon.child.try_wait().expect("wait"),
        None,
        "the process lives on; only its loop is stuck, which is what the watchdog is for"
    );
    let log = std::fs::read_to_string(env.root().join("daemon.log")).expect("log");
    assert!(log.contains("DROPLAKE_TEST_WEDGE_AFTER_MS"), "{log}");
    assert_eq!(manager.pings(Duration::from_secs(1)).len(), 0);
}

#[test]
fn sighup_is_reloading_then_ready_and_sigterm_is_stopping() {
    let env = env();
    let manager = Manager::bind(&env);
    let mut daemon = Daemon::start(&env, &[]);
    manager.until("READY=1", Duration::from_secs(30));
    daemon.signal("HUP");
    let reload = manager.until("READY=1", Duration::from_secs(10));
    let reloading = reload
        .iter()
        .find(|message| message.starts_with("RELOADING=1\n"))
        .unwrap_or_else(|| panic!("RELOADING=1 before READY=1: {reload:?}"));
    assert!(
        reloading
            .lines()
            .nth(1)
            .and_then(|line| line.strip_prefix("MONOTONIC_USEC="))
            .is_some_and(|usec| usec.parse::<u64>().is_ok()),
        "{reloading:?}"
    );
    daemon.signal("TERM");
    manager.until("STOPPING=1", Duration::from_secs(10));
    assert_eq!(daemon.exit_code(Duration::from_secs(30)), Some(0));
}
