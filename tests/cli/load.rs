//! `droplake load`: every lake object not processed yet, into its table,
//! once.

use crate::util::TestEnv;

#[test]
fn load_takes_each_new_object_once_and_reports_duplicates_by_content() {
    let env = TestEnv::new();
    let root = env!("CARGO_MANIFEST_DIR");
    env.write(
        "warehouse-schema/orders.json",
        std::fs::read(format!("{root}/warehouse-schema/orders.json")).expect("schema"),
    );
    let sample =
        std::fs::read(format!("{root}/lake/orders/dt=2026-11-01/orders.csv")).expect("sample");
    env.write("lake/orders/dt=2026-11-01/orders.csv", &sample);
    env.write(
        "lake/notes/readme.txt",
        "a dataset without a table is left alone",
    );
    env.write("lake/orders/.staging/partial.csv", "id\n1\n");

    let first = env.run(["load"]);
    first.expect_code(1);
    assert!(
        first
            .stdout
            .contains("partial: 314 rows loaded, 6 rejected"),
        "{}",
        first.stdout
    );
    assert!(
        first
            .stdout
            .ends_with("1 new object(s) loaded from 1 dataset(s)\n"),
        "{}",
        first.stdout
    );

    let second = env.run(["load"]);
    second.expect_code(0);
    assert_eq!(second.stdout, "0 new object(s) loaded from 1 dataset(s)\n");

    env.write("lake/orders/dt=2026-11-02/copy.csv", &sample);
    let copy = env.run(["load", "orders", "--json"]);
    copy.expect_code(0);
    let report: serde_json::Value = serde_json::from_str(copy.stdout.trim()).expect("JSON");
    assert_eq!(report["outcome"], "duplicate");
    assert_eq!(report["duplicate_of"], 1);

    let count = env.run(["query", "--csv", "SELECT count(*) AS n FROM orders"]);
    assert_eq!(count.expect_code(0).stdout, "n\n314\n");
}

#[test]
fn dataset_and_table_settings_shape_the_load() {
    let env = TestEnv::new();
    env.write(
        "warehouse-schema/prices.json",
        r#"{"fields": [{"name": "sku", "type": "string"}, {"name": "price", "type": "number", "decimalPlaces": 2}], "primaryKey": ["sku"]}"#,
    );
    env.write(
        "droplake.toml",
        "[datasets.eu-prices]\ntable = \"prices\"\ndialect = { delimiter = \";\" }\non_error = \"skip_file\"\n\n[tables.prices]\nwrite_mode = \"upsert\"\n",
    );
    env.write(
        "lake/eu-prices/2026-11-01.csv",
        "sku;price\nA;1.50\nB;2.00\n",
    );
    env.run(["load"]).expect_code(0);
    // The next day's file repeats a key: upsert lets it win.
    env.write(
        "lake/eu-prices/2026-11-02.csv",
        "sku;price\nB;2.50\nC;3.00\n",
    );
    std::thread::sleep(std::time::Duration::from_millis(20));
    env.run(["load"]).expect_code(0);
    // A file with one bad row loads nothing under skip_file.
    env.write(
        "lake/eu-prices/2026-11-03.csv",
        "sku;price\nD;4.00\nE;cheap\n",
    );
    env.run(["load"]).expect_code(65);
    let prices = env.run([
        "query",
        "--csv",
        "SELECT sku, price FROM prices ORDER BY sku",
    ]);
    assert_eq!(
        prices.expect_code(0).stdout,
        "sku,price\nA,1.50\nB,2.50\nC,3.00\n"
    );
}

#[test]
fn a_full_disk_during_a_load_commits_nothing_and_a_retry_loads_once() {
    let env = TestEnv::new();
    let root = env!("CARGO_MANIFEST_DIR");
    env.write(
        "warehouse-schema/orders.json",
        std::fs::read(format!("{root}/warehouse-schema/orders.json")).expect("schema"),
    );
    let rows: String = (1..=20_000)
        .map(|id| format!("{id},Grace Hopper,grace@example.com,{id}.10,2,2026-11-01T10:00:00Z,shipped,\"a note, with a comma\"\n"))
        .collect();
    env.write(
        "lake/orders/big.csv",
        format!("id,customer,email,amount,quantity,ordered_at,status,note\n{rows}"),
    );
    env.run(["query", "SELECT 1"]).expect_code(66);
    // `ulimit -f` makes the warehouse's writes past 512 KiB fail, as a full
    // disk would, in the middle of the load.
    let script = format!(
        "ulimit -f 512 && exec '{}' load",
        env!("CARGO_BIN_EXE_droplake")
    );
    let full = crate::util::Run::from(
        std::process::Command::new("bash")
            .args(["-c", &script])
            .current_dir(env.root())
            .output()
            .expect("bash"),
    );
    assert_eq!(full.code, 74, "{}", full.stderr);
    assert!(
        full.stderr
            .contains("the disk is full or failing; nothing of this change was committed"),
        "{}",
        full.stderr
    );
    let count = |env: &TestEnv| {
        let run = env.run([
            "query",
            "--csv",
            "SELECT count(*) AS n FROM sqlite_master WHERE name = 'orders'",
        ]);
        run.expect_code(0).stdout.clone()
    };
    assert_eq!(
        count(&env),
        "n\n0\n",
        "nothing of the failed load was committed, not even its table"
    );
    let retry = env.run(["load"]);
    retry.expect_code(0);
    let loaded = env.run([
        "query",
        "--csv",
        "SELECT count(*) AS n, count(DISTINCT id) AS ids FROM orders",
    ]);
    assert_eq!(loaded.expect_code(0).stdout, "n,ids\n20000,20000\n");
}
