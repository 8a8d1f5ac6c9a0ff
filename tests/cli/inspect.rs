//! `droplake status`, `files` and `show`: real states built by `run --once`
//! (one run per object, so ids are fixed), read back for people and for
//! programs.
//!
//! People's output is compared with golden files in `tests/cli/golden/`
//! after [`normalise`] has replaced what changes from run to run. To accept
//! a deliberate change, run `UPDATE_GOLDEN=1 cargo test --test cli inspect`
//! and review the diff of the golden files. Programs' output is checked
//! against the keys `docs/inspect.md` documents, read from that page.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::{ITEMS, Run, TestEnv, drop_settled};

/// `items` is loaded and handed to `probe`, which fails on names holding
/// `bad` (once more after a short backoff, then dead); `notes` has no table
/// and a handler, `later`, that fails and retries only in an hour.
const CONFIG: &str = r#"
[datasets.items]
settle = "300ms"
receipts = "receipts"
retain = "1s"
archive = "archive"

[[handlers]]
name = "probe"
datasets = ["items"]
command = ["/bin/sh", "-c", "case \"$1\" in *bad*) echo 'looking up the customer'; echo 'no such customer' >&2; exit 3;; esac", "probe", "{path}"]
after = ["loader"]
retries = 1
backoff = "100ms"
max_backoff = "200ms"

[[handlers]]
name = "later"
datasets = ["notes"]
command = ["/bin/sh", "-c", "exit 1"]
retries = 3
backoff = "1h"
max_backoff = "2h"
"#;

/// Five objects, one run each:
/// 1. `items/good.csv`: done (then archived by retention);
/// 2. `items/bad.csv`: a row rejected, and `probe` dead after two attempts;
/// 3. `items/copy.csv`: a duplicate of 1;
/// 4. `items/partial.csv`: failed, a row rejected (then archived);
/// 5. `notes/n.txt`: waiting, `later` to retry in an hour.
fn scenario() -> TestEnv {
    let env = TestEnv::new();
    env.write("warehouse-schema/items.json", ITEMS);
    env.write("droplake.toml", CONFIG);
    let good = "id,label\n1,one\n2,two\n";
    drop_settled(&env, "items/good.csv", good);
    env.run(["run", "--once"]).expect_code(0);
    drop_settled(&env, "items/bad.csv", "id,label\n3,three\nx,y\n");
    env.run(["run", "--once"]).expect_code(75);
    // probe's retry is due after at most 100ms.
    std::thread::sleep(Duration::from_millis(300));
    env.run(["run", "--once"]).expect_code(1);
    drop_settled(&env, "items/copy.csv", good);
    env.run(["run", "--once"]).expect_code(0);
    drop_settled(&env, "items/partial.csv", "id,label\n4,four\nz,w\n");
    env.run(["run", "--once"]).expect_code(1);
    drop_settled(&env, "notes/n.txt", "a note\n");
    env.run(["run", "--once"]).expect_code(75);
    // retain = "1s": the next run archives what every handler is done with.
    std::thread::sleep(Duration::from_millis(1100));
    env.run(["run", "--once"]).expect_code(75);
    env
}

/// Replaces what changes from run to run, keeping widths where columns
/// line up after it:
/// - the test's temporary directory -> `<ROOT>`;
/// - a time to the second (`2026-11-26T12:00:00Z`) -> `YYYY-MM-DDTHH:MM:SSZ`;
/// - an age (`3s ago`, `1h5m ago`) -> `<AGE> ago`, keeping the width of a
///   right-aligned column (the spaces before it, when there are two or more);
/// - an attempt's duration (`took 12ms`, `took 1.5s`) -> `took <DURATION>`;
/// - a process id (`pid 1234`) -> `pid <PID>`.
fn normalise(env: &TestEnv, text: &str) -> String {
    let mut text = text.to_owned();
    let canonical = env.root().canonicalize().expect("canonical root");
    for root in [canonical.as_path(), env.root()] {
        text = text.replace(&root.display().to_string(), "<ROOT>");
    }
    let age = regex::Regex::new(r"( *)\b(\d+[dhms]){1,2} ago\b").expect("a pattern");
    text = age
        .replace_all(&text, |found: &regex::Captures<'_>| {
            let width = found[0].len();
            if found[1].len() >= 2 && width >= 10 {
                format!("{:>width$}", "<AGE> ago")
            } else {
                format!("{}<AGE> ago", &found[1])
            }
        })
        .into_owned();
    let rules = [
        (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "YYYY-MM-DDTHH:MM:SSZ"),
        (
            r"\btook (\d+ms|\d+\.\d+s|(\d+[dhms]){1,2})",
            "took <DURATION>",
        ),
        (r"\bpid \d+", "pid <PID>"),
    ];
    for (pattern, placeholder) in rules {
        text = regex::Regex::new(pattern)
            .expect("a pattern")
            .replace_all(&text, placeholder)
            .into_owned();
    }
    text
}

/// Compares `actual` with the golden file `name`, or rewrites the file
/// when `UPDATE_GOLDEN` is set.
#[track_caller]
fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/cli/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(&path, actual).expect("write the golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("{}: {error}; UPDATE_GOLDEN=1 writes it", path.display()));
    assert_eq!(
        actual,
        expected,
        "{} differs; if the change is meant, run UPDATE_GOLDEN=1 cargo test --test cli inspect\n{actual}",
        path.display()
    );
}

/// Asserts every line fits 80 columns and holds no escape code.
#[track_caller]
fn fits_80_columns_without_colour(text: &str) {
    for line in text.lines() {
        assert!(
            line.chars().count() <= 80,
            "{} columns: {line}",
            line.chars().count()
        );
        assert!(!line.contains('\u{1b}'), "an escape code: {line:?}");
    }
}

fn json(run: &Run) -> Value {
    run.expect_code(0);
    serde_json::from_str(&run.stdout).expect("one JSON document")
}

fn ids(files: &Value) -> Vec<i64> {
    files["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .map(|object| object["id"].as_i64().expect("an id"))
        .collect()
}

#[test]
fn people_read_status_and_show_in_aligned_lines_of_80_columns() {
    let env = scenario();
    let status = env.run(["status"]);
    status.expect_code(0);
    let text = normalise(&env, &status.stdout);
    fits_80_columns_without_colour(&text);
    golden("status.txt", &text);
    // NO_COLOR changes nothing off a terminal either.
    let no_color = env.command(["status"]).env("NO_COLOR", "1").output();
    let no_color = Run::from(no_color.expect("run"));
    assert_eq!(normalise(&env, &no_color.stdout), text);

    for (id, name) in [("2", "show-dead.txt"), ("5", "show-waiting.txt")] {
        let show = env.run(["show", id]);
        show.expect_code(0);
        let text = normalise(&env, &show.stdout);
        fits_80_columns_without_colour(&text);
        golden(name, &text);
    }

    let files = env.run(["files"]);
    let text = normalise(&env, &files.expect_code(0).stdout);
    fits_80_columns_without_colour(&text);
    golden("files.txt", &text);

    // The older commands print in the same style.
    for args in [&["events", "--after", "0"][..], &["rejects", "items"]] {
        let run = env.run(args);
        let text = normalise(&env, &run.expect_code(0).stdout);
        assert!(text.lines().count() > 2, "{text}");
        fits_80_columns_without_colour(&text);
    }
}

#[test]
fn files_narrow_by_dataset_state_and_time_and_say_when_they_were_cut() {
    let env = scenario();
    let list = |args: &[&str]| {
        let mut all = vec!["files", "--json"];
        all.extend_from_slice(args);
        ids(&json(&env.run(all)))
    };
    assert_eq!(list(&[]), [5, 4, 3, 2, 1], "newest first");
    assert_eq!(list(&["items"]), [4, 3, 2, 1]);
    assert_eq!(list(&["notes"]), [5]);
    for (state, want) in [
        ("dead", 2),
        ("waiting", 5),
        ("done", 1),
        ("failed", 4),
        ("duplicate", 3),
    ] {
        assert_eq!(list(&["--state", state]), [want], "{state}");
    }
    assert!(list(&["--state", "in-progress"]).is_empty());

    let third = json(&env.run(["show", "3", "--json"]));
    let detected = third["object"]["detected_at"].as_str().expect("a time");
    assert_eq!(
        list(&["--since", detected]),
        [5, 4, 3],
        "at or after the time, to the nanosecond"
    );
    assert_eq!(list(&["--since", "1h"]), [5, 4, 3, 2, 1]);
    assert!(list(&["--since", "2099-01-01T00:00:00Z"]).is_empty());
    let bad = env.run(["files", "--since", "last tuesday"]);
    bad.expect_code(64);
    assert!(bad.stderr.contains("30m"), "{}", bad.stderr);

    let cut = json(&env.run(["files", "--json", "--limit", "2"]));
    assert_eq!(ids(&cut), [5, 4]);
    assert_eq!(
        (cut["total"].as_u64(), cut["truncated"].as_bool()),
        (Some(5), Some(true))
    );

    let dead = env.run(["files", "--state", "dead"]);
    let lines: Vec<&str> = dead.expect_code(0).stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert!(
        lines[2].contains("dead") && lines[2].ends_with("items/bad.csv"),
        "{lines:?}"
    );
    assert_eq!(lines[3], "(1 object)");
    let cut = env.run(["files", "--limit", "2"]);
    assert!(
        cut.expect_code(0)
            .stdout
            .ends_with("(2 of 5 shown, newest first; --limit N for more)\n"),
        "{}",
        cut.stdout
    );
}

#[test]
fn json_outputs_have_exactly_the_documented_keys() {
    let env = scenario();
    let mut documents: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    documents.insert("status", vec![json(&env.run(["status", "--json"]))]);
    documents.insert("files", vec![json(&env.run(["files", "--json"]))]);
    documents.insert(
        "show",
        (1..=5)
            .map(|id| json(&env.run(["show", &id.to_string(), "--json"])))
            .collect(),
    );
    let documented = documented_keys();
    let roots: BTreeSet<&str> = documented
        .keys()
        .map(|path| path.split(['.', '[']).next().expect("a root"))
        .collect();
    assert_eq!(roots, BTreeSet::from(["files", "show", "status"]));
    for (path, keys) in &documented {
        let mut segments = path.split('.');
        let root = segments.next().expect("a root");
        let segments: Vec<&str> = segments.collect();
        let mut found = 0;
        for document in &documents[root.trim_end_matches("[]")] {
            for object in objects_at(document, &segments) {
                let actual: BTreeSet<String> = object
                    .as_object()
                    .unwrap_or_else(|| panic!("{path} is an object: {object}"))
                    .keys()
                    .cloned()
                    .collect();
                assert_eq!(&actual, keys, "the keys of {path}");
                found += 1;
            }
        }
        assert!(found > 0, "the scenario shows at least one {path}");
    }

    // A few values, to be sure the keys hold what they say.
    let status = &documents["status"][0];
    assert_eq!(status["daemon"]["running"], false);
    assert!(status["daemon"]["stopped_at"].is_string());
    let items = &status["datasets"][0];
    assert_eq!(items["name"], "items");
    let counts: Vec<u64> = [
        "waiting",
        "in_progress",
        "done",
        "failed",
        "dead",
        "duplicate",
        "total",
    ]
    .iter()
    .map(|key| items[key].as_u64().expect("a count"))
    .collect();
    assert_eq!(counts, [0, 0, 1, 1, 1, 1, 4]);
    assert_eq!(status["datasets"][1]["waiting"], 1, "notes");
    let later = &status["handlers"][0];
    assert_eq!(
        (later["name"].as_str(), later["retry"].as_u64()),
        (Some("later"), Some(1))
    );
    assert_eq!(later["oldest_pending"]["object_id"], 5);
    let probe = &status["handlers"][2];
    assert_eq!(probe["failures_24h"], 2);
    assert_eq!(probe["last_failure"]["object_id"], 2);
    assert_eq!(status["tables"][0]["rows"], 4);

    let dead = &documents["show"][1];
    assert_eq!(dead["object"]["state"], "dead");
    let attempts = &dead["handlers"][1]["attempts"];
    assert_eq!(attempts[0]["exit_code"], 3);
    assert_eq!(attempts[1]["outcome"], "dead");
    assert_eq!(
        attempts[1]["stderr"], "no such customer\n",
        "whole, in JSON"
    );
    assert_eq!(
        dead["rejects"]["command"],
        "droplake rejects items --load 2"
    );
    assert_eq!(dead["receipt"]["accepted"], false);
    let first = &documents["show"][0];
    assert_eq!(first["duplicates"], serde_json::json!([3]));
    assert!(
        first["removed"]["archive"]
            .as_str()
            .is_some_and(|archive| archive.ends_with("archive/items/good.csv")),
        "{}",
        first["removed"]
    );
    assert_eq!(documents["show"][2]["object"]["duplicate_of"], 1);
}

/// The keys `docs/inspect.md` documents, by JSON path: a heading
/// ``#### `status.daemon` `` and then a table whose rows each start with a
/// key in backquotes.
fn documented_keys() -> BTreeMap<String, BTreeSet<String>> {
    let page =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/inspect.md"))
            .expect("docs/inspect.md");
    let mut keys: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in page.lines() {
        if let Some(heading) = line.strip_prefix("#### ") {
            let path = heading.trim().trim_matches('`').to_owned();
            keys.entry(path.clone()).or_default();
            current = Some(path);
        } else if line.starts_with('#') {
            current = None;
        } else if let (Some(path), Some(row)) = (&current, line.strip_prefix("| `"))
            && let Some(end) = row.find('`')
        {
            keys.entry(path.clone())
                .or_default()
                .insert(row[..end].to_owned());
        }
    }
    keys
}

/// The non-null values at `segments` under `value`; a segment ending in
/// `[]` stands for every element of an array.
fn objects_at<'a>(value: &'a Value, segments: &[&str]) -> Vec<&'a Value> {
    let Some((first, rest)) = segments.split_first() else {
        return if value.is_null() {
            Vec::new()
        } else {
            vec![value]
        };
    };
    match first.strip_suffix("[]") {
        Some(key) => value[key]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|element| objects_at(element, rest))
            .collect(),
        None => objects_at(&value[*first], rest),
    }
}

#[test]
fn show_finds_an_object_by_id_or_by_any_path_to_it_and_refuses_what_is_not_one() {
    let env = scenario();
    let by_id = env.run(["show", "2"]);
    by_id.expect_code(0);
    let absolute = env.lake().join("items/bad.csv");
    for path in [
        "items/bad.csv",
        "lake/items/bad.csv",
        "./lake/items/../items/bad.csv",
        absolute.to_str().expect("UTF-8"),
    ] {
        let by_path = env.run(["show", path]);
        assert_eq!(by_path.expect_code(0).stdout, by_id.stdout, "{path}");
        // why reads the argument the same way.
        let why: Value = serde_json::from_str(&env.run(["why", "--json", path]).stdout)
            .expect("why prints JSON");
        assert_eq!(why["object"], 2, "{path}");
    }
    // And so does retry.
    let retried = env.run(["retry", "--json", "./lake/items/../items/bad.csv"]);
    let retried: Value = serde_json::from_str(&retried.stdout).expect("retry prints JSON");
    assert_eq!(retried["reset"][0]["object"], 2, "{retried}");

    let unknown = env.run(["show", "99"]);
    unknown.expect_code(66);
    assert!(
        unknown.stderr.contains("no object 99"),
        "{}",
        unknown.stderr
    );
    let not_an_object = env.run(["show", "items/nothing.csv"]);
    not_an_object.expect_code(66);
    assert!(
        not_an_object.stderr.contains("droplake why PATH"),
        "{}",
        not_an_object.stderr
    );
    let outside = env.run(["show", "/etc/passwd"]);
    outside.expect_code(66);
}

#[test]
fn show_why_and_retry_take_a_name_of_any_bytes_and_find_the_same_object() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let env = TestEnv::new();
    env.write("warehouse-schema/items.json", ITEMS);
    let name = Path::new("items").join(OsStr::from_bytes(b"caf\xe9 \n.csv"));
    drop_settled(&env, &name, "id,label\n1,one\n");
    env.run(["run", "--once"]).expect_code(0);
    for given in [
        name.clone(),
        Path::new("lake").join(&name),
        env.lake().join(&name),
    ] {
        let show = env.run([OsStr::new("show"), OsStr::new("--json"), given.as_os_str()]);
        let show = json(&show);
        assert_eq!(show["object"]["id"], 1, "{given:?}");
        assert_eq!(show["object"]["path"], "items/caf\u{fffd} \n.csv");
        let why = env.run([OsStr::new("why"), OsStr::new("--json"), given.as_os_str()]);
        assert_eq!(json(&why)["object"], 1, "{given:?}");
        let retry = env.run([OsStr::new("retry"), given.as_os_str()]);
        assert!(
            retry
                .expect_code(0)
                .stdout
                .contains("object 1 has no dead job"),
            "{}",
            retry.stdout
        );
    }
}

#[test]
fn a_path_with_new_content_shows_its_newest_object_and_lists_the_others() {
    let env = TestEnv::new();
    env.write("warehouse-schema/items.json", ITEMS);
    drop_settled(&env, "items/a.csv", "id,label\n1,one\n");
    env.run(["run", "--once"]).expect_code(0);
    drop_settled(&env, "items/a.csv", "id,label\n2,two\n");
    env.run(["run", "--once"]).expect_code(0);
    let story = json(&env.run(["show", "items/a.csv", "--json"]));
    assert_eq!(story["object"]["id"], 2);
    assert_eq!(story["same_path"], serde_json::json!([1]));
    let text = env.run(["show", "items/a.csv"]);
    assert!(
        text.expect_code(0)
            .stdout
            .contains("same path  objects 1 (other contents)"),
        "{}",
        text.stdout
    );
}

#[test]
fn before_anything_ran_status_and_files_say_so_and_show_finds_nothing() {
    let env = TestEnv::new();
    env.write("warehouse-schema/items.json", ITEMS);
    let status = env.run(["status"]);
    assert!(
        status
            .expect_code(0)
            .stdout
            .contains("warehouse.db (does not exist yet)"),
        "{}",
        status.stdout
    );
    assert!(status.stdout.contains("none has run on this warehouse"));
    let status = json(&env.run(["status", "--json"]));
    assert_eq!(status["warehouse"]["exists"], false);
    assert_eq!(status["daemon"]["running"], false);
    assert_eq!(status["daemon"]["pid"], Value::Null);
    let files = env.run(["files"]);
    assert!(files.expect_code(0).stdout.starts_with("No objects"));
    assert_eq!(json(&env.run(["files", "--json"]))["total"], 0);
    env.run(["show", "1"]).expect_code(66);
    assert!(
        !env.root().join("warehouse.db").exists(),
        "reading creates nothing"
    );
}

#[test]
fn status_tells_a_running_daemon_from_a_stopped_one() {
    let env = TestEnv::new();
    env.write("warehouse-schema/items.json", ITEMS);
    let mut daemon = env
        .command(["run"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the daemon");
    let deadline = Instant::now() + Duration::from_secs(20);
    let running = loop {
        let status = json(&env.run(["status", "--json"]));
        if status["daemon"]["last_scan_at"].is_string() || Instant::now() > deadline {
            break status;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let daemon_json = &running["daemon"];
    assert_eq!(daemon_json["running"], true, "{daemon_json}");
    assert_eq!(daemon_json["pid"], daemon.id());
    assert!(daemon_json["started_at"].is_string());
    assert_eq!(daemon_json["stopped_at"], Value::Null);
    let text = env.run(["status"]);
    assert!(
        text.expect_code(0)
            .stdout
            .starts_with(&format!("daemon     running (pid {})\n", daemon.id())),
        "{}",
        text.stdout
    );
    // Asking does not disturb it: it still runs and still holds its lock.
    for _ in 0..20 {
        env.run(["status"]).expect_code(0);
    }
    env.run(["run", "--once"]).expect_code(75);

    let stopped = Command::new("kill")
        .args(["-TERM", &daemon.id().to_string()])
        .status()
        .expect("kill");
    assert!(stopped.success());
    assert_eq!(daemon.wait().expect("wait").code(), Some(0));
    let status = json(&env.run(["status", "--json"]));
    assert_eq!(status["daemon"]["running"], false);
    assert!(status["daemon"]["stopped_at"].is_string());
    assert!(
        env.run(["status"])
            .stdout
            .starts_with("daemon     not running\nstopped    ")
    );
}

#[test]
fn colour_only_on_a_terminal_and_never_with_no_color() {
    let env = scenario();
    let on_terminal = |no_color: Option<&str>| -> String {
        let line = format!("'{}' status", env!("CARGO_BIN_EXE_droplake"));
        let mut command = Command::new("script");
        command
            .args(["-qec", &line, "/dev/null"])
            .current_dir(env.root())
            .stdin(Stdio::null())
            .env_remove("NO_COLOR");
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("DROPLAKE_") {
                command.env_remove(key);
            }
        }
        if let Some(value) = no_color {
            command.env("NO_COLOR", value);
        }
        let run = Run::from(command.output().expect("run script(1) for a terminal"));
        run.expect_code(0);
        run.stdout.replace("\r\n", "\n")
    };
    let coloured = on_terminal(None);
    assert!(coloured.contains("\u{1b}["), "{coloured:?}");
    let plain = env.run(["status"]).stdout;
    let stripped = regex::Regex::new("\u{1b}\\[[0-9;]*m")
        .expect("a pattern")
        .replace_all(&coloured, "");
    assert_eq!(normalise(&env, &stripped), normalise(&env, &plain));
    let no_color = on_terminal(Some("1"));
    assert!(!no_color.contains('\u{1b}'), "{no_color:?}");
    assert!(
        on_terminal(Some("")).contains("\u{1b}["),
        "an empty NO_COLOR does not count"
    );
}

#[test]
fn root_is_refused_a_warehouse_another_user_owns_and_told_to_use_sudo_u() {
    use std::os::unix::fs::chown;
    let env = TestEnv::new();
    env.write("warehouse-schema/items.json", ITEMS);
    drop_settled(&env, "items/a.csv", "id,label\n1,one\n");
    env.run(["run", "--once"]).expect_code(0);
    if !rustix::process::geteuid().is_root() {
        // Only root is refused (and only root could give the file away).
        env.run(["status"]).expect_code(0);
        return;
    }
    let warehouse = env.root().join("warehouse.db");
    chown(&warehouse, Some(4242), Some(4242)).expect("give the warehouse away");
    for args in [
        &["status"][..],
        &["files"],
        &["retry", "--dead"],
        &["run", "--once"],
    ] {
        let run = env.run(args);
        run.expect_code(77);
        assert!(
            run.stderr.contains("runs as root") && run.stderr.contains("sudo -u #4242"),
            "{args:?}: {}",
            run.stderr
        );
    }
    chown(&warehouse, Some(0), Some(0)).expect("take it back");
    env.run(["status"]).expect_code(0);
}
