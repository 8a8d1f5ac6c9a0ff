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
    /// Loads the records of `reader` (the object `object`) into `schema`'s
    /// table, creating the table if it does not exist yet, in one
    /// transaction. See the module docs.
    pub fn load(
        &mut self,
        schema: &Schema,
        version: &str,
        object: &ObjectRef,
        reader: &mut dyn RecordReader,
        options: LoadOptions,
    ) -> Result<LoadReport, WarehouseError> {
        let path = self.path.clone();
        let sql = |error| WarehouseError::from_sqlite(&path, error);
        let transaction = self.connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql)?;
        super::tables::ensure(&transaction, schema, version).map_err(|error| error.at(&path))?;
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
            .or_else(|error| if error == rusqlite::Error::QueryReturnedNoRows { Ok(None) } else { Err(error) })
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
    let storage: Vec<Storage> = schema.fields.iter().map(|field| Storage::of(&field.kind)).collect();
    let mut insert = transaction.prepare(&table::insert_statement(schema, options.mode == WriteMode::Upsert))?;
    let mut reject = transaction.prepare(
        "INSERT INTO _droplake_rejects
         (load_id, row_number, field, field_number, value, error_type, constraint_name, message, record)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    let mut record_error = |error: &RowError, record: Option<&Record>, first: &mut Vec<RowError>| {
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
    transaction.execute_batch("SAVEPOINT rows")?;

    let mut validator = Validator::new(schema, reader.labels());
    for error in validator.header_errors() {
        record_error(error, None, &mut report.first_errors)?;
    }
    let mut record = Record::new();
    let mut spare = Vec::new();
    let mut errors = Vec::new();
    // Rows stop going in once `skip_file` or `abort` saw a bad row.
    let mut inserting = true;
    loop {
        match reader.read(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(error @ ReadError::Record { .. }) => {
                report.rows_read += 1;
                report.rows_rejected += 1;
                record_error(&RowError::from_read_error(&error), None, &mut report.first_errors)?;
                if !bad_row(transaction, options.on_error, &mut inserting)? {
                    break;
                }
                continue;
            }
            Err(error @ ReadError::Fatal { .. }) => {
                record_error(&RowError::from_read_error(&error), None, &mut report.first_errors)?;
                report.unreadable = Some(error);
                inserting = false;
                transaction.execute_batch("ROLLBACK TO rows")?;
                break;
            }
        }
        report.rows_read += 1;
        errors.clear();
        let mut values = recycle(std::mem::take(&mut spare));
        let valid = validator.check_row(&record, &mut values, &mut errors);
        if valid && inserting {
            let parameters = values.iter().zip(&storage).map(|(value, storage)| table::bind(value, *storage));
            let mut bound: Vec<rusqlite::types::ToSqlOutput<'_>> = parameters.collect();
            bound.push(rusqlite::types::ToSqlOutput::from(load_id));
            match insert.execute(rusqlite::params_from_iter(bound.iter())) {
                Ok(_) => report.rows_loaded += 1,
                Err(error) => errors.push(refused(&error, schema, record.position.row).ok_or(error)?),
            }
        }
        if !errors.is_empty() || !valid {
            report.rows_rejected += 1;
            for error in &errors {
                record_error(error, Some(&record), &mut report.first_errors)?;
            }
            spare = recycle(values);
            if !bad_row(transaction, options.on_error, &mut inserting)? {
                break;
            }
            continue;
        }
        spare = recycle(values);
    }
    report.outcome = match (report.unreadable.is_some(), report.rows_rejected, options.on_error) {
        (true, ..) => Outcome::Failed,
        (false, 0, _) => Outcome::Loaded,
        (false, _, OnError::Continue) => Outcome::Partial,
        (false, _, OnError::SkipFile) => Outcome::Failed,
        (false, _, OnError::Abort) => Outcome::Aborted,
    };
    if !matches!(report.outcome, Outcome::Loaded | Outcome::Partial) {
        report.rows_loaded = 0;
    }
    transaction.execute_batch("RELEASE rows")?;
    tracing::debug!(rows = report.rows_read, seconds = timer.elapsed().as_secs_f64(), "Copied the rows of a load.");
    Ok(())
}

/// Applies `on_error` to a bad row; returns whether to read on.
fn bad_row(transaction: &Transaction<'_>, on_error: OnError, inserting: &mut bool) -> rusqlite::Result<bool> {
    match on_error {
        OnError::Continue => Ok(true),
        OnError::SkipFile | OnError::Abort => {
            if *inserting {
                // Undo the rows inserted so far; the rejects recorded since
                // the savepoint are recorded again below it by the caller's
                // later inserts, so keep them: roll back only row inserts.
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
    let rusqlite::Error::SqliteFailure(failure, message) = error else { return None };
    if failure.code != ErrorCode::ConstraintViolation {
        return None;
    }
    let (kind, message) = match failure.extended_code {
        rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
            let key: Vec<&str> = schema.primary_key.iter().map(|&index| schema.fields[index].name.as_str()).collect();
            (ErrorType::PrimaryKey, format!("the primary key ({}) is already in the table; use write mode upsert to replace rows", key.join(", ")))
        }
        rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE => (ErrorType::UniqueError, format!("a unique value is already in the table ({})", message.as_deref().unwrap_or("unique constraint"))),
        rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY => (ErrorType::ForeignKey, "a foreign key refers to a row that does not exist in the referenced table".to_string()),
        _ => (ErrorType::ConstraintError, message.clone().unwrap_or_else(|| failure.to_string())),
    };
    Some(RowError { kind, row, field: None, field_number: None, value: None, constraint: None, message })
}
