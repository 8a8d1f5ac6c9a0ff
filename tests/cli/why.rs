//! `droplake why PATH`: every gate that can hold a file, asked of real
//! files, a real ledger and a real daemon lock. Golden files hold the human
//! output of a few gates (tests/cli/golden/why-*.txt); regenerate them with
//! UPDATE_GOLDEN=1.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::daemon::{config, drop_in, env_with, handler_config, items, settled};
use crate::util::{Run, TestEnv};

/// `droplake why --json PATH`: the run and its document, which always has
/// the documented keys.
fn why(env: &TestEnv, path: impl AsRef<OsStr>) -> (Run, Value) {
    let run = env.run([OsStr::new("why"), OsStr::new("--json"), path.as_ref()]);
    let document: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|error| panic!("{error}: {}\n{}", run.stdout, run.stderr));
    for key in ["path", "state", "reason", "hints", "file", "daemon"] {
        assert!(document.get(key).is_some(), "{key} in {document}");
    }
    assert!(document["daemon"]["running"].is_boolean(), "{document}");
    (run, document)
}

/// The state `why` gives PATH, checking its exit code.
#[track_caller]
fn state(env: &TestEnv, path: impl AsRef<OsStr>, code: i32) -> Value {
    let (run, document) = why(env, path);
    run.expect_code(code);
    document
}

/// Compares `why`'s human output for `path` with a golden file.
#[track_caller]
fn golden(env: &TestEnv, path: &str, name: &str) {
    let run = env.run(["why", path]);
    let actual = normalise(env, &run.stdout);
    for line in actual.lines() {
        assert!(line.chars().count() <= 80, "wider than 80 columns: {line}");
    }
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/cli/golden")
        .join(format!("why-{name}.txt"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(file.parent().expect("dir")).expect("mkdir");
        std::fs::write(&file, &actual).expect("write the golden file");
        return;
    }
    let expected = std::fs::read_to_string(&file)
        .unwrap_or_else(|_| panic!("{} is missing; run with UPDATE_GOLDEN=1", file.display()));
    assert_eq!(actual, expected, "why {path} (UPDATE_GOLDEN=1 to accept)");
}

/// What changes between runs: the temporary root, times, ages, pids.
fn normalise(env: &TestEnv, text: &str) -> String {
    let root = env.root().display().to_string();
    let times = regex::Regex::new(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z").expect("regex");
    let ages = regex::Regex::new(r"\b(\d+ms|\d+(\.\d)?s|(\d+[dhms]){1,2}) ago").expect("regex");
    let text = text.replace(&root, "<root>");
    let text = times.replace_all(&text, "<time>");
    ages.replace_all(&text, "<age> ago").into_owned()
}

#[test]
fn files_that_are_not_objects_say_which_rule_passes_them_over() {
    let env = env_with(&format!("ignore = [\"*.bak\"]\n{}", config("auto")));
    for file in [
        "lake/items/a.csv",
        "lake/items/.hidden.csv",
        "lake/items/_staging/x.csv",
        "lake/items/a.csv.part",
        "lake/items/~lock.csv",
        "lake/items/old.bak",
        "lake/loose.csv",
        "lake/Bad Name/x.csv",
        "elsewhere.csv",
    ] {
        env.write(file, "id,label\n");
    }
    std::fs::create_dir_all(env.lake().join("items/sub")).expect("mkdir");
    std::os::unix::fs::symlink("a.csv", env.lake().join("items/link.csv")).expect("symlink");

    let hidden = state(&env, "lake/items/.hidden.csv", 1);
    assert_eq!(hidden["state"], "ignored");
    assert_eq!(hidden["rule"], "hidden");
    assert_eq!(hidden["name"], ".hidden.csv");
    assert_eq!(hidden["path"], "items/.hidden.csv");
    // The same file named relative to the lake, and absolutely.
    assert_eq!(state(&env, "items/.hidden.csv", 1)["file"], hidden["file"]);
    let absolute = env.lake().join("items/.hidden.csv");
    assert_eq!(state(&env, &absolute, 1)["path"], "items/.hidden.csv");

    let staging = state(&env, "lake/items/_staging/x.csv", 1);
    assert_eq!(
        (&staging["rule"], &staging["name"]),
        (&"hidden".into(), &"_staging".into())
    );
    for temporary in ["lake/items/a.csv.part", "lake/items/~lock.csv"] {
        let document = state(&env, temporary, 1);
        assert_eq!(document["state"], "ignored", "{temporary}");
        assert_eq!(document["rule"], "temporary", "{temporary}");
    }
    let glob = state(&env, "lake/items/old.bak", 1);
    assert_eq!(
        (&glob["rule"], &glob["pattern"]),
        (&"glob".into(), &"*.bak".into())
    );

    assert_eq!(state(&env, "lake/loose.csv", 1)["state"], "no_dataset");
    assert_eq!(state(&env, "lake/Bad Name/x.csv", 1)["state"], "no_dataset");
    let outside = state(&env, "elsewhere.csv", 1);
    assert_eq!(outside["state"], "outside_lake");
    assert_eq!(outside["lake"], env.lake().display().to_string());
    let directory = state(&env, "lake/items/sub", 1);
    assert_eq!(
        (&directory["state"], &directory["kind"]),
        (&"not_a_file".into(), &"directory".into())
    );
    assert_eq!(state(&env, "lake/items/link.csv", 1)["kind"], "symlink");
    let missing = state(&env, "items/none.csv", 66);
    assert_eq!(missing["state"], "missing");
    assert_eq!(missing["path"], "items/none.csv");

    golden(&env, "lake/items/a.csv.part", "ignored");
    golden(&env, "lake/loose.csv", "no-dataset");
}

#[test]
fn a_file_still_changing_says_when_it_will_be_ready() {
    let env = env_with(&config("auto").replace("settle = \"300ms\"", "settle = \"3h\""));
    // Changed two hours ago, so that the sentence (and its wrapping) is
    // the same in every run.
    let file = env.write("lake/items/a.csv", items(1, 1));
    std::fs::File::options()
        .write(true)
        .open(&file)
        .expect("open")
        .set_modified(std::time::SystemTime::now() - Duration::from_secs(7200))
        .expect("set the modification time");
    let document = state(&env, "lake/items/a.csv", 1);
    assert_eq!(document["state"], "settling");
    assert_eq!(document["settle_ms"], 10_800_000);
    let time = |key: &str| -> jiff::Timestamp {
        document[key].as_str().expect(key).parse().expect("a time")
    };
    assert_eq!(
        time("ready_at").duration_since(time("modified_at")),
        jiff::SignedDuration::from_hours(3),
        "ready at its mtime plus settle"
    );
    assert!(time("ready_at") > jiff::Timestamp::now());
    golden(&env, "lake/items/a.csv", "settling");

    // A clock ahead: the daemon counts settle from when it sees the file.
    let env = env_with(&config("auto").replace("settle = \"300ms\"", "settle = \"2s\""));
    let ahead = env.write("lake/items/b.csv", items(1, 1));
    std::fs::File::options()
        .write(true)
        .open(&ahead)
        .expect("open")
        .set_modified(std::time::SystemTime::now() + Duration::from_secs(3600))
        .expect("set the modification time");
    let before = jiff::Timestamp::now();
    let document = state(&env, "lake/items/b.csv", 1);
    assert_eq!(document["state"], "settling");
    assert!(
        document["reason"]
            .as_str()
            .is_some_and(|reason| reason.contains("is in the future")),
        "{document}"
    );
    let ready_at: jiff::Timestamp = document["ready_at"]
        .as_str()
        .expect("ready_at")
        .parse()
        .expect("a time");
    let after = jiff::Timestamp::now();
    assert!(
        ready_at >= before + jiff::SignedDuration::from_secs(2)
            && ready_at <= after + jiff::SignedDuration::from_secs(2),
        "settle from now, not from the mtime: {ready_at}"
    );
}

#[test]
fn marker_readiness_names_the_marker_awaited_and_refuses_a_false_one() {
    let marker = config("auto").replace("settle = \"300ms\"", "ready = \"marker\"");
    let env = env_with(&marker);
    env.write("lake/items/a.csv", items(1, 1));
    env.write("lake/items/b.csv", items(2, 1));
    env.write("lake/items/b.csv.done", "");

    let waiting = state(&env, "lake/items/a.csv", 1);
    assert_eq!(waiting["state"], "no_marker");
    assert_eq!(waiting["marker"], "items/a.csv.done");
    let marks = state(&env, "lake/items/b.csv.done", 1);
    assert_eq!(marks["state"], "marker");
    assert_eq!(marks["data_file"], "items/b.csv");
    assert_eq!(marks["object"], Value::Null);
    assert_eq!(state(&env, "lake/items/b.csv", 1)["state"], "ready");
    golden(&env, "lake/items/a.csv", "no-marker");
    env.run(["run", "--once"]).expect_code(75);
    assert_eq!(state(&env, "lake/items/b.csv", 0)["state"], "done");
    let marks = state(&env, "lake/items/b.csv.done", 1);
    assert!(marks["object"].is_i64(), "{marks}");
    golden(&env, "lake/items/b.csv.done", "marker");

    env.write("lake/items/c.csv", items(3, 1));
    env.write("lake/items/c.csv.done", "size=999\n");
    let refused = state(&env, "lake/items/c.csv", 1);
    assert_eq!(refused["state"], "marker_mismatch");
    assert_eq!(refused["object"], Value::Null, "not registered yet");
    assert!(
        refused["error"]
            .as_str()
            .is_some_and(|error| error.contains("declares 999 bytes")),
        "{refused}"
    );
    env.run(["run", "--once"]).expect_code(1);
    let refused = state(&env, "lake/items/c.csv", 1);
    assert_eq!(refused["state"], "marker_mismatch");
    assert!(refused["object"].is_i64(), "registered now: {refused}");
}

#[test]
fn a_dataset_with_no_table_and_no_handler_is_never_processed() {
    let env = env_with(&config("auto"));
    settled(&env.write("lake/logs/x.log", "hello\n"));
    let document = state(&env, "lake/logs/x.log", 1);
    assert_eq!(document["state"], "unhandled");
    assert_eq!(document["dataset"], "logs");
    assert!(
        document["schema"]
            .as_str()
            .is_some_and(|schema| schema.ends_with("warehouse-schema/logs.json")),
        "{document}"
    );
    env.run(["run", "--once"]).expect_code(0);
    let registered = state(&env, "lake/logs/x.log", 1);
    assert_eq!(registered["state"], "unhandled");
    assert!(registered["object"].is_i64(), "{registered}");
    assert_eq!(registered["jobs"], serde_json::json!([]));
    // status, files and show say the same.
    let show = env.run(["show", "lake/logs/x.log", "--json"]);
    let show: Value = serde_json::from_str(&show.stdout).expect("JSON");
    assert_eq!(show["object"]["state"], "unhandled");
    let files = env.run(["files", "--state", "unhandled", "--json"]);
    let files: Value = serde_json::from_str(&files.stdout).expect("JSON");
    assert_eq!(files["total"], 1);
    let status = env.run(["status", "--json"]);
    let status: Value = serde_json::from_str(&status.stdout).expect("JSON");
    let logs = status["datasets"]
        .as_array()
        .and_then(|datasets| datasets.iter().find(|dataset| dataset["name"] == "logs"))
        .expect("the logs dataset");
    assert_eq!((&logs["unhandled"], &logs["done"]), (&1.into(), &0.into()));
}

#[test]
fn a_ready_file_says_whether_a_daemon_will_take_it() {
    let env = env_with(&config("auto"));
    settled(&env.write("lake/items/a.csv", items(1, 1)));
    let alone = state(&env, "lake/items/a.csv", 1);
    assert_eq!(alone["state"], "ready");
    assert_eq!(alone["daemon"]["running"], false);
    assert!(
        alone["hints"][0]
            .as_str()
            .is_some_and(|hint| hint.contains("run --once")),
        "{alone}"
    );
    golden(&env, "lake/items/a.csv", "ready-no-daemon");

    // Hold the daemon lock as a daemon does.
    let lock_path = env.root().join("warehouse.db.lock");
    let mut lock = std::fs::File::create(&lock_path).expect("lock file");
    lock.try_lock().expect("the lock is free");
    std::io::Write::write_all(&mut lock, b"pid 4242\n").expect("write");
    let watched = state(&env, "lake/items/a.csv", 1);
    assert_eq!(watched["state"], "ready");
    assert_eq!(
        watched["daemon"],
        serde_json::json!({"running": true, "pid": 4242, "mode": "daemon"})
    );
    assert!(
        watched["reason"]
            .as_str()
            .is_some_and(|reason| reason.contains("picks it up"))
    );
    // Asking took nothing from the holder.
    let other = std::fs::File::open(&lock_path).expect("open");
    assert!(other.try_lock_shared().is_err(), "the lock is still held");
    assert_eq!(
        std::fs::read_to_string(&lock_path).expect("read"),
        "pid 4242\n"
    );
}

#[test]
fn processed_files_duplicates_and_changed_content() {
    let env = env_with(&config("auto"));
    settled(&env.write("lake/items/a.csv", items(1, 2)));
    env.run(["run", "--once"]).expect_code(0);

    let done = state(&env, "lake/items/a.csv", 0);
    assert_eq!(done["state"], "done");
    assert_eq!(
        (&done["rows_loaded"], &done["rows_rejected"]),
        (&2.into(), &0.into())
    );
    assert_eq!(done["jobs"][0]["handler"], "loader");
    assert_eq!(done["jobs"][0]["state"], "done");
    let id = done["object"].as_i64().expect("object id");
    golden(&env, "lake/items/a.csv", "done");
    settled(&env.write("lake/items/bad.csv", "id,label\nx,y\n100,z\n"));
    env.run(["run", "--once"]).expect_code(1);
    let failed = state(&env, "lake/items/bad.csv", 0);
    assert_eq!(failed["state"], "failed");
    assert_eq!(failed["rows_rejected"], 1);

    // The same content under another name: a duplicate, before and after.
    settled(&env.write("lake/items/copy.csv", items(1, 2)));
    let duplicate = state(&env, "lake/items/copy.csv", 0);
    assert_eq!(duplicate["state"], "duplicate");
    assert_eq!(
        (&duplicate["duplicate_of"], &duplicate["object"]),
        (&id.into(), &Value::Null)
    );
    env.run(["run", "--once"]).expect_code(0);
    let duplicate = state(&env, "lake/items/copy.csv", 0);
    assert_eq!(duplicate["duplicate_of"], id);
    assert!(duplicate["object"].is_i64());

    // Touched: the same content is the same object.
    let file = env.lake().join("items/a.csv");
    std::fs::File::options()
        .write(true)
        .open(&file)
        .expect("open")
        .set_modified(std::time::SystemTime::now() - Duration::from_secs(30))
        .expect("touch");
    assert_eq!(state(&env, "lake/items/a.csv", 0)["object"], id);
    // Rewritten: new content, not registered yet.
    settled(&env.write("lake/items/a.csv", items(10, 3)));
    let changed = state(&env, "lake/items/a.csv", 1);
    assert_eq!(changed["state"], "ready");
    assert_eq!(
        changed["previous"],
        serde_json::json!({"object": id, "state": "done"})
    );
}

#[test]
fn a_failing_handler_is_waiting_for_its_retry_then_dead_then_waiting_when_retried() {
    let env = TestEnv::new();
    env.write("warehouse-schema/items.json", crate::daemon::ITEMS);
    let slow = handler_config(
        "auto",
        "echo 'no such customer' >&2; exit 3",
        "retries = 3\n",
    )
    .replace(
        "backoff = \"100ms\"\nmax_backoff = \"200ms\"\n",
        "backoff = \"1h\"\nmax_backoff = \"2h\"\n",
    );
    env.write("droplake.toml", &slow);
    settled(&drop_in(&env, "items/a.csv", &items(1, 1)));
    env.run(["run", "--once"]).expect_code(75);
    let waiting = state(&env, "lake/items/a.csv", 1);
    assert_eq!(waiting["state"], "retry");
    let at: jiff::Timestamp = waiting["next_attempt_at"]
        .as_str()
        .expect("a time")
        .parse()
        .expect("time");
    assert!(
        at > jiff::Timestamp::now() + jiff::SignedDuration::from_mins(20),
        "{at}"
    );
    let probe = &waiting["jobs"][1];
    assert_eq!(
        (&probe["handler"], &probe["state"], &probe["attempts"]),
        (&"probe".into(), &"retry".into(), &1.into())
    );
    assert!(
        probe["error"]
            .as_str()
            .is_some_and(|error| error.contains("no such customer"))
    );

    env.write("droplake.toml", slow.replace("retries = 3", "retries = 0"));
    env.run(["retry", "lake/items/a.csv"]).expect_code(0);
    let pending = state(&env, "lake/items/a.csv", 1);
    assert_eq!(pending["state"], "waiting", "pending, and nothing runs");
    let listed = env.run(["files", "--json"]);
    let listed: Value = serde_json::from_str(&listed.stdout).expect("JSON");
    assert_eq!(listed["objects"][0]["state"], "waiting", "files agrees");
    assert_eq!(pending["jobs"][1]["state"], "pending");
    env.run(["run", "--once"]).expect_code(1);
    let dead = state(&env, "lake/items/a.csv", 1);
    assert_eq!(dead["state"], "dead");
    assert_eq!(dead["jobs"][1]["attempts"], 2);
    assert!(
        dead["reason"]
            .as_str()
            .is_some_and(|reason| reason.contains("dead after 2 attempts"))
    );
    assert!(
        dead["hints"].to_string().contains("droplake retry"),
        "{dead}"
    );
    golden(&env, "lake/items/a.csv", "dead");
}

#[test]
fn hostile_names_are_explained_byte_for_byte() {
    let env = env_with(&config("auto"));
    let dir = env.lake().join("items");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let names: [&[u8]; 3] = [b"caf\xe9.csv", b"new\nline.csv", b"-rf .csv"];
    for (n, name) in names.iter().enumerate() {
        let file = dir.join(OsStr::from_bytes(name));
        std::fs::write(&file, items(n as u64 * 10, 1)).expect("write");
        settled(&file);
    }
    for name in names {
        let file = dir.join(OsStr::from_bytes(name));
        assert_eq!(state(&env, &file, 1)["state"], "ready", "{file:?}");
    }
    env.run(["run", "--once"]).expect_code(0);
    for name in names {
        let file = dir.join(OsStr::from_bytes(name));
        assert_eq!(state(&env, &file, 0)["state"], "done", "{file:?}");
        // Relative to the lake, as raw bytes too.
        let relative = Path::new("items").join(OsStr::from_bytes(name));
        assert_eq!(state(&env, &relative, 0)["state"], "done");
    }
    assert_eq!(
        state(&env, dir.join(OsStr::from_bytes(names[0])), 0)["path"],
        "items/caf\u{fffd}.csv"
    );
    let human = env.run([
        OsStr::new("why"),
        dir.join(OsStr::from_bytes(names[1])).as_os_str(),
    ]);
    human.expect_code(0);
    assert!(
        human.stdout.starts_with("items/new\\nline.csv: done\n"),
        "{}",
        human.stdout
    );
}

#[test]
fn an_object_behind_the_dead_head_of_an_ordered_dataset_is_held_back_not_in_progress() {
    let env = TestEnv::new();
    env.write("warehouse-schema/items.json", crate::daemon::ITEMS);
    let script = "case \"$1\" in *1-bad*) exit 1;; esac";
    let config = handler_config("auto", script, "ordered = true\nretries = 0\n").replace(
        "settle = \"300ms\"\n",
        "settle = \"300ms\"\norder = \"name\"\n",
    );
    env.write("droplake.toml", config);
    for (id, name) in [(1, "0-good.csv"), (2, "1-bad.csv"), (3, "2-later.csv")] {
        settled(&env.write(format!("lake/items/{name}"), items(id, 1)));
    }
    env.run(["run", "--once"]).expect_code(1);
    let bad = state(&env, "lake/items/1-bad.csv", 1);
    assert_eq!(bad["state"], "dead");
    let head = bad["object"].as_i64().expect("an object");
    let held = state(&env, "lake/items/2-later.csv", 1);
    assert_eq!(held["state"], "held_back", "{held}");
    assert_eq!(
        held["held_by"],
        serde_json::json!({"object": head, "handler": "probe", "state": "dead"})
    );
    assert!(
        held["hints"]
            .to_string()
            .contains(&format!("droplake retry {head}")),
        "{held}"
    );
    // Every command calls it waiting: jobs remain, none runs.
    let show = env.run(["show", "lake/items/2-later.csv", "--json"]);
    let show: Value = serde_json::from_str(&show.stdout).expect("JSON");
    assert_eq!(show["object"]["state"], "waiting");
}
