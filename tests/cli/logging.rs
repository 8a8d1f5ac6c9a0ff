//! `--log-format`: journald lines when stderr is the journal, JSON for shippers.

use std::os::unix::fs::MetadataExt;

use crate::util::{TestEnv, settled};

/// A lake with one settled CSV for the `items` table, so `run --once` logs.
fn tiny_lake() -> TestEnv {
    let env = TestEnv::new();
    env.write(
        "warehouse-schema/items.json",
        r#"{"fields": [{"name": "id", "type": "integer"}, {"name": "label", "type": "string"}]}"#,
    );
    let file = env.write(
        "lake/items/dt=2026-11-01/items.csv",
        "id,label\n1,one\n2,two\n",
    );
    settled(&file);
    env
}

#[test]
fn json_format_writes_one_object_per_line_with_level_and_message() {
    let env = tiny_lake();
    let run = env.run(["--log-format", "json", "run", "--once"]);
    run.expect_code(0);
    let lines: Vec<serde_json::Value> = run
        .stderr
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    assert!(!lines.is_empty(), "run --once logs at info");
    for line in &lines {
        assert!(line["level"].is_string(), "{line}");
        assert!(line["timestamp"].is_string(), "{line}");
        assert!(line["message"].is_string(), "{line}");
    }
    assert!(
        lines.iter().any(|line| line["level"] == "INFO"),
        "{}",
        run.stderr
    );
}

#[test]
fn stderr_that_is_the_journal_gets_priority_prefixed_lines() {
    let env = tiny_lake();
    let stderr_path = env.root().join("journal");
    let stderr = std::fs::File::create(&stderr_path).expect("create");
    let metadata = stderr.metadata().expect("stat");
    let output = env
        .command(["run", "--once"])
        .env(
            "JOURNAL_STREAM",
            format!("{}:{}", metadata.dev(), metadata.ino()),
        )
        .env_remove("NO_COLOR")
        .stderr(stderr)
        .output()
        .expect("run droplake");
    assert_eq!(output.status.code(), Some(0));
    let log = std::fs::read_to_string(&stderr_path).expect("read the log");
    assert!(!log.is_empty(), "run --once logs at info");
    assert!(!log.contains('\u{1b}'), "no colours: {log:?}");
    for line in log.lines() {
        assert!(
            ["<3>", "<4>", "<6>", "<7>"]
                .iter()
                .any(|prefix| line.starts_with(prefix)),
            "a priority prefix: {line:?}"
        );
        // No timestamp of its own: the journal stamps each line.
        assert!(!line.contains("Z "), "no timestamp: {line:?}");
        assert!(
            !line[3..].starts_with(|c: char| c.is_ascii_digit()),
            "no timestamp: {line:?}"
        );
    }
    assert!(log.lines().any(|line| line.starts_with("<6>")), "{log}");
}

#[test]
fn a_stale_journal_stream_is_ignored() {
    let env = tiny_lake();
    let run = {
        let mut command = env.command(["run", "--once"]);
        command.env("JOURNAL_STREAM", "1:1");
        crate::util::Run::from(command.output().expect("run droplake"))
    };
    run.expect_code(0);
    assert!(!run.stderr.is_empty());
    assert!(
        !run.stderr.lines().any(|line| line.starts_with("<6>")),
        "stderr is a pipe, not the journal: {}",
        run.stderr
    );
}
