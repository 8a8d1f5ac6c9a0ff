//! Progress bars: drawn on a terminal (a pseudo-terminal made by
//! util-linux's `script`), never on a pipe, and never left behind.

use std::process::{Command, Stdio};

use crate::util::{ITEMS, Run, TestEnv};

/// A lake with the `items` table and a file of `rows` items (about 20
/// bytes a row), with one bad row at the end.
fn env_with_items(rows: u64) -> TestEnv {
    let env = TestEnv::new();
    env.write("warehouse-schema/items.json", ITEMS);
    let mut csv = String::from("id,label\n");
    for id in 1..=rows {
        csv.push_str(&format!("{id},item number {id}\n"));
    }
    csv.push_str("not a number,bad\n");
    env.write("big.csv", csv);
    env
}

/// Runs droplake with `args` inside a pseudo-terminal: standard output and
/// standard error both go to it, and come back together.
fn on_a_terminal(env: &TestEnv, args: &str) -> Run {
    let command = format!("{} {args}", env!("CARGO_BIN_EXE_droplake"));
    let mut script = Command::new("script");
    script
        .args(["--quiet", "--return", "--command", &command, "/dev/null"])
        .current_dir(env.root())
        .env("TERM", "xterm")
        .stdin(Stdio::null());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("DROPLAKE_") {
            script.env_remove(key);
        }
    }
    Run::from(script.output().expect("run script (util-linux)"))
}

/// What each line of `output` ends as: the text after its last carriage
/// return, without escape sequences (which clear lines and move the cursor).
fn final_lines(output: &str) -> Vec<String> {
    output
        .split('\n')
        .map(|line| {
            let line = line.trim_end_matches('\r');
            without_escapes(line.rsplit('\r').next().unwrap_or_default())
        })
        .collect()
}

/// `text` without its CSI escape sequences (`ESC [ ... letter`).
fn without_escapes(text: &str) -> String {
    let mut plain = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
}

fn looks_like_a_bar(text: &str) -> bool {
    text.contains('\r') || text.contains("\u{1b}[") || text.contains("[=") || text.contains("B/s")
}

#[test]
fn a_large_insert_on_a_terminal_shows_a_bar_then_only_its_report() {
    let env = env_with_items(400_000);
    let run = on_a_terminal(&env, "insert items big.csv");
    run.expect_code(1);
    let output = &run.stdout;
    assert!(
        output.contains("B/s") && output.contains("big.csv"),
        "a bar of bytes with its rate and the file's name: {output:?}"
    );
    assert!(
        output.contains("\r\u{1b}[2K"),
        "the bar is redrawn in place"
    );
    let screen = final_lines(output);
    let report = screen
        .iter()
        .find(|line| line.contains("rows loaded"))
        .expect("the report");
    assert!(
        report.ends_with("big.csv: partial: 400000 rows loaded, 1 rejected (load 1)")
            && report.starts_with('/'),
        "the report line is whole, with nothing of the bar on it: {report:?}"
    );
    assert!(
        !screen.iter().any(|line| line.contains("B/s")),
        "the bar was cleared: {screen:#?}"
    );
}

#[test]
fn without_a_terminal_or_with_machine_logs_there_is_no_bar() {
    let env = env_with_items(200_000);
    let run = env.run(["insert", "items", "big.csv"]);
    run.expect_code(1);
    assert!(
        !looks_like_a_bar(&run.stderr) && !looks_like_a_bar(&run.stdout),
        "stdout: {:?}\nstderr: {:?}",
        run.stdout,
        run.stderr
    );
    assert!(run.stderr.is_empty(), "{:?}", run.stderr);

    // On a terminal, but with logs for machines: no bar either.
    let env = env_with_items(200_000);
    let run = on_a_terminal(&env, "--log-format json insert items big.csv");
    run.expect_code(1);
    assert!(!run.stdout.contains("B/s"), "{:?}", run.stdout);
    assert!(
        run.stdout
            .contains("big.csv: partial: 200000 rows loaded, 1 rejected (load 1)"),
        "{:?}",
        run.stdout
    );
}

#[test]
fn load_and_run_once_on_a_terminal_count_objects_and_keep_their_output() {
    let env = env_with_items(100_000);
    for name in ["a.csv", "b.csv", "c.csv"] {
        let mut csv = String::from("id,label\n");
        let first = name.as_bytes()[0] as u64 * 1_000_000;
        for id in first..first + 50_000 {
            csv.push_str(&format!("{id},x\n"));
        }
        env.write(format!("lake/items/{name}"), csv);
    }
    let run = on_a_terminal(&env, "load");
    run.expect_code(0);
    assert!(run.stdout.contains("/3 objects"), "{:?}", run.stdout);
    let screen = final_lines(&run.stdout);
    let reports: Vec<&String> = screen
        .iter()
        .filter(|line| line.contains(": loaded: 50000 rows loaded, 0 rejected"))
        .collect();
    assert_eq!(reports.len(), 3, "{screen:#?}");
    assert!(
        reports.iter().all(|line| line.starts_with('/')),
        "{reports:#?}"
    );
    assert_eq!(
        screen
            .iter()
            .rev()
            .find(|line| !line.is_empty())
            .map(String::as_str),
        Some("3 new object(s) loaded from 1 dataset(s)"),
        "{screen:#?}"
    );

    // A batch: its objects, finished out of those to do, among its logs.
    let env = env_with_items(10);
    for (id, name) in ["a.csv", "b.csv"].iter().enumerate() {
        env.write(format!("lake/items/{name}"), format!("id,label\n{id},x\n"));
    }
    let run = on_a_terminal(&env, "run --once");
    run.expect_code(0);
    assert!(run.stdout.contains(" objects"), "{:?}", run.stdout);
    let screen = final_lines(&run.stdout);
    assert!(
        screen
            .last()
            .is_some_and(|line| line.is_empty() || !line.contains(" objects")),
        "{screen:#?}"
    );
    assert!(
        screen
            .iter()
            .any(|line| line.ends_with("The daemon stopped. ended=Done")),
        "log lines stay whole: {screen:#?}"
    );
}
