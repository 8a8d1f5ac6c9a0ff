//! `droplake insert` and `droplake rejects`: put and load in one step,
//! exactly once, with every rejected row kept and listed.

use std::process::Stdio;
use std::time::Duration;

use crate::util::TestEnv;

/// A working directory with the project's own schemas and a copy of the sample.
fn with_sample() -> TestEnv {
    let env = TestEnv::new();
    let root = env!("CARGO_MANIFEST_DIR");
    env.write(
        "warehouse-schema/orders.json",
        std::fs::read(format!("{root}/warehouse-schema/orders.json")).expect("schema"),
    );
    env.write(
        "orders.csv",
        std::fs::read(format!("{root}/lake/orders/dt=2026-11-01/orders.csv")).expect("sample"),
    );
    env
}

fn scalar(env: &TestEnv, sql: &str) -> String {
    let run = env.run(["query", "--csv", sql]);
    run.expect_code(0);
    run.stdout.lines().nth(1).unwrap_or_default().to_string()
}

#[test]
fn inserting_the_sample_loads_its_good_rows_and_keeps_its_six_bad_ones() {
    let env = with_sample();
    let run = env.run(["insert", "orders", "orders.csv"]);
    run.expect_code(1);
    assert!(
        run.stdout
            .contains(": partial: 314 rows loaded, 6 rejected (load 1)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("droplake rejects orders --load 1"),
        "{}",
        run.stdout
    );
    assert_eq!(scalar(&env, "SELECT count(*) FROM orders"), "314");
    assert_eq!(
        scalar(&env, "SELECT amount FROM orders WHERE id = 1002"),
        "238.50",
        "money is stored exactly"
    );
    assert_eq!(env.lake_files().len(), 1, "the raw file is in the lake too");

    let rejects = env.run(["rejects", "orders", "--json"]);
    let rows: serde_json::Value =
        serde_json::from_str(&rejects.expect_code(0).stdout).expect("JSON");
    let rows = rows.as_array().expect("array");
    assert_eq!(rows.len(), 6);
    assert_eq!(rows[0]["row"], 43);
    assert_eq!(rows[0]["field"], "amount");
    assert_eq!(rows[0]["type"], "type-error");
    let record: Vec<String> =
        serde_json::from_str(rows[0]["record"].as_str().expect("record")).expect("a JSON array");
    assert_eq!(
        record[0], "1042",
        "the raw record is kept for re-processing"
    );
}

#[test]
fn inserting_the_same_file_again_adds_nothing_and_force_follows_the_write_mode() {
    let env = with_sample();
    env.run(["insert", "orders", "orders.csv"]).expect_code(1);
    let again = env.run(["insert", "orders", "orders.csv"]);
    again.expect_code(0);
    assert!(
        again
            .stdout
            .contains("already loaded by load 1; nothing added"),
        "{}",
        again.stdout
    );
    assert_eq!(scalar(&env, "SELECT count(*) FROM orders"), "314");

    // Under append, forcing it again rejects every key already present.
    let forced = env.run(["insert", "orders", "orders.csv", "--force", "--json"]);
    forced.expect_code(65);
    let report: serde_json::Value = serde_json::from_str(forced.stdout.trim()).expect("JSON");
    assert_eq!(
        (report["outcome"].as_str(), report["rows_loaded"].as_u64()),
        (Some("failed"), Some(0))
    );
    assert_eq!(scalar(&env, "SELECT count(*) FROM orders"), "314");
    assert_eq!(
        scalar(
            &env,
            "SELECT group_concat(outcome, ' ') FROM _droplake_loads"
        ),
        "partial duplicate failed"
    );
}

#[test]
fn a_dry_run_validates_and_writes_nothing() {
    let env = with_sample();
    let run = env.run(["insert", "orders", "orders.csv", "--dry-run"]);
    run.expect_code(1);
    assert!(run.stdout.contains("6 errors: invalid"), "{}", run.stdout);
    assert!(env.lake_files().is_empty());
    assert!(!env.root().join("warehouse.db").exists());
}

#[test]
fn a_killed_insert_leaves_all_of_its_rows_or_none_and_a_rerun_loads_once() {
    let env = with_sample();
    let header = "id,customer,email,amount,quantity,ordered_at,status,note\n";
    let rows: String = (1..=40_000)
        .map(|id| {
            format!(
                "{id},Ada Lovelace,ada@example.com,{id}.25,1,2026-11-01T10:00:00Z,paid,\"a, b\"\n"
            )
        })
        .collect();
    env.write("big.csv", format!("{header}{rows}"));
    let mut committed = 0;
    for attempt in 0..20u64 {
        let mut child = env
            .command(["insert", "orders", "big.csv"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(Duration::from_millis(20 + attempt * 37 % 400));
        let _ = child.kill();
        let _ = child.wait();
        let count = rows_in_orders(&env);
        assert!(
            count == 0 || count == 40_000,
            "attempt {attempt}: {count} rows is neither none nor all"
        );
        committed += u64::from(count == 40_000);
        if env.root().join("warehouse.db").exists() {
            assert_eq!(scalar(&env, "PRAGMA integrity_check"), "ok");
            // The bookkeeping committed with the rows or not at all.
            if scalar(
                &env,
                "SELECT count(*) FROM sqlite_master WHERE name = '_droplake_loads'",
            ) == "1"
            {
                let records = if count == 0 { "0 0" } else { "1 1" };
                let found = scalar(
                    &env,
                    "SELECT (SELECT count(*) FROM _droplake_loads) || ' ' || (SELECT count(*) FROM _droplake_dedupe)",
                );
                assert_eq!(
                    found, records,
                    "attempt {attempt}: load records and dedupe keys follow the rows"
                );
            }
        }
        if count == 40_000 {
            break;
        }
    }
    let rerun = env.run(["insert", "orders", "big.csv"]);
    rerun.expect_code(0);
    assert_eq!(
        scalar(&env, "SELECT count(*) FROM orders"),
        "40000",
        "after {committed} committed kills"
    );
    assert_eq!(
        scalar(&env, "SELECT count(DISTINCT id) FROM orders"),
        "40000"
    );
    assert_eq!(
        scalar(
            &env,
            "SELECT count(*) FROM _droplake_loads WHERE outcome = 'loaded'"
        ),
        "1"
    );
}

/// Rows in the orders table; 0 while the warehouse or the table does not
/// exist yet (a kill before the first commit).
fn rows_in_orders(env: &TestEnv) -> u64 {
    if !env.root().join("warehouse.db").exists() {
        return 0;
    }
    if scalar(
        env,
        "SELECT count(*) FROM sqlite_master WHERE name = 'orders'",
    ) == "0"
    {
        return 0;
    }
    scalar(env, "SELECT count(*) FROM orders")
        .parse()
        .expect("a count")
}

#[test]
fn insert_reads_standard_input_under_the_given_name() {
    use std::io::Write;
    let env = with_sample();
    let mut child = env
        .command(["insert", "orders", "-", "--name", "piped.csv", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let header = "id,customer,email,amount,quantity,ordered_at,status,note\n";
    let row = "7,Ada Lovelace,ada@example.com,12.5,1,2026-11-01T10:00:00+01:00,paid,\n";
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{header}{row}").as_bytes())
        .expect("feed");
    let run = crate::util::Run::from(child.wait_with_output().expect("wait"));
    run.expect_code(0);
    let report: serde_json::Value = serde_json::from_str(run.stdout.trim()).expect("JSON");
    assert_eq!(report["outcome"], "loaded");
    assert!(
        report["path"]
            .as_str()
            .is_some_and(|path| path.ends_with("/piped.csv")),
        "{report}"
    );
    let stored = env.run(["query", "--csv", "SELECT amount, ordered_at FROM orders"]);
    assert_eq!(
        stored.expect_code(0).stdout,
        "amount,ordered_at\n12.50,2026-11-01T09:00:00Z\n"
    );
}

#[test]
fn a_warehouse_locked_past_the_busy_timeout_is_a_temporary_failure_that_a_retry_overcomes() {
    let env = with_sample();
    env.write("one.csv", "id,customer,email,amount,quantity,ordered_at,status,note\n1,A,a@example.com,1,1,2026-11-01T10:00:00Z,paid,\n");
    env.run(["insert", "orders", "one.csv"]).expect_code(0);

    let other = rusqlite::Connection::open(env.root().join("warehouse.db"))
        .expect("a second process's connection");
    other
        .execute_batch("BEGIN IMMEDIATE")
        .expect("hold the write lock");
    env.write("two.csv", "id,customer,email,amount,quantity,ordered_at,status,note\n2,B,b@example.com,2,1,2026-11-01T10:00:00Z,paid,\n");
    let locked = env.run(["insert", "orders", "two.csv"]);
    locked.expect_code(75);
    assert!(
        locked.stderr.contains("is locked by another process")
            && locked.stderr.contains("try again"),
        "{}",
        locked.stderr
    );
    other.execute_batch("COMMIT").expect("release the lock");

    env.run(["insert", "orders", "two.csv"]).expect_code(0);
    assert_eq!(
        scalar(&env, "SELECT group_concat(id, ' ') FROM orders"),
        "1 2"
    );
}

#[test]
fn a_foreign_key_to_a_missing_row_of_another_table_is_a_reject() {
    let env = TestEnv::new();
    env.write(
        "warehouse-schema/customers.json",
        r#"{"fields": [{"name": "id", "type": "integer"}, {"name": "name", "type": "string"}], "primaryKey": ["id"]}"#,
    );
    env.write(
        "warehouse-schema/invoices.json",
        r#"{"fields": [{"name": "no", "type": "integer"}, {"name": "customer", "type": "integer"}],
            "primaryKey": ["no"],
            "foreignKeys": [{"fields": ["customer"], "reference": {"resource": "customers", "fields": ["id"]}}]}"#,
    );
    env.write("customers.csv", "id,name\n1,Ada\n2,Grace\n");
    env.write("invoices.csv", "no,customer\n10,1\n11,3\n12,2\n");
    env.run(["insert", "customers", "customers.csv"])
        .expect_code(0);
    let run = env.run(["insert", "invoices", "invoices.csv"]);
    run.expect_code(1);
    assert!(
        run.stdout.contains("2 rows loaded, 1 rejected"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("row 3: foreign-key"), "{}", run.stdout);
    assert_eq!(
        scalar(&env, "SELECT group_concat(no, ' ') FROM invoices"),
        "10 12"
    );
}
