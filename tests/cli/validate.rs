//! `droplake validate`: the dry run a producer uses before sending a file.

use std::io::Write;
use std::process::Stdio;

use crate::util::{Run, TestEnv};

const SCHEMA: &str = r#"{
  "fields": [
    {"name": "id", "type": "integer"},
    {"name": "amount", "type": "number", "decimalPlaces": 2, "constraints": {"minimum": 0}},
    {"name": "status", "type": "string", "constraints": {"enum": ["open", "closed"]}}
  ],
  "primaryKey": ["id"]
}"#;

fn env_with_schema() -> TestEnv {
    let env = TestEnv::new();
    env.write("warehouse-schema/orders.json", SCHEMA);
    env
}

#[test]
fn a_valid_file_exits_0_and_says_so() {
    let env = env_with_schema();
    env.write("ok.csv", "id,amount,status\n1,9.50,open\n2,0,closed\n");
    let run = env.run(["validate", "--table", "orders", "ok.csv"]);
    run.expect_code(0);
    assert_eq!(
        run.stdout,
        "ok.csv: valid\n2 rows checked, 0 errors: valid\n"
    );
}

#[test]
fn invalid_rows_exit_1_with_the_errors_grouped_by_pattern() {
    let env = env_with_schema();
    let mut data = String::from("id,amount,status\n");
    for id in 1..=40 {
        let amount = if id % 10 == 0 {
            "abc".to_string()
        } else {
            format!("{id}.00")
        };
        data.push_str(&format!("{id},{amount},open\n"));
    }
    data.push_str("41,-1,shipped\n1,1.00,open\n");
    env.write("bad.csv", data);
    let run = env.run(["validate", "--table", "orders", "bad.csv"]);
    run.expect_code(1);
    let expected = "\
bad.csv: 7 errors
  (row): 1 primary-key, first at row 43: \"1\": the primary key (id) = (1) is already in an earlier row
  amount: 1 constraint-error (minimum), first at row 42: \"-1\": expected a value at least 0
  amount: 4 type-errors, first at row 11: \"abc\" is not a number with at most 2 decimal places
  status: 1 constraint-error (enum), first at row 42: \"shipped\": expected one of \"closed\", \"open\"
42 rows checked, 7 errors: invalid
";
    assert_eq!(run.stdout, expected);
}

#[test]
fn json_output_is_one_object_with_the_frictionless_keys() {
    let env = env_with_schema();
    env.write("bad.csv", "id,amount,status\n1,x,open\n2,1.00,gone\n");
    let run = env.run(["validate", "--table", "orders", "--json", "bad.csv"]);
    run.expect_code(1);
    let report: serde_json::Value =
        serde_json::from_str(&run.stdout).expect("exactly one JSON object");
    assert_eq!(report["valid"], false);
    assert_eq!(report["rows"], 2);
    assert_eq!(report["errorCount"], 2);
    assert_eq!(
        report["errors"][1],
        serde_json::json!({
            "type": "constraint-error", "row": 3, "field": "status", "fieldNumber": 3, "value": "gone",
            "constraint": "enum", "message": "expected one of \"closed\", \"open\"", "file": "bad.csv"
        })
    );
}

#[test]
fn limit_errors_keeps_the_first_n_and_counts_them_all() {
    let env = env_with_schema();
    let data: String = std::iter::once("id,amount,status\n".to_string())
        .chain((1..=50).map(|id| format!("{id},bad,open\n")))
        .collect();
    env.write("bad.csv", data);
    let limited = env.run([
        "validate",
        "--table",
        "orders",
        "--json",
        "--limit-errors",
        "5",
        "bad.csv",
    ]);
    let report: serde_json::Value =
        serde_json::from_str(&limited.expect_code(1).stdout).expect("JSON");
    assert_eq!(report["errors"].as_array().map(Vec::len), Some(5));
    assert_eq!(report["errorCount"], 50);
    let all = env.run([
        "validate",
        "--table",
        "orders",
        "--json",
        "--limit-errors",
        "0",
        "bad.csv",
    ]);
    let report: serde_json::Value = serde_json::from_str(&all.expect_code(1).stdout).expect("JSON");
    assert_eq!(report["errors"].as_array().map(Vec::len), Some(50));
}

#[test]
fn standard_input_gzip_jsonl_and_a_dialect_are_read() {
    let env = env_with_schema();
    let mut child = env
        .command([
            "validate",
            "--schema",
            "warehouse-schema/orders.json",
            "--format",
            "jsonl",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"{\"id\": 1, \"amount\": \"2.50\", \"status\": \"open\"}\n{\"id\": 2, \"amount\": 3, \"status\": \"closed\"}\n")
        .expect("feed");
    let run = Run::from(child.wait_with_output().expect("wait"));
    run.expect_code(0);

    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(b"id,amount,status\n1,1.00,open\n")
        .expect("gzip");
    env.write("data.csv.gz", gz.finish().expect("gzip"));
    env.run(["validate", "--table", "orders", "data.csv.gz"])
        .expect_code(0);

    env.write("semi.txt", "id;amount;status\n1;1,50;open\n");
    env.write("dialect.json", r#"{"delimiter": ";"}"#);
    let run = env.run([
        "validate",
        "--table",
        "orders",
        "--format",
        "csv",
        "--dialect",
        "dialect.json",
        "semi.txt",
    ]);
    run.expect_code(1);
    assert!(
        run.stdout.contains("\"1,50\" is not a number"),
        "the dialect splits on ';': {}",
        run.stdout
    );
}

#[test]
fn unreadable_data_exits_65_and_a_bad_schema_or_dialect_78() {
    let env = env_with_schema();
    env.write("empty.csv", "");
    let run = env.run(["validate", "--table", "orders", "empty.csv"]);
    run.expect_code(65);
    assert!(run.stdout.contains("empty.csv is empty"), "{}", run.stdout);

    env.write("truncated.csv", "id,amount,status\n1,\"1.00,open\n");
    env.run(["validate", "--table", "orders", "truncated.csv"])
        .expect_code(65);

    env.run(["validate", "--table", "orders", "missing.csv"])
        .expect_code(65);

    env.write(
        "bad-schema.json",
        r#"{"fields": [{"name": "a", "type": "nope"}]}"#,
    );
    env.write("x.csv", "a\n1\n");
    let run = env.run(["validate", "--schema", "bad-schema.json", "x.csv"]);
    run.expect_code(78);
    assert!(run.stderr.contains("/fields/0/type"), "{}", run.stderr);

    env.write("bad-dialect.json", r#"{"delimiter": ";;"}"#);
    env.run([
        "validate",
        "--table",
        "orders",
        "--dialect",
        "bad-dialect.json",
        "x.csv",
    ])
    .expect_code(78);
    env.run(["validate", "--table", "nosuchtable", "x.csv"])
        .expect_code(66);
}

#[test]
fn the_sample_has_exactly_its_deliberate_mistakes() {
    let env = TestEnv::new();
    let root = env!("CARGO_MANIFEST_DIR");
    let run = env.run([
        "validate".to_string(),
        "--schema".into(),
        format!("{root}/warehouse-schema/orders.json"),
        "--json".into(),
        format!("{root}/lake/orders/dt=2026-11-01/orders.csv"),
    ]);
    run.expect_code(1);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    let found: Vec<(u64, String, String)> = report["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|error| {
            (
                error["row"].as_u64().unwrap_or(0),
                error["field"].as_str().unwrap_or("").to_string(),
                error["type"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let expected = [
        (43, "amount", "type-error"),
        (89, "id", "constraint-error"),
        (135, "status", "constraint-error"),
        (180, "ordered_at", "type-error"),
        (252, "quantity", "constraint-error"),
        (301, "amount", "type-error"),
    ];
    let expected: Vec<(u64, String, String)> = expected
        .iter()
        .map(|(row, field, kind)| (*row, field.to_string(), kind.to_string()))
        .collect();
    assert_eq!(found, expected);
    assert_eq!(report["rows"], 320);
}
