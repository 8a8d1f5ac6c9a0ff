//! Shell completions and man pages: generated from the command line's
//! definition, and available even where the configuration is broken.

use crate::util::TestEnv;

/// Every subcommand, as a user types it.
const SUBCOMMANDS: [&str; 20] = [
    "run",
    "events",
    "status",
    "files",
    "show",
    "put",
    "config",
    "insert",
    "load",
    "query",
    "rejects",
    "why",
    "retry",
    "validate",
    "schema",
    "copybook",
    "decode",
    "export",
    "completions",
    "man",
];

/// A working directory whose droplake.toml does not even parse: completions
/// and man pages must not read it.
fn broken_config() -> TestEnv {
    let env = TestEnv::new();
    env.write("droplake.toml", "lake = [\n");
    env.run(["config"]).expect_code(78);
    env
}

/// The first line after the roff preamble (`.ie`/`.el`, defining the
/// apostrophe string) that clap_mangen puts before the title.
fn title_line(page: &str) -> &str {
    page.lines()
        .find(|line| !line.starts_with(".ie ") && !line.starts_with(".el "))
        .unwrap_or_default()
}

#[test]
fn bash_completion_names_every_subcommand_and_is_valid_bash() {
    let env = broken_config();
    let run = env.run(["completions", "bash"]);
    run.expect_code(0);
    // The words offered after `droplake `: the `opts=` line of its case.
    let top_level: Vec<&str> = run
        .stdout
        .lines()
        .skip_while(|line| line.trim() != "droplake)")
        .find_map(|line| line.trim().strip_prefix("opts=\""))
        .expect("the top-level case")
        .trim_end_matches('"')
        .split(' ')
        .collect();
    for name in SUBCOMMANDS {
        assert!(top_level.contains(&name), "{name} not in {top_level:?}");
        assert!(
            run.stdout.contains(&format!("droplake,{name})")),
            "no case for {name}"
        );
    }
    let script = env.write("droplake.bash", &run.stdout);
    let check = std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .expect("run bash -n");
    assert!(
        check.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn zsh_completion_is_a_compdef_for_droplake() {
    let env = broken_config();
    let run = env.run(["completions", "zsh"]);
    run.expect_code(0);
    assert!(
        run.stdout.starts_with("#compdef droplake\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn fish_completion_completes_droplake_and_its_subcommands() {
    let env = broken_config();
    let run = env.run(["completions", "fish"]);
    run.expect_code(0);
    assert!(
        run.stdout.contains("complete -c droplake"),
        "{}",
        run.stdout
    );
    for name in SUBCOMMANDS {
        assert!(
            run.stdout.contains(&format!("-a \"{name}\"")),
            "{name} missing from:\n{}",
            run.stdout
        );
    }
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let env = TestEnv::new();
    let run = env.run(["completions", "tcsh"]);
    run.expect_code(64);
    assert!(run.stderr.contains("bash"), "{}", run.stderr);
}

#[test]
fn the_man_page_is_roff_with_a_title_and_names_every_subcommand() {
    let env = broken_config();
    let run = env.run(["man"]);
    run.expect_code(0);
    assert!(
        title_line(&run.stdout).starts_with(".TH droplake 1"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains(".SH SUBCOMMANDS"), "{}", run.stdout);
    for name in SUBCOMMANDS {
        assert!(
            run.stdout.contains(&format!("droplake\\-{name}(1)")),
            "{name} missing from:\n{}",
            run.stdout
        );
    }
}

#[test]
fn man_dir_writes_one_page_per_command_and_nothing_else() {
    let env = broken_config();
    let run = env.run(["man", "--dir", "share/man/man1"]);
    run.expect_code(0);
    assert_eq!(run.stdout, "");
    let dir = env.root().join("share/man/man1");
    let mut written: Vec<String> = std::fs::read_dir(&dir)
        .expect("the directory was created")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    written.sort();
    let mut expected: Vec<String> = SUBCOMMANDS
        .iter()
        .map(|name| format!("droplake-{name}.1"))
        .chain(["droplake.1".to_string()])
        .chain(
            ["apply", "check", "diff", "from-copybook"]
                .iter()
                .map(|name| format!("droplake-schema-{name}.1")),
        )
        .chain(["droplake-copybook-layout.1".to_string()])
        .collect();
    expected.sort();
    assert_eq!(written, expected);
    let run_page = std::fs::read_to_string(dir.join("droplake-run.1")).expect("read");
    assert!(
        title_line(&run_page).starts_with(".TH droplake-run 1"),
        "{run_page}"
    );
    assert!(run_page.contains("\\-\\-once"), "{run_page}");
}

#[test]
fn man_dir_that_cannot_be_created_is_a_cant_create_error() {
    let env = TestEnv::new();
    env.write("occupied", "a file, not a directory");
    let run = env.run(["man", "--dir", "occupied/man1"]);
    run.expect_code(73);
    assert!(run.stderr.contains("occupied/man1"), "{}", run.stderr);
}
