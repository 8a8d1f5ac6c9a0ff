//! `droplake retry`: dead jobs run again after their cause is fixed, with
//! a running daemon and with `run --once`; the jobs that died with them come
//! back; attempts keep their history; the receipt tells the new outcome.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::daemon::{
    Daemon, ITEMS, config, count, drop_in, eventually, items, job_states, settled, warehouse,
};
use crate::util::TestEnv;

/// A lake with the `items` table; `probe` fails until the file `flag`
/// exists and runs after the loader; `notify` runs after `probe`.
fn flagged(retries: u32) -> TestEnv {
    let env = TestEnv::new();
    env.write("warehouse-schema/items.json", ITEMS);
    let flag = env.root().join("flag");
    let script = format!(
        "test -e {} || {{ echo 'the flag is missing' >&2; exit 1; }}",
        flag.display()
    );
    env.write(
        "droplake.toml",
        format!(
            "{}receipts = \"receipts\"\n\n[[handlers]]\nname = \"probe\"\ndatasets = [\"items\"]\ncommand = [\"/bin/sh\", \"-c\", {script:?}]\nafter = [\"loader\"]\nretries = {retries}\nbackoff = \"100ms\"\nmax_backoff = \"100ms\"\n\n[[handlers]]\nname = \"notify\"\ndatasets = [\"items\"]\ncommand = [\"/bin/true\"]\nafter = [\"probe\"]\n",
            config("auto")
        ),
    );
    env
}

fn raise_flag(env: &TestEnv) {
    env.write("flag", "");
}

/// `droplake retry --json ARGS`: the exit code and the document, which has
/// the documented keys.
fn retry(env: &TestEnv, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["retry", "--json"];
    all.extend_from_slice(args);
    let run = env.run(all);
    let document: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|error| panic!("{error}: {}\n{}", run.stdout, run.stderr));
    for key in ["reset", "skipped", "daemon"] {
        assert!(document.get(key).is_some(), "{key} in {document}");
    }
    for reset in document["reset"].as_array().expect("reset") {
        for key in [
            "object",
            "path",
            "handler",
            "previous_state",
            "attempts",
            "previous_error",
            "after",
        ] {
            assert!(reset.get(key).is_some(), "{key} in {reset}");
        }
    }
    (run.code, document)
}

/// Per attempt of `handler`: its number and outcome.
fn attempts(env: &TestEnv, handler: &str) -> Vec<(i64, String)> {
    let connection = warehouse(env).expect("warehouse");
    let mut statement = connection
        .prepare("SELECT attempt, outcome FROM _droplake_attempts WHERE handler = ?1 ORDER BY object_id, attempt")
        .expect("prepare");
    statement
        .query_map([handler], |row| Ok((row.get(0)?, row.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

fn object_state(env: &TestEnv, name: &str) -> String {
    warehouse(env)
        .and_then(|connection| {
            connection
                .query_row(
                    "SELECT state FROM _droplake_objects WHERE name = ?1",
                    [name],
                    |row| row.get(0),
                )
                .ok()
        })
        .unwrap_or_default()
}

#[test]
fn a_dead_job_retried_under_a_running_daemon_runs_and_the_object_ends_done() {
    let env = flagged(0);
    let daemon = Daemon::start(&env);
    std::thread::sleep(Duration::from_millis(300));
    drop_in(&env, "items/a.csv", &items(1, 2));
    let nak = env.root().join("receipts/items/a.csv.nak.json");
    let ack = env.root().join("receipts/items/a.csv.ack.json");
    assert!(eventually(
        Duration::from_secs(20),
        || nak.exists(),
        |written| *written
    ));
    assert_eq!(object_state(&env, "items/a.csv"), "failed");

    raise_flag(&env);
    let (code, document) = retry(&env, &["lake/items/a.csv"]);
    assert_eq!(code, 0, "{document}");
    let reset: Vec<(&str, &str, &Value)> = document["reset"]
        .as_array()
        .expect("reset")
        .iter()
        .map(|reset| {
            (
                reset["handler"].as_str().unwrap_or_default(),
                reset["previous_state"].as_str().unwrap_or_default(),
                &reset["after"],
            )
        })
        .collect();
    assert_eq!(
        reset,
        [
            ("probe", "dead", &Value::Null),
            ("notify", "dead", &Value::from("probe"))
        ],
        "the job that died with probe comes back with it"
    );
    assert!(
        document["reset"][0]["previous_error"]
            .as_str()
            .is_some_and(|error| error.contains("the flag is missing")),
        "{document}"
    );
    assert_eq!(document["daemon"]["running"], true);

    let retried = Instant::now();
    let done = eventually(
        Duration::from_secs(10),
        || object_state(&env, "items/a.csv"),
        |state| state == "done",
    );
    assert_eq!(done, "done", "{:?}", job_states(&env));
    assert!(
        retried.elapsed() < Duration::from_secs(5),
        "the daemon takes retried jobs up promptly: {:?}",
        retried.elapsed()
    );
    assert!(
        eventually(
            Duration::from_secs(5),
            || ack.exists() && !nak.exists(),
            |ok| *ok
        ),
        "the ack replaces the nak"
    );
    assert_eq!(daemon.stop(), Some(0));

    assert_eq!(
        attempts(&env, "probe"),
        [(1, "dead".to_string()), (2, "done".to_string())],
        "the history is kept and numbers go on"
    );
    assert_eq!(attempts(&env, "notify"), [(1, "done".to_string())]);
    assert_eq!(
        attempts(&env, "loader"),
        [(1, "done".to_string())],
        "the loader is not run again"
    );
    assert_eq!(
        count(&env, "SELECT count(*) FROM items"),
        2,
        "rows loaded once"
    );
    assert_eq!(
        count(
            &env,
            "SELECT count(*) FROM _droplake_events WHERE kind = 'job.retried'"
        ),
        2
    );
    let receipt: Value = serde_json::from_slice(&std::fs::read(&ack).expect("ack")).expect("json");
    assert_eq!(receipt["state"], "done");
    assert_eq!(receipt["handlers"]["probe"]["state"], "done");
}

#[test]
fn a_retried_job_has_a_fresh_budget_of_retries() {
    let env = flagged(1);
    let daemon = Daemon::start(&env);
    std::thread::sleep(Duration::from_millis(300));
    drop_in(&env, "items/a.csv", &items(1, 1));
    let dead = || {
        count(
            &env,
            "SELECT count(*) FROM _droplake_jobs WHERE handler = 'probe' AND state = 'dead'",
        )
    };
    assert_eq!(eventually(Duration::from_secs(20), dead, |n| *n == 1), 1);
    let (code, _) = retry(&env, &["--dead", "--handler", "probe"]);
    assert_eq!(code, 0);
    // Still failing: two more attempts (retries = 1), then dead again.
    let history = eventually(
        Duration::from_secs(20),
        || attempts(&env, "probe"),
        |history| history.len() == 4 && dead() == 1,
    );
    assert_eq!(daemon.stop(), Some(0));
    assert_eq!(
        history,
        [
            (1, "retry".to_string()),
            (2, "dead".to_string()),
            (3, "retry".to_string()),
            (4, "dead".to_string())
        ]
    );
}

#[test]
fn retry_dead_of_one_handler_resets_its_jobs_and_run_once_runs_them() {
    let env = flagged(0);
    for (id, name) in [(1, "a.csv"), (2, "b.csv")] {
        settled(&drop_in(&env, format!("items/{name}"), &items(id, 1)));
    }
    env.run(["run", "--once"]).expect_code(1);
    let dead_of = |handler: &str| {
        count(
            &env,
            &format!(
                "SELECT count(*) FROM _droplake_jobs WHERE handler = '{handler}' AND state = 'dead'"
            ),
        )
    };
    assert_eq!((dead_of("probe"), dead_of("notify")), (2, 2));

    // notify cannot run while probe is dead: not reset, and said why.
    let (code, skipped) = retry(&env, &["--dead", "--handler", "notify"]);
    assert_eq!(code, 1, "{skipped}");
    assert_eq!(skipped["reset"], serde_json::json!([]));
    assert_eq!(skipped["skipped"].as_array().map(Vec::len), Some(2));
    assert!(
        skipped["skipped"][0]["reason"]
            .as_str()
            .is_some_and(|reason| reason.contains("handler probe"))
    );
    let human = env.run(["retry", "--dead", "--handler", "notify"]);
    human.expect_code(1);
    assert!(
        human.stdout.starts_with("Not reset: object ")
            && human
                .stdout
                .contains(" (items/a.csv), handler notify: it runs after"),
        "{}",
        human.stdout
    );

    raise_flag(&env);
    let (code, document) = retry(&env, &["--dead", "--handler", "probe"]);
    assert_eq!(code, 0);
    assert_eq!(
        document["reset"].as_array().map(Vec::len),
        Some(4),
        "probe and notify of both objects"
    );
    assert_eq!(document["daemon"]["running"], false);
    assert_eq!((dead_of("probe"), dead_of("notify")), (0, 0));
    env.run(["run", "--once"]).expect_code(0);
    assert_eq!(
        count(
            &env,
            "SELECT count(*) FROM _droplake_objects WHERE state = 'done'"
        ),
        2
    );

    // Nothing left to retry.
    let nothing = env.run(["retry", "--dead"]);
    nothing.expect_code(0);
    assert_eq!(nothing.stdout, "Nothing to retry: no job is dead.\n");
    let (code, document) = retry(&env, &["1"]);
    assert_eq!((code, &document["reset"]), (0, &serde_json::json!([])));
    let unknown = env.run(["retry", "99"]);
    unknown.expect_code(66);
    assert!(
        unknown.stderr.contains("there is no object 99"),
        "{}",
        unknown.stderr
    );
    let unregistered = env.run(["retry", "lake/items/none.csv"]);
    unregistered.expect_code(66);
    assert!(
        unregistered.stderr.contains("droplake why"),
        "{}",
        unregistered.stderr
    );
}

#[test]
fn a_job_waiting_for_its_retry_runs_now_when_retried() {
    let env = flagged(3);
    let slow = std::fs::read_to_string(env.root().join("droplake.toml"))
        .expect("config")
        .replace(
            "backoff = \"100ms\"\nmax_backoff = \"100ms\"",
            "backoff = \"1h\"\nmax_backoff = \"2h\"",
        );
    env.write("droplake.toml", slow);
    settled(&drop_in(&env, "items/a.csv", &items(1, 1)));
    env.run(["run", "--once"]).expect_code(75);
    assert_eq!(
        retry(&env, &["--dead"]).1["reset"],
        serde_json::json!([]),
        "--dead is only dead jobs"
    );
    raise_flag(&env);
    let (code, document) = retry(&env, &["lake/items/a.csv"]);
    assert_eq!(code, 0);
    assert_eq!(document["reset"][0]["previous_state"], "retry");
    assert_eq!(document["reset"][0]["attempts"], 1);
    env.run(["run", "--once"]).expect_code(0);
    assert_eq!(object_state(&env, "items/a.csv"), "done");
    assert_eq!(
        attempts(&env, "probe"),
        [(1, "retry".to_string()), (2, "done".to_string())]
    );
}

#[test]
fn retrying_the_dead_head_of_an_ordered_dataset_lets_the_later_objects_through() {
    let env = TestEnv::new();
    env.write("warehouse-schema/items.json", ITEMS);
    let out = env.root().join("order");
    let flag = env.root().join("flag");
    let script = format!(
        "case \"$1\" in *1-bad*) test -e {} || exit 1;; esac; basename \"$1\" >> {}",
        flag.display(),
        out.display()
    );
    let config = crate::daemon::handler_config("auto", &script, "ordered = true\nretries = 0\n")
        .replace(
            "settle = \"300ms\"\n",
            "settle = \"300ms\"\norder = \"name\"\n",
        );
    env.write("droplake.toml", config);
    for (id, name) in [(1, "0-good.csv"), (2, "1-bad.csv"), (3, "2-later.csv")] {
        settled(&drop_in(&env, format!("items/{name}"), &items(id, 1)));
    }
    let daemon = Daemon::start(&env);
    let dead = || {
        count(
            &env,
            "SELECT count(*) FROM _droplake_jobs WHERE handler = 'probe' AND state = 'dead'",
        )
    };
    assert_eq!(eventually(Duration::from_secs(20), dead, |n| *n == 1), 1);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        std::fs::read_to_string(&out).unwrap_or_default(),
        "0-good.csv\n",
        "held back"
    );
    raise_flag(&env);
    let (code, _) = retry(&env, &["lake/items/1-bad.csv"]);
    assert_eq!(code, 0);
    let ran = eventually(
        Duration::from_secs(10),
        || std::fs::read_to_string(&out).unwrap_or_default(),
        |ran| ran.lines().count() == 3,
    );
    assert_eq!(daemon.stop(), Some(0));
    assert_eq!(
        ran, "0-good.csv\n1-bad.csv\n2-later.csv\n",
        "in order, once each"
    );
}

#[test]
fn a_dead_load_retried_after_its_marker_is_fixed_loads_and_a_false_marker_is_refused_again() {
    let env = crate::daemon::env_with(
        &config("auto").replace("settle = \"300ms\"", "ready = \"marker\""),
    );
    env.write("lake/items/a.csv", items(1, 3));
    env.write("lake/items/a.csv.done", "records=5\n");
    env.run(["run", "--once"]).expect_code(1);
    assert!(
        count(&env, "SELECT count(*) FROM items") <= 0,
        "nothing loaded: the marker's count is wrong"
    );
    assert_eq!(object_state(&env, "items/a.csv"), "failed");

    env.write("lake/items/a.csv.done", "records=3\n");
    let (code, document) = retry(&env, &["items/a.csv"]);
    assert_eq!(code, 0, "{document}");
    assert_eq!(document["reset"][0]["handler"], "loader");
    env.run(["run", "--once"]).expect_code(0);
    assert_eq!(count(&env, "SELECT count(*) FROM items"), 3);
    assert_eq!(object_state(&env, "items/a.csv"), "done");
    assert_eq!(
        attempts(&env, "loader"),
        [(1, "dead".to_string()), (2, "done".to_string())]
    );

    // A marker that declares another size refuses the object at
    // registration, and again at a retry until it is fixed.
    env.write("lake/items/b.csv", items(10, 1));
    env.write("lake/items/b.csv.done", "size=1\n");
    env.run(["run", "--once"]).expect_code(1);
    let (code, document) = retry(&env, &["items/b.csv"]);
    assert_eq!(code, 1, "{document}");
    assert!(
        document["skipped"][0]["reason"]
            .as_str()
            .is_some_and(|reason| reason.contains("declares 1 bytes")),
        "{document}"
    );
    assert_eq!(
        object_state(&env, "items/b.csv"),
        "failed",
        "nothing changed"
    );
}

#[test]
fn a_handler_that_died_is_retried_though_its_marker_was_removed_since() {
    let env = flagged(0);
    let config = std::fs::read_to_string(env.root().join("droplake.toml"))
        .expect("config")
        .replace("settle = \"300ms\"", "ready = \"marker\"");
    env.write("droplake.toml", config);
    env.write("lake/items/a.csv", items(1, 2));
    env.write("lake/items/a.csv.done", "");
    env.run(["run", "--once"]).expect_code(1);
    assert_eq!(object_state(&env, "items/a.csv"), "failed", "probe died");
    // The producer cleans up its marker once the file is taken.
    std::fs::remove_file(env.lake().join("items/a.csv.done")).expect("remove the marker");
    raise_flag(&env);
    let (code, document) = retry(&env, &["items/a.csv"]);
    assert_eq!(code, 0, "{document}");
    assert_eq!(document["reset"][0]["handler"], "probe");
    env.run(["run", "--once"]).expect_code(0);
    assert_eq!(object_state(&env, "items/a.csv"), "done");
}

#[test]
fn jobs_of_a_handler_no_longer_configured_are_skipped_and_an_unknown_handler_is_a_usage_error() {
    let env = flagged(0);
    settled(&drop_in(&env, "items/a.csv", &items(1, 1)));
    env.run(["run", "--once"]).expect_code(1);
    let unknown = env.run(["retry", "--dead", "--handler", "prob"]);
    unknown.expect_code(64);
    assert!(
        unknown
            .stderr
            .contains("the handlers are: loader, probe, notify"),
        "{}",
        unknown.stderr
    );
    // probe and notify are removed from the configuration.
    env.write("droplake.toml", config("auto"));
    let (code, document) = retry(&env, &["--dead"]);
    assert_eq!(code, 1, "{document}");
    assert_eq!(document["reset"], serde_json::json!([]));
    let skipped: Vec<&str> = document["skipped"]
        .as_array()
        .expect("skipped")
        .iter()
        .map(|skipped| skipped["handler"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(skipped, ["notify", "probe"], "{document}");
    assert!(
        document["skipped"][0]["reason"]
            .as_str()
            .is_some_and(|reason| reason.contains("no longer configured")),
        "{document}"
    );
    assert_eq!(
        count(
            &env,
            "SELECT count(*) FROM _droplake_events WHERE kind = 'job.retried'"
        ),
        0,
        "nothing was reset"
    );
    env.run(["retry", "--dead", "--handler", "probe"])
        .expect_code(64);
}

#[test]
fn retry_says_a_running_batch_does_not_take_the_jobs_up() {
    let env = flagged(0);
    settled(&drop_in(&env, "items/a.csv", &items(1, 1)));
    env.run(["run", "--once"]).expect_code(1);
    // Hold the daemon lock as `run --once` does.
    let mut lock = std::fs::File::create(env.root().join("warehouse.db.lock")).expect("lock file");
    lock.try_lock().expect("the lock is free");
    std::io::Write::write_all(&mut lock, b"pid 4242 once\n").expect("write");
    let status: Value =
        serde_json::from_str(&env.run(["status", "--json"]).stdout).expect("status JSON");
    assert_eq!(
        (
            &status["daemon"]["running"],
            &status["daemon"]["mode"],
            &status["daemon"]["pid"]
        ),
        (&true.into(), &"once".into(), &4242.into())
    );
    raise_flag(&env);
    let run = env.run(["retry", "lake/items/a.csv"]);
    run.expect_code(0);
    assert!(
        run.stdout
            .contains("`droplake run --once` (pid 4242) is running, which does not"),
        "{}",
        run.stdout
    );
    let (_, document) = retry(&env, &["--dead"]);
    assert_eq!(document["daemon"]["mode"], "once", "{document}");
}
