//! `droplake decode`: a mainframe file's records as JSON Lines, by its
//! copybook. The Cobrix cases are in `cobrix.rs`, the GnuCOBOL ones in
//! `gnucobol.rs`; these pin the command's own behaviour: framing options,
//! warnings and errors with their places, exit codes, standard input, a
//! closed pipe, memory.

use std::io::{Read, Write};
use std::process::Stdio;

use droplake::mainframe::codepage::{Charset, CodePage, Newline};

use crate::util::TestEnv;

/// cp037 bytes of `text`.
fn e(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    Charset::new(CodePage::Cp037, Newline::Nel)
        .encode(text, &mut out)
        .expect("encodable in cp037");
    out
}

const ACCOUNTS: &str = "
       01  ACCOUNT.
           05  CUST-ID     PIC 9(4).
           05  NAME        PIC X(6).
           05  BALANCE     PIC S9(5)V99 COMP-3.
           05  N-TX        PIC 9.
           05  TX OCCURS 0 TO 2 TIMES DEPENDING ON N-TX.
               10  TX-AMT  PIC S9(3) COMP.
";

/// One ACCOUNT record (19 bytes): a customer, a packed balance, a count
/// and its table (unused occurrences as spaces).
fn account(id: &str, name: &str, balance: [u8; 4], amounts: &[i16]) -> Vec<u8> {
    let mut bytes = e(id);
    bytes.extend(e(&format!("{name:<6}")));
    bytes.extend(balance);
    bytes.extend(e(&amounts.len().to_string()));
    for amount in amounts {
        bytes.extend(amount.to_be_bytes());
    }
    bytes.resize(19, 0x40);
    bytes
}

fn accounts(env: &TestEnv, records: &[Vec<u8>]) -> (String, String) {
    let copybook = env.write("accounts.cpy", ACCOUNTS);
    let data = env.write("accounts.dat", records.concat());
    (copybook.display().to_string(), data.display().to_string())
}

#[test]
fn each_record_is_one_flat_json_object_in_file_order() {
    let env = TestEnv::new();
    // decode reads no configuration: a broken one is not in its way.
    env.write("droplake.toml", "this is not toml = [");
    let (copybook, data) = accounts(
        &env,
        &[
            account("0042", "ALICE", [0x01, 0x23, 0x45, 0x6D], &[150, -20]),
            account("0043", "BOB", [0x00, 0x00, 0x00, 0x0C], &[]),
        ],
    );
    let run = env.run(["decode", "--copybook", &copybook, &data]);
    run.expect_code(0);
    assert_eq!(
        run.stdout,
        concat!(
            r#"{"CUST-ID":42,"NAME":"ALICE","BALANCE":-1234.56,"N-TX":2,"TX-AMT":[150,-20]}"#,
            "\n",
            r#"{"CUST-ID":43,"NAME":"BOB","BALANCE":0.00,"N-TX":0,"TX-AMT":[]}"#,
            "\n"
        )
    );
    assert_eq!(run.stderr, "");
}

#[test]
fn standard_input_is_read_when_the_file_is_a_dash() {
    let env = TestEnv::new();
    let (copybook, _) = accounts(&env, &[]);
    let mut child = env
        .command(["decode", "--copybook", &copybook, "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(&account("0001", "X", [0, 0, 0, 0x1F], &[7]))
        .expect("write");
    // Half a record more: standard input has no size to check first, so
    // the record the stream ends inside is the error.
    stdin.write_all(&e("0002X")).expect("write");
    drop(stdin);
    let run = crate::util::Run::from(child.wait_with_output().expect("wait"));
    run.expect_code(65);
    assert_eq!(
        run.stdout,
        "{\"CUST-ID\":1,\"NAME\":\"X\",\"BALANCE\":0.01,\"N-TX\":1,\"TX-AMT\":[7]}\n"
    );
    assert_eq!(
        run.stderr,
        "droplake: record 2 at byte 19: the file ends inside a record (14 more bytes expected)\n"
    );
}

#[test]
fn a_bad_field_is_null_and_a_warning_names_record_offset_field_and_bytes() {
    let env = TestEnv::new();
    let (copybook, data) = accounts(
        &env,
        &[
            account("0001", "OK", [0, 0, 0, 0x0C], &[]),
            // A digit nibble of A in the balance.
            account("0002", "BAD", [0x0A, 0, 0, 0x0C], &[]),
        ],
    );
    let run = env.run(["decode", "--copybook", &copybook, &data]);
    run.expect_code(1);
    let lines = run.json_lines();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["BALANCE"], serde_json::Value::Null);
    assert_eq!(lines[1]["NAME"], "BAD");
    assert_eq!(
        run.stderr,
        "droplake: record 2 at byte 19: field BALANCE at record offset 10 (bytes 0A00000C): \
         byte 0 (0x0A) is not a digit; printed as null\n\
         droplake: 1 field in 1 record could not be read and was printed as null\n"
    );
}

#[test]
fn warnings_stop_at_max_warnings_and_the_rest_are_counted() {
    let env = TestEnv::new();
    let bad: Vec<Vec<u8>> = (0..5)
        .map(|_| account("0001", "BAD", [0x0A, 0, 0, 0x0C], &[]))
        .collect();
    let (copybook, data) = accounts(&env, &bad);
    let run = env.run([
        "decode",
        "--copybook",
        &copybook,
        "--max-warnings",
        "2",
        &data,
    ]);
    run.expect_code(1);
    assert_eq!(run.json_lines().len(), 5);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 3, "{}", run.stderr);
    assert!(lines[1].starts_with("droplake: record 2 at byte 19: field BALANCE"));
    assert_eq!(
        lines[2],
        "droplake: 5 fields in 5 records could not be read and were printed as null \
         (3 not shown; see --max-warnings)"
    );
}

#[test]
fn strict_makes_a_bad_field_the_end_after_the_records_before_it() {
    let env = TestEnv::new();
    let (copybook, data) = accounts(
        &env,
        &[
            account("0001", "OK", [0, 0, 0, 0x0C], &[]),
            // Sign nibble A is positive, but not in strict mode.
            account("0002", "SIGN", [0, 0, 0, 0x0A], &[]),
            account("0003", "NEXT", [0, 0, 0, 0x0C], &[]),
        ],
    );
    let lenient = env.run(["decode", "--copybook", &copybook, &data]);
    lenient.expect_code(0);
    assert_eq!(lenient.json_lines()[1]["BALANCE"], 0.0);
    let strict = env.run(["decode", "--strict", "--copybook", &copybook, &data]);
    strict.expect_code(65);
    assert_eq!(strict.json_lines().len(), 1);
    assert_eq!(
        strict.stderr,
        "droplake: record 2 at byte 19: field BALANCE at record offset 10 (bytes 0000000A): \
         byte 3 (0x0A) has no valid sign\n"
    );
}

#[test]
fn a_record_that_cannot_be_decoded_ends_the_run_with_its_number_and_offset() {
    let env = TestEnv::new();
    let (copybook, data) = accounts(
        &env,
        &[
            account("0001", "OK", [0, 0, 0, 0x0C], &[]),
            account("0002", "OK", [0, 0, 0, 0x0C], &[]),
            // A count of 9 in a table of at most 2.
            {
                let mut record = account("0003", "COUNT", [0, 0, 0, 0x0C], &[]);
                record[14] = 0xF9;
                record
            },
            account("0004", "LATER", [0, 0, 0, 0x0C], &[]),
        ],
    );
    let strict = env.run(["decode", "--strict", "--copybook", &copybook, &data]);
    strict.expect_code(65);
    assert_eq!(strict.json_lines().len(), 2);
    assert_eq!(
        strict.stderr,
        "droplake: record 3 at byte 38: the count 9 of N-TX is outside OCCURS 0 TO 2 of TX\n"
    );
    // Without --strict decode never stops at a bad field: the table is
    // empty, the counter's problem a warning, and the records go on.
    let lenient = env.run(["decode", "--copybook", &copybook, &data]);
    lenient.expect_code(1);
    let lines = lenient.json_lines();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[2]["TX-AMT"], serde_json::json!([]));
    assert_eq!(lines[3]["CUST-ID"], 4);
    assert!(
        lenient.stderr.contains(
            "the count 9 of N-TX is outside OCCURS 0 TO 2 of TX; the table is read as empty"
        ),
        "{}",
        lenient.stderr
    );
}

#[test]
fn variable_records_follow_their_rdw_in_every_variant() {
    let env = TestEnv::new();
    let copybook = env.write("r.cpy", "01 R. 05 CODE PIC X(3). 05 REST PIC X(5).");
    let copybook = copybook.display().to_string();
    let mut standard = Vec::new();
    let mut reversed = Vec::new();
    let mut excluding = Vec::new();
    for text in ["ABCDEFGH", "IJKLMNOP"] {
        let body = e(text);
        let with = (body.len() as u16 + 4).to_be_bytes();
        let without = (body.len() as u16).to_be_bytes();
        standard.extend([with[0], with[1], 0, 0]);
        reversed.extend([0, 0, with[1], with[0]]);
        excluding.extend([without[0], without[1], 0, 0]);
        for file in [&mut standard, &mut reversed, &mut excluding] {
            file.extend(&body);
        }
    }
    let expected = "{\"CODE\":\"ABC\",\"REST\":\"DEFGH\"}\n{\"CODE\":\"IJK\",\"REST\":\"LMNOP\"}\n";
    let cases: [(&str, &Vec<u8>, &[&str]); 3] = [
        ("standard.dat", &standard, &[]),
        ("reversed.dat", &reversed, &["--rdw-little-endian"]),
        ("excluding.dat", &excluding, &["--rdw-excludes-header"]),
    ];
    for (name, bytes, options) in cases {
        let data = env.write(name, bytes);
        let mut args = vec!["decode", "--recfm", "V", "--copybook", &copybook];
        args.extend(options);
        let data = data.display().to_string();
        args.push(&data);
        let run = env.run(&args);
        run.expect_code(0);
        assert_eq!(run.stdout, expected, "{name}");
    }
    // A bad RDW in the middle: the records before it, then its place.
    let mut broken = standard.clone();
    broken.extend([0x00, 0x02, 0x00, 0x00]);
    let data = env.write("broken.dat", &broken).display().to_string();
    let run = env.run(["decode", "--recfm", "v", "--copybook", &copybook, &data]);
    run.expect_code(65);
    assert_eq!(run.stdout, expected);
    assert_eq!(
        run.stderr,
        "droplake: record 3 at byte 24: the descriptor word 00020000 gives a length of 2, \
         too short (it counts its own 4 bytes)\n"
    );
}

#[test]
fn text_lines_are_records_padded_to_the_record_length() {
    let env = TestEnv::new();
    let copybook = env.write(
        "t.cpy",
        "01 T. 05 ID PIC 9(3). 05 AMOUNT PIC S9(3)V99 SIGN TRAILING SEPARATE. 05 NOTE PIC X(4).",
    );
    let data = env.write("t.txt", "00112345-memo\r\n00200001+\n");
    let run = env.run([
        "decode",
        "--recfm",
        "text",
        "--encoding",
        "ascii",
        "--copybook",
        &copybook.display().to_string(),
        &data.display().to_string(),
    ]);
    run.expect_code(0);
    assert_eq!(
        run.stdout,
        "{\"ID\":1,\"AMOUNT\":-123.45,\"NOTE\":\"memo\"}\n{\"ID\":2,\"AMOUNT\":0.01,\"NOTE\":\"\"}\n"
    );
}

const SEGMENTS: &str = "
       01  HEADER-REC.
           05  REC-TYPE    PIC X.
           05  RUN-DATE    PIC 9(8).
       01  DETAIL-REC.
           05  REC-TYPE    PIC X.
           05  ITEM-NO     PIC 9(4).
           05  QTY         PIC S9(3) COMP-3.
           05  FILLER      PIC X(2).
";

#[test]
fn record_chooses_the_01_record_and_route_chooses_by_record_type() {
    let env = TestEnv::new();
    let copybook = env.write("seg.cpy", SEGMENTS).display().to_string();
    let mut bytes = e("H20250131");
    bytes.extend(e("D0007"));
    bytes.extend([0x01, 0x5D]);
    bytes.extend(e("  "));
    let data = env.write("seg.dat", &bytes).display().to_string();
    let run = env.run([
        "decode",
        "--copybook",
        &copybook,
        "--record-type",
        "REC-TYPE OF HEADER-REC",
        "--route",
        "H=HEADER-REC",
        "--route",
        "D=DETAIL-REC",
        &data,
    ]);
    run.expect_code(0);
    assert_eq!(
        run.stdout,
        "{\"REC-TYPE\":\"H\",\"RUN-DATE\":20250131}\n{\"REC-TYPE\":\"D\",\"ITEM-NO\":7,\"QTY\":-15}\n"
    );
    let run = env.run([
        "decode",
        "--copybook",
        &copybook,
        "--record",
        "detail-rec",
        "--lrecl",
        "9",
        &data,
    ]);
    run.expect_code(1);
    assert_eq!(run.json_lines()[1]["QTY"], -15);
    // An ambiguous name asks to be qualified; a route to a plain field is refused.
    let run = env.run([
        "decode",
        "--copybook",
        &copybook,
        "--record-type",
        "REC-TYPE",
        "--route",
        "H=HEADER-REC",
        &data,
    ]);
    run.expect_code(64);
    assert_eq!(
        run.stderr,
        "droplake: REC-TYPE is ambiguous (REC-TYPE OF HEADER-REC, REC-TYPE OF DETAIL-REC); \
         qualify it with OF\n"
    );
    let run = env.run([
        "decode",
        "--copybook",
        &copybook,
        "--record-type",
        "REC-TYPE OF HEADER-REC",
        "--route",
        "H=RUN-DATE",
        &data,
    ]);
    run.expect_code(64);
    assert!(
        run.stderr
            .contains("RUN-DATE is neither a 01 record nor a REDEFINES alternative"),
        "{}",
        run.stderr
    );
}

#[test]
fn count_decodes_every_record_and_prints_how_many() {
    let env = TestEnv::new();
    let (copybook, data) = accounts(
        &env,
        &[
            account("0001", "A", [0, 0, 0, 0x0C], &[1]),
            account("0002", "B", [0x0A, 0, 0, 0x0C], &[2, 3]),
        ],
    );
    let run = env.run(["decode", "--count", "--copybook", &copybook, &data]);
    run.expect_code(1);
    assert_eq!(run.stdout, "2\n");
    assert!(run.stderr.contains("record 2 at byte 19: field BALANCE"));
}

#[test]
fn a_closed_pipe_ends_the_run_quietly() {
    let env = TestEnv::new();
    let records: Vec<Vec<u8>> = (0..100_000)
        .map(|_| account("0001", "PIPE", [0, 0, 0, 0x0C], &[1]))
        .collect();
    let (copybook, data) = accounts(&env, &records);
    let mut child = env
        .command(["decode", "--copybook", &copybook, &data])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut first = [0u8; 64];
    stdout.read_exact(&mut first).expect("the first bytes");
    drop(stdout);
    let run = crate::util::Run::from(child.wait_with_output().expect("wait"));
    run.expect_code(0);
    assert_eq!(run.stderr, "");
}

#[test]
fn memory_does_not_grow_with_the_size_of_the_file() {
    if !std::path::Path::new("/usr/bin/time").exists() {
        eprintln!("skipped: /usr/bin/time (Debian package `time`) is not installed");
        return;
    }
    let env = TestEnv::new();
    let copybook = env.write("wide.cpy", "01 W. 05 A PIC X(1000). 05 B PIC X(24).");
    let mut child = std::process::Command::new("/usr/bin/time")
        .args([
            "-f",
            "maxrss_kib=%M",
            env!("CARGO_BIN_EXE_droplake"),
            "decode",
            "--count",
            "--copybook",
            &copybook.display().to_string(),
            "-",
        ])
        .current_dir(env.root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    let chunk = vec![0xC1; 1 << 20];
    for _ in 0..64 {
        stdin.write_all(&chunk).expect("feed 64 MiB");
    }
    drop(stdin);
    let run = crate::util::Run::from(child.wait_with_output().expect("wait"));
    run.expect_code(0);
    assert_eq!(run.stdout, "65536\n");
    let max_rss_kib: u64 = run
        .stderr
        .lines()
        .find_map(|line| line.strip_prefix("maxrss_kib="))
        .and_then(|value| value.trim().parse().ok())
        .expect("time printed the peak memory");
    assert!(
        max_rss_kib < 16 * 1024,
        "decoding 64 MiB peaked at {max_rss_kib} KiB"
    );
}

#[test]
fn records_back_to_back_are_as_long_as_their_counts_make_them() {
    let env = TestEnv::new();
    let copybook = env.write(
        "b.cpy",
        "01 B. 05 N PIC 9. 05 T OCCURS 0 TO 3 DEPENDING ON N. 10 V PIC X(2). 05 E PIC X.",
    );
    let copybook = copybook.display().to_string();
    // A 3-byte header, records "1AAz", "0y", "2BBCCx", a 2-byte footer.
    let data = env
        .write("b.dat", "HDR1AAz0y2BBCCxFT")
        .display()
        .to_string();
    let args = [
        "decode",
        "--encoding",
        "ascii",
        "--variable-occurs",
        "--header-bytes",
        "3",
        "--footer-bytes",
        "2",
        "--copybook",
        &copybook,
        &data,
    ];
    let run = env.run(args);
    run.expect_code(0);
    assert_eq!(
        run.stdout,
        "{\"N\":1,\"V\":[\"AA\"],\"E\":\"z\"}\n{\"N\":0,\"V\":[],\"E\":\"y\"}\n\
         {\"N\":2,\"V\":[\"BB\",\"CC\"],\"E\":\"x\"}\n"
    );
    // Many records: the window over the file moves on past its buffer.
    let mut many = String::new();
    for number in 0..100_000 {
        let count = number % 4;
        many.push_str(&count.to_string());
        for _ in 0..count {
            many.push_str("QQ");
        }
        many.push('e');
    }
    let data_many = env.write("many.dat", &many).display().to_string();
    let run = env.run([
        "decode",
        "--encoding",
        "ascii",
        "--variable-occurs",
        "--copybook",
        &copybook,
        &data_many,
    ]);
    run.expect_code(0);
    let lines = run.json_lines();
    assert_eq!(lines.len(), 100_000);
    assert_eq!(lines[99_999]["V"], serde_json::json!(["QQ", "QQ", "QQ"]));
    assert!(lines.iter().all(|line| line["E"] == "e"));
    // The last record cut short: the records before it, then where it is.
    let data = env.write("cut.dat", "1AAz2BB").display().to_string();
    let run = env.run([
        "decode",
        "--encoding",
        "ascii",
        "--variable-occurs",
        "--copybook",
        &copybook,
        &data,
    ]);
    run.expect_code(65);
    assert_eq!(run.json_lines().len(), 1);
    assert_eq!(
        run.stderr,
        "droplake: record 2 at byte 4: the record is 3 bytes; its layout needs 5 bytes up to field V (2)\n"
    );
}
