//! `droplake copybook layout` and `droplake schema from-copybook`, against
//! the Cobrix conformance copybooks in `tests/conformance/cobrix/` (see its
//! README) and small copybooks of our own.
//!
//! Cobrix prints a layout table for three of its cases (and an older one for
//! test19); droplake's offsets and lengths must agree with every line. Two
//! conventions differ and the comparison adapts to them: Cobrix gives every
//! member of a REDEFINES set the length of the largest member, droplake
//! gives each its own (the set's next sibling starts after the largest, in
//! both); and Cobrix flags the members of a set as a chain (see
//! [`as_cobrix`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use crate::util::TestEnv;

fn cobrix(relative: &str) -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/conformance/cobrix"
    ))
    .join(relative)
}

/// The `--json` layout of a copybook.
fn layout(env: &TestEnv, copybook: &Path) -> Json {
    let run = env.run([
        "copybook",
        "layout",
        "--json",
        copybook.to_str().expect("UTF-8"),
    ]);
    run.expect_code(0);
    serde_json::from_str(&run.stdout).expect("one JSON object")
}

/// Every copybook, with the record length its case's README states (and
/// its data confirms, where the records are fixed-length).
const CASES: [(&str, u64); 10] = [
    ("test1/test1_copybook.cob", 2202),
    ("test6/test6_copybook.cob", 1493),
    ("test9/test9_copybook.cob", 45),
    ("test10/test10_copybook.cob", 46),
    ("test13a/test13a_file_header_footer.cob", 45),
    ("test14/test14_copybook.cob", 64),
    ("test16/test16_fix_len_segments.cob", 64),
    ("test19/test19_display_num.cob", 80),
    ("test21/test21_copybook.cob", 1 + 2 * (1 + 3)),
    ("test25/test25_copybook.cob", 6),
];

#[test]
fn every_cobrix_copybook_parses_to_the_record_length_of_its_data() {
    let env = TestEnv::new();
    for (copybook, length) in CASES {
        let layout = layout(&env, &cobrix(copybook));
        assert_eq!(layout["record_length"], length, "{copybook}");
        assert_eq!(layout["source_format"], "fixed", "{copybook}");
    }
    // Fixed-length data files hold a whole number of records: (data file,
    // header bytes, footer bytes, records) from the README.
    let data = [
        ("test1/example.bin", 0, 0, 10, 2202),
        ("test6/INTEGR.TYPES.NOV28.DATA.dat", 0, 0, 100, 1493),
        ("test9/TRAN.APR14.NPT.DATA.dat", 0, 0, 1000, 45),
        ("test10/data.dat", 0, 0, 1, 46),
        ("test13a/TRAN2.JUN24.DATA.dat", 10, 12, 50, 45),
        ("test16/ENTITY.DB.AUG12.DATA.FIX.LEN.dat", 0, 0, 50, 64),
        ("test19/data.dat", 0, 0, 7, 80),
        ("test25/data2.dat", 0, 0, 2, 6),
    ];
    for (file, header, footer, records, length) in data {
        let size = std::fs::metadata(cobrix(file)).expect("a data file").len();
        assert_eq!(size - header - footer, records * length, "{file}");
    }
}

/// One line of a Cobrix layout table: name, attributes, start, end, length.
#[derive(Debug, PartialEq, Eq)]
struct Line {
    name: String,
    attributes: String,
    start: u64,
    end: u64,
    length: u64,
}

/// The lines of a Cobrix `*_layout.txt` after its header.
fn cobrix_layout(file: &str) -> Vec<Line> {
    let text = std::fs::read_to_string(cobrix(file)).expect("a layout file");
    text.lines()
        .skip(1)
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let numbers: Vec<u64> = words
                .iter()
                .rev()
                .take(3)
                .map(|word| word.parse().expect("START, END and LENGTH"))
                .collect();
            // The level number comes first, except on test19's root line.
            let rest: Vec<&str> = words[..words.len() - 3]
                .iter()
                .copied()
                .skip_while(|word| word.bytes().all(|b| b.is_ascii_digit()))
                .collect();
            let attributes = rest
                .iter()
                .skip(1)
                .find(|word| word.chars().all(|c| c == 'r' || c == 'R'))
                .unwrap_or(&"")
                .to_string();
            Line {
                name: rest[0].to_string(),
                attributes,
                start: numbers[2],
                end: numbers[1],
                length: numbers[0],
            }
        })
        .collect()
}

/// droplake's layout in Cobrix's terms: names with underscores, REDEFINES
/// members at the length of their set's largest, and Cobrix's flags: `R`
/// on an item that redefines, `r` on one that a later member of its set
/// follows (Cobrix chains the set: for `B REDEFINES A` and `C REDEFINES A`
/// it flags B `rR`, where droplake records that C, like B, redefines A).
fn as_cobrix(layout: &Json) -> Vec<Line> {
    let items = layout["items"].as_array().expect("items");
    // The head of each item's REDEFINES set (itself when in none).
    let head = |i: usize| items[i]["redefines"].as_u64().map_or(i, |h| h as usize);
    let extent = |item: &Json| {
        item["end"].as_u64().expect("end") + 1 - item["start"].as_u64().expect("start")
    };
    let mut largest: BTreeMap<usize, u64> = BTreeMap::new();
    let mut last: BTreeMap<usize, usize> = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        let entry = largest.entry(head(i)).or_default();
        *entry = (*entry).max(extent(item));
        last.insert(head(i), i);
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let followed = last[&head(i)] > i;
            let redefines = item["redefines"].is_u64();
            let length = if followed || redefines {
                largest[&head(i)]
            } else {
                extent(item)
            };
            let start = item["start"].as_u64().expect("start");
            Line {
                name: item["name"].as_str().unwrap_or("FILLER").replace('-', "_"),
                attributes: format!(
                    "{}{}",
                    if followed { "r" } else { "" },
                    if redefines { "R" } else { "" }
                ),
                start,
                end: start + length - 1,
                length,
            }
        })
        .collect()
}

#[test]
fn layouts_agree_with_the_cobrix_layout_tables() {
    let env = TestEnv::new();
    for (copybook, table) in [
        ("test6/test6_copybook.cob", "test6/test6_layout.txt"),
        (
            "test13a/test13a_file_header_footer.cob",
            "test13a/test13a_layout.txt",
        ),
        (
            "test16/test16_fix_len_segments.cob",
            "test16/test16_layout.txt",
        ),
        ("test19/test19_display_num.cob", "test19/test19_layout.txt"),
    ] {
        let expected = cobrix_layout(table);
        let found = as_cobrix(&layout(&env, &cobrix(copybook)));
        assert_eq!(found.len(), expected.len(), "{copybook}: number of items");
        for (found, expected) in found.iter().zip(&expected) {
            assert_eq!(found, expected, "{copybook}");
        }
    }
}

#[test]
fn the_layout_table_shows_positions_types_and_notes() {
    let env = TestEnv::new();
    let run = env.run([
        "copybook",
        "layout",
        cobrix("test16/test16_fix_len_segments.cob")
            .to_str()
            .expect("UTF-8"),
    ]);
    run.expect_code(0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines[0].starts_with("LEVEL NAME"), "{}", run.stdout);
    let company = lines
        .iter()
        .find(|line| line.trim_start().starts_with("05 COMPANY"))
        .expect("COMPANY");
    let words: Vec<&str> = company.split_whitespace().collect();
    assert_eq!(words[2..6], ["2", "59", "58", "group"]);
    assert!(
        company.ends_with("REDEFINED BY PERSON, PO-BOX"),
        "{company}"
    );
    assert!(
        run.stdout.contains("\n    10 PO-NUMBER"),
        "indented by depth:\n{}",
        run.stdout
    );
}

#[test]
fn a_bad_copybook_is_a_data_error_with_file_line_and_column() {
    let env = TestEnv::new();
    env.write(
        "bad.cpy",
        "       01  CUSTOMER.\n           05  CUST-ID    PIC X(10)\n           05  NAME       PIC X(30).\n",
    );
    let run = env.run(["copybook", "layout", "bad.cpy"]);
    run.expect_code(65);
    assert!(
        run.stderr.contains(
            "bad.cpy:3:12: expected a period to end the entry for CUST-ID (line 2, column 12) \
             before the next entry begins with 05"
        ),
        "{}",
        run.stderr
    );
    env.write("renames.cpy", "01 R.\n   05 A PIC X.\n   66 B RENAMES A.\n");
    let run = env.run(["copybook", "layout", "renames.cpy"]);
    run.expect_code(65);
    assert!(
        run.stderr
            .contains("renames.cpy:3:4: level 66 (RENAMES) is not supported"),
        "{}",
        run.stderr
    );
    let run = env.run(["copybook", "layout", "missing.cpy"]);
    run.expect_code(66);
}

#[test]
fn the_source_format_can_be_forced() {
    let env = TestEnv::new();
    // Code from column 1 is free format; read as fixed, its first six
    // columns are a sequence area and nothing sensible is left.
    env.write("free.cpy", "01 R.\n  05 A PIC X(3).\n");
    let run = env.run(["copybook", "layout", "--json", "free.cpy"]);
    run.expect_code(0);
    let layout: Json = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(
        (
            layout["source_format"].clone(),
            layout["record_length"].clone()
        ),
        ("free".into(), 3.into())
    );
    env.run(["copybook", "layout", "--source-format", "fixed", "free.cpy"])
        .expect_code(65);
}

/// Writes the schema of `copybook` into the test's schema directory as
/// `table.json`, and returns it.
fn schema_of(env: &TestEnv, copybook: &Path, table: &str, extra: &[&str]) -> Json {
    let out = format!("warehouse-schema/{table}.json");
    std::fs::create_dir_all(env.root().join("warehouse-schema")).expect("schema directory");
    let mut args = vec![
        "schema",
        "from-copybook",
        copybook.to_str().expect("UTF-8"),
        "--out",
        &out,
    ];
    args.extend_from_slice(extra);
    let run = env.run(&args);
    run.expect_code(0);
    assert!(
        run.stdout.starts_with(&format!("wrote {out}: ")),
        "{}",
        run.stdout
    );
    let text = std::fs::read_to_string(env.root().join(&out)).expect("the schema file");
    serde_json::from_str(&text).expect("JSON")
}

fn field<'j>(schema: &'j Json, name: &str) -> &'j Json {
    schema["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .find(|field| field["name"] == name)
        .unwrap_or_else(|| panic!("no field {name}"))
}

#[test]
fn every_cobrix_copybook_makes_a_schema_that_schema_check_accepts() {
    let env = TestEnv::new();
    for (copybook, _) in CASES {
        let table = copybook.split('/').next().expect("a case");
        schema_of(&env, &cobrix(copybook), table, &[]);
    }
    let run = env.run(["schema", "check"]);
    run.expect_code(0);
    assert!(run.stdout.contains("10 schema(s)"), "{}", run.stdout);
    assert!(run.stdout.contains("all fine"), "{}", run.stdout);
}

#[test]
fn the_schema_keeps_decimals_exact_and_names_unique() {
    let env = TestEnv::new();
    let types = schema_of(&env, &cobrix("test6/test6_copybook.cob"), "types", &[]);
    assert_eq!(types["fields"].as_array().map(Vec::len), Some(195));
    let amount = field(&types, "common_s913dccomp3");
    assert_eq!(
        (amount["type"].clone(), amount["decimalPlaces"].clone()),
        ("number".into(), 2.into())
    );
    assert_eq!(
        field(&types, "num_str_int14")["type"],
        "number",
        "37 digits do not fit an integer"
    );
    assert_eq!(field(&types, "num_str_int11")["type"], "integer");
    assert_eq!(field(&types, "string_val")["constraints"]["maxLength"], 10);
    assert_eq!(
        field(&types, "common_upc5ddc")["decimalPlaces"],
        8,
        "PPP9(5)"
    );
    assert_eq!(field(&types, "float_01")["type"], "number");

    let entity = schema_of(
        &env,
        &cobrix("test16/test16_fix_len_segments.cob"),
        "entity",
        &[],
    );
    let names: Vec<&str> = entity["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| f["name"].as_str().expect("a name"))
        .collect();
    assert_eq!(
        names,
        [
            "segment_id",
            "company_name",
            "company_address",
            "taxpayer",
            "first_name",
            "last_name",
            "person_address",
            "phone_num",
            "po_number",
            "branch_address"
        ]
    );
    assert_eq!(field(&entity, "person_address")["x-cobol"]["offset"], 33);

    let accounts = schema_of(&env, &cobrix("test1/test1_copybook.cob"), "accounts", &[]);
    let third = field(&accounts, "account_number_3");
    assert_eq!(third["x-cobol"]["offset"], 42 + 2 * 27);
    assert_eq!(third["x-cobol"]["occurrence"], serde_json::json!([3]));
    assert!(
        field(&accounts, "account_type_x_80")["description"]
            .as_str()
            .expect("text")
            .starts_with(
                "ACCOUNT-TYPE-X OF ACCOUNT-DETAIL OF ACCOUNT OF METADATA OF RECORD (80): bytes"
            )
    );
    let arrays = schema_of(
        &env,
        &cobrix("test1/test1_copybook.cob"),
        "accounts_arrays",
        &["--occurs", "array"],
    );
    assert_eq!(field(&arrays, "account_number")["type"], "array");
    env.run(["schema", "check"]).expect_code(0);
}

#[test]
fn condition_names_become_enums_unless_left_out() {
    let env = TestEnv::new();
    let copybook = env.write(
        "status.cpy",
        "       01  ACCOUNT.\n\
         \x20          05  STATUS      PIC X.\n\
         \x20              88  ACTIVE  VALUE 'A'.\n\
         \x20              88  CLOSED  VALUES 'C' 'X'.\n\
         \x20          05  TIER        PIC 9.\n\
         \x20              88  LOW     VALUE 1 THRU 3.\n",
    );
    let schema = schema_of(&env, &copybook, "account", &[]);
    assert_eq!(
        field(&schema, "status")["constraints"]["enum"],
        serde_json::json!(["A", "C", "X"])
    );
    assert!(
        field(&schema, "tier")["constraints"].is_null(),
        "a range is no enum"
    );
    let plain = schema_of(&env, &copybook, "account_plain", &["--no-enums"]);
    assert!(field(&plain, "status")["constraints"]["enum"].is_null());
    env.run(["schema", "check"]).expect_code(0);
}

#[test]
fn the_schema_goes_to_standard_output_or_the_schema_directory_never_over_a_file() {
    let env = TestEnv::new();
    let copybook = cobrix("test9/test9_copybook.cob");
    let copybook = copybook.to_str().expect("UTF-8");
    let run = env.run(["schema", "from-copybook", copybook]);
    run.expect_code(0);
    let printed: Json = serde_json::from_str(&run.stdout).expect("the schema on stdout");
    assert_eq!(field(&printed, "amount")["decimalPlaces"], 2);

    std::fs::create_dir(env.root().join("warehouse-schema")).expect("schema directory");
    env.run([
        "schema",
        "from-copybook",
        copybook,
        "--name",
        "transactions",
    ])
    .expect_code(0);
    let written = std::fs::read_to_string(env.root().join("warehouse-schema/transactions.json"))
        .expect("written into the schema directory");
    assert_eq!(written, run.stdout);

    let again = env.run([
        "schema",
        "from-copybook",
        copybook,
        "--name",
        "transactions",
    ]);
    again.expect_code(73);
    assert!(
        again
            .stderr
            .contains("already exists; give --force to replace it"),
        "{}",
        again.stderr
    );
    env.run([
        "schema",
        "from-copybook",
        copybook,
        "--name",
        "transactions",
        "--force",
    ])
    .expect_code(0);
    let bad = env.run(["schema", "from-copybook", copybook, "--name", "../x"]);
    bad.expect_code(64);
    let record = env.run(["schema", "from-copybook", copybook, "--record", "NOPE"]);
    record.expect_code(64);
    assert!(
        record
            .stderr
            .contains("no record named NOPE; its records are TRANSDATA"),
        "{}",
        record.stderr
    );
    assert_eq!(
        crate::util::walk(env.root())
            .files
            .iter()
            .filter(|f| f.contains(".tmp"))
            .count(),
        0,
        "no temporary file is left behind"
    );
}
