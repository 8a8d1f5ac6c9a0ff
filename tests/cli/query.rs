//! `droplake query`: read-only SQL over the warehouse, in every output form.

use crate::util::TestEnv;

fn with_warehouse() -> TestEnv {
    let env = TestEnv::new();
    let connection =
        rusqlite::Connection::open(env.root().join("warehouse.db")).expect("create warehouse");
    connection
        .execute_batch(
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT, amount TEXT);
             INSERT INTO orders VALUES (1, 'Ada, L.', '12.50'), (2, NULL, '3.00');",
        )
        .expect("seed");
    env
}

#[test]
fn query_prints_an_aligned_table_for_people_with_numbers_on_the_right() {
    let env = with_warehouse();
    let run = env.run([
        "query",
        "SELECT id, customer, amount FROM orders ORDER BY id",
    ]);
    run.expect_code(0);
    let expected = "\
id  customer  amount
--  --------  ------
 1  Ada, L.   12.50
 2            3.00
(2 rows)
";
    assert_eq!(run.stdout, expected);
}

#[test]
fn query_prints_csv_json_and_json_lines_for_programs() {
    let env = with_warehouse();
    let sql = "SELECT id, customer, amount FROM orders ORDER BY id";
    let csv = env.run(["query", "--csv", sql]);
    assert_eq!(
        csv.expect_code(0).stdout,
        "id,customer,amount\n1,\"Ada, L.\",12.50\n2,,3.00\n"
    );

    let rows = serde_json::json!([
        {"id": 1, "customer": "Ada, L.", "amount": "12.50"},
        {"id": 2, "customer": null, "amount": "3.00"},
    ]);
    let json = env.run(["query", "--json", sql]);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&json.expect_code(0).stdout).expect("JSON"),
        rows
    );
    let lines = env.run(["query", "--jsonl", sql]);
    assert_eq!(
        lines.expect_code(0).json_lines(),
        rows.as_array().expect("array").clone()
    );

    let empty = env.run(["query", "--json", "SELECT * FROM orders WHERE 0"]);
    assert_eq!(empty.expect_code(0).stdout, "[]\n");
}

#[test]
fn query_refuses_to_change_anything() {
    let env = with_warehouse();
    for sql in [
        "DELETE FROM orders",
        "DROP TABLE orders",
        "ATTACH 'other.db' AS other",
        "PRAGMA journal_mode = delete",
        "UPDATE orders SET amount = '0'",
    ] {
        let run = env.run(["query", sql]);
        run.expect_code(64);
        assert!(run.stderr.contains("read-only"), "{sql}: {}", run.stderr);
    }
    assert!(!env.root().join("other.db").exists());
    let count = env.run(["query", "--csv", "SELECT count(*) AS n FROM orders"]);
    assert_eq!(count.expect_code(0).stdout, "n\n2\n");
}

#[test]
fn query_on_a_missing_warehouse_says_so_without_creating_it() {
    let env = TestEnv::new();
    let run = env.run(["query", "SELECT 1"]);
    run.expect_code(66);
    assert!(run.stderr.contains("does not exist yet"), "{}", run.stderr);
    assert!(!env.root().join("warehouse.db").exists());
}
