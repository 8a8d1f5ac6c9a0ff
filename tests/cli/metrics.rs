//! The Prometheus endpoint: the real daemon, scraped over real HTTP while
//! it loads files, handles them and fails some.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::daemon::{Daemon, ITEMS, config, drop_in, eventually, handler_config, items};
use crate::util::TestEnv;

/// An HTTP answer: the status line, the headers, the body.
struct Answer {
    status: String,
    headers: String,
    body: String,
}

/// Sends `request` to `address` and reads the whole answer (the server
/// closes the connection after it).
fn http(address: &str, request: &str) -> Answer {
    let mut stream = TcpStream::connect(address).expect("connect to the metrics endpoint");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    stream.write_all(request.as_bytes()).expect("send");
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).expect("read the answer");
    let text = String::from_utf8(bytes).expect("UTF-8");
    let (head, body) = text.split_once("\r\n\r\n").expect("a head and a body");
    let (status, headers) = head.split_once("\r\n").unwrap_or((head, ""));
    Answer {
        status: status.to_owned(),
        headers: headers.to_owned(),
        body: body.to_owned(),
    }
}

/// The samples of a scrape, by name and labels as written
/// (`droplake_rows_loaded_total{table="items"}`).
fn scrape(address: &str) -> BTreeMap<String, f64> {
    let answer = http(
        address,
        "GET /metrics HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n",
    );
    assert_eq!(answer.status, "HTTP/1.1 200 OK");
    assert!(
        answer
            .headers
            .contains("Content-Type: text/plain; version=0.0.4; charset=utf-8"),
        "{}",
        answer.headers
    );
    answer
        .body
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').expect("a sample");
            (series.to_owned(), value.parse().expect("a number"))
        })
        .collect()
}

/// The address the daemon logged it serves metrics on (it was given port
/// 0, so the system chose a free one).
fn served_address(env: &TestEnv) -> String {
    let log = eventually(
        Duration::from_secs(10),
        || std::fs::read_to_string(env.root().join("daemon.log")).unwrap_or_default(),
        |log| log.contains("Serving metrics at http://"),
    );
    let (_, rest) = log
        .split_once("Serving metrics at http://")
        .expect("the daemon logs where it serves metrics");
    rest.split('/').next().expect("an address").to_owned()
}

fn value(samples: &BTreeMap<String, f64>, series: &str) -> f64 {
    *samples
        .get(series)
        .unwrap_or_else(|| panic!("no {series} in {samples:#?}"))
}

#[test]
fn metrics_are_scraped_during_a_load_and_count_what_happened() {
    let env = TestEnv::new();
    env.write("warehouse-schema/items.json", ITEMS);
    let script = "case \"$1\" in *fail*) echo 'refused' >&2; exit 3;; esac";
    let handler = handler_config("auto", script, "retries = 1\n");
    env.write(
        "droplake.toml",
        format!("metrics = \"127.0.0.1:0\"\n{handler}"),
    );
    let daemon = Daemon::start(&env);
    let address = served_address(&env);

    // Before anything happened: the configured series are there, at zero.
    let first = scrape(&address);
    assert_eq!(
        value(
            &first,
            "droplake_handler_runs_total{handler=\"probe\",outcome=\"dead\"}"
        ),
        0.0
    );
    assert_eq!(
        value(&first, "droplake_rows_loaded_total{table=\"items\"}"),
        0.0
    );
    assert_eq!(
        value(
            &first,
            "droplake_jobs_pending{handler=\"loader\",state=\"pending\"}"
        ),
        0.0
    );
    let started = value(&first, "droplake_start_time_seconds");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs_f64();
    assert!((now - 60.0..=now).contains(&started), "{started} vs {now}");
    assert!(
        first
            .keys()
            .any(|series| series.starts_with("droplake_build_info{version="))
    );

    // A large file: scrapes go on while it loads.
    let large_rows = 300_000;
    drop_in(&env, "items/large.csv", &items(1_000_000, large_rows));
    let mut seen_loading = false;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let asked = Instant::now();
        let samples = scrape(&address);
        assert!(
            asked.elapsed() < Duration::from_secs(2),
            "a scrape during a load answers at once"
        );
        let registered = samples
            .get("droplake_objects_registered_total{dataset=\"items\"}")
            .copied();
        let loaded = value(&samples, "droplake_rows_loaded_total{table=\"items\"}");
        // Registered, not loaded yet: its loader job is pending.
        let pending = value(
            &samples,
            "droplake_jobs_pending{handler=\"loader\",state=\"pending\"}",
        );
        if registered == Some(1.0) && loaded == 0.0 && pending == 1.0 {
            seen_loading = true;
            let age = value(
                &samples,
                "droplake_oldest_pending_job_age_seconds{handler=\"loader\"}",
            );
            assert!((0.0..60.0).contains(&age), "{age}");
        }
        if loaded > 0.0 {
            break;
        }
        assert!(Instant::now() < deadline, "the large file was not loaded");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(seen_loading, "no scrape saw the large load in progress");

    drop_in(&env, "items/good.csv", &items(1, 2));
    drop_in(&env, "items/bad.csv", "id,label\n10,ten\nx,y\neleven,z\n");
    drop_in(&env, "items/fail-me.csv", &items(20, 1));
    let finished = eventually(
        Duration::from_secs(30),
        || scrape(&address),
        |samples| {
            samples.get("droplake_handler_runs_total{handler=\"probe\",outcome=\"dead\"}")
                == Some(&1.0)
                && samples.get("droplake_handler_runs_total{handler=\"probe\",outcome=\"done\"}")
                    == Some(&3.0)
        },
    );
    // The same content as good.csv under another name: a duplicate.
    drop_in(&env, "items/good-again.csv", &items(1, 2));
    let samples = eventually(
        Duration::from_secs(30),
        || scrape(&address),
        |samples| samples.get("droplake_objects_duplicate_total{dataset=\"items\"}") == Some(&1.0),
    );
    assert_eq!(
        value(
            &finished,
            "droplake_handler_runs_total{handler=\"probe\",outcome=\"retry\"}"
        ),
        1.0,
        "retries = 1: one failed attempt to retry, then dead"
    );
    let expected = [
        ("droplake_objects_registered_total{dataset=\"items\"}", 5.0),
        ("droplake_objects_duplicate_total{dataset=\"items\"}", 1.0),
        (
            "droplake_rows_loaded_total{table=\"items\"}",
            (large_rows + 2 + 1 + 1) as f64,
        ),
        ("droplake_rows_rejected_total{table=\"items\"}", 2.0),
        (
            "droplake_handler_runs_total{handler=\"loader\",outcome=\"done\"}",
            4.0,
        ),
        (
            "droplake_handler_runs_total{handler=\"loader\",outcome=\"dead\"}",
            0.0,
        ),
        (
            "droplake_handler_runs_total{handler=\"probe\",outcome=\"done\"}",
            3.0,
        ),
        (
            "droplake_handler_runs_total{handler=\"probe\",outcome=\"dead\"}",
            1.0,
        ),
        ("droplake_load_duration_seconds_count{table=\"items\"}", 4.0),
        (
            "droplake_detection_latency_seconds_count{dataset=\"items\"}",
            5.0,
        ),
        (
            "droplake_jobs_pending{handler=\"loader\",state=\"pending\"}",
            0.0,
        ),
        (
            "droplake_jobs_pending{handler=\"probe\",state=\"retry\"}",
            0.0,
        ),
        (
            "droplake_oldest_pending_job_age_seconds{handler=\"probe\"}",
            0.0,
        ),
    ];
    for (series, expected) in expected {
        assert_eq!(value(&samples, series), expected, "{series}");
    }
    // Durations are sane: the large load took a while, and no file took
    // longer than the test to be registered.
    let load_seconds = value(
        &samples,
        "droplake_load_duration_seconds_sum{table=\"items\"}",
    );
    assert!(load_seconds > 0.0 && load_seconds < 60.0, "{load_seconds}");
    let latency = value(
        &samples,
        "droplake_detection_latency_seconds_sum{dataset=\"items\"}",
    );
    assert!(latency > 0.0 && latency < 5.0 * 60.0, "{latency}");
    assert_eq!(
        value(
            &samples,
            "droplake_load_duration_seconds_bucket{table=\"items\",le=\"+Inf\"}"
        ),
        4.0
    );

    // Only /metrics is served.
    let other = http(&address, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert_eq!(other.status, "HTTP/1.1 404 Not Found");
    let post = http(
        &address,
        "POST /metrics HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n",
    );
    assert_eq!(post.status, "HTTP/1.1 405 Method Not Allowed");
    assert!(
        post.headers.contains("Allow: GET, HEAD"),
        "{}",
        post.headers
    );
    let head = http(&address, "HEAD /metrics HTTP/1.1\r\n\r\n");
    assert_eq!(head.status, "HTTP/1.1 200 OK");
    assert!(head.body.is_empty());
    assert_eq!(daemon.stop(), Some(0));
}

#[test]
fn silent_clients_hold_up_neither_scrapes_nor_the_daemon() {
    let env = TestEnv::new();
    env.write("warehouse-schema/items.json", ITEMS);
    env.write(
        "droplake.toml",
        format!("metrics = \"127.0.0.1:0\"\n{}", config("auto")),
    );
    let daemon = Daemon::start(&env);
    let address = served_address(&env);
    // Connections that send half a request and wait.
    let silent: Vec<TcpStream> = (0..8)
        .map(|_| {
            let mut stream = TcpStream::connect(&address).expect("connect");
            stream.write_all(b"GET /metr").expect("half a request");
            stream
        })
        .collect();
    drop_in(&env, "items/a.csv", &items(1, 3));
    let samples = eventually(
        Duration::from_secs(30),
        || {
            let asked = Instant::now();
            let samples = scrape(&address);
            assert!(asked.elapsed() < Duration::from_secs(2), "a scrape waited");
            samples
        },
        |samples| samples.get("droplake_rows_loaded_total{table=\"items\"}") == Some(&3.0),
    );
    assert_eq!(
        value(&samples, "droplake_rows_loaded_total{table=\"items\"}"),
        3.0
    );
    // The server gives up on them after its read timeout.
    for mut stream in silent {
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        let mut rest = Vec::new();
        let read = stream.read_to_end(&mut rest);
        assert!(
            matches!(read, Ok(0))
                || read.is_err_and(|error| error.kind() == std::io::ErrorKind::ConnectionReset),
            "the server closes a silent connection without an answer: {rest:?}"
        );
    }
    assert_eq!(daemon.stop(), Some(0));
}

#[test]
fn a_metrics_address_that_cannot_be_used_stops_startup_with_its_place() {
    let env = TestEnv::new();
    env.write("warehouse-schema/items.json", ITEMS);
    env.write(
        "droplake.toml",
        "lake = \"lake\"\nmetrics = \"localhost:9464\"\n",
    );
    let run = env.run(["run", "--once"]);
    run.expect_code(78);
    assert!(
        run.stderr.contains(
            "droplake.toml:2:11: `metrics`: \"localhost:9464\" is not an address and port"
        ),
        "{}",
        run.stderr
    );

    // A port another program holds.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("address").port();
    env.write("droplake.toml", format!("metrics = {port}\n"));
    let run = env.run(["run", "--once"]);
    run.expect_code(78);
    assert!(
        run.stderr.contains(&format!(
            "droplake.toml:1: `metrics`: cannot serve metrics on 127.0.0.1:{port}:"
        )),
        "{}",
        run.stderr
    );
}
