//! Loading one lake object into its table: one transaction that holds the
//! good rows, the rejected rows with their reasons, the load record and the
//! dedupe key, so that a crash at any instant leaves all of it or none.
//!
//! The reader streams records; the validator casts them; good rows are bound
//! to one prepared statement. What SQLite itself refuses (a primary key
//! already in the table under `append`, a foreign key with no parent) becomes
//! a rejected row, not an error. The `on_error` policy decides what a bad row
//! does to the rest: `continue` loads the good rows, `skip_file` loads none
//! but keeps checking so every reject is recorded, `abort` stops at the first.

use std::time::Instant;

use rusqlite::{ErrorCode, Transaction, TransactionBehavior, params};

use super::table::{self, Storage};
use super::{Warehouse, WarehouseError};
use crate::formats::{ReadError, Record, RecordReader};
use crate::schema::{ErrorType, RowError, Schema, Validator, recycle};

/// What a bad row does to the load (the dataset's `on_error`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OnError {
    /// Load the good rows and keep the rejects.
    #[default]
    Continue,
    /// Any bad row: load nothing, keep every reject, outcome `failed`.
    SkipFile,
    /// Stop at the first bad row: load nothing, outcome `aborted`.
    Abort,
}

/// How rows meet rows already in the table (the table's write mode).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum WriteMode {
    /// A primary key already present is a reject.
    #[default]
    Append,
    /// The newest load wins for a primary key.
    Upsert,
}

/// How one load behaves.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoadOptions {
    pub on_error: OnError,
    pub mode: WriteMode,
    /// Load even when the same content was loaded into the table before.
    pub force: bool,
}

/// The object being loaded, as the load record names it.
#[derive(Debug, Clone)]
pub struct ObjectRef {
    /// Its path, relative to the lake (or as given on the command line).
    pub path: String,
    /// The SHA-256 of its content, in hexadecimal.
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
}

/// How a load ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every row loaded.
    Loaded,
    /// The good rows loaded, some rows rejected.
    Partial,
    /// Nothing loaded: `skip_file` with bad rows, or unreadable data.
    Failed,
    /// Nothing loaded: `abort` at a bad row.
    Aborted,
    /// Nothing loaded: the same content was loaded before.
    Duplicate,
}

impl Outcome {
    /// The name stored in `_droplake_loads.outcome`.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Loaded => "loaded",
            Outcome::Partial => "partial",
            Outcome::Failed => "failed",
            Outcome::Aborted => "aborted",
            Outcome::Duplicate => "duplicate",
        }
    }
}

/// What a load did.
#[derive(Debug, Clone)]
pub struct LoadReport {
    /// The load's id: the `_load_id` of its rows.
    pub load_id: i64,
    pub outcome: Outcome,
    /// Data records read (header excluded).
    pub rows_read: u64,
    pub rows_loaded: u64,
    pub rows_rejected: u64,
    /// For a duplicate: the load that holds this content.
    pub duplicate_of: Option<i64>,
    /// The first few errors, for a summary; all are in `_droplake_rejects`.
    pub first_errors: Vec<RowError>,
    /// Why the data could not be read to its end, if so.
    pub unreadable: Option<ReadError>,
}

/// How many errors a report carries for its summary.
const FIRST_ERRORS: usize = 10;

impl Warehouse {
    /// Whether the object at `path` with content `sha256` was loaded (or
    /// found a duplicate, or failed) before: a scan does not load it again.
    pub fn was_processed(&self, path: &str, sha256: &str) -> Result<bool, WarehouseError> {
        self.connection
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM _droplake_loads WHERE object_path = ?1 AND sha256 = ?2)",
                params![path, sha256],
                |row| row.get(0),
            )
            .map_err(|error| WarehouseError::from_sqlite(&self.path, error))
    }

    /// Loads the records of `reader` (the object `object`) into `schema`'s
    /// table, creating the table if it does not exist yet, in one
    /// transaction. See the module docs.
    pub fn load(
        &mut self,
        schema: &Schema,
        descriptor: &serde_json::Value,
        object: &ObjectRef,
        reader: &mut dyn RecordReader,
        options: LoadOptions,
    ) -> Result<LoadReport, WarehouseError> {
        // A schema file that changed since the table was made: an additive
        // change is applied first, a breaking one refused with each difference.
        if let Some(plan) = self.plan(schema, descriptor)?
            && !plan.is_current()
        {
            if plan.is_breaking() {
                return Err(WarehouseError::SchemaChanged {
                    table: schema.name.clone(),
                    message: super::refusal(&plan),
                });
            }
            self.apply(schema, descriptor, false)?;
        }
        let path = self.path.clone();
        let sql = |error| WarehouseError::from_sqlite(&path, error);
        let transaction = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql)?;
        let version = super::tables::version_of(descriptor);
        super::tables::ensure(&transaction, schema, &version, descriptor)
            .map_err(|error| error.at(&path))?;
        let started = jiff::Timestamp::now();
        transaction
            .execute(
                "INSERT INTO _droplake_loads (table_name, object_path, sha256, size, schema_version, started_at, outcome)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'failed')",
                params![schema.name, object.path, object.sha256, object.size as i64, version, started.to_string()],
            )
            .map_err(sql)?;
        let load_id = transaction.last_insert_rowid();

        let previous: Option<i64> = transaction
            .query_row(
                "SELECT load_id FROM _droplake_dedupe WHERE table_name = ?1 AND sha256 = ?2",
                params![schema.name, object.sha256],
                |row| row.get(0),
            )
            .map(Some)
            .or_else(|error| {
                if error == rusqlite::Error::QueryReturnedNoRows {
                    Ok(None)
                } else {
                    Err(error)
                }
            })
            .map_err(sql)?;
        let mut report = LoadReport {
            load_id,
            outcome: Outcome::Duplicate,
            rows_read: 0,
            rows_loaded: 0,
            rows_rejected: 0,
            duplicate_of: previous,
            first_errors: Vec::new(),
            unreadable: None,
        };
        if previous.is_none() || options.force {
            copy_rows(&transaction, schema, reader, load_id, options, &mut report).map_err(sql)?;
        }

        let finished = jiff::Timestamp::now();
        let message = report.unreadable.as_ref().map(ToString::to_string);
        transaction
            .execute(
                "UPDATE _droplake_loads SET rows_read = ?2, rows_loaded = ?3, rows_rejected = ?4, finished_at = ?5,
                 outcome = ?6, message = ?7 WHERE id = ?1",
                params![
                    load_id,
                    report.rows_read as i64,
                    report.rows_loaded as i64,
                    report.rows_rejected as i64,
                    finished.to_string(),
                    report.outcome.name(),
                    message
                ],
            )
            .map_err(sql)?;
        if matches!(report.outcome, Outcome::Loaded | Outcome::Partial) {
            transaction
                .execute(
                    "INSERT INTO _droplake_dedupe (table_name, sha256, load_id) VALUES (?1, ?2, ?3)
                     ON CONFLICT (table_name, sha256) DO UPDATE SET load_id = excluded.load_id",
                    params![schema.name, object.sha256, load_id],
                )
                .map_err(sql)?;
        }
        transaction.commit().map_err(sql)?;
        tracing::info!(
            table = schema.name,
            object = object.path,
            load_id,
            outcome = report.outcome.name(),
            loaded = report.rows_loaded,
            rejected = report.rows_rejected,
            seconds = (finished.duration_since(started)).as_secs_f64(),
            "Finished a load."
        );
        Ok(report)
    }
}

/// Reads, validates and inserts every record; records the rejects. The
/// outcome and counts land in `report`.
fn copy_rows(
    transaction: &Transaction<'_>,
    schema: &Schema,
    reader: &mut dyn RecordReader,
    load_id: i64,
    options: LoadOptions,
    report: &mut LoadReport,
) -> rusqlite::Result<()> {
    let timer = Instant::now();
    let storage: Vec<Storage> = schema
        .fields
        .iter()
        .map(|field| Storage::of(&field.kind))
        .collect();
    let mut insert = transaction.prepare(&table::insert_statement(
        schema,
        options.mode == WriteMode::Upsert,
    ))?;
    let mut reject = transaction.prepare(
        "INSERT INTO _droplake_rejects
         (load_id, row_number, field, field_number, value, error_type, constraint_name, message, record)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    let mut record_error =
        |error: &RowError, record: Option<&Record>, first: &mut Vec<RowError>| {
            if first.len() < FIRST_ERRORS {
                first.push(error.clone());
            }
            reject.execute(params![
                load_id,
                error.row as i64,
                error.field,
                error.field_number.map(|number| number as i64),
                error.value,
                error.kind.name(),
                error.constraint.map(|constraint| constraint.to_string()),
                error.message,
                record.map(|record| record.to_json().to_string()),
            ])
        };
    let mut validator = Validator::new(schema, reader.labels());
    for error in validator.header_errors() {
        record_error(error, None, &mut report.first_errors)?;
    }
    // Rows go in under a savepoint, so that `skip_file` and `abort` can take
    // them out again. A bad row undoes the rows *before* its rejects are
    // recorded, so the rejects stay.
    transaction.execute_batch("SAVEPOINT rows")?;
    let mut record = Record::new();
    let mut spare = Vec::new();
    let mut errors = Vec::new();
    // False once `skip_file` or `abort` saw a bad row: no more rows go in.
    let mut inserting = true;
    loop {
        errors.clear();
        let mut values = recycle(std::mem::take(&mut spare));
        let read_on = match reader.read(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                report.rows_read += 1;
                if validator.check_row(&record, &mut values, &mut errors) && inserting {
                    // Bound one by one: no vector of parameters per row.
                    for (index, (value, storage)) in values.iter().zip(&storage).enumerate() {
                        insert.raw_bind_parameter(index + 1, table::bind(value, *storage))?;
                    }
                    insert.raw_bind_parameter(values.len() + 1, load_id)?;
                    match insert.raw_execute() {
                        Ok(_) => report.rows_loaded += 1,
                        Err(error) => {
                            errors.push(refused(&error, schema, record.position.row).ok_or(error)?)
                        }
                    }
                }
                if errors.is_empty() {
                    true
                } else {
                    report.rows_rejected += 1;
                    let read_on = bad_row(transaction, options.on_error, &mut inserting)?;
                    for error in &errors {
                        record_error(error, Some(&record), &mut report.first_errors)?;
                    }
                    read_on
                }
            }
            Err(error @ ReadError::Record { .. }) => {
                report.rows_read += 1;
                report.rows_rejected += 1;
                let read_on = bad_row(transaction, options.on_error, &mut inserting)?;
                record_error(
                    &RowError::from_read_error(&error),
                    None,
                    &mut report.first_errors,
                )?;
                read_on
            }
            Err(error @ ReadError::Fatal { .. }) => {
                // Whatever was read, the object cannot be loaded whole.
                transaction.execute_batch("ROLLBACK TO rows")?;
                record_error(
                    &RowError::from_read_error(&error),
                    None,
                    &mut report.first_errors,
                )?;
                report.unreadable = Some(error);
                false
            }
        };
        spare = recycle(values);
        if !read_on {
            break;
        }
    }
    report.outcome = match (
        report.unreadable.is_some(),
        report.rows_rejected,
        options.on_error,
    ) {
        (true, ..) => Outcome::Failed,
        (false, 0, _) => Outcome::Loaded,
        (false, _, OnError::Continue) if report.rows_loaded > 0 => Outcome::Partial,
        (false, _, OnError::Continue | OnError::SkipFile) => Outcome::Failed,
        (false, _, OnError::Abort) => Outcome::Aborted,
    };
    if !matches!(report.outcome, Outcome::Loaded | Outcome::Partial) {
        report.rows_loaded = 0;
    }
    transaction.execute_batch("RELEASE rows")?;
    tracing::debug!(
        rows = report.rows_read,
        seconds = timer.elapsed().as_secs_f64(),
        "Copied the rows of a load."
    );
    Ok(())
}

/// Applies `on_error` to a bad row; returns whether to read on.
fn bad_row(
    transaction: &Transaction<'_>,
    on_error: OnError,
    inserting: &mut bool,
) -> rusqlite::Result<bool> {
    match on_error {
        OnError::Continue => Ok(true),
        OnError::SkipFile | OnError::Abort => {
            if *inserting {
                *inserting = false;
                transaction.execute_batch("ROLLBACK TO rows")?;
            }
            Ok(on_error == OnError::SkipFile)
        }
    }
}

/// A row SQLite refused, as a reject; `None` when the failure is not about
/// the row (then the load fails).
fn refused(error: &rusqlite::Error, schema: &Schema, row: u64) -> Option<RowError> {
    let rusqlite::Error::SqliteFailure(failure, message) = error else {
        return None;
    };
    if failure.code != ErrorCode::ConstraintViolation {
        return None;
    }
    let (kind, message) = match failure.extended_code {
        rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
            let key: Vec<&str> = schema
                .primary_key
                .iter()
                .map(|&index| schema.fields[index].name.as_str())
                .collect();
            (
                ErrorType::PrimaryKey,
                format!(
                    "the primary key ({}) is already in the table; use write mode upsert to replace rows",
                    key.join(", ")
                ),
            )
        }
        rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE => (
            ErrorType::UniqueError,
            format!(
                "a unique value is already in the table ({})",
                message.as_deref().unwrap_or("unique constraint")
            ),
        ),
        rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY => (
            ErrorType::ForeignKey,
            "a foreign key refers to a row that does not exist in the referenced table".to_string(),
        ),
        _ => (
            ErrorType::ConstraintError,
            message.clone().unwrap_or_else(|| failure.to_string()),
        ),
    };
    Some(RowError {
        kind,
        row,
        field: None,
        field_number: None,
        value: None,
        constraint: None,
        message,
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::formats::{self, Format, ReadOptions};

    const SCHEMA: &str = r#"{
        "fields": [
            {"name": "id", "type": "integer"},
            {"name": "amount", "type": "number", "decimalPlaces": 2, "constraints": {"minimum": 0}}
        ],
        "primaryKey": ["id"]
    }"#;

    struct Fixture {
        _dir: tempfile::TempDir,
        warehouse: Warehouse,
        schema: Schema,
        descriptor: serde_json::Value,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let warehouse = Warehouse::open(&dir.path().join("warehouse.db")).expect("open");
        let schema = Schema::parse("orders", Path::new("orders.json"), SCHEMA).expect("schema");
        let descriptor = serde_json::from_str(SCHEMA).expect("json");
        Fixture {
            _dir: dir,
            warehouse,
            schema,
            descriptor,
        }
    }

    impl Fixture {
        fn load(&mut self, csv: &str, options: LoadOptions) -> LoadReport {
            let object = ObjectRef {
                path: "orders/x.csv".into(),
                sha256: hex::encode(<sha2::Sha256 as sha2::Digest>::digest(csv.as_bytes())),
                size: csv.len() as u64,
            };
            let input = Box::new(std::io::Cursor::new(csv.as_bytes().to_vec()));
            let mut reader = formats::from_reader(
                input,
                Path::new("x.csv"),
                Format::Csv,
                &ReadOptions::default(),
            )
            .expect("reader");
            self.warehouse
                .load(
                    &self.schema,
                    &self.descriptor,
                    &object,
                    reader.as_mut(),
                    options,
                )
                .expect("load")
        }

        fn rows(&self) -> Vec<(i64, String)> {
            let mut statement = self
                .warehouse
                .connection
                .prepare("SELECT id, amount FROM orders ORDER BY id")
                .expect("prepare");
            statement
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
                .expect("query")
                .map(|row| row.expect("row"))
                .collect()
        }

        fn count(&self, sql: &str) -> i64 {
            self.warehouse
                .connection
                .query_row(sql, [], |row| row.get(0))
                .expect("count")
        }
    }

    #[test]
    fn a_good_file_loads_every_row_exactly() {
        let mut fixture = fixture();
        let report = fixture.load("id,amount\n1,9.5\n2,10.00\n", LoadOptions::default());
        assert_eq!(
            (
                report.outcome,
                report.rows_read,
                report.rows_loaded,
                report.rows_rejected
            ),
            (Outcome::Loaded, 2, 2, 0)
        );
        assert_eq!(
            fixture.rows(),
            [(1, "9.50".to_string()), (2, "10.00".to_string())]
        );
        assert_eq!(
            fixture.count("SELECT count(*) FROM orders WHERE _load_id = 1"),
            2
        );
        assert_eq!(fixture.count("SELECT count(*) FROM _droplake_dedupe"), 1);
    }

    #[test]
    fn the_same_content_again_is_a_duplicate_and_adds_nothing() {
        let mut fixture = fixture();
        let first = fixture.load("id,amount\n1,1\n", LoadOptions::default());
        let again = fixture.load("id,amount\n1,1\n", LoadOptions::default());
        assert_eq!(again.outcome, Outcome::Duplicate);
        assert_eq!(again.duplicate_of, Some(first.load_id));
        assert_eq!(fixture.rows().len(), 1);
        assert_eq!(
            fixture.count("SELECT count(*) FROM _droplake_loads WHERE outcome = 'duplicate'"),
            1
        );
    }

    #[test]
    fn forcing_a_duplicate_under_append_rejects_keys_already_in_the_table() {
        let mut fixture = fixture();
        fixture.load("id,amount\n1,1\n", LoadOptions::default());
        let forced = fixture.load(
            "id,amount\n1,1\n",
            LoadOptions {
                force: true,
                ..LoadOptions::default()
            },
        );
        assert_eq!(
            (forced.outcome, forced.rows_loaded, forced.rows_rejected),
            (Outcome::Failed, 0, 1)
        );
        assert_eq!(forced.first_errors[0].kind, ErrorType::PrimaryKey);
        assert!(
            forced.first_errors[0]
                .message
                .contains("already in the table"),
            "{}",
            forced.first_errors[0].message
        );
        assert_eq!(fixture.rows().len(), 1);
    }

    #[test]
    fn upsert_lets_the_newest_load_win_for_a_key() {
        let mut fixture = fixture();
        let upsert = LoadOptions {
            mode: WriteMode::Upsert,
            ..LoadOptions::default()
        };
        fixture.load("id,amount\n1,1\n2,2\n", upsert);
        let second = fixture.load("id,amount\n2,20\n3,30\n", upsert);
        assert_eq!(second.outcome, Outcome::Loaded);
        assert_eq!(
            fixture.rows(),
            [(1, "1.00".into()), (2, "20.00".into()), (3, "30.00".into())]
        );
        assert_eq!(
            fixture.count("SELECT _load_id FROM orders WHERE id = 2"),
            second.load_id
        );
    }

    #[test]
    fn continue_loads_the_good_rows_and_keeps_each_reject_with_its_record() {
        let mut fixture = fixture();
        let report = fixture.load("id,amount\n1,1\n2,-5\n3,abc\n4,4\n", LoadOptions::default());
        assert_eq!(
            (report.outcome, report.rows_loaded, report.rows_rejected),
            (Outcome::Partial, 2, 2)
        );
        assert_eq!(
            fixture.rows().iter().map(|(id, _)| *id).collect::<Vec<_>>(),
            [1, 4]
        );
        let (row, kind, record): (i64, String, String) = fixture
            .warehouse
            .connection
            .query_row("SELECT row_number, error_type, record FROM _droplake_rejects ORDER BY row_number LIMIT 1", [], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })
            .expect("reject");
        assert_eq!(
            (row, kind.as_str(), record.as_str()),
            (3, "constraint-error", r#"["2","-5"]"#)
        );
    }

    #[test]
    fn skip_file_loads_nothing_but_records_every_reject() {
        let mut fixture = fixture();
        let options = LoadOptions {
            on_error: OnError::SkipFile,
            ..LoadOptions::default()
        };
        let report = fixture.load("id,amount\n1,1\n2,-5\n3,3\n4,abc\n", options);
        assert_eq!(
            (
                report.outcome,
                report.rows_read,
                report.rows_loaded,
                report.rows_rejected
            ),
            (Outcome::Failed, 4, 0, 2)
        );
        assert!(fixture.rows().is_empty());
        assert_eq!(fixture.count("SELECT count(*) FROM _droplake_rejects"), 2);
        assert_eq!(
            fixture.count("SELECT count(*) FROM _droplake_dedupe"),
            0,
            "a failed load does not claim the content"
        );
    }

    #[test]
    fn abort_stops_at_the_first_bad_row() {
        let mut fixture = fixture();
        let options = LoadOptions {
            on_error: OnError::Abort,
            ..LoadOptions::default()
        };
        let report = fixture.load("id,amount\n1,1\n2,-5\n3,3\n4,abc\n", options);
        assert_eq!(
            (
                report.outcome,
                report.rows_read,
                report.rows_loaded,
                report.rows_rejected
            ),
            (Outcome::Aborted, 2, 0, 1)
        );
        assert!(fixture.rows().is_empty());
        assert_eq!(fixture.count("SELECT count(*) FROM _droplake_rejects"), 1);
    }

    #[test]
    fn unreadable_data_loads_nothing_and_says_why() {
        let mut fixture = fixture();
        let report = fixture.load("id,amount\n1,1\n2,\"3\n", LoadOptions::default());
        assert_eq!((report.outcome, report.rows_loaded), (Outcome::Failed, 0));
        assert!(report.unreadable.is_some());
        assert!(fixture.rows().is_empty());
        let message: String = fixture
            .warehouse
            .connection
            .query_row("SELECT message FROM _droplake_loads", [], |row| row.get(0))
            .expect("load record");
        assert!(!message.is_empty());
    }

    #[test]
    fn a_breaking_schema_change_is_refused_with_its_differences() {
        let mut fixture = fixture();
        fixture.load("id,amount\n1,1\n", LoadOptions::default());
        fixture.descriptor["fields"][1]["constraints"]["minimum"] = serde_json::json!(2);
        fixture.schema = Schema::parse(
            "orders",
            Path::new("orders.json"),
            &fixture.descriptor.to_string(),
        )
        .expect("schema");
        let object = ObjectRef {
            path: "orders/y.csv".into(),
            sha256: "y".into(),
            size: 1,
        };
        let input = Box::new(std::io::Cursor::new(b"id,amount\n2,2\n".to_vec()));
        let mut reader = formats::from_reader(
            input,
            Path::new("y.csv"),
            Format::Csv,
            &ReadOptions::default(),
        )
        .expect("reader");
        let error = fixture
            .warehouse
            .load(
                &fixture.schema,
                &fixture.descriptor,
                &object,
                reader.as_mut(),
                LoadOptions::default(),
            )
            .expect_err("changed schema");
        assert!(
            error.to_string().contains("droplake schema apply"),
            "{error}"
        );
        assert_eq!(
            crate::exit::HasExitCode::exit_code(&error),
            crate::exit::ExitCode::Config
        );
        assert_eq!(
            fixture.count("SELECT count(*) FROM _droplake_loads"),
            1,
            "the refused load left no record"
        );
    }
}
