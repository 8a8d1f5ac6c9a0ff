//! Datasets of fixed-width EBCDIC files: a copybook in the configuration,
//! the table made by `schema from-copybook`, and the files loaded by `load`
//! and by the daemon like any other object. The files are written with
//! droplake's own encoders (cp037 text, packed, zoned and binary numbers).

use droplake::mainframe::codepage::{Charset, CodePage, Newline};
use droplake::mainframe::decimal::Decimal;
use droplake::mainframe::number::{Endian, Family, Sign, write_binary, write_packed, write_zoned};

use crate::daemon::{count, settled, warehouse};
use crate::util::TestEnv;

/// Header, detail and trailer records, 41 bytes each, in fixed format.
pub(crate) const COPYBOOK: &str = "\
000100 01  HEADER-REC.
000200     05  HDR-TYPE        PIC X.
000300     05  RUN-DATE        PIC 9(8).
000400     05  FILLER          PIC X(32).
000500 01  DETAIL-REC.
000600     05  DTL-TYPE        PIC X.
000700     05  CUST-ID         PIC 9(6).
000800     05  CUST-NAME       PIC X(20).
000900     05  BALANCE         PIC S9(7)V99 COMP-3.
001000     05  VISITS          PIC S9(4) COMP.
001100     05  RATING          PIC S9(3)V9.
001200     05  CREDIT-LIMIT    PIC S9(5) COMP-3.
001300 01  TRAILER-REC.
001400     05  TRL-TYPE        PIC X.
001500     05  TRL-COUNT       PIC 9(9).
001600     05  TRL-AMOUNT      PIC S9(11)V99 COMP-3.
001700     05  FILLER          PIC X(24).
";

/// The dataset `cust`: cp037 F records of 41 bytes, routed by type, with
/// a header, and a trailer holding the count and the total of BALANCE.
pub(crate) const FORMAT: &str = r#"
[datasets.cust]
settle = "300ms"

[datasets.cust.format]
type = "fixed"
copybook = "copybooks/cust.cpy"
record = "DETAIL-REC"
recfm = "F"
lrecl = 41
encoding = "cp037"
record_type = "DTL-TYPE"
routes = { H = "HEADER-REC", D = "DETAIL-REC", T = "TRAILER-REC" }
header = "H"
trailer = "T"
count = "TRL-COUNT"
totals = { TRL-AMOUNT = "BALANCE" }
"#;

fn encode(text: &str, width: usize, out: &mut Vec<u8>) {
    Charset::new(CodePage::Cp037, Newline::Nel)
        .encode(&format!("{text:<width$}"), out)
        .expect("cp037 text");
}

fn decimal(text: &str) -> Decimal {
    text.parse().expect("a decimal")
}

fn zoned(value: &str, digits: u32, scale: i32, sign: Sign, out: &mut Vec<u8>) {
    write_zoned(decimal(value), digits, scale, sign, Family::Ebcdic, out).expect("zoned");
}

pub(crate) fn header() -> Vec<u8> {
    let mut out = Vec::new();
    encode("H", 1, &mut out);
    zoned("20261126", 8, 0, Sign::Unsigned, &mut out);
    encode("", 32, &mut out);
    out
}

/// A customer: id, name, balance (packed), visits (binary), rating
/// (zoned, signed), credit limit (packed).
pub(crate) fn detail(id: u32, name: &str, balance: &str, visits: i64, rating: &str) -> Vec<u8> {
    let mut out = Vec::new();
    encode("D", 1, &mut out);
    zoned(&id.to_string(), 6, 0, Sign::Unsigned, &mut out);
    encode(name, 20, &mut out);
    write_packed(decimal(balance), 9, 2, true, &mut out).expect("packed");
    write_binary(
        Decimal::new(i128::from(visits), 0),
        4,
        0,
        true,
        2,
        Endian::Big,
        &mut out,
    )
    .expect("binary");
    zoned(rating, 4, 1, Sign::Trailing, &mut out);
    write_packed(decimal("5000"), 5, 0, true, &mut out).expect("packed");
    out
}

pub(crate) fn trailer(count: u64, amount: &str) -> Vec<u8> {
    let mut out = Vec::new();
    encode("T", 1, &mut out);
    zoned(&count.to_string(), 9, 0, Sign::Unsigned, &mut out);
    write_packed(decimal(amount), 13, 2, true, &mut out).expect("packed");
    encode("", 24, &mut out);
    out
}

/// A lake whose `cust` table is made by `schema from-copybook`.
pub(crate) fn customers(extra_config: &str) -> TestEnv {
    let env = TestEnv::new();
    env.write("copybooks/cust.cpy", COPYBOOK);
    std::fs::create_dir(env.root().join("warehouse-schema")).expect("mkdir");
    env.write("droplake.toml", format!("{FORMAT}{extra_config}"));
    env.run([
        "schema",
        "from-copybook",
        "copybooks/cust.cpy",
        "--record",
        "DETAIL-REC",
        "--name",
        "cust",
    ])
    .expect_code(0);
    env
}

fn rows(env: &TestEnv) -> Vec<(i64, String, String, i64, String)> {
    let Some(connection) = warehouse(env) else {
        return Vec::new();
    };
    let mut statement = connection
        .prepare("SELECT cust_id, cust_name, CAST(balance AS TEXT), visits, CAST(rating AS TEXT) FROM cust ORDER BY cust_id")
        .expect("prepare");
    statement
        .query_map([], |row| {
            Ok((
                row.get(0)?,
                row.get(1)?,
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
            ))
        })
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

#[test]
fn a_cp037_file_with_header_and_trailer_loads_every_record_exactly_once() {
    let env = customers("");
    let mut bad = detail(3, "CAROL", "0.50", 1, "1.0");
    // CREDIT-LIMIT, bytes 38-40 of the record: a digit nibble of B.
    bad[38] = 0x0B;
    let file = [
        header(),
        detail(1, "ALICE", "-1234.56", 7, "-12.5"),
        detail(2, "BOB SMITH", "100.00", -3, "4.0"),
        bad.clone(),
        trailer(3, "-1134.06"),
    ]
    .concat();
    env.write("lake/cust/CUST.DAILY.G0001V00", &file);

    let first = env.run(["load", "cust"]);
    first.expect_code(1);
    assert!(
        first.stdout.contains("partial: 2 rows loaded, 1 rejected"),
        "{}",
        first.stdout
    );
    assert_eq!(
        rows(&env),
        [
            (1, "ALICE".into(), "-1234.56".into(), 7, "-12.5".into()),
            (2, "BOB SMITH".into(), "100.00".into(), -3, "4.0".into()),
        ]
    );
    let connection = warehouse(&env).expect("a warehouse");
    let reject: (i64, String, String, String, String, String) = connection
        .query_row(
            "SELECT row_number, field, value, error_type, message, record FROM _droplake_rejects",
            [],
            |row| {
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                    row.get(5)?,
                ))
            },
        )
        .expect("one reject");
    assert_eq!(reject.0, 4, "the fourth record of the file");
    assert_eq!(reject.1, "credit_limit");
    assert_eq!(reject.2, "0B000C");
    assert_eq!(reject.3, "format-error");
    assert!(
        reject.4.contains("field CREDIT-LIMIT at record offset 38")
            && reject.4.ends_with("(record 4, byte 123)"),
        "{}",
        reject.4
    );
    assert_eq!(
        reject.5,
        format!("\"{}\"", hex_upper(&bad)),
        "the record's bytes, in hex"
    );
    // Every detail record is accounted for: loaded or rejected.
    assert_eq!(
        count(
            &env,
            "SELECT rows_read * 10 + rows_loaded FROM _droplake_loads"
        ),
        32
    );

    let second = env.run(["load", "cust"]);
    second.expect_code(0);
    assert!(
        second.stdout.contains("0 new object(s) loaded"),
        "{}",
        second.stdout
    );
    assert_eq!(rows(&env).len(), 2, "loaded once");

    // The daemon takes the next file of the dataset the same way.
    let next = env.write(
        "lake/cust/CUST.DAILY.G0002V00",
        [
            header(),
            detail(4, "DAVE", "1.25", 0, "0.0"),
            trailer(1, "1.25"),
        ]
        .concat(),
    );
    settled(&next);
    env.run(["run", "--once"]).expect_code(0);
    env.run(["run", "--once"]).expect_code(0);
    assert_eq!(rows(&env).len(), 3);
    assert_eq!(
        count(&env, "SELECT count(*) FROM cust WHERE cust_id = 4"),
        1
    );
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02X}")).collect()
}

#[test]
fn a_trailer_that_does_not_match_fails_the_whole_file_and_commits_no_row() {
    let env = customers("");
    let details = [
        detail(1, "ALICE", "10.00", 1, "1.0"),
        detail(2, "BOB", "0.01", 1, "1.0"),
    ];
    let with = |trailer: Vec<u8>| {
        let mut records = vec![header()];
        records.extend(details.iter().cloned());
        records.push(trailer);
        records.concat()
    };
    for (name, bytes) in [
        ("COUNT.G0001V00", with(trailer(3, "10.01"))),
        ("TOTAL.G0001V00", with(trailer(2, "10.02"))),
        (
            "NOTRAILER.G0001V00",
            [header(), details[0].clone()].concat(),
        ),
    ] {
        let path = env.write(format!("lake/cust/{name}"), bytes);
        settled(&path);
    }
    env.run(["run", "--once"]).expect_code(1);
    assert_eq!(count(&env, "SELECT count(*) FROM cust"), 0, "no row of any");
    let errors: Vec<(String, String)> = {
        let connection = warehouse(&env).expect("a warehouse");
        let mut statement = connection
            .prepare("SELECT o.name, j.last_error FROM _droplake_jobs j JOIN _droplake_objects o ON o.id = j.object_id WHERE j.state = 'dead' ORDER BY o.name")
            .expect("prepare");
        statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    let expected = [
        (
            "cust/COUNT.G0001V00",
            "the file fails its own check: row 4 (line 4, byte 123): the trailer does not match the file: record count TRL-COUNT OF TRAILER-REC: expected 3 detail records (header and trailer not counted), found 2; nothing was loaded",
        ),
        (
            "cust/NOTRAILER.G0001V00",
            "the file has no trailer record (DTL-TYPE = \"T\") after its 2 records",
        ),
        (
            "cust/TOTAL.G0001V00",
            "control total TRL-AMOUNT OF TRAILER-REC: expected 10.02, found 10.01 (the sum of BALANCE OF DETAIL-REC over 2 detail records)",
        ),
    ];
    assert_eq!(errors.len(), 3, "{errors:?}");
    for ((name, error), (expected_name, expected_error)) in errors.iter().zip(expected) {
        assert_eq!(name, expected_name);
        assert!(error.contains(expected_error), "{name}: {error}");
    }
    // The failed loads are recorded, with the trailer's check as a reject.
    assert_eq!(
        count(
            &env,
            "SELECT count(*) FROM _droplake_loads WHERE outcome = 'failed' AND rows_loaded = 0"
        ),
        3
    );
    assert_eq!(
        count(
            &env,
            "SELECT count(*) FROM _droplake_rejects WHERE error_type = 'checksum-error'"
        ),
        3
    );
}

#[test]
fn validate_reads_a_table_s_files_with_its_dataset_s_format() {
    let env = customers("");
    let data = env.write(
        "incoming/cust.bin",
        [
            header(),
            detail(1, "ALICE", "10.00", 1, "1.0"),
            trailer(1, "10.00"),
        ]
        .concat(),
    );
    let run = env.run(["validate", "--table", "cust", &data.display().to_string()]);
    run.expect_code(0);
    assert!(
        run.stdout.contains("1 rows checked, 0 errors: valid"),
        "{}",
        run.stdout
    );
    let config = env.run(["config"]);
    config.expect_code(0);
    assert!(
        config
            .stdout
            .contains("datasets.cust.format.totals = { TRL-AMOUNT = \"BALANCE\" }"),
        "{}",
        config.stdout
    );
}

/// The generations of the `items` dataset whose loads committed, in the
/// order they committed.
fn loaded_in_order(env: &TestEnv) -> Vec<String> {
    let Some(connection) = warehouse(env) else {
        return Vec::new();
    };
    let mut statement = connection
        .prepare("SELECT object_path FROM _droplake_loads ORDER BY id")
        .expect("prepare");
    statement
        .query_map([], |row| row.get::<_, String>(0))
        .expect("query")
        .map(|path| {
            let path = path.expect("a path");
            path.rsplit('.').next().unwrap_or_default().to_string()
        })
        .collect()
}

fn generation(env: &TestEnv, number: u32, mtime_ago: u64) {
    let path = env.write(
        format!("lake/items/ITEMS.G{number:04}V00"),
        crate::daemon::items(u64::from(number) * 10, 2),
    );
    std::fs::File::options()
        .write(true)
        .open(&path)
        .expect("open")
        .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(mtime_ago))
        .expect("set the modification time");
}

#[test]
fn generations_load_in_generation_order_whatever_their_arrival() {
    let env =
        crate::daemon::env_with("[datasets.items]\nformat = \"csv\"\norder = \"generation\"\n");
    // The oldest file is G0010, the newest G0002.
    generation(&env, 10, 400);
    generation(&env, 3, 300);
    generation(&env, 1, 200);
    generation(&env, 2, 100);
    env.run(["load"]).expect_code(0);
    assert_eq!(
        loaded_in_order(&env),
        ["G0001V00", "G0002V00", "G0003V00", "G0010V00"]
    );
}

#[test]
fn a_missing_generation_holds_later_ones_back_until_it_arrives() {
    let env = crate::daemon::env_with(
        "[datasets.items]\nformat = \"csv\"\norder = \"generation\"\ngap_check = true\n",
    );
    generation(&env, 42, 300);
    generation(&env, 44, 200);
    generation(&env, 45, 100);
    env.run(["run", "--once"]).expect_code(75);
    assert_eq!(loaded_in_order(&env), ["G0042V00"]);
    let gaps = || {
        count(
            &env,
            "SELECT count(*) FROM _droplake_events WHERE kind = 'dataset.gap' AND json_extract(body, '$.missing') = 'G0043' AND json_extract(body, '$.after') = 'G0042'",
        )
    };
    assert_eq!(gaps(), 1, "the gap is told once");
    let why = env.run(["why", "--json", "lake/items/ITEMS.G0044V00"]);
    why.expect_code(1);
    let answer: serde_json::Value = serde_json::from_str(&why.stdout).expect("JSON");
    assert_eq!(answer["state"], "generation_gap", "{answer}");
    assert_eq!(answer["missing"], "G0043");
    assert!(
        answer["reason"].as_str().is_some_and(
            |reason| reason.contains("generation G0043 of dataset items has not arrived")
        ),
        "{answer}"
    );

    // Still held at the next run, and not told again.
    env.run(["run", "--once"]).expect_code(75);
    assert_eq!(loaded_in_order(&env), ["G0042V00"]);
    assert_eq!(gaps(), 1);

    generation(&env, 43, 50);
    env.run(["run", "--once"]).expect_code(0);
    assert_eq!(
        loaded_in_order(&env),
        ["G0042V00", "G0043V00", "G0044V00", "G0045V00"]
    );
    assert_eq!(count(&env, "SELECT count(*) FROM items"), 8);
    let why = env.run(["why", "lake/items/ITEMS.G0045V00"]);
    why.expect_code(0);
}
