//! `droplake put`: atomic, durable writes into the lake, and every refusal
//! with its exit code and no residue.

use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime};

use sha2::{Digest, Sha256};

use crate::util::{TestEnv, today_partition};

fn sha256(content: &[u8]) -> String {
    hex::encode(Sha256::digest(content))
}

#[test]
fn put_stores_a_file_in_todays_partition_and_prints_path_size_and_sha256() {
    let env = TestEnv::new();
    env.write("orders.csv", "id,amount\n1,9.50\n");
    let run = env.run(["put", "orders", "orders.csv"]);
    run.expect_code(0);

    let object = format!("{}/orders.csv", today_partition("orders"));
    assert_eq!(env.lake_files(), std::slice::from_ref(&object));
    assert_eq!(
        std::fs::read(env.lake().join(&object)).expect("object"),
        b"id,amount\n1,9.50\n"
    );
    let expected = format!(
        "{}  17 bytes  sha256:{}\n",
        env.display(&format!("lake/{object}")),
        sha256(b"id,amount\n1,9.50\n")
    );
    assert_eq!(run.stdout, expected);
}

#[test]
fn put_reads_standard_input_under_the_given_name() {
    let env = TestEnv::new();
    let mut child = env
        .command(["put", "orders", "-", "--name", "from-stdin.csv", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let content = "id\n".to_string() + &"42\n".repeat(100_000);
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(content.as_bytes())
        .expect("feed stdin");
    let run = crate::util::Run::from(child.wait_with_output().expect("wait"));
    run.expect_code(0);

    let object = format!("{}/from-stdin.csv", today_partition("orders"));
    assert_eq!(
        std::fs::read(env.lake().join(&object)).expect("object"),
        content.as_bytes()
    );
    let printed = run.json_lines();
    assert_eq!(
        printed,
        [serde_json::json!({
            "path": env.display(&format!("lake/{object}")),
            "size": content.len(),
            "sha256": sha256(content.as_bytes()),
        })]
    );
}

#[test]
fn put_of_several_files_prints_one_json_object_per_file() {
    let env = TestEnv::new();
    env.write("a.csv", "a");
    env.write("sub/b.csv", "bb");
    let run = env.run(["put", "orders", "a.csv", "sub/b.csv", "--json"]);
    run.expect_code(0);
    let printed = run.json_lines();
    assert_eq!(printed.len(), 2);
    for (json, (name, size)) in printed.iter().zip([("a.csv", 1), ("b.csv", 2)]) {
        let keys: Vec<&str> = json
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["path", "size", "sha256"]);
        assert!(
            json["path"]
                .as_str()
                .expect("path")
                .ends_with(&format!("/{name}")),
            "{json}"
        );
        assert_eq!(json["size"], size);
    }
}

#[test]
fn put_never_overwrites_an_object_unless_asked_to_replace() {
    let env = TestEnv::new();
    env.write("x.csv", "first");
    env.run(["put", "orders", "x.csv"]).expect_code(0);
    env.write("x.csv", "second");

    let run = env.run(["put", "orders", "x.csv"]);
    run.expect_code(73);
    assert!(
        run.stderr.contains("already exists") && run.stderr.contains("--replace"),
        "{}",
        run.stderr
    );
    let object = env
        .lake()
        .join(format!("{}/x.csv", today_partition("orders")));
    assert_eq!(std::fs::read(&object).expect("object"), b"first");
    assert_eq!(
        env.lake_files().len(),
        1,
        "no temporary file is left: {:?}",
        env.lake_files()
    );

    env.run(["put", "orders", "x.csv", "--replace"])
        .expect_code(0);
    assert_eq!(std::fs::read(&object).expect("object"), b"second");
    assert_eq!(env.lake_files().len(), 1);
}

#[test]
fn refusals_exit_with_their_code_and_leave_nothing_behind() {
    let env = TestEnv::new();
    env.write("ok.csv", "x");
    std::fs::create_dir(env.root().join("a-directory")).expect("mkdir");
    let cases: [(&[&str], i32, &str); 9] = [
        (
            &["put", "orders", "missing.csv"],
            66,
            "missing.csv: cannot open",
        ),
        (&["put", "orders", "a-directory"], 66, "is a directory"),
        (&["put", "orders", "-"], 64, "needs --name"),
        (
            &["put", "orders", "ok.csv", "ok.csv", "--name", "x.csv"],
            64,
            "--name applies to a single file",
        ),
        (&["put", "bad/name", "ok.csv"], 64, "one directory level"),
        (
            &["put", "_hidden", "ok.csv"],
            64,
            "start with a letter or digit",
        ),
        (
            &["put", "orders", "ok.csv", "--name", ".secret"],
            64,
            "choose another name",
        ),
        (
            &["put", "orders", "ok.csv", "--name", "ok.csv.part"],
            64,
            "temporary name",
        ),
        (&["put", "orders"], 64, "FILE"),
    ];
    for (args, code, message) in cases {
        let run = env.run(args);
        assert_eq!(run.code, code, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
        assert_eq!(
            env.lake_files(),
            Vec::<String>::new(),
            "{args:?} left files in the lake"
        );
        assert_eq!(
            env.files_outside_lake(),
            ["ok.csv"],
            "{args:?} left files outside the lake"
        );
    }
}

#[test]
fn a_missing_lake_is_a_configuration_error_that_says_what_to_do() {
    let env = TestEnv::new();
    std::fs::remove_dir(env.lake()).expect("remove lake");
    env.write("x.csv", "x");
    let run = env.run(["put", "orders", "x.csv"]);
    run.expect_code(78);
    let expected = format!("lake directory {} does not exist", env.display("lake"));
    assert!(
        run.stderr.contains(&expected) && run.stderr.contains("mkdir"),
        "{}",
        run.stderr
    );
}

#[test]
fn one_failing_file_does_not_stop_the_others() {
    let env = TestEnv::new();
    env.write("a.csv", "a");
    env.write("c.csv", "c");
    let run = env.run(["put", "orders", "a.csv", "missing.csv", "c.csv"]);
    run.expect_code(66);
    let partition = today_partition("orders");
    assert_eq!(
        env.lake_files(),
        [format!("{partition}/a.csv"), format!("{partition}/c.csv")]
    );
}

#[test]
fn hostile_file_names_are_stored_byte_for_byte() {
    use std::os::unix::ffi::OsStringExt;
    let env = TestEnv::new();
    let name = std::ffi::OsString::from_vec(b"-rf ;$(id)\n\xff.csv".to_vec());
    std::fs::write(env.root().join(&name), "x").expect("write");
    let mut arg = std::ffi::OsString::from("./");
    arg.push(&name);
    env.run([
        std::ffi::OsStr::new("put"),
        "orders".as_ref(),
        arg.as_os_str(),
    ])
    .expect_code(0);
    let partition = env.lake().join(today_partition("orders"));
    let stored: Vec<Vec<u8>> = std::fs::read_dir(partition)
        .expect("partition")
        .map(|entry| entry.expect("entry").file_name().as_bytes().to_vec())
        .collect();
    assert_eq!(stored, [name.as_bytes().to_vec()]);
}

#[test]
fn a_full_disk_fails_with_exit_74_and_leaves_no_partial_file() {
    let env = TestEnv::new();
    env.write("big.csv", vec![b'x'; 1 << 20]);
    // `ulimit -f` makes writes past 64 KiB fail with EFBIG, as a full disk would.
    let script = format!(
        "ulimit -f 64 && exec '{}' put orders big.csv",
        env!("CARGO_BIN_EXE_droplake")
    );
    let run = crate::util::Run::from(
        std::process::Command::new("bash")
            .args(["-c", &script])
            .current_dir(env.root())
            .output()
            .expect("bash"),
    );
    run.expect_code(74);
    assert!(run.stderr.contains("free space"), "{}", run.stderr);
    assert_eq!(env.lake_files(), Vec::<String>::new());
    assert_eq!(
        env.lake_dirs(),
        Vec::<String>::new(),
        "the directories made for the put are gone too"
    );
}

#[test]
fn a_source_failing_mid_read_leaves_neither_files_nor_directories() {
    let env = TestEnv::new();
    // Reading /proc/self/mem at offset 0 fails with EIO after the put has
    // created its directories and its temporary file.
    let run = env.run(["put", "orders", "/proc/self/mem", "--name", "mem.bin"]);
    run.expect_code(74);
    assert!(
        run.stderr.contains("reading the data for") && run.stderr.contains("check the source"),
        "{}",
        run.stderr
    );
    assert_eq!(env.lake_files(), Vec::<String>::new());
    assert_eq!(env.lake_dirs(), Vec::<String>::new());
}

#[test]
fn of_many_concurrent_puts_of_one_name_exactly_one_wins() {
    let env = TestEnv::new();
    let children: Vec<_> = (0..12)
        .map(|index| {
            env.write(
                format!("src/{index}/same.csv"),
                format!("writer {index}\n").repeat(10_000),
            );
            env.command(["put", "orders", &format!("src/{index}/same.csv")])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    let codes: Vec<i32> = children
        .into_iter()
        .map(|child| {
            child
                .wait_with_output()
                .expect("wait")
                .status
                .code()
                .unwrap_or(-1)
        })
        .collect();
    assert_eq!(
        codes.iter().filter(|&&code| code == 0).count(),
        1,
        "{codes:?}"
    );
    assert_eq!(
        codes.iter().filter(|&&code| code == 73).count(),
        11,
        "{codes:?}"
    );
    let object = format!("{}/same.csv", today_partition("orders"));
    assert_eq!(env.lake_files(), std::slice::from_ref(&object));
    let content = std::fs::read_to_string(env.lake().join(&object)).expect("object");
    assert!(
        content.starts_with("writer ")
            && content.len() == content.lines().next().map_or(0, |line| line.len() + 1) * 10_000
    );
}

#[test]
fn an_interrupted_put_removes_its_partial_file_even_while_waiting_for_input() {
    for (signal, code) in [
        (rustix::process::Signal::TERM, 143),
        (rustix::process::Signal::INT, 130),
        (rustix::process::Signal::HUP, 129),
    ] {
        interrupt_a_stalled_put(signal, code);
    }
}

/// Starts `put orders - --name NAME`, feeds it 1 MiB and keeps its input
/// open, and returns once it is writing its temporary file.
fn start_a_stalled_put(
    env: &TestEnv,
    name: &str,
) -> (std::process::Child, std::process::ChildStdin) {
    let mut child = env
        .command(["put", "orders", "-", "--name", name])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(&vec![b'x'; 1 << 20])
        .expect("feed part of the input");
    let partition = env.lake().join(today_partition("orders"));
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::fs::read_dir(&partition).map_or(true, |mut entries| entries.next().is_none()) {
        assert!(Instant::now() < deadline, "put never started writing");
        std::thread::sleep(Duration::from_millis(10));
    }
    (child, stdin)
}

fn interrupt_a_stalled_put(signal: rustix::process::Signal, code: i32) {
    let env = TestEnv::new();
    // The producer stalls, with stdin still open: put is blocked in read.
    let (child, stdin) = start_a_stalled_put(&env, "slow.csv");
    let pid = rustix::process::Pid::from_raw(child.id() as i32).expect("pid");
    rustix::process::kill_process(pid, signal).expect("send the signal");
    let run = crate::util::Run::from(child.wait_with_output().expect("wait"));
    drop(stdin);
    run.expect_code(code);
    assert!(
        run.stderr.contains("removed 1 unfinished file"),
        "{}",
        run.stderr
    );
    assert_eq!(
        env.lake_files(),
        Vec::<String>::new(),
        "neither a temporary file nor a partial object"
    );
}

#[test]
fn a_put_killed_outright_leaves_only_a_hidden_file_that_the_next_put_removes() {
    let env = TestEnv::new();
    let (mut child, stdin) = start_a_stalled_put(&env, "killed.csv");
    let partition = env.lake().join(today_partition("orders"));
    child.kill().expect("SIGKILL");
    child.wait().expect("wait");
    drop(stdin);

    let left: Vec<_> = std::fs::read_dir(&partition)
        .expect("partition")
        .map(|entry| entry.expect("entry").path())
        .collect();
    assert_eq!(left.len(), 1, "{left:?}");
    let name = left[0]
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    assert!(
        name.starts_with('.') && name.ends_with(".tmp"),
        "the leftover is hidden: {name}"
    );
    let filter = droplake::lake::ObjectFilter::new(&[]).expect("filter");
    assert!(!filter.is_object(left[0].strip_prefix(env.lake()).expect("in lake")));

    // A minute later its lock is free and it is stale: the next put sweeps it.
    let an_hour_ago = SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&left[0])
        .expect("open")
        .set_modified(an_hour_ago)
        .expect("mtime");
    env.write("next.csv", "n");
    env.run(["put", "orders", "next.csv"]).expect_code(0);
    assert_eq!(
        env.lake_files(),
        [format!("{}/next.csv", today_partition("orders"))]
    );
}

#[test]
fn memory_does_not_grow_with_the_size_of_the_file() {
    if !std::path::Path::new("/usr/bin/time").exists() {
        eprintln!("skipped: /usr/bin/time (Debian package `time`) is not installed");
        return;
    }
    let env = TestEnv::new();
    let mut child = std::process::Command::new("/usr/bin/time")
        .args([
            "-f",
            "maxrss_kib=%M",
            env!("CARGO_BIN_EXE_droplake"),
            "put",
            "orders",
            "-",
            "--name",
            "big.bin",
        ])
        .current_dir(env.root())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    let chunk = vec![b'y'; 1 << 20];
    for _ in 0..256 {
        stdin.write_all(&chunk).expect("feed 256 MiB");
    }
    drop(stdin);
    let run = crate::util::Run::from(child.wait_with_output().expect("wait"));
    run.expect_code(0);
    let max_rss_kib: u64 = run
        .stderr
        .lines()
        .find_map(|line| line.strip_prefix("maxrss_kib="))
        .and_then(|value| value.trim().parse().ok())
        .expect("time printed the peak memory");
    assert!(
        max_rss_kib < 16 * 1024,
        "putting 256 MiB peaked at {max_rss_kib} KiB"
    );
    let object = env
        .lake()
        .join(format!("{}/big.bin", today_partition("orders")));
    assert_eq!(std::fs::metadata(object).expect("object").len(), 256 << 20);
}
