//! The fixed-width reader, read as the loader reads it: files written with
//! droplake's own encoders, then read back through `formats::open`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::*;
use crate::formats::{self, ReadError, ReadOptions, Record};
use crate::mainframe::decimal::Decimal;
use crate::mainframe::number::{Endian, Family, Sign, write_binary, write_packed, write_zoned};

/// Header, detail and trailer records as separate 01 records, 40 bytes.
const CUSTOMERS: &str = "
       01  HEADER-REC.
           05  HDR-TYPE        PIC X.
           05  RUN-DATE        PIC 9(8).
           05  FILLER          PIC X(31).
       01  DETAIL-REC.
           05  DTL-TYPE        PIC X.
           05  CUST-ID         PIC 9(6).
           05  CUST-NAME       PIC X(20).
           05  BALANCE         PIC S9(7)V99 COMP-3.
           05  VISITS          PIC S9(4) COMP.
           05  RATING          PIC S9(3)V9.
           05  FILLER          PIC X(2).
       01  TRAILER-REC.
           05  TRL-TYPE        PIC X.
           05  TRL-COUNT       PIC 9(9).
           05  TRL-AMOUNT      PIC S9(11)V99 COMP-3.
           05  FILLER          PIC X(23).
";

fn charset() -> Charset {
    Charset::new(CodePage::Cp037, Newline::Nel)
}

fn text(value: &str, width: usize, out: &mut Vec<u8>) {
    let padded = format!("{value:<width$}");
    charset().encode(&padded, out).expect("encodable");
}

fn number(text: &str) -> Decimal {
    text.parse().expect("a decimal")
}

fn header(date: &str) -> Vec<u8> {
    let mut out = Vec::new();
    text("H", 1, &mut out);
    write_zoned(number(date), 8, 0, Sign::Unsigned, Family::Ebcdic, &mut out).expect("zoned");
    text("", 31, &mut out);
    out
}

fn detail(id: u32, name: &str, balance: &str, visits: i64, rating: &str) -> Vec<u8> {
    let mut out = Vec::new();
    text("D", 1, &mut out);
    write_zoned(
        Decimal::new(i128::from(id), 0),
        6,
        0,
        Sign::Unsigned,
        Family::Ebcdic,
        &mut out,
    )
    .expect("zoned");
    text(name, 20, &mut out);
    write_packed(number(balance), 9, 2, true, &mut out).expect("packed");
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
    write_zoned(
        number(rating),
        4,
        1,
        Sign::Trailing,
        Family::Ebcdic,
        &mut out,
    )
    .expect("zoned");
    text("", 2, &mut out);
    out
}

fn trailer(count: u64, amount: &str) -> Vec<u8> {
    let mut out = Vec::new();
    text("T", 1, &mut out);
    write_zoned(
        Decimal::new(i128::from(count), 0),
        9,
        0,
        Sign::Unsigned,
        Family::Ebcdic,
        &mut out,
    )
    .expect("zoned");
    write_packed(number(amount), 13, 2, true, &mut out).expect("packed");
    text("", 23, &mut out);
    out
}

/// A directory with the copybook `cust.cpy`.
fn workspace(copybook: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("cust.cpy");
    std::fs::write(&path, copybook).expect("copybook");
    (dir, path)
}

fn multi_record(copybook: PathBuf) -> FixedSpec {
    let mut spec = FixedSpec::new(copybook);
    spec.record = Some("DETAIL-REC".into());
    spec.lrecl = Some(40);
    spec.record_type = Some("DTL-TYPE".into());
    spec.routes = vec![
        ("D".into(), "DETAIL-REC".into()),
        ("H".into(), "HEADER-REC".into()),
        ("T".into(), "TRAILER-REC".into()),
    ];
    spec.header = Some("H".into());
    spec.trailer = Some("T".into());
    spec.count = Some("TRL-COUNT".into());
    spec.totals = vec![("TRL-AMOUNT".into(), "BALANCE".into())];
    spec
}

type Outcome = Result<(u64, u64, serde_json::Value), ReadError>;

/// Every record of `bytes` read by `spec`, to the end or a fatal error.
fn read(dir: &Path, spec: FixedSpec, bytes: &[u8]) -> (Vec<String>, Vec<Outcome>) {
    let layout = Arc::new(FixedLayout::build(spec).expect("a valid spec"));
    let path = dir.join("CUST.DAILY.G0001V00");
    std::fs::write(&path, bytes).expect("data");
    let options = ReadOptions {
        format: Some(formats::Format::Fixed),
        fixed: Some(layout),
        ..ReadOptions::default()
    };
    let mut reader = formats::open(&path, &options).expect("opens");
    let labels = reader.labels().expect("labels").to_vec();
    let mut outcomes = Vec::new();
    let mut record = Record::new();
    loop {
        match reader.read(&mut record) {
            Ok(true) => outcomes.push(Ok((
                record.position.row,
                record.position.byte,
                record.to_json(),
            ))),
            Ok(false) => break,
            Err(error @ (ReadError::Fatal { .. } | ReadError::Refused { .. })) => {
                outcomes.push(Err(error));
                break;
            }
            Err(error) => outcomes.push(Err(error)),
        }
    }
    (labels, outcomes)
}

fn file(records: &[Vec<u8>]) -> Vec<u8> {
    records.concat()
}

#[test]
fn details_between_header_and_trailer_become_rows_of_exact_text() {
    let (dir, copybook) = workspace(CUSTOMERS);
    let bytes = file(&[
        header("20261126"),
        detail(42, "ALICE", "-1234.56", 7, "-12.5"),
        detail(7, "BOB SMITH", "100.00", -3, "4.0"),
        trailer(2, "-1134.56"),
    ]);
    let (labels, outcomes) = read(dir.path(), multi_record(copybook), &bytes);
    assert_eq!(
        labels,
        [
            "dtl_type",
            "cust_id",
            "cust_name",
            "balance",
            "visits",
            "rating"
        ]
    );
    let rows: Vec<(u64, u64, serde_json::Value)> = outcomes
        .into_iter()
        .map(|outcome| outcome.expect("a row"))
        .collect();
    assert_eq!(
        rows,
        [
            (
                2,
                40,
                serde_json::json!(["D", "42", "ALICE", "-1234.56", "7", "-12.5"])
            ),
            (
                3,
                80,
                serde_json::json!(["D", "7", "BOB SMITH", "100.00", "-3", "4.0"])
            ),
        ]
    );
}

#[test]
fn a_record_with_a_bad_packed_field_is_undecodable_with_its_offset_and_bytes() {
    let (dir, copybook) = workspace(CUSTOMERS);
    let mut bad = detail(8, "CAROL", "5.00", 1, "1.0");
    // BALANCE is bytes 27-31 of the record: a digit nibble of A.
    bad[28] = 0xA0;
    let bytes = file(&[
        header("20261126"),
        detail(42, "ALICE", "10.00", 7, "1.5"),
        bad.clone(),
        detail(9, "DAN", "2.50", 2, "2.0"),
        trailer(3, "17.50"),
    ]);
    let (_, outcomes) = read(dir.path(), multi_record(copybook), &bytes);
    assert_eq!(outcomes.len(), 4, "{outcomes:?}");
    let Err(ReadError::Undecodable(undecodable)) = &outcomes[1] else {
        panic!("the second detail is undecodable: {outcomes:?}");
    };
    assert_eq!(
        (undecodable.position.row, undecodable.position.byte),
        (3, 80)
    );
    assert_eq!(undecodable.field.as_deref(), Some("balance"));
    assert_eq!(undecodable.field_number, Some(4));
    assert_eq!(undecodable.value.as_deref(), Some("00A000500C"));
    assert_eq!(undecodable.record, hex::encode_upper(&bad));
    assert!(
        undecodable
            .message
            .contains("field BALANCE at record offset 27"),
        "{}",
        undecodable.message
    );
    assert!(outcomes[2].is_ok(), "reading goes on after it");
    // Its BALANCE is not in the control total, which then cannot match.
    let Err(ReadError::Refused { message, .. }) = &outcomes[3] else {
        panic!("refused: {outcomes:?}");
    };
    assert!(
        message.contains("expected 17.50, found 12.50 (the sum of BALANCE OF DETAIL-REC over 3 detail records); the BALANCE OF DETAIL-REC of 1 detail record(s) could not be read"),
        "{message}"
    );
}

#[test]
fn a_trailer_count_or_total_that_does_not_match_refuses_the_file_with_expected_and_found() {
    let (dir, copybook) = workspace(CUSTOMERS);
    let details = [
        detail(1, "A", "10.00", 1, "1.0"),
        detail(2, "B", "0.01", 1, "1.0"),
    ];
    let refusal = |trailer_record: Vec<u8>| {
        let mut records = vec![header("20261126")];
        records.extend(details.iter().cloned());
        records.push(trailer_record);
        let (_, outcomes) = read(dir.path(), multi_record(copybook.clone()), &file(&records));
        match outcomes.last() {
            Some(Err(ReadError::Refused { position, message })) => {
                assert_eq!((position.row, position.byte), (4, 120));
                message.clone()
            }
            other => panic!("refused: {other:?}"),
        }
    };
    let message = refusal(trailer(3, "10.01"));
    assert!(
        message.contains("record count TRL-COUNT OF TRAILER-REC: expected 3 detail records (header and trailer not counted), found 2"),
        "{message}"
    );
    let message = refusal(trailer(2, "10.02"));
    assert!(
        message.contains("control total TRL-AMOUNT OF TRAILER-REC: expected 10.02, found 10.01 (the sum of BALANCE OF DETAIL-REC over 2 detail records)"),
        "{message}"
    );
    let mut records = vec![header("20261126")];
    records.extend(details.iter().cloned());
    records.push(trailer(2, "10.01"));
    let (_, outcomes) = read(dir.path(), multi_record(copybook.clone()), &file(&records));
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
}

#[test]
fn the_count_can_include_header_and_trailer_and_a_mismatch_can_only_warn() {
    let (dir, copybook) = workspace(CUSTOMERS);
    let bytes = file(&[
        header("20261126"),
        detail(1, "A", "1.00", 1, "1.0"),
        trailer(3, "1.00"),
    ]);
    let mut all = multi_record(copybook.clone());
    all.count_includes = CountIncludes::All;
    let (_, outcomes) = read(dir.path(), all, &bytes);
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    let (_, outcomes) = read(dir.path(), multi_record(copybook.clone()), &bytes);
    assert!(matches!(
        outcomes.last(),
        Some(Err(ReadError::Refused { .. }))
    ));
    let mut warn = multi_record(copybook);
    warn.on_mismatch = OnMismatch::Warn;
    let (_, outcomes) = read(dir.path(), warn, &bytes);
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
}

#[test]
fn a_missing_trailer_or_a_record_out_of_place_refuses_the_file() {
    let (dir, copybook) = workspace(CUSTOMERS);
    let cases = [
        (
            vec![header("20261126"), detail(1, "A", "1.00", 1, "1.0")],
            "the file has no trailer record (DTL-TYPE = \"T\") after its 2 records",
        ),
        (
            vec![detail(1, "A", "1.00", 1, "1.0"), trailer(1, "1.00")],
            "the file does not start with a header record (DTL-TYPE = \"H\")",
        ),
        (
            vec![
                header("20261126"),
                trailer(0, "0"),
                detail(1, "A", "1.00", 1, "1.0"),
            ],
            "record 3 follows the trailer record",
        ),
    ];
    for (records, expected) in cases {
        let mut warn = multi_record(copybook.clone());
        warn.on_mismatch = OnMismatch::Warn;
        let (_, outcomes) = read(dir.path(), warn, &file(&records));
        match outcomes.last() {
            Some(Err(ReadError::Refused { message, .. })) => {
                assert!(message.contains(expected), "{message}");
            }
            other => panic!("refused even with on_mismatch = warn: {other:?}"),
        }
    }
}

#[test]
fn a_record_type_routed_nowhere_is_undecodable_and_reading_goes_on() {
    let (dir, copybook) = workspace(CUSTOMERS);
    let mut stray = detail(5, "E", "1.00", 1, "1.0");
    stray[0] = 0xE7; // X
    let bytes = file(&[
        header("20261126"),
        stray,
        detail(1, "A", "1.00", 1, "1.0"),
        trailer(2, "1.00"),
    ]);
    let (_, outcomes) = read(dir.path(), multi_record(copybook), &bytes);
    let Err(ReadError::Undecodable(undecodable)) = &outcomes[0] else {
        panic!("undecodable: {outcomes:?}");
    };
    assert!(
        undecodable
            .message
            .contains("the record type DTL-TYPE = \"X\" is not one the format routes"),
        "{}",
        undecodable.message
    );
    assert!(outcomes[1].is_ok());
    // The stray record is a detail the trailer counts, with nothing to sum.
    assert_eq!(outcomes.len(), 2, "{outcomes:?}");
}

#[test]
fn a_file_that_cannot_be_framed_fails_as_a_whole() {
    let (dir, copybook) = workspace(CUSTOMERS);
    let mut bytes = file(&[header("20261126"), detail(1, "A", "1.00", 1, "1.0")]);
    bytes.push(0x40);
    let (_, outcomes) = read(dir.path(), multi_record(copybook), &bytes);
    match outcomes.as_slice() {
        [Err(ReadError::Fatal { message, .. })] => assert_eq!(
            message,
            "the file has 81 bytes of records, which is not a multiple of the record length 40"
        ),
        other => panic!("fatal: {other:?}"),
    }
}

#[test]
fn redefines_alternatives_are_routed_and_an_unrouted_view_that_does_not_fit_is_null() {
    let copybook = "
       01  REC.
           05  KIND        PIC X.
           05  BODY.
               10  AMOUNT  PIC S9(5) COMP-3.
               10  NOTE    PIC X(5).
           05  TEXT-BODY REDEFINES BODY.
               10  WORDS   PIC X(8).
           05  PAIR.
               10  LEFT    PIC S9(3) COMP-3.
           05  PAIR-TEXT REDEFINES PAIR PIC X(2).
    ";
    let (dir, path) = workspace(copybook);
    let mut spec = FixedSpec::new(path);
    spec.record_type = Some("KIND".into());
    spec.routes = vec![
        ("A".into(), "BODY".into()),
        ("W".into(), "TEXT-BODY".into()),
    ];
    let mut amount = Vec::new();
    text("A", 1, &mut amount);
    write_packed(number("-42"), 5, 0, true, &mut amount).expect("packed");
    text("HI", 5, &mut amount);
    text("OK", 2, &mut amount); // PAIR: not packed; PAIR-TEXT: "OK"
    let mut words = Vec::new();
    text("W", 1, &mut words);
    text("ABCDEFGH", 8, &mut words);
    write_packed(number("7"), 3, 0, true, &mut words).expect("packed");
    let (labels, outcomes) = read(dir.path(), spec, &file(&[amount, words]));
    assert_eq!(
        labels,
        ["kind", "amount", "note", "words", "left", "pair_text"]
    );
    let rows: Vec<serde_json::Value> = outcomes
        .into_iter()
        .map(|outcome| outcome.expect("a row").2)
        .collect();
    assert_eq!(
        rows,
        [
            serde_json::json!(["A", "-42", "HI", null, null, "OK"]),
            serde_json::json!(["W", null, null, "ABCDEFGH", "7", "\u{0}@"]),
        ]
    );
}

#[test]
fn an_occurs_table_can_be_one_array_column() {
    let copybook = "
       01  REC.
           05  N       PIC 9.
           05  T OCCURS 0 TO 3 DEPENDING ON N.
               10  V   PIC S9(3) COMP-3.
               10  C   PIC X.
    ";
    let (dir, path) = workspace(copybook);
    let mut spec = FixedSpec::new(path.clone());
    spec.occurs = OccursColumns::Array;
    let mut two = Vec::new();
    text("2", 1, &mut two);
    for (value, code) in [("5", "A"), ("-6", "B"), ("0", " ")] {
        write_packed(number(value), 3, 0, true, &mut two).expect("packed");
        text(code, 1, &mut two);
    }
    let mut none = Vec::new();
    text("0", 1, &mut none);
    none.resize(1 + 3 * 3, 0x40);
    let bytes = file(&[two.clone(), none.clone()]);
    let (labels, outcomes) = read(dir.path(), spec, &bytes);
    assert_eq!(labels, ["n", "v", "c"]);
    let rows: Vec<serde_json::Value> = outcomes
        .into_iter()
        .map(|outcome| outcome.expect("a row").2)
        .collect();
    assert_eq!(
        rows,
        [
            serde_json::json!(["2", "[5,-6]", "[\"A\",\"B\"]"]),
            serde_json::json!(["0", "[]", "[]"]),
        ]
    );
    let (labels, outcomes) = read(dir.path(), FixedSpec::new(path), &bytes);
    assert_eq!(labels, ["n", "v_1", "c_1", "v_2", "c_2", "v_3", "c_3"]);
    let first = outcomes[0].as_ref().expect("a row");
    assert_eq!(
        first.2,
        serde_json::json!(["2", "5", "A", "-6", "B", null, null])
    );
}

#[test]
fn names_that_do_not_fit_the_copybook_are_refused_with_their_key() {
    let (_dir, copybook) = workspace(CUSTOMERS);
    let refused = |change: &dyn Fn(&mut FixedSpec)| {
        let mut spec = multi_record(copybook.clone());
        change(&mut spec);
        match FixedLayout::build(spec) {
            Err(SpecError::Key {
                key,
                entry,
                message,
            }) => (key, entry, message),
            other => panic!("refused: {other:?}"),
        }
    };
    let (key, _, message) = refused(&|spec| spec.count = Some("TRL-CNT".into()));
    assert_eq!(key, "count");
    assert!(
        message.contains("has no item named TRL-CNT in TRAILER-REC"),
        "{message}"
    );
    let (key, entry, message) = refused(&|spec| {
        spec.routes[0].1 = "CUST-ID".into();
    });
    assert_eq!((key, entry.as_deref()), ("routes", Some("D")));
    assert!(
        message.contains("neither a record (level 01) nor an alternative"),
        "{message}"
    );
    let (key, _, message) = refused(&|spec| {
        spec.trailer = None;
        spec.routes.pop();
    });
    assert_eq!(key, "count");
    assert!(message.contains("needs trailer"), "{message}");
    let (key, entry, message) = refused(&|spec| {
        spec.totals = vec![("TRL-AMOUNT".into(), "CUST-NAME".into())];
    });
    assert_eq!((key, entry.as_deref()), ("totals", Some("TRL-AMOUNT")));
    assert!(message.contains("is not numeric"), "{message}");
    let (key, _, message) = refused(&|spec| spec.lrecl = Some(30));
    assert_eq!(key, "lrecl");
    assert!(
        message.contains("30 is shorter than the 40 bytes"),
        "{message}"
    );
    let (key, _, _) = refused(&|spec| spec.record = Some("NOPE".into()));
    assert_eq!(key, "record");
}

#[test]
fn a_text_line_too_long_is_a_reject_that_the_trailer_still_counts() {
    let (dir, copybook) = workspace(
        "01 DETAIL-REC.
            05 REC-TYPE PIC X.
            05 NAME     PIC X(5).
         01 TRAILER-REC.
            05 TRL-TYPE  PIC X.
            05 TRL-COUNT PIC 9(5).",
    );
    let mut spec = FixedSpec::new(copybook);
    spec.record = Some("DETAIL-REC".into());
    spec.recfm = Recfm::Text;
    spec.lrecl = Some(6);
    spec.encoding = crate::mainframe::codepage::CodePage::Ascii;
    spec.record_type = Some("REC-TYPE".into());
    spec.routes = vec![
        ("D".into(), "DETAIL-REC".into()),
        ("T".into(), "TRAILER-REC".into()),
    ];
    spec.trailer = Some("T".into());
    spec.count = Some("TRL-COUNT".into());
    let (_, outcomes) = read(dir.path(), spec, b"DALICE\nDTOO LONG\nDBOB\nT00003\n");
    assert_eq!(outcomes.len(), 3, "{outcomes:?}");
    assert!(matches!(outcomes[0], Ok((1, 0, _))), "{outcomes:?}");
    assert!(
        matches!(&outcomes[1], Err(ReadError::Record { position, .. }) if position.row == 2),
        "the long line is one reject: {outcomes:?}"
    );
    assert!(
        matches!(outcomes[2], Ok((3, 17, _))),
        "and the count of 3 holds: {outcomes:?}"
    );
}
