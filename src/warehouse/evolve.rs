//! Schema evolution: what changed between the schema a table was made from
//! and its schema file now, whether the change is safe, and applying it.
//!
//! A change is **additive** when every row already in the table fits the new
//! schema and nothing is lost: a new optional field, a relaxed constraint, a
//! tightened one that no existing row breaks. It is **breaking** when a field
//! is removed, a field's storage changes (a type change, or `decimalPlaces`
//! added or dropped), the primary key changes, or existing rows break the
//! new schema. To know the last, the table's rows are read back and checked
//! by the same [`Validator`] that checks files.
//!
//! Applying rebuilds the table through a verified copy, in one transaction:
//! create the new table, copy every row (new fields empty), check the row
//! count, drop the old table, rename the new one, record the new version.

use std::collections::BTreeMap;

use rusqlite::{OptionalExtension, params};

use super::table::{self, Storage, quote};
use super::{Warehouse, WarehouseError};
use crate::formats::{ReadError, Record, RecordReader};
use crate::schema::{RowError, Schema, Validator, recycle};

/// One difference between the recorded schema and the current one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// What changed, for a person.
    pub what: String,
    /// Whether it alone makes the change breaking.
    pub breaking: bool,
}

/// What applying a table's current schema would do.
#[derive(Debug, Clone)]
pub struct Plan {
    pub table: String,
    pub recorded_version: String,
    pub current_version: String,
    pub differences: Vec<Difference>,
    /// Existing rows that break the new schema, and the first errors.
    pub misfits: u64,
    pub first_misfits: Vec<RowError>,
}

impl Plan {
    /// Whether applying it can lose or invalidate data.
    pub fn is_breaking(&self) -> bool {
        self.misfits > 0
            || self
                .differences
                .iter()
                .any(|difference| difference.breaking)
    }

    /// Whether there is nothing to apply.
    pub fn is_current(&self) -> bool {
        self.recorded_version == self.current_version
    }
}

/// The field definitions of a descriptor, by name.
fn fields(descriptor: &serde_json::Value) -> BTreeMap<String, &serde_json::Value> {
    descriptor["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|field| Some((field["name"].as_str()?.to_string(), field)))
        .collect()
}

/// The structural differences between two descriptors of one table.
fn differences(
    before: &serde_json::Value,
    after: &serde_json::Value,
    old: &Schema,
    new: &Schema,
) -> Vec<Difference> {
    let (was, now) = (fields(before), fields(after));
    let mut found = Vec::new();
    for (name, field) in &now {
        match was.get(name) {
            None => {
                let required = field["constraints"]["required"] == true
                    || new.primary_key.iter().any(|&i| new.fields[i].name == *name);
                let what = if required { "required" } else { "optional" };
                found.push(Difference {
                    what: format!("new {what} field {name:?}"),
                    breaking: false,
                });
            }
            Some(previous) => {
                let storage = |schema: &Schema| {
                    schema
                        .field_index(name)
                        .map(|index| Storage::of(&schema.fields[index].kind))
                };
                if previous["type"] != field["type"] || storage(old) != storage(new) {
                    found.push(Difference {
                        what: format!(
                            "field {name:?} changes type from {} to {}",
                            describe(previous),
                            describe(field)
                        ),
                        breaking: true,
                    });
                }
                if previous["constraints"] != field["constraints"] {
                    found.push(Difference {
                        what: format!(
                            "field {name:?} changes its constraints from {} to {}",
                            previous["constraints"], field["constraints"]
                        ),
                        breaking: false,
                    });
                }
            }
        }
    }
    for name in was.keys().filter(|name| !now.contains_key(*name)) {
        found.push(Difference {
            what: format!("field {name:?} is removed, with its values"),
            breaking: true,
        });
    }
    for key in ["primaryKey", "uniqueKeys", "foreignKeys", "missingValues"] {
        if before[key] != after[key] {
            found.push(Difference {
                what: format!("{key} changes from {} to {}", before[key], after[key]),
                breaking: key == "primaryKey",
            });
        }
    }
    found
}

/// A field's type as written: `integer`, or `number (decimalPlaces 2)`.
fn describe(field: &serde_json::Value) -> String {
    let kind = field["type"].as_str().unwrap_or("string");
    match field.get("decimalPlaces") {
        Some(places) => format!("{kind} (decimalPlaces {places})"),
        None => kind.to_string(),
    }
}

/// The rows of a table, read back as text cells in the order of a schema's
/// fields, a page at a time; absent columns and NULLs are null cells. Row
/// numbers are the rows' rowids.
struct TableRows<'c> {
    connection: &'c rusqlite::Connection,
    sql: String,
    page: std::vec::IntoIter<(i64, Vec<Option<String>>)>,
    last: i64,
    done: bool,
}

/// Rows read per page.
const PAGE: i64 = 10_000;

impl<'c> TableRows<'c> {
    fn new(
        connection: &'c rusqlite::Connection,
        table: &str,
        schema: &Schema,
        existing: &[String],
    ) -> TableRows<'c> {
        let columns: Vec<String> = schema
            .fields
            .iter()
            .map(|field| {
                if existing.contains(&field.name) {
                    format!("CAST({} AS TEXT)", quote(&field.name))
                } else {
                    "NULL".into()
                }
            })
            .collect();
        let sql = format!(
            "SELECT rowid, {} FROM {} WHERE rowid > ?1 ORDER BY rowid LIMIT {PAGE}",
            columns.join(", "),
            quote(table)
        );
        TableRows {
            connection,
            sql,
            page: Vec::new().into_iter(),
            last: i64::MIN,
            done: false,
        }
    }

    fn next_page(&mut self) -> rusqlite::Result<()> {
        let mut statement = self.connection.prepare_cached(&self.sql)?;
        let width = statement.column_count() - 1;
        let rows: Vec<(i64, Vec<Option<String>>)> = statement
            .query_map([self.last], |row| {
                let cells = (1..=width)
                    .map(|index| row.get::<_, Option<String>>(index))
                    .collect::<Result<_, _>>()?;
                Ok((row.get(0)?, cells))
            })?
            .collect::<Result<_, _>>()?;
        self.done = rows.len() < PAGE as usize;
        self.page = rows.into_iter();
        Ok(())
    }
}

impl RecordReader for TableRows<'_> {
    fn labels(&self) -> Option<&[String]> {
        None
    }

    fn read(&mut self, record: &mut Record) -> Result<bool, ReadError> {
        loop {
            if let Some((rowid, cells)) = self.page.next() {
                self.last = rowid;
                record.position.row = u64::try_from(rowid).unwrap_or(0);
                let text = record.text_mut();
                for cell in &cells {
                    match cell {
                        Some(value) => text.push_field(value),
                        None => text.push_null(),
                    }
                }
                return Ok(true);
            }
            if self.done {
                return Ok(false);
            }
            self.next_page().map_err(|error| ReadError::Fatal {
                position: record.position,
                message: error.to_string(),
            })?;
        }
    }
}

/// How many errors of misfitting rows a plan keeps.
const FIRST_MISFITS: usize = 5;

impl Warehouse {
    /// The schema version and descriptor a table was made from, if it exists.
    pub fn recorded(
        &self,
        table: &str,
    ) -> Result<Option<(String, serde_json::Value)>, WarehouseError> {
        let found: Option<(String, String)> = self
            .connection
            .query_row(
                "SELECT schema_version, descriptor FROM _droplake_tables WHERE name = ?1",
                [table],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
            .map_err(|error| WarehouseError::from_sqlite(&self.path, error))?;
        Ok(found.map(|(version, descriptor)| {
            (
                version,
                serde_json::from_str(&descriptor).unwrap_or_default(),
            )
        }))
    }

    /// The tables the warehouse holds, by name.
    pub fn tables(&self) -> Result<Vec<String>, WarehouseError> {
        let sql = |error| WarehouseError::from_sqlite(&self.path, error);
        let mut statement = self
            .connection
            .prepare("SELECT name FROM _droplake_tables ORDER BY name")
            .map_err(sql)?;
        let names = statement
            .query_map([], |row| row.get(0))
            .map_err(sql)?
            .collect::<Result<_, _>>()
            .map_err(sql)?;
        Ok(names)
    }

    /// What applying `schema` (from `descriptor`) to its table would do;
    /// `None` when the table does not exist yet.
    pub fn plan(
        &self,
        schema: &Schema,
        descriptor: &serde_json::Value,
    ) -> Result<Option<Plan>, WarehouseError> {
        let Some((recorded_version, before)) = self.recorded(&schema.name)? else {
            return Ok(None);
        };
        let current_version = super::tables::version_of(descriptor);
        let mut plan = Plan {
            table: schema.name.clone(),
            recorded_version,
            current_version,
            differences: Vec::new(),
            misfits: 0,
            first_misfits: Vec::new(),
        };
        if plan.is_current() {
            return Ok(Some(plan));
        }
        let old = Schema::parse(
            &schema.name,
            std::path::Path::new("(recorded)"),
            &before.to_string(),
        )
        .map_err(|error| WarehouseError::SchemaChanged {
            table: schema.name.clone(),
            message: format!(
                "the recorded schema of {} no longer parses: {error}",
                schema.name
            ),
        })?;
        plan.differences = differences(&before, descriptor, &old, schema);
        let existing: Vec<String> = old.fields.iter().map(|field| field.name.clone()).collect();
        let mut rows = TableRows::new(&self.connection, &schema.name, schema, &existing);
        let stored = as_stored(schema);
        let mut validator = Validator::new(&stored, None);
        let (mut record, mut spare, mut errors) = (Record::new(), Vec::new(), Vec::new());
        while rows
            .read(&mut record)
            .map_err(|error| WarehouseError::SchemaChanged {
                table: schema.name.clone(),
                message: error.to_string(),
            })?
        {
            errors.clear();
            let mut values = recycle(std::mem::take(&mut spare));
            if !validator.check_row(&record, &mut values, &mut errors) {
                plan.misfits += 1;
                plan.first_misfits.extend(
                    errors
                        .iter()
                        .take(FIRST_MISFITS.saturating_sub(plan.first_misfits.len()))
                        .cloned(),
                );
            }
            spare = recycle(values);
        }
        Ok(Some(plan))
    }

    /// Rebuilds `schema`'s table to its current schema through a verified
    /// copy. Refuses a breaking change unless `allow_breaking`.
    pub fn apply(
        &mut self,
        schema: &Schema,
        descriptor: &serde_json::Value,
        allow_breaking: bool,
    ) -> Result<Plan, WarehouseError> {
        let Some(plan) = self.plan(schema, descriptor)? else {
            return Err(WarehouseError::SchemaChanged {
                table: schema.name.clone(),
                message: format!(
                    "table {} does not exist yet; the first load creates it",
                    schema.name
                ),
            });
        };
        if plan.is_current() {
            return Ok(plan);
        }
        if plan.is_breaking() && !allow_breaking {
            return Err(WarehouseError::SchemaChanged {
                table: schema.name.clone(),
                message: refusal(&plan),
            });
        }
        let path = self.path.clone();
        let sql = |error| WarehouseError::from_sqlite(&path, error);
        let (_, before) = self.recorded(&schema.name)?.unwrap_or_default();
        let kept: Vec<String> = fields(&before)
            .into_keys()
            .filter(|name| schema.field_index(name).is_some())
            .map(|name| quote(&name))
            .collect();
        let temporary = format!("{}__droplake_rebuild", schema.name);
        let mut renamed = schema.clone();
        renamed.name = temporary.clone();
        // SQLite's procedure for changing a table: foreign keys off (outside
        // the transaction), rebuild, check them, on again.
        self.connection
            .pragma_update(None, "foreign_keys", "off")
            .map_err(sql)?;
        let result = (|| {
            let transaction = self
                .connection
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(sql)?;
            let create = table::create_statements(&renamed);
            transaction.execute_batch(&create[0]).map_err(sql)?;
            let columns = if kept.is_empty() {
                "\"_load_id\"".to_string()
            } else {
                format!("{}, \"_load_id\"", kept.join(", "))
            };
            let copy = format!(
                "INSERT INTO {} ({columns}) SELECT {columns} FROM {}",
                quote(&temporary),
                quote(&schema.name)
            );
            let copied = transaction.execute(&copy, []).map_err(|error| {
                WarehouseError::SchemaChanged {
                    table: schema.name.clone(),
                    message: format!(
                        "the rows of {} do not fit the new table ({error}); nothing was changed",
                        schema.name
                    ),
                }
            })?;
            let count: i64 = transaction
                .query_row(
                    &format!("SELECT count(*) FROM {}", quote(&schema.name)),
                    [],
                    |row| row.get(0),
                )
                .map_err(sql)?;
            if i64::try_from(copied).unwrap_or(-1) != count {
                return Err(WarehouseError::SchemaChanged {
                    table: schema.name.clone(),
                    message: format!(
                        "the copy of {} has {copied} rows, the table {count}; nothing was changed",
                        schema.name
                    ),
                });
            }
            transaction
                .execute_batch(&format!("DROP TABLE {}", quote(&schema.name)))
                .map_err(sql)?;
            transaction
                .execute_batch(&format!(
                    "ALTER TABLE {} RENAME TO {}",
                    quote(&temporary),
                    quote(&schema.name)
                ))
                .map_err(sql)?;
            transaction
                .execute_batch(&table::create_statements(schema)[1])
                .map_err(sql)?;
            let violations: i64 = transaction
                .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |row| {
                    row.get(0)
                })
                .map_err(sql)?;
            if violations > 0 {
                return Err(WarehouseError::SchemaChanged {
                    table: schema.name.clone(),
                    message: format!(
                        "after the change {violations} rows would break foreign keys; nothing was changed"
                    ),
                });
            }
            transaction
                .execute(
                    "UPDATE _droplake_tables SET schema_version = ?2, descriptor = ?3, updated_at = ?4 WHERE name = ?1",
                    params![schema.name, plan.current_version, super::tables::normalized(descriptor), jiff::Timestamp::now().to_string()],
                )
                .map_err(sql)?;
            transaction.commit().map_err(sql)
        })();
        self.connection
            .pragma_update(None, "foreign_keys", "on")
            .map_err(sql)?;
        result?;
        tracing::info!(
            table = schema.name,
            version = plan.current_version,
            "Applied a schema change."
        );
        Ok(plan)
    }
}

/// `schema` with each type's options set to the form the warehouse stores
/// values in (ISO dates, 0/1 booleans, `.` decimals, JSON lists), so that
/// rows read back are judged by the new rules, not by how files spell them.
fn as_stored(schema: &Schema) -> Schema {
    use crate::schema::{BooleanOptions, FieldType, IntegerOptions, NumberOptions, TemporalFormat};
    let mut stored = schema.clone();
    for field in &mut stored.fields {
        field.kind = match &field.kind {
            FieldType::Integer(_) => FieldType::Integer(IntegerOptions {
                bare_number: true,
                group_char: None,
            }),
            FieldType::Number(options) => FieldType::Number(NumberOptions {
                decimal_char: '.',
                group_char: None,
                bare_number: true,
                decimal_places: options.decimal_places,
            }),
            FieldType::Boolean(_) => FieldType::Boolean(BooleanOptions {
                true_values: vec!["1".into()],
                false_values: vec!["0".into()],
            }),
            FieldType::Date(_) => FieldType::Date(TemporalFormat::Default),
            FieldType::Time(_) => FieldType::Time(TemporalFormat::Default),
            FieldType::Datetime(_) => FieldType::Datetime(TemporalFormat::Default),
            FieldType::List(_) => FieldType::Array,
            other => other.clone(),
        };
        field.missing_values.clear();
    }
    stored
}

/// Why a breaking change is refused, listing each difference.
pub fn refusal(plan: &Plan) -> String {
    let mut message = format!(
        "the schema of table {} changed in a way that can lose or invalidate data (version {} -> {}):",
        plan.table, plan.recorded_version, plan.current_version
    );
    for difference in plan
        .differences
        .iter()
        .filter(|difference| difference.breaking)
    {
        message.push_str(&format!("\n  - {}", difference.what));
    }
    if plan.misfits > 0 {
        message.push_str(&format!(
            "\n  - {} existing rows break the new schema, such as:",
            plan.misfits
        ));
        for error in &plan.first_misfits {
            message.push_str(&format!("\n      {error}"));
        }
    }
    message.push_str(
        "\nsee it with `droplake schema diff`; fix the schema, or apply it anyway with \
         `droplake schema apply --allow-breaking`, which keeps every row (rows that break a rule the \
         table cannot store, such as a new required field, stop it and nothing changes)",
    );
    message
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::formats::{self, Format, ReadOptions};
    use crate::warehouse::{LoadOptions, ObjectRef};

    fn parse(descriptor: &serde_json::Value) -> Schema {
        Schema::parse("items", Path::new("items.json"), &descriptor.to_string())
            .expect("valid schema")
    }

    /// Loads `csv` into the `items` table described by `descriptor`.
    fn load(
        warehouse: &mut Warehouse,
        descriptor: &serde_json::Value,
        csv: &str,
    ) -> crate::warehouse::LoadReport {
        let input = Box::new(std::io::Cursor::new(csv.as_bytes().to_vec()));
        let mut reader = formats::from_reader(
            input,
            Path::new("x.csv"),
            Format::Csv,
            &ReadOptions::default(),
        )
        .expect("reader");
        let object = ObjectRef {
            path: "items/x.csv".into(),
            sha256: "x".into(),
            size: 1,
        };
        warehouse
            .load(
                &parse(descriptor),
                descriptor,
                &object,
                reader.as_mut(),
                LoadOptions::default(),
            )
            .expect("load")
    }

    fn warehouse_with_rows() -> (tempfile::TempDir, Warehouse, serde_json::Value) {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut warehouse = Warehouse::open(&dir.path().join("warehouse.db")).expect("open");
        let descriptor = serde_json::json!({
            "fields": [
                {"name": "id", "type": "integer"},
                {"name": "qty", "type": "integer", "constraints": {"minimum": 0}},
                {"name": "note", "type": "string"}
            ],
            "primaryKey": ["id"]
        });
        load(&mut warehouse, &descriptor, "id,qty,note\n1,5,a\n2,7,b\n");
        (dir, warehouse, descriptor)
    }

    fn columns(warehouse: &Warehouse) -> Vec<String> {
        let mut statement = warehouse
            .connection
            .prepare("SELECT name FROM pragma_table_info('items')")
            .expect("prepare");
        statement
            .query_map([], |row| row.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    }

    #[test]
    fn a_new_optional_field_is_additive_and_applied_keeping_every_row() {
        let (_dir, mut warehouse, mut descriptor) = warehouse_with_rows();
        descriptor["fields"]
            .as_array_mut()
            .expect("fields")
            .push(serde_json::json!({"name": "colour", "type": "string"}));
        let schema = parse(&descriptor);
        let plan = warehouse
            .plan(&schema, &descriptor)
            .expect("plan")
            .expect("table exists");
        assert!(!plan.is_breaking(), "{plan:?}");
        assert_eq!(
            plan.differences,
            [Difference {
                what: "new optional field \"colour\"".into(),
                breaking: false
            }]
        );
        warehouse.apply(&schema, &descriptor, false).expect("apply");
        assert_eq!(
            columns(&warehouse),
            ["id", "qty", "note", "colour", "_load_id"]
        );
        let count: i64 = warehouse
            .connection
            .query_row(
                "SELECT count(*) FROM items WHERE colour IS NULL",
                [],
                |row| row.get(0),
            )
            .expect("count");
        assert_eq!(count, 2);
        assert!(
            warehouse
                .plan(&schema, &descriptor)
                .expect("plan")
                .expect("exists")
                .is_current()
        );
    }

    #[test]
    fn a_tightened_constraint_is_additive_only_while_no_row_breaks_it() {
        let (_dir, warehouse, mut descriptor) = warehouse_with_rows();
        descriptor["fields"][1]["constraints"]["minimum"] = serde_json::json!(5);
        let plan = warehouse
            .plan(&parse(&descriptor), &descriptor)
            .expect("plan")
            .expect("exists");
        assert!(!plan.is_breaking(), "every row has qty >= 5: {plan:?}");
        descriptor["fields"][1]["constraints"]["minimum"] = serde_json::json!(6);
        let plan = warehouse
            .plan(&parse(&descriptor), &descriptor)
            .expect("plan")
            .expect("exists");
        assert!(plan.is_breaking());
        assert_eq!(plan.misfits, 1);
        assert!(
            refusal(&plan).contains("1 existing rows break the new schema"),
            "{}",
            refusal(&plan)
        );
    }

    #[test]
    fn stored_values_are_read_back_in_their_stored_form_not_the_files_spelling() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut warehouse = Warehouse::open(&dir.path().join("warehouse.db")).expect("open");
        let mut descriptor = serde_json::json!({"fields": [
            {"name": "id", "type": "integer"},
            {"name": "day", "type": "date", "format": "%d/%m/%Y"},
            {"name": "ok", "type": "boolean", "trueValues": ["yes"], "falseValues": ["no"]},
            {"name": "price", "type": "number", "decimalChar": ","},
            {"name": "tags", "type": "list", "itemType": "integer"}
        ]});
        let report = load(
            &mut warehouse,
            &descriptor,
            "id,day,ok,price,tags\n1,31/12/2026,yes,\"1,5\",\"1,2\"\n",
        );
        assert_eq!(report.rows_loaded, 1, "{report:?}");
        descriptor["fields"]
            .as_array_mut()
            .expect("fields")
            .push(serde_json::json!({"name": "note", "type": "string"}));
        let plan = warehouse
            .plan(&parse_named("items", &descriptor), &descriptor)
            .expect("plan")
            .expect("exists");
        assert_eq!(plan.misfits, 0, "{:?}", plan.first_misfits);
        assert!(!plan.is_breaking());
    }

    fn parse_named(name: &str, descriptor: &serde_json::Value) -> Schema {
        Schema::parse(name, Path::new("t.json"), &descriptor.to_string()).expect("valid schema")
    }

    #[test]
    fn each_kind_of_breaking_change_is_named_and_refused() {
        let (_dir, mut warehouse, descriptor) = warehouse_with_rows();
        type Change = fn(&mut serde_json::Value);
        let cases: [(&str, Change); 4] = [
            ("field \"note\" is removed", |d| {
                d["fields"].as_array_mut().expect("fields").pop();
            }),
            ("field \"qty\" changes type from integer to string", |d| {
                d["fields"][1] = serde_json::json!({"name": "qty", "type": "string"})
            }),
            ("primaryKey changes", |d| {
                d["primaryKey"] = serde_json::json!(["id", "qty"])
            }),
            ("existing rows break the new schema", |d| {
                d["fields"].as_array_mut().expect("fields").push(serde_json::json!({"name": "sku", "type": "string", "constraints": {"required": true}}));
            }),
        ];
        for (expected, change) in cases {
            let mut changed = descriptor.clone();
            change(&mut changed);
            let error = warehouse
                .apply(&parse(&changed), &changed, false)
                .expect_err(expected)
                .to_string();
            assert!(error.contains(expected), "{expected}: {error}");
            assert!(error.contains("--allow-breaking"), "{error}");
            assert_eq!(
                columns(&warehouse),
                ["id", "qty", "note", "_load_id"],
                "nothing changed"
            );
        }
    }

    #[test]
    fn allow_breaking_rebuilds_keeping_every_row_or_changes_nothing() {
        let (_dir, mut warehouse, descriptor) = warehouse_with_rows();
        let mut removed = descriptor.clone();
        removed["fields"].as_array_mut().expect("fields").pop();
        warehouse
            .apply(&parse(&removed), &removed, true)
            .expect("apply");
        assert_eq!(columns(&warehouse), ["id", "qty", "_load_id"]);
        let ids: String = warehouse
            .connection
            .query_row("SELECT group_concat(id, ' ') FROM items", [], |row| {
                row.get(0)
            })
            .expect("ids");
        assert_eq!(ids, "1 2");

        let mut required = removed.clone();
        required["fields"].as_array_mut().expect("fields").push(
            serde_json::json!({"name": "sku", "type": "string", "constraints": {"required": true}}),
        );
        let error = warehouse
            .apply(&parse(&required), &required, true)
            .expect_err("rows cannot fit NOT NULL");
        assert!(error.to_string().contains("nothing was changed"), "{error}");
        assert_eq!(columns(&warehouse), ["id", "qty", "_load_id"]);
    }
}
