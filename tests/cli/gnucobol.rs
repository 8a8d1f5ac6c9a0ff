//! `droplake decode` against files an independent COBOL implementation
//! wrote: the programs in `tests/conformance/gnucobol/` (see its README)
//! are compiled with GnuCOBOL's `cobc`, run to write their data file, and
//! DISPLAY every value they wrote; droplake must decode exactly those
//! values, by the very copybook the program COPYs.
//!
//! GnuCOBOL on x86 writes ASCII, COMP/BINARY big-endian and COMP-5 in the
//! machine's order (little-endian), so each case decodes with `--encoding
//! ascii --native-endian little`. Programs are compiled with
//! `-fbinary-size=2-4-8`, IBM's sizes for binary items (GnuCOBOL's default
//! gives 1-2 digit items one byte). Without `cobc` the tests say so and
//! pass, except under CI (`CI` set), whose `.ci/run` installs gnucobol3.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value as Json;

use crate::cobrix::{canonical, number_text, read_json_values};
use crate::util::TestEnv;

fn gnucobol(relative: &str) -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/conformance/gnucobol"
    ))
    .join(relative)
}

/// Whether `cobc` can run here; without it the test is skipped with a
/// message, except under CI, where it is a failure.
fn have_cobc() -> bool {
    let found = Command::new("cobc")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "cobc (Debian package gnucobol3) is missing; .ci/run installs it"
        );
        eprintln!("skipped: cobc (Debian package gnucobol3) is not installed");
    }
    found
}

/// Compiles `program` (with `flags`) into the test's directory, runs it
/// there, and returns what it DISPLAYed.
fn build_and_run(env: &TestEnv, program: &str, flags: &[&str]) -> String {
    let source = gnucobol(&format!("{program}.cob"));
    let executable = env.root().join(program);
    let compiled = Command::new("cobc")
        .arg("-x")
        .args(flags)
        .arg("-I")
        .arg(gnucobol(""))
        .arg("-o")
        .arg(&executable)
        .arg(&source)
        .output()
        .expect("run cobc");
    assert!(
        compiled.status.success(),
        "cobc {program}: {}",
        String::from_utf8_lossy(&compiled.stderr)
    );
    let ran = Command::new(&executable)
        .current_dir(env.root())
        // GnuCOBOL's default variable-length format, whatever the
        // machine's runtime.cfg says.
        .env("COB_VARSEQ_FORMAT", "0")
        .output()
        .expect("run the program");
    assert!(
        ran.status.success(),
        "{program}: {}",
        String::from_utf8_lossy(&ran.stderr)
    );
    String::from_utf8(ran.stdout).expect("ASCII output")
}

/// `droplake decode` of `data` by `copybook` with `options`: the records,
/// numbers kept as their text. Every field must decode.
fn decode(env: &TestEnv, copybook: &str, data: &str, options: &[&str]) -> Vec<Json> {
    let (code, records) = decode_any(env, copybook, data, options);
    assert_eq!(code, 0, "droplake decode {data} {options:?}");
    records
}

/// [`decode`], where fields may be bad (exit 1): the exit code and records.
fn decode_any(env: &TestEnv, copybook: &str, data: &str, options: &[&str]) -> (i32, Vec<Json>) {
    let copybook = gnucobol(copybook);
    let data = env.root().join(data);
    let mut args = vec!["decode", "--copybook", copybook.to_str().expect("UTF-8")];
    args.extend(options);
    args.push(data.to_str().expect("UTF-8"));
    let run = env.run(&args);
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    (run.code, read_json_values(&run.stdout))
}

/// Whether droplake's `ours` is the value GnuCOBOL DISPLAYed as `shown`:
/// numbers by value (GnuCOBOL shows a sign before or after the digits,
/// and the implied point), text without trailing spaces.
fn same(ours: &Json, shown: &str) -> bool {
    match number_text(ours) {
        Some(number) => {
            let shown = shown.trim();
            let (negative, digits) = match (
                shown.strip_prefix(['+', '-']),
                shown.strip_suffix(['+', '-']),
            ) {
                (Some(digits), _) => (shown.starts_with('-'), digits),
                (None, Some(digits)) => (shown.ends_with('-'), digits),
                (None, None) => (false, shown),
            };
            let shown = format!("{}{digits}", if negative { "-" } else { "" });
            canonical(number) == canonical(&shown)
        }
        None => ours.as_str() == Some(shown.trim_end()),
    }
}

/// The fields of numbers.cpy, in order.
const NUMBERS: [&str; 17] = [
    "REC-NO",
    "LABEL-TEXT",
    "PACKED-SIGNED",
    "PACKED-UNSIGNED",
    "PACKED-EVEN",
    "ZONED-TRAILING",
    "ZONED-LEADING",
    "ZONED-LEAD-SEP",
    "ZONED-TRAIL-SEP",
    "ZONED-UNSIGNED",
    "BIN-HALF",
    "BIN-FULL",
    "BIN-WIDE",
    "BIN-UNSIGNED",
    "NATIVE-HALF",
    "NATIVE-FULL",
    "NATIVE-WIDE",
];

#[test]
fn packed_zoned_and_binary_fields_written_by_gnucobol_decode_to_the_values_it_wrote() {
    if !have_cobc() {
        return;
    }
    let env = TestEnv::new();
    let shown = build_and_run(&env, "numbers", &["-fbinary-size=2-4-8"]);
    let records = decode(
        &env,
        "numbers.cpy",
        "numbers.dat",
        &["--encoding", "ascii", "--native-endian", "little"],
    );
    let lines: Vec<&str> = shown.lines().collect();
    assert_eq!(records.len(), 43);
    assert_eq!(lines.len(), records.len());
    for (record, line) in records.iter().zip(&lines) {
        let values: Vec<&str> = line.split('|').collect();
        assert_eq!(values.len(), NUMBERS.len(), "{line}");
        for (name, value) in NUMBERS.iter().zip(values) {
            assert!(
                same(&record[*name], value),
                "{name}: droplake {}, GnuCOBOL wrote {value}\nrecord {record}",
                record[*name]
            );
        }
    }
    // COMP-5 is in the machine's byte order: read big-endian, as on z/OS,
    // the same bytes are other numbers.
    let (_, big) = decode_any(&env, "numbers.cpy", "numbers.dat", &["--encoding", "ascii"]);
    assert!(!same(
        &big[0]["NATIVE-FULL"],
        lines[0].split('|').nth(15).expect("a value")
    ));
    assert!(same(
        &big[0]["BIN-FULL"],
        lines[0].split('|').nth(11).expect("a value")
    ));
    // GnuCOBOL overpunches a negative ASCII digit with zone 7 (0x70-0x79,
    // as Micro Focus does), which strict mode, accepting only the signs of
    // the standard, refuses.
    let strict = env.run([
        "decode",
        "--strict",
        "--encoding",
        "ascii",
        "--native-endian",
        "little",
        "--copybook",
        gnucobol("numbers.cpy").to_str().expect("UTF-8"),
        env.root().join("numbers.dat").to_str().expect("UTF-8"),
    ]);
    strict.expect_code(65);
    assert!(
        strict
            .stderr
            .contains("record 1 at byte 0: field ZONED-TRAILING"),
        "{}",
        strict.stderr
    );
}

/// What a program DISPLAYed: a line `R|...` per record, and after it a
/// line per occurrence of its table (`L|...` or `T|...`).
fn displayed(output: &str) -> Vec<(Vec<&str>, Vec<Vec<&str>>)> {
    let mut records: Vec<(Vec<&str>, Vec<Vec<&str>>)> = Vec::new();
    for line in output.lines() {
        let mut values: Vec<&str> = line.split('|').collect();
        let kind = values.remove(0);
        match (kind, records.last_mut()) {
            ("R", _) => records.push((values, Vec::new())),
            (_, Some((_, occurrences))) => occurrences.push(values),
            (_, None) => panic!("an occurrence before any record: {line}"),
        }
    }
    records
}

#[test]
fn variable_length_records_written_by_gnucobol_decode_with_their_record_headers() {
    if !have_cobc() {
        return;
    }
    // GnuCOBOL's header (COB_VARSEQ_FORMAT 0) is an RDW whose length does
    // not count its 4 bytes: --recfm V --rdw-excludes-header.
    let env = TestEnv::new();
    let shown = build_and_run(&env, "orders", &["-fbinary-size=2-4-8"]);
    let records = decode(
        &env,
        "orders.cpy",
        "orders.dat",
        &[
            "--recfm",
            "V",
            "--rdw-excludes-header",
            "--encoding",
            "ascii",
        ],
    );
    let expected = displayed(&shown);
    assert_eq!(records.len(), 30);
    assert_eq!(expected.len(), records.len());
    let mut lines = 0;
    for (record, (header, occurrences)) in records.iter().zip(&expected) {
        assert!(same(&record["ORDER-ID"], header[0]), "{record}");
        assert!(same(&record["LINE-COUNT"], header[1]), "{record}");
        for (field, at) in [("SKU", 0), ("QTY", 1), ("PRICE", 2)] {
            let values = record[field].as_array().expect("an array");
            assert_eq!(values.len(), occurrences.len(), "{field} of {record}");
            for (ours, shown) in values.iter().zip(occurrences) {
                assert!(same(ours, shown[at]), "{field}: {ours} vs {shown:?}");
            }
        }
        lines += occurrences.len();
    }
    assert!(lines > 100, "only {lines} order lines compared");
    // A record of 0 lines is 8 bytes long, its table empty.
    assert!(
        records
            .iter()
            .any(|record| record["LINE-COUNT"] == "\u{E000}0"
                && record["SKU"] == Json::Array(vec![]))
    );
}

#[test]
fn fields_after_a_variable_table_move_up_as_gnucobol_odoslide_writes_them() {
    if !have_cobc() {
        return;
    }
    // LINE SEQUENTIAL: a record a line, trailing spaces dropped, so lines
    // are padded back to the record length (--recfm text); the fields
    // after the tags follow the tags there are (--variable-occurs).
    let env = TestEnv::new();
    let shown = build_and_run(&env, "notes", &["-fodoslide"]);
    let records = decode(
        &env,
        "notes.cpy",
        "notes.txt",
        &[
            "--recfm",
            "text",
            "--variable-occurs",
            "--encoding",
            "ascii",
        ],
    );
    let expected = displayed(&shown);
    assert_eq!(records.len(), 20);
    assert_eq!(expected.len(), records.len());
    for (record, (header, tags)) in records.iter().zip(&expected) {
        for (field, at) in [
            ("NOTE-ID", 0),
            ("TAG-COUNT", 1),
            ("SCORE", 2),
            ("DELTA", 3),
            ("AUTHOR", 4),
        ] {
            assert!(
                same(&record[field], header[at]),
                "{field}: droplake {}, GnuCOBOL wrote {}",
                record[field],
                header[at]
            );
        }
        let ours = record["TAG"].as_array().expect("an array");
        assert_eq!(ours.len(), tags.len(), "{record}");
        for (ours, tag) in ours.iter().zip(tags) {
            assert!(same(ours, tag[0]), "{ours} vs {tag:?}");
        }
    }
    // Without --variable-occurs the fields after the table are read at
    // their fixed places, where the tags or the padding are.
    let (_, fixed) = decode_any(
        &env,
        "notes.cpy",
        "notes.txt",
        &["--recfm", "text", "--encoding", "ascii"],
    );
    assert!(!same(&fixed[0]["AUTHOR"], expected[0].0[4]));
}
