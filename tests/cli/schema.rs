//! `droplake schema check`: every problem of every schema, with file and
//! JSON pointer, and exit 78 when there is any.

use crate::util::TestEnv;

#[test]
fn the_shipped_schemas_are_valid() {
    let env = TestEnv::new();
    let schemas = concat!(env!("CARGO_MANIFEST_DIR"), "/warehouse-schema");
    let run = env.run(["schema", "check", schemas]);
    run.expect_code(0);
    assert!(run.stdout.contains("all fine"), "{}", run.stdout);
}

#[test]
fn every_problem_is_listed_with_its_file_and_pointer() {
    let env = TestEnv::new();
    env.write(
        "warehouse-schema/bad.json",
        r#"{"fields": [
            {"name": "a", "type": "integr"},
            {"name": "b", "type": "string", "constraints": {"minimum": 3, "pattern": "[a-"}}
        ], "primaryKey": ["c"]}"#,
    );
    env.write(
        "warehouse-schema/good.json",
        r#"{"fields": [{"name": "id", "type": "integer"}]}"#,
    );
    env.write("warehouse-schema/broken.json", "{\"fields\": [");
    let run = env.run(["schema", "check"]);
    run.expect_code(78);
    let bad = env.display("warehouse-schema/bad.json");
    for line in [
        format!("{bad}: /fields/0/type: unknown type \"integr\" (did you mean \"integer\"?)"),
        format!(
            "{bad}: /fields/1/constraints/minimum: constraint minimum does not apply to type string"
        ),
        format!("{bad}: /fields/1/constraints/pattern: invalid regular expression \"[a-\""),
        format!("{bad}: /primaryKey/0: no field named \"c\""),
    ] {
        assert!(
            run.stdout.contains(&line) || run.stderr.contains(&line),
            "missing {line:?} in\n{}{}",
            run.stdout,
            run.stderr
        );
    }
    let output = format!("{}{}", run.stdout, run.stderr);
    assert!(
        output.contains("broken.json"),
        "a file that is not JSON is reported too:\n{output}"
    );
    assert!(
        !output.contains("good.json:"),
        "a good schema has no problems:\n{output}"
    );

    let json = env.run(["schema", "check", "--json"]);
    json.expect_code(78);
    let report: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(report["valid"], false);
}

#[test]
fn a_missing_schema_directory_is_no_input() {
    let env = TestEnv::new();
    env.run(["schema", "check", "nowhere"]).expect_code(66);
}
