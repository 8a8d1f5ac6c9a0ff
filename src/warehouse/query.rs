//! Read-only SQL over the warehouse, for `droplake query`.
//!
//! The database is opened read-only and an authorizer admits only reading:
//! `SELECT`, reading functions and the introspection pragmas. Anything else —
//! `INSERT`, `DELETE`, `DROP`, `ATTACH`, a pragma that sets a value — is
//! refused before it runs, with a message naming what was refused.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::types::Value;

use super::{WarehouseError, open_read_only};
use crate::exit::{ExitCode, HasExitCode};

/// Pragmas that only report, and may take a table or index name.
const READING_PRAGMAS: [&str; 14] = [
    "table_info",
    "table_xinfo",
    "table_list",
    "index_list",
    "index_info",
    "index_xinfo",
    "foreign_key_list",
    "foreign_key_check",
    "integrity_check",
    "quick_check",
    "database_list",
    "collation_list",
    "function_list",
    "compile_options",
];

/// Receives a query's result as it is read.
pub trait Sink {
    /// The column names, once, before any row.
    fn columns(&mut self, names: &[String]) -> std::io::Result<()>;
    /// One row of values, in column order.
    fn row(&mut self, values: &[Value]) -> std::io::Result<()>;
    /// After the last row.
    fn finish(&mut self) -> std::io::Result<()>;
}

/// Why a query did not run to the end.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error(transparent)]
    Warehouse(#[from] WarehouseError),
    #[error(
        "droplake query is read-only: {what} is not allowed; change data through `droplake insert` or `load`"
    )]
    NotReadOnly { what: String },
    #[error("the query is not valid SQL: {message}")]
    Invalid { message: String },
    #[error("cannot write the result: {0}")]
    Output(std::io::Error),
}

impl HasExitCode for QueryError {
    fn exit_code(&self) -> ExitCode {
        match self {
            QueryError::Warehouse(error) => error.exit_code(),
            QueryError::NotReadOnly { .. } | QueryError::Invalid { .. } => ExitCode::Usage,
            QueryError::Output(_) => ExitCode::IoErr,
        }
    }
}

/// Runs `sql` (one statement) against the warehouse at `path`, handing the
/// result to `sink` row by row. Returns the number of rows.
pub fn query(path: &Path, sql: &str, sink: &mut dyn Sink) -> Result<u64, QueryError> {
    let mut connection = open_read_only(path)?;
    let refused = Arc::new(Mutex::new(None::<String>));
    let record = Arc::clone(&refused);
    connection
        .authorizer(Some(move |context: AuthContext<'_>| {
            let verdict = authorize(&context.action);
            if let Err(what) = &verdict {
                record
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .get_or_insert_with(|| what.clone());
            }
            verdict.map_or(Authorization::Deny, |()| Authorization::Allow)
        }))
        .map_err(|error| WarehouseError::from_sqlite(path, error))?;
    let classify = |error: rusqlite::Error| -> QueryError {
        if let Some(what) = refused
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            return QueryError::NotReadOnly { what };
        }
        match error {
            rusqlite::Error::SqlInputError { msg, .. } => QueryError::Invalid { message: msg },
            rusqlite::Error::SqliteFailure(failure, message)
                if failure.code == rusqlite::ErrorCode::Unknown =>
            {
                QueryError::Invalid {
                    message: message.unwrap_or_else(|| failure.to_string()),
                }
            }
            rusqlite::Error::MultipleStatement => QueryError::Invalid {
                message: "give one statement at a time".into(),
            },
            error => WarehouseError::from_sqlite(path, error).into(),
        }
    };

    let mut statement = connection.prepare(sql).map_err(classify)?;
    let names: Vec<String> = statement.column_names().map(str::to_owned).collect();
    sink.columns(&names).map_err(QueryError::Output)?;
    let mut rows = statement.query([]).map_err(classify)?;
    let mut values = Vec::with_capacity(names.len());
    let mut count = 0;
    while let Some(row) = rows.next().map_err(classify)? {
        values.clear();
        for index in 0..names.len() {
            values.push(row.get::<_, Value>(index).map_err(classify)?);
        }
        sink.row(&values).map_err(QueryError::Output)?;
        count += 1;
    }
    sink.finish().map_err(QueryError::Output)?;
    Ok(count)
}

/// Whether `table` is SQLite's catalog, which DDL statements write.
fn is_catalog(table: &str) -> bool {
    table.eq_ignore_ascii_case("sqlite_master") || table.eq_ignore_ascii_case("sqlite_schema")
}

/// Admits reading and nothing else; the error names what was refused.
fn authorize(action: &AuthAction<'_>) -> Result<(), String> {
    match action {
        AuthAction::Select
        | AuthAction::Read { .. }
        | AuthAction::Function { .. }
        | AuthAction::Recursive => Ok(()),
        AuthAction::Pragma {
            pragma_name,
            pragma_value,
        } => {
            let name = pragma_name.to_ascii_lowercase();
            if pragma_value.is_none() || READING_PRAGMAS.contains(&name.as_str()) {
                Ok(())
            } else {
                Err(format!("PRAGMA {pragma_name} = ..."))
            }
        }
        AuthAction::Insert { table_name }
        | AuthAction::Update { table_name, .. }
        | AuthAction::Delete { table_name }
            if is_catalog(table_name) =>
        {
            Err("changing the schema".into())
        }
        AuthAction::Insert { table_name } => Err(format!("INSERT into {table_name}")),
        AuthAction::Update { table_name, .. } => Err(format!("UPDATE of {table_name}")),
        AuthAction::Delete { table_name } => Err(format!("DELETE from {table_name}")),
        AuthAction::Attach { filename } => Err(format!("ATTACH of {filename}")),
        AuthAction::Detach { database_name } => Err(format!("DETACH of {database_name}")),
        other => Err(format!("{other:?}")
            .split([' ', '{'])
            .next()
            .unwrap_or("this statement")
            .to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::warehouse::Warehouse;

    #[derive(Default)]
    struct Collect {
        columns: Vec<String>,
        rows: Vec<Vec<Value>>,
    }

    impl Sink for Collect {
        fn columns(&mut self, names: &[String]) -> std::io::Result<()> {
            self.columns = names.to_vec();
            Ok(())
        }
        fn row(&mut self, values: &[Value]) -> std::io::Result<()> {
            self.rows.push(values.to_vec());
            Ok(())
        }
        fn finish(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn warehouse() -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("warehouse.db");
        drop(Warehouse::open(&path).expect("open"));
        rusqlite::Connection::open(&path)
            .expect("open for seeding")
            .execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO t VALUES (1, 'a'), (2, 'b');")
            .expect("seed");
        (dir, path)
    }

    #[test]
    fn a_select_streams_columns_and_rows() {
        let (_dir, path) = warehouse();
        let mut sink = Collect::default();
        let count = query(&path, "SELECT id, name FROM t ORDER BY id", &mut sink).expect("query");
        assert_eq!(count, 2);
        assert_eq!(sink.columns, ["id", "name"]);
        assert_eq!(sink.rows[1], [Value::Integer(2), Value::Text("b".into())]);
    }

    #[test]
    fn introspection_pragmas_are_allowed() {
        let (_dir, path) = warehouse();
        let mut sink = Collect::default();
        query(&path, "PRAGMA table_info(t)", &mut sink).expect("table_info");
        assert_eq!(sink.rows.len(), 2);
        query(&path, "PRAGMA journal_mode", &mut Collect::default()).expect("reading a pragma");
    }

    #[test]
    fn anything_that_writes_is_refused_and_the_data_is_untouched() {
        let (dir, path) = warehouse();
        let attached = dir.path().join("other.db");
        let statements = [
            ("DELETE FROM t", "DELETE from t"),
            ("DROP TABLE t", "changing the schema"),
            ("INSERT INTO t VALUES (3, 'c')", "INSERT into t"),
            ("UPDATE t SET name = 'x'", "UPDATE of t"),
            (
                &format!("ATTACH '{}' AS other", attached.display()),
                "ATTACH",
            ),
            ("PRAGMA user_version = 7", "PRAGMA user_version"),
            ("CREATE TABLE u (x)", "changing the schema"),
            ("BEGIN", "Transaction"),
        ];
        for (sql, what) in statements {
            let error = query(&path, sql, &mut Collect::default()).expect_err(sql);
            assert!(
                matches!(error, QueryError::NotReadOnly { .. }),
                "{sql}: {error}"
            );
            assert!(error.to_string().contains(what), "{sql}: {error}");
            assert_eq!(error.exit_code(), ExitCode::Usage);
        }
        assert!(!attached.exists(), "ATTACH created no file");
        let mut sink = Collect::default();
        query(&path, "SELECT count(*) FROM t", &mut sink).expect("count");
        assert_eq!(sink.rows, [[Value::Integer(2)]]);
    }

    #[test]
    fn bad_sql_and_several_statements_are_usage_errors() {
        let (_dir, path) = warehouse();
        for sql in ["SELEC 1", "SELECT 1; SELECT 2"] {
            let error = query(&path, sql, &mut Collect::default()).expect_err(sql);
            assert!(
                matches!(error, QueryError::Invalid { .. }),
                "{sql}: {error:?}"
            );
        }
    }
}
