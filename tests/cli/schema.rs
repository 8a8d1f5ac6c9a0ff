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
fn a_foreign_key_must_refer_to_a_key_of_the_other_table() {
    let env = TestEnv::new();
    env.write(
        "warehouse-schema/customers.json",
        r#"{"fields": [{"name": "id", "type": "integer"}, {"name": "email", "type": "string"}], "primaryKey": ["id"]}"#,
    );
    env.write(
        "warehouse-schema/orders.json",
        r#"{"fields": [{"name": "no", "type": "integer"}, {"name": "buyer", "type": "string"}],
            "foreignKeys": [{"fields": ["buyer"], "reference": {"resource": "customers", "fields": ["email"]}}]}"#,
    );
    let run = env.run(["schema", "check"]);
    run.expect_code(78);
    assert!(run.stdout.contains("/foreignKeys/0/reference/fields: [\"email\"] of table \"customers\" is not its primary key nor unique"), "{}", run.stdout);
}

#[test]
fn a_missing_schema_directory_is_no_input() {
    let env = TestEnv::new();
    env.run(["schema", "check", "nowhere"]).expect_code(66);
}

#[test]
fn diff_shows_pending_changes_and_apply_applies_them_unless_breaking() {
    let env = TestEnv::new();
    let schema = |extra: &str| {
        format!(
            r#"{{"fields": [{{"name": "id", "type": "integer"}}, {{"name": "qty", "type": "integer"}}{extra}], "primaryKey": ["id"]}}"#
        )
    };
    env.write("warehouse-schema/items.json", schema(""));
    env.write("items.csv", "id,qty\n1,5\n2,70\n");
    env.run(["insert", "items", "items.csv"]).expect_code(0);
    assert!(
        env.run(["schema", "diff"])
            .stdout
            .starts_with("items: up to date")
    );

    // Additive: a new optional field. The next load applies it by itself.
    env.write(
        "warehouse-schema/items.json",
        schema(r#", {"name": "colour", "type": "string"}"#),
    );
    let diff = env.run(["schema", "diff", "items"]);
    assert!(
        diff.expect_code(0)
            .stdout
            .contains(": additive\n  + new optional field \"colour\""),
        "{}",
        diff.stdout
    );
    env.write("more.csv", "id,qty,colour\n3,1,red\n");
    env.run(["insert", "items", "more.csv"]).expect_code(0);
    let rows = env.run(["query", "--csv", "SELECT id, colour FROM items ORDER BY id"]);
    assert_eq!(rows.expect_code(0).stdout, "id,colour\n1,\n2,\n3,red\n");

    // Breaking: a rule an existing row breaks. Refused, then forced.
    env.write(
        "warehouse-schema/items.json",
        r#"{"fields": [{"name": "id", "type": "integer"},
                       {"name": "qty", "type": "integer", "constraints": {"maximum": 10}},
                       {"name": "colour", "type": "string"}],
            "primaryKey": ["id"]}"#,
    );
    let refused = env.run(["schema", "apply"]);
    refused.expect_code(78);
    assert!(
        refused
            .stdout
            .contains("1 existing rows break the new schema"),
        "{}",
        refused.stdout
    );
    env.run(["insert", "items", "items.csv", "--force"])
        .expect_code(78);
    env.run(["schema", "apply", "--allow-breaking"])
        .expect_code(0);
    let count = env.run(["query", "--csv", "SELECT count(*) AS n FROM items"]);
    assert_eq!(count.expect_code(0).stdout, "n\n3\n", "every row is kept");
}
