//! `droplake export`: a table loaded from CSV written as mainframe records,
//! read back with droplake's own record decoder (the library, as `droplake
//! decode` does), with its trailer, header and trigger file, and what a
//! failure leaves behind: nothing.

use std::fs;
use std::path::Path;

use droplake::mainframe::codepage::{Charset, CodePage, Newline};
use droplake::mainframe::copybook::{Copybook, SourceFormat};
use droplake::mainframe::framing::{Framing, Rdw, RecordFormat, Records};
use droplake::mainframe::json::JsonRecord;
use droplake::mainframe::record::{Decoder, Options};

use crate::util::TestEnv;

const CUSTOMER: &str = "\
       01 CUSTOMER.
          05 CUST-ID      PIC 9(6).
          05 NAME         PIC X(12).
          05 BALANCE      PIC S9(7)V99 COMP-3.
          05 RATE         PIC SV9(4).
          05 DELTA        PIC S9(3) SIGN LEADING SEPARATE.
          05 VISITS       PIC S9(4) COMP.
          05 FILLER       PIC X(2).
          05 N-PHONES     PIC 9.
          05 PHONE OCCURS 0 TO 3 TIMES DEPENDING ON N-PHONES PIC X(5).
";

const TRAILER: &str = "\
       01 TRAILER-REC.
          05 REC-TYPE     PIC X(3).
          05 REC-COUNT    PIC 9(9).
          05 TOTAL-BAL    PIC S9(11)V99 COMP-3.
";

const HEADER: &str = "\
       01 HEADER-REC.
          05 REC-TYPE     PIC X(3).
          05 RUN-DATE     PIC 9(8).
          05 REC-COUNT    PIC 9(5).
";

/// The length of a CUSTOMER record: 6 + 12 + 5 + 4 + 4 + 2 + 2 + 1 + 15.
const LRECL: usize = 51;

const CSV: &str = "\
cust_id,name,balance,rate,delta,visits,n_phones,phone_1,phone_2,phone_3
1,ALICE,1234.56,0.0125,-7,300,2,11111,22222,
2,BJÖRK,-0.50,-0.5,12,-2,0,,,
3,CAROL,0.00,0,0,0,1,33333,,
";

/// The rows of CSV as `droplake decode` prints them.
const DECODED: [&str; 3] = [
    r#"{"CUST-ID":1,"NAME":"ALICE","BALANCE":1234.56,"RATE":0.0125,"DELTA":-7,"VISITS":300,"N-PHONES":2,"PHONE":["11111","22222"]}"#,
    r#"{"CUST-ID":2,"NAME":"BJÖRK","BALANCE":-0.50,"RATE":-0.5000,"DELTA":12,"VISITS":-2,"N-PHONES":0,"PHONE":[]}"#,
    r#"{"CUST-ID":3,"NAME":"CAROL","BALANCE":0.00,"RATE":0.0000,"DELTA":0,"VISITS":0,"N-PHONES":1,"PHONE":["33333"]}"#,
];

/// A warehouse with the table `customers` made from the CUSTOMER record
/// and loaded from `csv`, and an empty `out/` to export into.
fn with_customers(csv: &str) -> TestEnv {
    let env = TestEnv::new();
    env.write("cust.cpy", format!("{CUSTOMER}{TRAILER}{HEADER}"));
    env.write("customers.csv", csv);
    fs::create_dir(env.root().join("warehouse-schema")).expect("schema directory");
    fs::create_dir(env.root().join("out")).expect("out/");
    env.run([
        "schema",
        "from-copybook",
        "cust.cpy",
        "--record",
        "CUSTOMER",
        "--name",
        "customers",
    ])
    .expect_code(0);
    env.run(["insert", "customers", "customers.csv"])
        .expect_code(0);
    env
}

/// Each record of `bytes` decoded by `copybook` (its first record), as
/// JSON lines.
fn decode(copybook: &str, page: CodePage, bytes: &[u8], framing: Framing) -> Vec<String> {
    let copybook = Copybook::parse(copybook, "test.cpy", SourceFormat::Auto).expect("copybook");
    let decoder = Decoder::new(
        &copybook,
        Options::new(Charset::new(page, Newline::Nel)),
        None,
    );
    let mut records = Records::new(bytes, bytes.len() as u64, framing).expect("frames");
    let mut lines = Vec::new();
    while let Some((_, record)) = records.next_record().expect("a record") {
        let mut sink = JsonRecord::new(&decoder, true);
        decoder.decode(record, &mut sink).expect("decodes");
        let mut line = String::new();
        sink.write(&mut line);
        lines.push(line);
    }
    lines
}

fn fixed(lrecl: usize, header: u64, footer: u64) -> Framing {
    Framing {
        format: RecordFormat::Fixed { lrecl },
        header,
        footer,
    }
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("read the directory")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

#[test]
fn a_table_exported_as_cp037_fixed_records_decodes_back_to_its_rows_with_a_trailer() {
    let env = with_customers(CSV);
    let run = env.run([
        "export",
        "customers",
        "--copybook",
        "cust.cpy",
        "--record",
        "CUSTOMER",
        "--encoding",
        "cp037",
        "--recfm",
        "F",
        "--to",
        "out",
        "--trailer",
        "TRAILER-REC",
        "--trailer-field",
        "REC-TYPE=TRL",
        "--trailer-field",
        "REC-COUNT={count}",
        "--trailer-field",
        "TOTAL-BAL={sum:balance}",
        "--trigger",
        ".done",
        "--json",
    ]);
    run.expect_code(0);
    let path = env.root().join("out/customers.dat");
    let bytes = fs::read(&path).expect("the extract");
    assert_eq!(bytes.len(), 4 * LRECL, "three records and a trailer");
    assert_eq!(
        decode(
            CUSTOMER,
            CodePage::Cp037,
            &bytes,
            fixed(LRECL, 0, LRECL as u64)
        ),
        DECODED
    );
    // The trailer, padded to the record length with EBCDIC spaces.
    let trailer = &bytes[3 * LRECL..];
    assert_eq!(
        decode(TRAILER, CodePage::Cp037, &trailer[..19], fixed(19, 0, 0)),
        [r#"{"REC-TYPE":"TRL","REC-COUNT":3,"TOTAL-BAL":1234.06}"#]
    );
    assert!(trailer[19..].iter().all(|&byte| byte == 0x40));
    // FILLER is spaces.
    assert_eq!(&bytes[33..35], [0x40, 0x40]);

    let sha256 = hex::encode(droplake::lake::sha256_of(&path).expect("hash"));
    let printed = &run.json_lines()[0];
    assert_eq!(printed["records"], 3);
    assert_eq!(printed["size"], 4 * LRECL);
    assert_eq!(printed["sha256"], sha256.as_str());
    let trigger: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(env.root().join("out/customers.dat.done")).expect("the trigger"),
    )
    .expect("JSON");
    assert_eq!(
        trigger,
        serde_json::json!({"size": 4 * LRECL, "sha256": sha256, "records": 3})
    );
    assert_eq!(
        names_in(&env.root().join("out")),
        ["customers.dat", "customers.dat.done"]
    );
}

#[test]
fn variable_records_carry_the_rdw_the_receiver_asked_for() {
    let env = with_customers(CSV);
    let cases = [
        ("v.dat", vec![], Rdw::default()),
        (
            "little.dat",
            vec!["--rdw-little-endian"],
            Rdw {
                little_endian: true,
                includes_header: true,
            },
        ),
        (
            "excludes.dat",
            vec!["--rdw-excludes-header"],
            Rdw {
                little_endian: false,
                includes_header: false,
            },
        ),
    ];
    for (name, flags, rdw) in cases {
        let mut args = vec![
            "export",
            "customers",
            "--copybook",
            "cust.cpy",
            "--recfm",
            "V",
            "--variable-occurs",
            "--to",
            "out",
            "--name",
            name,
        ];
        args.extend(flags);
        env.run(&args).expect_code(0);
        let bytes = fs::read(env.root().join("out").join(name)).expect("the extract");
        // ALICE has 2 phones: 36 bytes before the table and 10 in it.
        let first = match (rdw.little_endian, rdw.includes_header) {
            (false, true) => [0, 50, 0, 0],
            (true, true) => [0, 0, 50, 0],
            (_, false) => [0, 46, 0, 0],
        };
        assert_eq!(bytes[..4], first, "{name}");
        let copybook = Copybook::parse(CUSTOMER, "cust.cpy", SourceFormat::Auto).expect("valid");
        let mut options = Options::new(Charset::new(CodePage::Cp037, Newline::Nel));
        options.variable_occurs = true;
        let decoder = Decoder::new(&copybook, options, None);
        let framing = Framing {
            format: RecordFormat::Variable(rdw),
            header: 0,
            footer: 0,
        };
        let mut records = Records::new(&bytes[..], bytes.len() as u64, framing).expect("frames");
        let mut lines = Vec::new();
        while let Some((_, record)) = records.next_record().expect("a record") {
            let mut sink = JsonRecord::new(&decoder, true);
            decoder.decode(record, &mut sink).expect("decodes");
            let mut line = String::new();
            sink.write(&mut line);
            lines.push(line);
        }
        assert_eq!(lines, DECODED, "{name}");
    }
}

#[test]
fn a_header_is_written_first_with_the_count_known_only_at_the_end() {
    let env = with_customers(CSV);
    env.run([
        "export",
        "--query",
        "SELECT * FROM customers WHERE cust_id > 1 ORDER BY cust_id",
        "--ignore-unknown",
        "--copybook",
        "cust.cpy",
        "--encoding",
        "latin1",
        "--to",
        "out",
        "--name",
        "two.dat",
        "--header",
        "HEADER-REC",
        "--header-field",
        "REC-TYPE=HDR",
        "--header-field",
        "RUN-DATE=20240131",
        "--header-field",
        "rec_count={count}",
        "--trigger",
        "{stem}.ok",
    ])
    .expect_code(0);
    let bytes = fs::read(env.root().join("out/two.dat")).expect("the extract");
    assert_eq!(&bytes[..16], b"HDR2024013100002");
    assert_eq!(
        decode(
            CUSTOMER,
            CodePage::Latin1,
            &bytes,
            fixed(LRECL, LRECL as u64, 0)
        ),
        DECODED[1..]
    );
    let trigger = fs::read_to_string(env.root().join("out/two.ok")).expect("the trigger");
    assert!(trigger.contains(r#""records":2"#), "{trigger}");
}

#[test]
fn a_value_that_does_not_fit_leaves_no_file_no_trigger_and_no_temporary_file() {
    // Enough rows that the records reach the disk before the bad one.
    let mut csv = String::from(CSV.lines().next().expect("header"));
    csv.push('\n');
    for id in 1..=20_000 {
        csv.push_str(&format!("{id},NAME {id},1.00,0,0,0,0,,,\n"));
    }
    csv.push_str("20001,LAST,1.00,0,0,0,0,,,\n");
    let env = with_customers(&csv);
    // The table's schema keeps names to 12 characters: the query makes one longer.
    let run = env.run([
        "export",
        "--query",
        "SELECT cust_id, CASE cust_id WHEN 20001 THEN 'A NAME FAR TOO LONG' ELSE name END AS name, \
         balance, rate, delta, visits, n_phones, phone_1, phone_2, phone_3 \
         FROM customers ORDER BY cust_id",
        "--copybook",
        "cust.cpy",
        "--to",
        "out",
        "--name",
        "customers.dat",
        "--trigger",
        ".done",
    ]);
    run.expect_code(65);
    assert!(
        run.stderr.contains(
            "row 20001: field NAME: \"A NAME FAR TOO LONG\" is 19 characters; the field holds \
             12, and droplake never cuts a value; nothing was written"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(names_in(&env.root().join("out")), Vec::<String>::new());
}

#[test]
fn columns_and_fields_that_do_not_match_are_refused_before_anything_is_written() {
    let env = with_customers(CSV);
    let run = env.run([
        "export",
        "--query",
        "SELECT cust_id, name AS nickname FROM customers",
        "--copybook",
        "cust.cpy",
        "--to",
        "out",
        "--name",
        "x.dat",
    ]);
    run.expect_code(64);
    assert!(
        run.stderr
            .contains("the column(s) nickname match no field of CUSTOMER"),
        "{}",
        run.stderr
    );
    let run = env.run([
        "export",
        "--query",
        "SELECT cust_id, name FROM customers",
        "--copybook",
        "cust.cpy",
        "--to",
        "out",
        "--name",
        "x.dat",
    ]);
    run.expect_code(64);
    assert!(
        run.stderr
            .contains("no column gives the field(s) balance (BALANCE), rate (RATE)"),
        "{}",
        run.stderr
    );
    // With --allow-missing they are blank: spaces and zeros.
    env.run([
        "export",
        "--query",
        "SELECT cust_id, name FROM customers WHERE cust_id = 1",
        "--copybook",
        "cust.cpy",
        "--encoding",
        "ascii",
        "--allow-missing",
        "--to",
        "out",
        "--name",
        "x.dat",
    ])
    .expect_code(0);
    let bytes = fs::read(env.root().join("out/x.dat")).expect("the extract");
    assert_eq!(
        decode(CUSTOMER, CodePage::Ascii, &bytes, fixed(LRECL, 0, 0)),
        [
            r#"{"CUST-ID":1,"NAME":"ALICE","BALANCE":0.00,"RATE":0.0000,"DELTA":0,"VISITS":0,"N-PHONES":0,"PHONE":[]}"#
        ]
    );
    assert_eq!(names_in(&env.root().join("out")), ["x.dat"]);
}

#[test]
fn an_existing_extract_is_replaced_only_when_asked_and_its_old_trigger_goes_first() {
    let env = with_customers(CSV);
    let export = |extra: &[&str]| {
        let mut args = vec![
            "export",
            "customers",
            "--copybook",
            "cust.cpy",
            "--to",
            "out",
            "--trigger",
            ".done",
        ];
        args.extend(extra);
        env.run(&args)
    };
    export(&[]).expect_code(0);
    let again = export(&["--encoding", "latin1"]);
    again.expect_code(73);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
    let bytes = fs::read(env.root().join("out/customers.dat")).expect("the extract");
    assert_eq!(bytes[0], 0xF0, "still the cp037 extract");

    export(&["--encoding", "latin1", "--replace"]).expect_code(0);
    let bytes = fs::read(env.root().join("out/customers.dat")).expect("the extract");
    assert_eq!(&bytes[..6], b"000001");
    let trigger = fs::read_to_string(env.root().join("out/customers.dat.done")).expect("trigger");
    let sha256 = hex::encode(
        droplake::lake::sha256_of(&env.root().join("out/customers.dat")).expect("hash"),
    );
    assert!(trigger.contains(&sha256), "the new trigger: {trigger}");
    assert_eq!(
        names_in(&env.root().join("out")),
        ["customers.dat", "customers.dat.done"]
    );
}

#[test]
fn the_trigger_is_written_after_the_extract_is_renamed_and_its_directory_synced() {
    if std::process::Command::new("strace")
        .arg("-V")
        .output()
        .is_err()
    {
        assert!(
            std::env::var_os("CI").is_none(),
            "strace is missing under CI; .ci/run must install it"
        );
        eprintln!("skipped: strace is not installed (apt-get install strace); .ci/run installs it");
        return;
    }
    let env = with_customers(CSV);
    let trace = env.root().join("trace.txt");
    let output = std::process::Command::new("strace")
        .args([
            "-f",
            "-y",
            "-e",
            "trace=fsync,fdatasync,rename,renameat,renameat2",
            "-o",
        ])
        .arg(&trace)
        .arg(env!("CARGO_BIN_EXE_droplake"))
        .args([
            "export",
            "customers",
            "--copybook",
            "cust.cpy",
            "--to",
            "out",
            "--trigger",
            ".done",
        ])
        .current_dir(env.root())
        .output()
        .expect("run strace");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let trace = fs::read_to_string(trace).expect("read the trace");
    let calls: Vec<&str> = trace
        .lines()
        .filter(|line| !line.contains("resumed") && line.contains('('))
        .collect();
    let position = |what: &str, from: usize, matches: &dyn Fn(&str) -> bool| {
        calls[from..]
            .iter()
            .position(|line| matches(line))
            .map(|at| at + from)
            .unwrap_or_else(|| panic!("no {what} after call {from} in the trace:\n{trace}"))
    };
    let out = format!("{}>", env.root().join("out").display());
    let data_sync = position("fsync of the temporary extract", 0, &|line| {
        line.contains("fsync(") && line.contains("/out/.droplake-")
    });
    let data_rename = position("rename of the extract", data_sync, &|line| {
        line.contains("rename") && line.contains("customers.dat\"")
    });
    let dir_sync = position("fsync of out/", data_rename, &|line| {
        line.contains("fsync(") && line.contains(&out)
    });
    let trigger_sync = position("fsync of the temporary trigger", dir_sync, &|line| {
        line.contains("fsync(") && line.contains("/out/.droplake-")
    });
    let trigger_rename = position("rename of the trigger", trigger_sync, &|line| {
        line.contains("rename") && line.contains("customers.dat.done\"")
    });
    position("fsync of out/ after the trigger", trigger_rename, &|line| {
        line.contains("fsync(") && line.contains(&out)
    });
}

/// Compiles a COBOL program of `tests/cli/cobol/` into `dir`, or `None`
/// when GnuCOBOL is not installed (`.ci/run` installs it).
fn gnucobol(program: &str, dir: &Path) -> Option<std::path::PathBuf> {
    if std::process::Command::new("cobc")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var_os("CI").is_none(),
            "GnuCOBOL is missing under CI; .ci/run must install gnucobol3"
        );
        eprintln!("skipped: GnuCOBOL is not installed (apt-get install gnucobol3)");
        return None;
    }
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/cli/cobol")
        .join(format!("{program}.cob"));
    let binary = dir.join(program);
    let output = std::process::Command::new("cobc")
        .args(["-x", "-fsign=EBCDIC", "-o"])
        .arg(&binary)
        .arg(&source)
        .output()
        .expect("run cobc");
    assert!(
        output.status.success(),
        "cobc {program}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(binary)
}

/// What a GnuCOBOL program displays, read as Latin-1 (byte for byte).
fn run_cobol(binary: &Path, dir: &Path) -> Vec<String> {
    let output = std::process::Command::new(binary)
        .current_dir(dir)
        .output()
        .expect("run the COBOL program");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text: String = output.stdout.iter().map(|&byte| char::from(byte)).collect();
    text.lines().map(str::to_string).collect()
}

#[test]
fn gnucobol_reads_the_fixed_and_variable_extracts_as_they_were_exported() {
    let env = with_customers(CSV);
    let cobol = env.root().join("cobol");
    fs::create_dir(&cobol).expect("cobol/");
    let Some(fixed) = gnucobol("read_fixed", &cobol) else {
        return;
    };
    let Some(variable) = gnucobol("read_variable", &cobol) else {
        return;
    };
    let export = |extra: &[&str]| {
        let mut args = vec![
            "export",
            "customers",
            "--copybook",
            "cust.cpy",
            "--encoding",
            "latin1",
            "--to",
            "cobol",
            "--replace",
        ];
        args.extend(extra);
        env.run(&args).expect_code(0);
    };
    let rows = [
        "000001|ALICE       | 0001234.56| 0.0125|-007| 0300|2|11111|22222",
        "000002|BJÖRK       |-0000000.50|-0.5000| 012|-0002|0|     |     ",
        "000003|CAROL       | 0000000.00| 0.0000| 000| 0000|1|33333|     ",
    ];
    export(&[]);
    assert_eq!(run_cobol(&fixed, &cobol), rows);
    export(&["--recfm", "V", "--rdw-excludes-header", "--variable-occurs"]);
    let lengths = ["0046", "0036", "0041"];
    let expected: Vec<String> = lengths
        .iter()
        .zip(rows)
        .map(|(length, row)| format!("{length}|{row}"))
        .collect();
    assert_eq!(run_cobol(&variable, &cobol), expected);
}
