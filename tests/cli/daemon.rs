//! `droplake run`: the daemon against real files, processes and SQLite.
//!
//! Each scenario runs in watch mode and in poll mode where detection is
//! what it tests: poll alone must catch everything watch catches.

use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};

use crate::util::TestEnv;

pub(crate) use crate::util::{ITEMS, settled};

/// A test lake with the `items` table and a configuration.
pub(crate) fn env_with(config: &str) -> TestEnv {
    let env = TestEnv::new();
    env.write("warehouse-schema/items.json", ITEMS);
    env.write("droplake.toml", config);
    env
}

/// CSV of `rows` items with ids from `first`.
pub(crate) fn items(first: u64, rows: u64) -> String {
    let mut csv = String::from("id,label\n");
    for id in first..first + rows {
        csv.push_str(&format!("{id},item {id}\n"));
    }
    csv
}

/// Writes a file outside the lake, then renames it in (how producers
/// should deliver).
pub(crate) fn drop_in(env: &TestEnv, relative: impl AsRef<Path>, content: &str) -> PathBuf {
    let staged = env.write(
        Path::new("staging").join(relative.as_ref().file_name().expect("a name")),
        content,
    );
    let target = env.lake().join(relative);
    std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
    std::fs::rename(staged, &target).expect("rename into the lake");
    target
}

/// A running `droplake run`, stopped (SIGTERM) when dropped.
pub(crate) struct Daemon {
    child: Child,
}

impl Daemon {
    pub(crate) fn start(env: &TestEnv) -> Daemon {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(env.root().join("daemon.log"))
            .expect("log file");
        let child = env
            .command(["run"])
            .env("DROPLAKE_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start the daemon");
        Daemon { child }
    }

    fn signal(&self, signal: &str) {
        let status = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
    }

    /// SIGTERM, and the exit code.
    pub(crate) fn stop(mut self) -> Option<i32> {
        self.signal("TERM");
        wait_for_exit(&mut self.child, Duration::from_secs(30))
    }

    fn kill_9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_for_exit(child: &mut Child, timeout: Duration) -> Option<i32> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status.code();
        }
        assert!(Instant::now() < deadline, "the daemon did not exit in time");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until `done` holds, up to `timeout`; the last value seen.
pub(crate) fn eventually<T: std::fmt::Debug>(
    timeout: Duration,
    mut probe: impl FnMut() -> T,
    done: impl Fn(&T) -> bool,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        let value = probe();
        if done(&value) || Instant::now() >= deadline {
            return value;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub(crate) fn warehouse(env: &TestEnv) -> Option<Connection> {
    let path = env.root().join("warehouse.db");
    path.exists().then(|| {
        Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("open the warehouse")
    })
}

pub(crate) fn count(env: &TestEnv, sql: &str) -> i64 {
    warehouse(env)
        .and_then(|connection| connection.query_row(sql, [], |row| row.get(0)).ok())
        .unwrap_or(-1)
}

fn rows(env: &TestEnv) -> i64 {
    count(env, "SELECT count(*) FROM items")
}

pub(crate) fn job_states(env: &TestEnv) -> Vec<(String, String, String)> {
    let Some(connection) = warehouse(env) else {
        return Vec::new();
    };
    let mut statement = connection
        .prepare("SELECT o.name, j.handler, j.state FROM _droplake_jobs j JOIN _droplake_objects o ON o.id = j.object_id ORDER BY o.id, j.handler")
        .expect("prepare");
    statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

pub(crate) fn config(mode: &str) -> String {
    format!(
        "[detect]\nmode = \"{mode}\"\npoll_interval = \"100ms\"\nscan_interval = \"2s\"\n\n[datasets.items]\nsettle = \"300ms\"\n"
    )
}

#[test]
fn run_once_loads_the_sample_and_exits_1_for_its_rejected_rows() {
    let env = TestEnv::new();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    env.write(
        "lake/orders/dt=2026-11-01/orders.csv",
        std::fs::read(repo.join("lake/orders/dt=2026-11-01/orders.csv")).expect("sample"),
    );
    env.write(
        "warehouse-schema/orders.json",
        std::fs::read(repo.join("warehouse-schema/orders.json")).expect("schema"),
    );
    settled(&env.lake().join("orders/dt=2026-11-01/orders.csv"));
    env.run(["run", "--once"]).expect_code(1);
    assert_eq!(count(&env, "SELECT count(*) FROM orders"), 314);
    assert_eq!(count(&env, "SELECT count(*) FROM _droplake_rejects"), 6);
    let events = env.run(["events", "--json"]).expect_code(0).json_lines();
    let kinds: Vec<&str> = events
        .iter()
        .filter_map(|event| event["kind"].as_str())
        .collect();
    assert_eq!(
        kinds,
        [
            "object.arrived",
            "load.committed",
            "job.done",
            "object.finished"
        ]
    );
    assert_eq!(events[3]["state"], "failed", "rows were rejected");
    assert_eq!(events[1]["load"]["rows_rejected"], 6);
    // A second batch finds nothing new.
    env.run(["run", "--once"]).expect_code(0);
    assert_eq!(count(&env, "SELECT count(*) FROM _droplake_loads"), 1);
}

#[test]
fn files_are_loaded_as_they_arrive_and_put_wait_returns_their_outcome() {
    let env = env_with(&config("auto"));
    let daemon = Daemon::start(&env);
    env.write("good.csv", items(1, 3));
    env.run(["put", "items", "good.csv", "--wait", "--timeout", "20s"])
        .expect_code(0);
    assert_eq!(rows(&env), 3);
    env.write("bad.csv", "id,label\n10,fine\nnot-a-number,broken\n");
    env.run(["put", "items", "bad.csv", "--wait", "--timeout", "20s"])
        .expect_code(1);
    assert_eq!(rows(&env), 4, "the good row of bad.csv is loaded");
    assert_eq!(daemon.stop(), Some(0));
}

#[test]
fn put_wait_times_out_with_75_when_no_daemon_runs() {
    let env = env_with(&config("auto"));
    env.write("good.csv", items(1, 1));
    env.run(["put", "items", "good.csv", "--wait", "--timeout", "300ms"])
        .expect_code(75);
}

#[test]
fn a_second_daemon_on_the_same_warehouse_is_refused() {
    let env = env_with(&config("auto"));
    let daemon = Daemon::start(&env);
    let _ = eventually(
        Duration::from_secs(10),
        || env.root().join("warehouse.db.lock").exists(),
        |exists| *exists,
    );
    std::thread::sleep(Duration::from_millis(300));
    let second = env.run(["run", "--once"]);
    second.expect_code(75);
    assert!(
        second.stderr.contains("another droplake daemon"),
        "{}",
        second.stderr
    );
    assert_eq!(daemon.stop(), Some(0));
}

/// The detection scenarios, run in one mode.
fn detection_scenarios(mode: &str) {
    let env = env_with(&format!(
        "{}\n[datasets.marked]\ntable = \"items\"\nready = \"marker\"\n",
        config(mode)
    ));
    let daemon = Daemon::start(&env);
    std::thread::sleep(Duration::from_millis(300));
    // Files written inside a directory created a moment before.
    let dir = env.lake().join("items/new/deeper");
    std::fs::create_dir_all(&dir).expect("mkdir");
    for n in 0..5 {
        std::fs::write(dir.join(format!("f{n}.csv")), items(100 + n * 10, 10)).expect("write");
    }
    // A file deleted before it can be read.
    let doomed = env.lake().join("items/doomed.csv");
    std::fs::write(&doomed, items(900, 1)).expect("write");
    std::fs::remove_file(&doomed).expect("delete");
    // A zero-length file.
    drop_in(&env, "items/empty.csv", "");
    // A file still growing: not loaded until it settles.
    let growing = env.lake().join("items/growing.csv");
    let mut file = std::fs::File::create(&growing).expect("create");
    file.write_all(b"id,label\n").expect("write");
    for n in 0..8 {
        file.write_all(format!("{},part\n", 500 + n).as_bytes())
            .expect("write");
        file.flush().expect("flush");
        std::thread::sleep(Duration::from_millis(100));
        let growing_rows = count(
            &env,
            "SELECT count(*) FROM items WHERE id >= 500 AND id < 600",
        );
        assert!(growing_rows <= 0, "{mode}: a growing file is not loaded");
    }
    drop(file);
    // Marker mode: a wrong declared size is reported, not loaded; a right one loads.
    drop_in(&env, "marked/wrong.csv", &items(700, 2));
    std::fs::write(env.lake().join("marked/wrong.csv.done"), "size=1\n").expect("marker");
    let right = items(800, 2);
    drop_in(&env, "marked/right.csv", &right);
    std::fs::write(
        env.lake().join("marked/right.csv.done"),
        format!("size={}\nrecords=2\n", right.len()),
    )
    .expect("marker");

    let expected = 50 + 8 + 2;
    let loaded = eventually(
        Duration::from_secs(20),
        || rows(&env),
        |rows| *rows == expected,
    );
    assert_eq!(loaded, expected, "{mode}: every ready file loaded");
    // The same name dropped again with new content is a new object;
    // the same content under another name is a duplicate.
    drop_in(&env, "items/again.csv", &items(1000, 1));
    let _ = eventually(
        Duration::from_secs(20),
        || rows(&env),
        |rows| *rows == expected + 1,
    );
    drop_in(&env, "items/again.csv", &items(1001, 1));
    let loaded = eventually(
        Duration::from_secs(20),
        || rows(&env),
        |rows| *rows == expected + 2,
    );
    assert_eq!(
        loaded,
        expected + 2,
        "{mode}: the re-dropped file loaded as a new object"
    );
    drop_in(&env, "items/copy.csv", &items(1001, 1));
    let duplicates = eventually(
        Duration::from_secs(20),
        || {
            count(
                &env,
                "SELECT count(*) FROM _droplake_objects WHERE state = 'duplicate'",
            )
        },
        |n| *n == 1,
    );
    assert_eq!(
        duplicates, 1,
        "{mode}: copy.csv is a duplicate of again.csv"
    );
    assert_eq!(daemon.stop(), Some(0));

    let states = job_states(&env);
    let state_of = |name: &str| -> Vec<String> {
        states
            .iter()
            .filter(|(object, _, _)| object == name)
            .map(|(_, _, state)| state.clone())
            .collect()
    };
    assert_eq!(state_of("marked/wrong.csv"), ["dead"], "{mode}: {states:?}");
    assert_eq!(state_of("marked/right.csv"), ["done"]);
    assert_eq!(state_of("items/empty.csv"), ["done"]);
    assert_eq!(state_of("items/copy.csv"), ["duplicate"]);
    assert_eq!(
        state_of("items/again.csv"),
        ["done", "done"],
        "two contents, two objects"
    );
    // Deleted at once: either it was gone before it was hashed (no object)
    // or before it was loaded (its loader job is dead); never loaded.
    let doomed = state_of("items/doomed.csv");
    assert!(
        doomed.is_empty() || doomed == ["dead"],
        "{mode}: {doomed:?}"
    );
    assert_eq!(count(&env, "SELECT count(*) FROM items WHERE id = 900"), 0);
    let marker_events = count(
        &env,
        "SELECT count(*) FROM _droplake_events WHERE kind = 'object.marker_mismatch'",
    );
    assert_eq!(marker_events, 1);
}

#[test]
fn watch_mode_finds_every_kind_of_arrival() {
    detection_scenarios("watch");
}

#[test]
fn poll_mode_alone_finds_what_watch_mode_finds() {
    detection_scenarios("poll");
}

#[test]
fn a_burst_larger_than_the_inotify_queue_is_all_loaded() {
    let env = env_with(&config("auto"));
    let files = 20_000;
    let staging = env.root().join("staging");
    std::fs::create_dir_all(&staging).expect("mkdir");
    for n in 0..files {
        std::fs::write(
            staging.join(format!("{n}.csv")),
            format!("id,label\n{n},x\n"),
        )
        .expect("write");
    }
    let daemon = Daemon::start(&env);
    std::thread::sleep(Duration::from_millis(500));
    let target = env.lake().join("items/burst");
    std::fs::create_dir_all(&target).expect("mkdir");
    for n in 0..files {
        let name = format!("{n}.csv");
        std::fs::rename(staging.join(&name), target.join(&name)).expect("rename");
    }
    let loaded = eventually(
        Duration::from_secs(240),
        || rows(&env),
        |rows| *rows == files,
    );
    assert_eq!(loaded, files);
    assert_eq!(count(&env, "SELECT count(DISTINCT id) FROM items"), files);
    assert_eq!(daemon.stop(), Some(0));
}

#[test]
fn kill_9_at_random_moments_loses_nothing_and_doubles_nothing() {
    let env = env_with(&config("auto"));
    let files: u64 = 2_000;
    let rows_each: u64 = 5;
    let staging = env.root().join("staging");
    std::fs::create_dir_all(&staging).expect("mkdir");
    for n in 0..files {
        std::fs::write(
            staging.join(format!("{n}.csv")),
            items(n * rows_each, rows_each),
        )
        .expect("write");
    }
    let target = env.lake().join("items/drops");
    std::fs::create_dir_all(&target).expect("mkdir");
    let mut next = 0;
    for round in 0..20 {
        let daemon = Daemon::start(&env);
        // Drop a share of the files while it runs, then kill it at a
        // moment that differs each round.
        let share = files / 20;
        for _ in 0..share {
            let name = format!("{next}.csv");
            std::fs::rename(staging.join(&name), target.join(&name)).expect("rename");
            next += 1;
        }
        std::thread::sleep(Duration::from_millis(50 + (round * 37 % 400)));
        daemon.kill_9();
    }
    assert_eq!(next, files);
    env.run(["run", "--once"]).expect_code(0);
    let total = i64::try_from(files * rows_each).expect("fits");
    assert_eq!(rows(&env), total, "every file loaded");
    assert_eq!(
        count(&env, "SELECT count(DISTINCT id) FROM items"),
        total,
        "nothing twice"
    );
    assert_eq!(
        count(&env, "SELECT count(*) FROM _droplake_objects"),
        i64::try_from(files).expect("fits")
    );
    assert_eq!(
        count(
            &env,
            "SELECT count(*) FROM _droplake_jobs WHERE state != 'done'"
        ),
        0,
        "no job left running or pending"
    );
    assert_eq!(
        count(
            &env,
            "SELECT count(*) FROM _droplake_loads WHERE outcome = 'loaded'"
        ),
        i64::try_from(files).expect("fits"),
        "one committed load per object"
    );
    let integrity: String = warehouse(&env)
        .expect("warehouse")
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .expect("integrity_check");
    assert_eq!(integrity, "ok");
}

#[test]
fn sigterm_during_a_large_load_commits_or_rolls_back_and_exits_0() {
    let env = env_with(&config("auto"));
    let rows_in_file: u64 = 400_000;
    env.write("big.csv", items(1, rows_in_file));
    let daemon = Daemon::start(&env);
    std::thread::sleep(Duration::from_millis(300));
    let staged = env.root().join("big.csv");
    std::fs::create_dir_all(env.lake().join("items")).expect("mkdir");
    std::fs::rename(&staged, env.lake().join("items/big.csv")).expect("rename");
    let log = env.root().join("daemon.log");
    let _ = eventually(
        Duration::from_secs(20),
        || std::fs::read_to_string(&log).unwrap_or_default(),
        |text| text.contains("Registered a new object"),
    );
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(daemon.stop(), Some(0));
    let loaded = rows(&env);
    assert!(
        loaded == -1 || loaded == 0 || loaded == i64::try_from(rows_in_file).expect("fits"),
        "all or nothing: {loaded}"
    );
    assert_eq!(
        count(
            &env,
            "SELECT count(*) FROM _droplake_jobs WHERE state = 'running'"
        ),
        0
    );
    // Whatever happened, the next run finishes the job exactly once.
    env.run(["run", "--once"]).expect_code(0);
    assert_eq!(rows(&env), i64::try_from(rows_in_file).expect("fits"));
}

/// A command handler that appends its first argument (as raw bytes, one
/// per line) and stdin to files, then behaves as the script says.
pub(crate) fn handler_config(mode: &str, script: &str, extra: &str) -> String {
    format!(
        "{}\n[[handlers]]\nname = \"probe\"\ndatasets = [\"items\"]\ncommand = [\"/bin/sh\", \"-c\", {script:?}, \"probe\", \"{{path}}\", \"{{object_id}}\"]\nafter = [\"loader\"]\nbackoff = \"100ms\"\nmax_backoff = \"200ms\"\n{extra}\n",
        config(mode)
    )
}

#[test]
fn hostile_file_names_reach_a_command_handler_intact_as_one_argument() {
    let env = TestEnv::new();
    env.write("warehouse-schema/items.json", ITEMS);
    let out = env.root().join("args");
    let script = format!("printf '%s\\0' \"$1\" >> {}", out.display());
    env.write("droplake.toml", handler_config("auto", &script, ""));
    let daemon = Daemon::start(&env);
    std::thread::sleep(Duration::from_millis(300));
    let names: Vec<Vec<u8>> = vec![
        b"with space.csv".to_vec(),
        b"new\nline.csv".to_vec(),
        b"-leading-dash.csv".to_vec(),
        b";rm -rf ~.csv".to_vec(),
        b"$(id).csv".to_vec(),
        b"latin1-\xe9t\xe9.csv".to_vec(),
    ];
    let dir = env.lake().join("items");
    std::fs::create_dir_all(&dir).expect("mkdir");
    for (n, name) in names.iter().enumerate() {
        let name = std::ffi::OsStr::from_bytes(name);
        let staged = env.write(format!("staged{n}"), items(n as u64 * 10, 1));
        std::fs::rename(staged, dir.join(name)).expect("rename");
    }
    let received = eventually(
        Duration::from_secs(20),
        || {
            std::fs::read(&out)
                .unwrap_or_default()
                .split(|b| *b == 0)
                .filter(|part| !part.is_empty())
                .count()
        },
        |n| *n == names.len(),
    );
    assert_eq!(received, names.len(), "{:?}", job_states(&env));
    assert_eq!(daemon.stop(), Some(0));
    let bytes = std::fs::read(&out).expect("args");
    let mut got: Vec<Vec<u8>> = bytes
        .split(|b| *b == 0)
        .filter(|part| !part.is_empty())
        .map(|part| part.to_vec())
        .collect();
    got.sort();
    let mut want: Vec<Vec<u8>> = names
        .iter()
        .map(|name| {
            dir.join(std::ffi::OsStr::from_bytes(name))
                .as_os_str()
                .as_bytes()
                .to_vec()
        })
        .collect();
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn failing_handlers_retry_with_backoff_then_die_while_other_datasets_flow() {
    let env = TestEnv::new();
    env.write("warehouse-schema/items.json", ITEMS);
    env.write("warehouse-schema/other.json", ITEMS);
    let extra = "retries = 2\ntimeout = \"1s\"\ngrace = \"200ms\"\n";
    // Object ids decide what the handler does: it reads the name.
    let script = "case \"$1\" in *hang*) sleep 30;; *crash*) kill -SEGV $$;; *flood*) head -c 5000000 /dev/zero; exit 0;; *retry*) exit 75;; *fail*) echo 'no such customer' >&2; exit 3;; esac";
    env.write("droplake.toml", handler_config("auto", script, extra));
    let daemon = Daemon::start(&env);
    std::thread::sleep(Duration::from_millis(300));
    for (n, name) in ["hang", "crash", "flood", "retry", "fail", "ok"]
        .iter()
        .enumerate()
    {
        drop_in(&env, format!("items/{name}.csv"), &items(n as u64 * 10, 1));
    }
    // Another dataset keeps flowing meanwhile.
    let started = Instant::now();
    drop_in(&env, "other/o.csv", &items(1, 2));
    let flowed = eventually(
        Duration::from_secs(10),
        || count(&env, "SELECT count(*) FROM other"),
        |n| *n == 2,
    );
    assert_eq!(flowed, 2);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "other datasets are not held up"
    );
    let finished = eventually(
        Duration::from_secs(40),
        || {
            count(
                &env,
                "SELECT count(*) FROM _droplake_jobs WHERE handler = 'probe' AND state IN ('done', 'dead')",
            )
        },
        |n| *n == 6,
    );
    assert_eq!(finished, 6, "{:?}", job_states(&env));
    assert_eq!(daemon.stop(), Some(0));
    let states = job_states(&env);
    let probe = |name: &str| {
        states
            .iter()
            .find(|(object, handler, _)| {
                object == &format!("items/{name}.csv") && handler == "probe"
            })
            .map(|(_, _, state)| state.clone())
            .unwrap_or_default()
    };
    for name in ["hang", "crash", "retry", "fail"] {
        assert_eq!(probe(name), "dead", "{name}");
    }
    assert_eq!(probe("flood"), "done");
    assert_eq!(probe("ok"), "done");
    let connection = warehouse(&env).expect("warehouse");
    let attempts = |name: &str| -> Vec<(String, String, Option<String>, Option<i64>)> {
        let mut statement = connection
            .prepare("SELECT a.started_at, a.finished_at, a.error, a.exit_code FROM _droplake_attempts a JOIN _droplake_objects o ON o.id = a.object_id WHERE o.name = ?1 AND a.handler = 'probe' ORDER BY a.attempt")
            .expect("prepare");
        statement
            .query_map([format!("items/{name}.csv")], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
            })
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    // retries = 2: three attempts, then dead.
    let fail = attempts("fail");
    assert_eq!(fail.len(), 3);
    assert!(
        fail[0]
            .2
            .as_deref()
            .is_some_and(|error| error.contains("no such customer")),
        "{fail:?}"
    );
    assert_eq!(fail[0].3, Some(3));
    // Backoff: each retry starts after the previous attempt ended, by at
    // least half the backoff.
    for pair in fail.windows(2) {
        let ended: jiff::Timestamp = pair[0].1.parse().expect("time");
        let next: jiff::Timestamp = pair[1].0.parse().expect("time");
        assert!(
            next.duration_since(ended) >= jiff::SignedDuration::from_millis(50),
            "{pair:?}"
        );
    }
    // A hung handler is killed at its timeout, within 10%.
    for (started, finished, error, _) in attempts("hang") {
        let started: jiff::Timestamp = started.parse().expect("time");
        let finished: jiff::Timestamp = finished.parse().expect("time");
        let ran = finished.duration_since(started).as_secs_f64();
        assert!((1.0..1.1).contains(&ran), "ran {ran}s: {error:?}");
    }
    assert_eq!(attempts("retry").len(), 3, "exit 75 retries too");
    let flood_kept: i64 = connection
        .query_row("SELECT length(a.stdout) + a.stdout_dropped FROM _droplake_attempts a JOIN _droplake_objects o ON o.id = a.object_id WHERE o.name = 'items/flood.csv' AND a.handler = 'probe'", [], |row| row.get(0))
        .expect("flood");
    assert_eq!(
        flood_kept, 5_000_000,
        "a flood is drained and counted, and only its start kept"
    );
}

#[test]
fn receipts_answer_the_producer() {
    let env = env_with(&format!("{}receipts = \"receipts\"\n", config("auto")));
    let daemon = Daemon::start(&env);
    std::thread::sleep(Duration::from_millis(300));
    drop_in(&env, "items/good.csv", &items(1, 2));
    drop_in(&env, "items/bad.csv", "id,label\nx,y\n");
    let ack = env.root().join("receipts/items/good.csv.ack.json");
    let nak = env.root().join("receipts/items/bad.csv.nak.json");
    let both = eventually(
        Duration::from_secs(20),
        || ack.exists() && nak.exists(),
        |both| *both,
    );
    assert!(both, "both receipts written");
    assert_eq!(daemon.stop(), Some(0));
    let ack: serde_json::Value =
        serde_json::from_slice(&std::fs::read(ack).expect("ack")).expect("json");
    assert_eq!(ack["receipt"], "ack");
    assert_eq!(ack["rows_loaded"], 2);
    let nak: serde_json::Value =
        serde_json::from_slice(&std::fs::read(nak).expect("nak")).expect("json");
    assert_eq!(nak["receipt"], "nak");
    assert_eq!(nak["rows_rejected"], 1);
    assert_eq!(nak["first_errors"][0]["field"], "id");
}

#[test]
fn sighup_reloads_and_a_broken_configuration_keeps_the_old_one() {
    let env = env_with(&config("auto"));
    let daemon = Daemon::start(&env);
    std::thread::sleep(Duration::from_millis(300));
    env.write("droplake.toml", "this is not toml = = =");
    daemon.signal("HUP");
    std::thread::sleep(Duration::from_millis(300));
    drop_in(&env, "items/a.csv", &items(1, 1));
    let loaded = eventually(Duration::from_secs(20), || rows(&env), |rows| *rows == 1);
    assert_eq!(loaded, 1, "the old configuration still runs");
    let log = std::fs::read_to_string(env.root().join("daemon.log")).expect("log");
    assert!(log.contains("Kept the old configuration"), "{log}");
    // A good configuration takes effect: a handler added by it runs on the
    // next object.
    let out = env.root().join("handled");
    let script = format!("basename \"$1\" >> {}", out.display());
    // It also asks for metrics, which take a restart: a warning says so.
    env.write(
        "droplake.toml",
        format!(
            "metrics = \"127.0.0.1:0\"\n{}",
            handler_config("auto", &script, "")
        ),
    );
    daemon.signal("HUP");
    std::thread::sleep(Duration::from_millis(300));
    drop_in(&env, "items/b.csv", &items(2, 1));
    let handled = eventually(
        Duration::from_secs(20),
        || std::fs::read_to_string(&out).unwrap_or_default(),
        |text| !text.is_empty(),
    );
    assert_eq!(
        handled, "b.csv\n",
        "the reloaded handler ran on the new object only"
    );
    let log = std::fs::read_to_string(env.root().join("daemon.log")).expect("log");
    assert!(
        log.contains("Changed settings that take a restart (metrics)"),
        "{log}"
    );
    assert!(
        !log.contains("Serving metrics"),
        "not served before a restart"
    );
    assert_eq!(daemon.stop(), Some(0));
}

#[test]
fn a_receipt_a_crash_kept_from_being_written_is_written_at_the_next_start() {
    let env = env_with(&format!("{}receipts = \"receipts\"\n", config("auto")));
    let daemon = Daemon::start(&env);
    std::thread::sleep(Duration::from_millis(300));
    drop_in(&env, "items/a.csv", &items(1, 1));
    let ack = env.root().join("receipts/items/a.csv.ack.json");
    assert!(eventually(
        Duration::from_secs(20),
        || ack.exists(),
        |exists| *exists
    ));
    assert_eq!(daemon.stop(), Some(0));
    // As if the daemon had died between the commit and the receipt.
    std::fs::remove_file(&ack).expect("remove the receipt");
    Connection::open(env.root().join("warehouse.db"))
        .expect("open")
        .execute(
            "DELETE FROM _droplake_events WHERE kind = 'receipt.written'",
            [],
        )
        .expect("forget the receipt");
    let daemon = Daemon::start(&env);
    assert!(
        eventually(Duration::from_secs(20), || ack.exists(), |exists| *exists),
        "the receipt is written again"
    );
    assert_eq!(daemon.stop(), Some(0));
}

/// A Rust handler, registered through the library, that records what it
/// was given and refuses one object for good.
struct Recorder {
    seen: std::sync::Mutex<Vec<(i64, String, u64)>>,
}

impl droplake::handlers::embedded::Handler for Recorder {
    fn handle(
        &self,
        delivery: &droplake::handlers::embedded::Delivery<'_>,
    ) -> Result<(), droplake::handlers::embedded::Refusal> {
        if delivery.path.ends_with("refused.csv") {
            return Err(droplake::handlers::embedded::Refusal::Dead(
                "not for me".into(),
            ));
        }
        let loaded = delivery.event["load"]["rows_loaded"].as_u64().unwrap_or(0);
        self.seen.lock().expect("lock").push((
            delivery.object_id,
            delivery.dataset.to_owned(),
            loaded,
        ));
        Ok(())
    }
}

#[test]
fn an_embedded_rust_handler_runs_after_the_loader_with_the_event() {
    use droplake::config::{HandlerSettings, Settings, Sources};
    use droplake::daemon::{self, Ended, Options};
    use std::sync::Arc;
    // In-process: the paths must not depend on the working directory.
    let env = env_with(&format!(
        "lake = \"lake\"\nschemas = \"warehouse-schema\"\nwarehouse = \"warehouse.db\"\n{}",
        config("auto")
    ));
    drop_in(&env, "items/a.csv", &items(1, 3));
    drop_in(&env, "items/refused.csv", &items(10, 1));
    for name in ["a.csv", "refused.csv"] {
        settled(&env.lake().join("items").join(name));
    }
    let sources = Sources {
        explicit: Some(env.root().join("droplake.toml")),
        ..Sources::default()
    };
    let settings = Settings::load(&sources).expect("configuration");
    let recorder = Arc::new(Recorder {
        seen: std::sync::Mutex::new(Vec::new()),
    });
    let mut handler = HandlerSettings::new("recorder");
    handler.after = vec![daemon::LOADER.to_owned()];
    let options = Options {
        once: true,
        sources,
        embedded: vec![droplake::handlers::embedded::Embedded {
            settings: handler,
            handler: Arc::clone(&recorder) as Arc<dyn droplake::handlers::embedded::Handler>,
        }],
        ..Options::default()
    };
    let ended = daemon::run(settings, options).expect("run");
    assert_eq!(ended, Ended::Failures, "refused.csv died");
    let seen = recorder.seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        (seen[0].1.as_str(), seen[0].2),
        ("items", 3),
        "after the loader, with its counts"
    );
    let states = job_states(&env);
    assert!(
        states.contains(&("items/refused.csv".into(), "recorder".into(), "dead".into())),
        "{states:?}"
    );
}

#[test]
fn retention_archives_objects_only_after_every_handler_is_done() {
    let script = "case \"$1\" in *stuck*) exit 1;; esac";
    let env = TestEnv::new();
    env.write("warehouse-schema/items.json", ITEMS);
    let config = handler_config("auto", script, "retries = 0\n").replace(
        "settle = \"300ms\"\n",
        "settle = \"300ms\"\nretain = \"1s\"\narchive = \"archive\"\n",
    );
    env.write("droplake.toml", config);
    let daemon = Daemon::start(&env);
    std::thread::sleep(Duration::from_millis(300));
    drop_in(&env, "items/dt=2026-11-01/done.csv", &items(1, 1));
    drop_in(&env, "items/dt=2026-11-01/stuck.csv", &items(2, 1));
    let archived = env.root().join("archive/items/dt=2026-11-01/done.csv");
    let moved = eventually(
        Duration::from_secs(20),
        || archived.exists(),
        |moved| *moved,
    );
    assert!(moved, "the finished object was archived");
    assert!(!env.lake().join("items/dt=2026-11-01/done.csv").exists());
    assert!(
        env.lake().join("items/dt=2026-11-01/stuck.csv").exists(),
        "an object with a dead job stays for its operator"
    );
    assert_eq!(
        count(
            &env,
            "SELECT count(*) FROM _droplake_events WHERE kind = 'object.removed'"
        ),
        1
    );
    assert_eq!(daemon.stop(), Some(0));
    assert_eq!(rows(&env), 2, "archiving removes no rows");
}

#[test]
fn run_once_exits_75_while_a_retry_is_pending() {
    let env = TestEnv::new();
    env.write("warehouse-schema/items.json", ITEMS);
    let config = handler_config("auto", "exit 1", "retries = 3\n").replace(
        "backoff = \"100ms\"\nmax_backoff = \"200ms\"\n",
        "backoff = \"1h\"\nmax_backoff = \"2h\"\n",
    );
    env.write("droplake.toml", config);
    let file = drop_in(&env, "items/a.csv", &items(1, 1));
    settled(&file);
    env.run(["run", "--once"]).expect_code(75);
    assert_eq!(rows(&env), 1, "the loader is done");
    let states = job_states(&env);
    assert!(
        states.contains(&("items/a.csv".into(), "probe".into(), "retry".into())),
        "{states:?}"
    );
}

/// Regression: a retry already due when `run --once` started was only
/// woken by the loop's timer, and a batch that went quiet first ended with
/// 75 without running it (about two runs in three).
#[test]
fn run_once_runs_a_retry_that_is_already_due() {
    let env = TestEnv::new();
    env.write("warehouse-schema/items.json", ITEMS);
    env.write(
        "droplake.toml",
        handler_config("auto", "exit 1", "retries = 1\n"),
    );
    for round in 0..3 {
        let file = drop_in(&env, format!("items/a{round}.csv"), &items(round * 10, 1));
        settled(&file);
        env.run(["run", "--once"]).expect_code(75);
        // The backoff is at most 100ms: the retry is due.
        std::thread::sleep(Duration::from_millis(300));
        env.run(["run", "--once"]).expect_code(1);
    }
}

#[test]
fn an_ordered_handler_holds_later_objects_back_and_says_so() {
    let env = TestEnv::new();
    env.write("warehouse-schema/items.json", ITEMS);
    let out = env.root().join("order");
    let script = format!(
        "case \"$1\" in *1-bad*) exit 1;; esac; basename \"$1\" >> {}",
        out.display()
    );
    let config = handler_config("auto", &script, "ordered = true\nretries = 1\n").replace(
        "settle = \"300ms\"\n",
        "settle = \"300ms\"\norder = \"name\"\n",
    );
    env.write("droplake.toml", config);
    for name in ["0-good.csv", "1-bad.csv", "2-later.csv"] {
        let file = drop_in(
            &env,
            format!("items/{name}"),
            &items(name.as_bytes()[0].into(), 1),
        );
        settled(&file);
    }
    let daemon = Daemon::start(&env);
    let held = eventually(
        Duration::from_secs(20),
        || {
            count(
                &env,
                "SELECT count(*) FROM _droplake_events WHERE kind = 'dataset.held_back'",
            )
        },
        |n| *n >= 1,
    );
    assert!(held >= 1, "the hold is reported");
    let dead = eventually(
        Duration::from_secs(20),
        || {
            count(
                &env,
                "SELECT count(*) FROM _droplake_jobs WHERE handler = 'probe' AND state = 'dead'",
            )
        },
        |n| *n == 1,
    );
    assert_eq!(dead, 1);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(daemon.stop(), Some(0));
    // And keeps waiting across a restart.
    let daemon = Daemon::start(&env);
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(daemon.stop(), Some(0));
    let ran = std::fs::read_to_string(&out).unwrap_or_default();
    assert_eq!(
        ran, "0-good.csv\n",
        "2-later.csv waits behind the dead 1-bad.csv, even after a restart"
    );
    let states = job_states(&env);
    assert!(
        states.contains(&("items/2-later.csv".into(), "probe".into(), "pending".into())),
        "{states:?}"
    );
}

#[test]
fn events_follow_prints_new_events_as_json_lines() {
    let env = env_with(&config("auto"));
    let daemon = Daemon::start(&env);
    std::thread::sleep(Duration::from_millis(300));
    let mut follow = env
        .command(["events", "--follow", "--json"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("events --follow");
    drop_in(&env, "items/a.csv", &items(1, 1));
    let stdout = follow.stdout.take().expect("stdout");
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
    let mut kinds = Vec::new();
    while kinds.last().map(String::as_str) != Some("object.finished") {
        let line = lines.next().expect("a line").expect("text");
        let event: serde_json::Value = serde_json::from_str(&line).expect("json");
        assert!(event["seq"].as_i64().is_some_and(|seq| seq > 0));
        assert!(event["at"].is_string());
        assert_eq!(event["object"]["path"], "items/a.csv");
        kinds.push(event["kind"].as_str().unwrap_or_default().to_owned());
    }
    assert_eq!(
        kinds,
        [
            "object.arrived",
            "load.committed",
            "job.done",
            "object.finished"
        ]
    );
    let _ = follow.kill();
    let _ = follow.wait();
    assert_eq!(daemon.stop(), Some(0));
}

#[test]
fn removing_a_handler_retires_its_unfinished_jobs_with_the_reason() {
    let env = TestEnv::new();
    env.write("warehouse-schema/items.json", ITEMS);
    let with_probe = handler_config("auto", "exit 1", "retries = 3\n").replace(
        "backoff = \"100ms\"\nmax_backoff = \"200ms\"\n",
        "backoff = \"1h\"\nmax_backoff = \"2h\"\n",
    );
    env.write("droplake.toml", with_probe);
    settled(&drop_in(&env, "items/a.csv", &items(1, 1)));
    env.run(["run", "--once"]).expect_code(75);
    env.write("droplake.toml", config("auto"));
    let second = env
        .command(["run", "--once"])
        .env("DROPLAKE_LOG", "warn")
        .output()
        .expect("run");
    assert_eq!(second.status.code(), Some(1), "the object ends failed");
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(stderr.contains("no longer configured"), "{stderr}");
    let reason: String = warehouse(&env)
        .expect("warehouse")
        .query_row(
            "SELECT last_error FROM _droplake_jobs WHERE handler = 'probe'",
            [],
            |row| row.get(0),
        )
        .expect("the probe job");
    assert!(
        reason.contains("handler probe is no longer configured"),
        "{reason}"
    );
    assert_eq!(
        count(
            &env,
            "SELECT count(*) FROM _droplake_objects WHERE state = 'failed'"
        ),
        1
    );
}
