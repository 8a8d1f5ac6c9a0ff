//! Which warehouse tables exist, and with which schema version.
//!
//! A schema's version is a hash of its normalized descriptor (keys sorted,
//! no whitespace), so reformatting a schema file changes nothing while any
//! real change is noticed. A load creates its table when it is missing; a
//! table whose recorded version differs from the schema's is not loaded
//! until `droplake schema apply` has brought it up to date.

use rusqlite::{OptionalExtension, params};
use sha2::{Digest, Sha256};

use super::WarehouseError;
use super::table;
use crate::schema::Schema;

/// Why a table cannot take a load.
#[derive(Debug)]
pub(super) enum TableError {
    /// The schema file changed since the table was made.
    Changed {
        table: String,
        recorded: String,
        current: String,
    },
    /// The name is one droplake keeps for itself.
    Reserved {
        table: String,
    },
    Sql(rusqlite::Error),
}

impl From<rusqlite::Error> for TableError {
    fn from(error: rusqlite::Error) -> Self {
        TableError::Sql(error)
    }
}

impl TableError {
    /// The error for the warehouse at `path`.
    pub(super) fn at(self, path: &std::path::Path) -> WarehouseError {
        match self {
            TableError::Changed {
                table,
                recorded,
                current,
            } => WarehouseError::SchemaChanged {
                table: table.clone(),
                message: format!(
                    "table {table} was made from schema version {recorded}, but its schema file is now version {current}; \
                     review the change with `droplake schema diff {table}` and apply it with `droplake schema apply`"
                ),
            },
            TableError::Reserved { table } => WarehouseError::SchemaChanged {
                message: format!(
                    "{table:?} is reserved for droplake's own bookkeeping; rename the schema file"
                ),
                table,
            },
            TableError::Sql(error) => WarehouseError::from_sqlite(path, error),
        }
    }
}

/// The version of a schema descriptor given as JSON text: the first 16 hex
/// digits of the SHA-256 of its normalized form.
pub fn version_of(descriptor: &serde_json::Value) -> String {
    let mut hasher = Sha256::new();
    hasher.update(normalized(descriptor).as_bytes());
    hex::encode(&hasher.finalize()[..8])
}

/// JSON text with object keys sorted at every level and no whitespace.
pub(super) fn normalized(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<(&String, &serde_json::Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let parts: Vec<String> = entries
                .into_iter()
                .map(|(key, value)| {
                    format!(
                        "{}:{}",
                        serde_json::Value::String(key.clone()),
                        normalized(value)
                    )
                })
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        serde_json::Value::Array(items) => format!(
            "[{}]",
            items.iter().map(normalized).collect::<Vec<_>>().join(",")
        ),
        other => other.to_string(),
    }
}

/// Makes sure `schema`'s table exists at `version`: creates it (and records
/// it) when missing, refuses when it was made from another version.
pub(super) fn ensure(
    transaction: &rusqlite::Connection,
    schema: &Schema,
    version: &str,
    descriptor: &serde_json::Value,
) -> Result<(), TableError> {
    if schema.name.starts_with("_droplake") || schema.name.starts_with("sqlite_") {
        return Err(TableError::Reserved {
            table: schema.name.clone(),
        });
    }
    let recorded: Option<String> = transaction
        .query_row(
            "SELECT schema_version FROM _droplake_tables WHERE name = ?1",
            [&schema.name],
            |row| row.get(0),
        )
        .optional()?;
    match recorded {
        Some(recorded) if recorded == version => Ok(()),
        Some(recorded) => Err(TableError::Changed {
            table: schema.name.clone(),
            recorded,
            current: version.to_string(),
        }),
        None => {
            for statement in table::create_statements(schema) {
                transaction.execute_batch(&statement)?;
            }
            let now = jiff::Timestamp::now().to_string();
            transaction.execute(
                "INSERT INTO _droplake_tables (name, schema_version, descriptor, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?4)",
                params![schema.name, version, normalized(descriptor), now],
            )?;
            tracing::info!(table = schema.name, version, "Created a warehouse table.");
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_ignores_formatting_and_key_order_but_not_content() {
        let a: serde_json::Value =
            serde_json::from_str(r#"{"fields": [{"name": "id", "type": "integer"}]}"#)
                .expect("json");
        let b: serde_json::Value = serde_json::from_str(
            "{\n  \"fields\" : [ { \"type\":\"integer\", \"name\":\"id\" } ]\n}",
        )
        .expect("json");
        let c: serde_json::Value =
            serde_json::from_str(r#"{"fields": [{"name": "id", "type": "number"}]}"#)
                .expect("json");
        assert_eq!(version_of(&a), version_of(&b));
        assert_ne!(version_of(&a), version_of(&c));
        assert_eq!(version_of(&a).len(), 16);
    }
}
