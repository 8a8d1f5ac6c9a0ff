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

use std::sync::mpsc::{Receiver, SyncSender};

use rusqlite::types::{ToSqlOutput, Value as SqlValue, ValueRef};
use rusqlite::{Connection, ErrorCode, TransactionBehavior, params};

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

/// What a caller adds to a load: a way to stop it, and writes of its own
/// in the load's transaction (the daemon's job state, its events).
pub trait LoadHook {
    /// Whether the load should stop now; it is asked between batches of
    /// rows, and a stopped load rolls back.
    fn stopped(&self) -> bool {
        false
    }

    /// Runs in the load's transaction just before it commits; an error
    /// rolls everything back and is the load's error.
    fn before_commit(
        &mut self,
        transaction: &Connection,
        report: &LoadReport,
    ) -> Result<(), WarehouseError>;
}

/// A load's transaction, or its savepoint within a group.
enum Scope<'c> {
    Transaction(rusqlite::Transaction<'c>),
    Savepoint(rusqlite::Savepoint<'c>),
}

impl std::ops::Deref for Scope<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        match self {
            Scope::Transaction(transaction) => transaction,
            Scope::Savepoint(savepoint) => savepoint,
        }
    }
}

impl Scope<'_> {
    fn commit(self) -> rusqlite::Result<()> {
        match self {
            Scope::Transaction(transaction) => transaction.commit(),
            Scope::Savepoint(savepoint) => savepoint.commit(),
        }
    }
}

/// The hook of a plain load: nothing added.
struct NoHook;

impl LoadHook for NoHook {
    fn before_commit(&mut self, _: &Connection, _: &LoadReport) -> Result<(), WarehouseError> {
        Ok(())
    }
}

/// Whether the rows were all copied, or the load was asked to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Copied {
    All,
    Stopped,
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

    /// Checks that a load into `schema`'s table can run and brings the
    /// table up to an additive change of its schema file; a breaking change
    /// is refused with each difference.
    pub fn prepare_load(
        &mut self,
        schema: &Schema,
        descriptor: &serde_json::Value,
        options: LoadOptions,
    ) -> Result<(), WarehouseError> {
        if options.mode == WriteMode::Upsert && schema.primary_key.is_empty() {
            return Err(WarehouseError::SchemaChanged {
                table: schema.name.clone(),
                message: format!(
                    "table {} is set to write_mode = \"upsert\", which replaces rows by primary key, but its schema has no primaryKey; add one, or use append",
                    schema.name
                ),
            });
        }
        for key in &schema.foreign_keys {
            if let Some(parent) = &key.resource
                && parent != &schema.name
                && self.recorded(parent)?.is_none()
            {
                return Err(WarehouseError::SchemaChanged {
                    table: schema.name.clone(),
                    message: format!(
                        "table {} refers to table {parent}, which is not in the warehouse yet; load {parent} first",
                        schema.name
                    ),
                });
            }
        }
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
        Ok(())
    }

    /// Begins a group: the loads until [`Warehouse::commit_group`] commit
    /// together, each as a savepoint of one transaction, so many small
    /// objects share one commit (one fsync). Each load is still all or
    /// nothing; tables must be prepared with [`Warehouse::prepare_load`].
    pub fn begin_group(&mut self) -> Result<(), WarehouseError> {
        self.connection
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|error| WarehouseError::from_sqlite(&self.path, error))
    }

    /// Commits the group's loads.
    pub fn commit_group(&mut self) -> Result<(), WarehouseError> {
        self.connection.execute_batch("COMMIT").map_err(|error| {
            let _ = self.connection.execute_batch("ROLLBACK");
            WarehouseError::from_sqlite(&self.path, error)
        })
    }

    /// Loads the records of `reader` (the object `object`) into `schema`'s
    /// table, creating the table if it does not exist yet, in one
    /// transaction. See the module docs.
    pub fn load(
        &mut self,
        schema: &Schema,
        descriptor: &serde_json::Value,
        object: &ObjectRef,
        reader: &mut (dyn RecordReader + Send),
        options: LoadOptions,
    ) -> Result<LoadReport, WarehouseError> {
        self.load_with(schema, descriptor, object, reader, options, &mut NoHook)
    }

    /// [`Warehouse::load`], with `hook` able to stop the load (it rolls
    /// back) and to add its own writes to the load's transaction.
    pub fn load_with(
        &mut self,
        schema: &Schema,
        descriptor: &serde_json::Value,
        object: &ObjectRef,
        reader: &mut (dyn RecordReader + Send),
        options: LoadOptions,
        hook: &mut dyn LoadHook,
    ) -> Result<LoadReport, WarehouseError> {
        // Inside a group (see [`Warehouse::begin_group`]) the caller has
        // prepared the table, and the load is a savepoint of the group.
        let grouped = !self.connection.is_autocommit();
        if !grouped {
            self.prepare_load(schema, descriptor, options)?;
        }
        let path = self.path.clone();
        let sql = |error| WarehouseError::from_sqlite(&path, error);
        let transaction = if grouped {
            Scope::Savepoint(self.connection.savepoint().map_err(sql)?)
        } else {
            Scope::Transaction(
                self.connection
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(sql)?,
            )
        };
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
            let stop = || hook.stopped();
            let copied = copy_rows(
                &transaction,
                schema,
                reader,
                load_id,
                options,
                &mut report,
                &stop,
            );
            if copied.map_err(sql)? == Copied::Stopped {
                return Err(WarehouseError::Interrupted {
                    table: schema.name.clone(),
                });
            }
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
        hook.before_commit(&transaction, &report)?;
        transaction.commit().map_err(sql)?;
        tracing::info!(
            table = schema.name,
            object = object.path,
            load_id,
            outcome = report.outcome.name(),
            loaded = report.rows_loaded,
            rejected = report.rows_rejected,
            seconds = (finished.duration_since(started)).as_secs_f64(),
            grouped,
            "{}",
            if grouped {
                "Finished a load; it commits with its group."
            } else {
                "Finished a load."
            }
        );
        Ok(report)
    }
}

/// A value ready to bind. Text and blobs live in their batch's buffers, so a
/// batch of rows costs a few allocations, not one per value.
#[derive(Debug, Clone)]
enum Bound {
    Null,
    Integer(i64),
    Real(f64),
    Text(std::ops::Range<usize>),
    Blob(std::ops::Range<usize>),
}

/// Rows handed from the reading thread to the writing one.
#[derive(Default)]
struct Batch {
    items: Vec<Item>,
    /// The values of every `Item::Row`, back to back.
    values: Vec<Bound>,
    /// The text of every `Bound::Text` value.
    text: String,
    /// The bytes of every `Bound::Blob` value.
    bytes: Vec<u8>,
}

impl Batch {
    fn push_value(&mut self, output: ToSqlOutput<'_>) {
        let bound = match output {
            ToSqlOutput::Owned(SqlValue::Null) | ToSqlOutput::Borrowed(ValueRef::Null) => {
                Bound::Null
            }
            ToSqlOutput::Owned(SqlValue::Integer(n))
            | ToSqlOutput::Borrowed(ValueRef::Integer(n)) => Bound::Integer(n),
            ToSqlOutput::Owned(SqlValue::Real(x)) | ToSqlOutput::Borrowed(ValueRef::Real(x)) => {
                Bound::Real(x)
            }
            ToSqlOutput::Owned(SqlValue::Text(text)) => self.text_range(&text),
            ToSqlOutput::Borrowed(ValueRef::Text(text)) => {
                self.text_range(&String::from_utf8_lossy(text))
            }
            ToSqlOutput::Owned(SqlValue::Blob(bytes)) => self.blob_range(&bytes),
            ToSqlOutput::Borrowed(ValueRef::Blob(bytes)) => self.blob_range(bytes),
            _ => Bound::Null,
        };
        self.values.push(bound);
    }

    fn text_range(&mut self, text: &str) -> Bound {
        let start = self.text.len();
        self.text.push_str(text);
        Bound::Text(start..self.text.len())
    }

    fn blob_range(&mut self, bytes: &[u8]) -> Bound {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(bytes);
        Bound::Blob(start..self.bytes.len())
    }

    /// A value as a parameter.
    fn parameter(&self, bound: &Bound) -> ValueRef<'_> {
        match bound {
            Bound::Null => ValueRef::Null,
            Bound::Integer(n) => ValueRef::Integer(*n),
            Bound::Real(x) => ValueRef::Real(*x),
            Bound::Text(range) => {
                ValueRef::Text(self.text.get(range.clone()).unwrap_or_default().as_bytes())
            }
            Bound::Blob(range) => ValueRef::Blob(self.bytes.get(range.clone()).unwrap_or_default()),
        }
    }

    /// A value as JSON, for the record of a row SQLite refused.
    fn json(&self, bound: &Bound) -> serde_json::Value {
        match self.parameter(bound) {
            ValueRef::Null => serde_json::Value::Null,
            ValueRef::Integer(n) => n.into(),
            ValueRef::Real(x) => {
                serde_json::Number::from_f64(x).map_or(serde_json::Value::Null, Into::into)
            }
            ValueRef::Text(text) => String::from_utf8_lossy(text).into(),
            ValueRef::Blob(bytes) => hex::encode(bytes).into(),
        }
    }
}

/// What the reading thread hands the writing thread, in order.
enum Item {
    /// A valid row: its values are `values[first..first + width]` of its
    /// batch (none once rows are no longer wanted).
    Row {
        row: u64,
        first: usize,
        width: usize,
    },
    /// A row (or, when not `counts_as_row`, the header) that failed, with
    /// its errors and its raw record as JSON.
    Bad {
        errors: Vec<RowError>,
        record: Option<String>,
        counts_as_row: bool,
    },
    /// The input cannot be read any further.
    Fatal(ReadError),
}

/// Rows handed over at a time, and batches in flight: enough to keep both
/// threads busy, little enough that memory stays small.
const BATCH: usize = 1024;
const BATCHES_IN_FLIGHT: usize = 4;

/// Reads, validates and inserts every record; records the rejects. The
/// outcome and counts land in `report`.
///
/// Reading and validating run on their own thread while this one inserts,
/// so the validator's work and SQLite's overlap.
fn copy_rows(
    transaction: &Connection,
    schema: &Schema,
    reader: &mut (dyn RecordReader + Send),
    load_id: i64,
    options: LoadOptions,
    report: &mut LoadReport,
    stop: &dyn Fn() -> bool,
) -> rusqlite::Result<Copied> {
    let timer = Instant::now();
    let (sender, receiver) = std::sync::mpsc::sync_channel::<Batch>(BATCHES_IN_FLIGHT);
    std::thread::scope(|scope| {
        scope.spawn(|| read_and_validate(schema, reader, sender));
        let result = insert_rows(
            transaction,
            schema,
            &receiver,
            load_id,
            options,
            report,
            stop,
        );
        // Dropping the receiver stops the reader at its next batch.
        drop(receiver);
        result
    })?;
    if stop() {
        return Ok(Copied::Stopped);
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
    tracing::debug!(
        rows = report.rows_read,
        seconds = timer.elapsed().as_secs_f64(),
        "Copied the rows of a load."
    );
    Ok(Copied::All)
}

/// The reading thread: records in, validated items out, in batches.
fn read_and_validate(
    schema: &Schema,
    reader: &mut (dyn RecordReader + Send),
    sender: SyncSender<Batch>,
) {
    let storage: Vec<Storage> = schema
        .fields
        .iter()
        .map(|field| Storage::of(&field.kind))
        .collect();
    let mut validator = Validator::new(schema, reader.labels());
    let mut batch = Batch::default();
    batch
        .items
        .extend(validator.header_errors().iter().map(|error| Item::Bad {
            errors: vec![error.clone()],
            record: None,
            counts_as_row: false,
        }));
    let mut record = Record::new();
    let (mut spare, mut errors) = (Vec::new(), Vec::new());
    loop {
        let item = match reader.read(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let mut values = recycle(std::mem::take(&mut spare));
                let item = if validator.check_row(&record, &mut values, &mut errors) {
                    let first = batch.values.len();
                    for (value, storage) in values.iter().zip(&storage) {
                        batch.push_value(table::bind(value, *storage));
                    }
                    Item::Row {
                        row: record.position.row,
                        first,
                        width: batch.values.len() - first,
                    }
                } else {
                    let record = Some(record.to_json().to_string());
                    Item::Bad {
                        errors: std::mem::take(&mut errors),
                        record,
                        counts_as_row: true,
                    }
                };
                spare = recycle(values);
                item
            }
            Err(error @ ReadError::Record { .. }) => Item::Bad {
                errors: vec![RowError::from_read_error(&error)],
                record: None,
                counts_as_row: true,
            },
            // Its bytes, as a JSON string of hexadecimal, are the record.
            Err(ReadError::Undecodable(undecodable)) => Item::Bad {
                record: Some(serde_json::Value::String(undecodable.record.clone()).to_string()),
                errors: vec![RowError::from_read_error(&ReadError::Undecodable(
                    undecodable,
                ))],
                counts_as_row: true,
            },
            Err(error @ (ReadError::Fatal { .. } | ReadError::Refused { .. })) => {
                Item::Fatal(error)
            }
        };
        let fatal = matches!(item, Item::Fatal(_));
        batch.items.push(item);
        if (batch.items.len() >= BATCH || fatal) && sender.send(std::mem::take(&mut batch)).is_err()
        {
            return;
        }
        if fatal {
            return;
        }
    }
    let _ = sender.send(batch);
}

/// Rejects a spill to a file beyond this many, so memory stays bounded.
const REJECTS_IN_MEMORY: usize = 4096;

/// The rejects of a load, kept aside until the rows' savepoint is settled,
/// so that taking the rows back out (`skip_file`, `abort`, unreadable data)
/// never takes the rejects with them. Beyond [`REJECTS_IN_MEMORY`] they go
/// to a temporary file, removed on drop.
#[derive(Default)]
struct RejectLog {
    /// The statement parameters of each reject, as JSON arrays.
    pending: Vec<serde_json::Value>,
    spill: Option<(std::path::PathBuf, std::io::BufWriter<std::fs::File>)>,
}

impl RejectLog {
    fn push(&mut self, error: &RowError, record: Option<&str>) -> std::io::Result<()> {
        self.pending.push(serde_json::json!([
            error.row,
            error.field,
            error.field_number,
            error.value,
            error.kind.name(),
            error.constraint.map(|constraint| constraint.to_string()),
            error.message,
            record,
        ]));
        if self.pending.len() < REJECTS_IN_MEMORY {
            return Ok(());
        }
        if self.spill.is_none() {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            let path = std::env::temp_dir().join(format!(
                "droplake-rejects-{}-{nanos}.jsonl",
                std::process::id()
            ));
            let file = std::fs::OpenOptions::new()
                .write(true)
                .read(true)
                .create_new(true)
                .open(&path)?;
            self.spill = Some((path, std::io::BufWriter::new(file)));
        }
        if let Some((_, out)) = &mut self.spill {
            for reject in self.pending.drain(..) {
                use std::io::Write;
                writeln!(out, "{reject}")?;
            }
        }
        Ok(())
    }

    /// Inserts every reject with `statement` (the spilled ones first).
    fn write_all(
        mut self,
        statement: &mut rusqlite::Statement<'_>,
        load_id: i64,
    ) -> rusqlite::Result<()> {
        let io = |error: std::io::Error| rusqlite::Error::ToSqlConversionFailure(Box::new(error));
        let mut insert = |reject: &serde_json::Value| {
            let field = |index: usize| reject.get(index).cloned().unwrap_or_default();
            statement.execute(params![
                load_id,
                field(0).as_i64(),
                field(1).as_str(),
                field(2).as_i64(),
                field(3).as_str(),
                field(4).as_str(),
                field(5).as_str(),
                field(6).as_str(),
                field(7).as_str(),
            ])
        };
        if let Some((path, out)) = &mut self.spill {
            use std::io::{BufRead, Write};
            out.flush().map_err(io)?;
            let file = std::fs::File::open(&*path).map_err(io)?;
            for line in std::io::BufReader::new(file).lines() {
                let reject: serde_json::Value =
                    serde_json::from_str(&line.map_err(io)?).unwrap_or_default();
                insert(&reject)?;
            }
        }
        for reject in &self.pending {
            insert(reject)?;
        }
        Ok(())
    }
}

impl Drop for RejectLog {
    fn drop(&mut self) {
        if let Some((path, _)) = &self.spill {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The writing thread (this one): inserts rows under a savepoint and keeps
/// the rejects aside, then settles the savepoint by `on_error` and records
/// the rejects.
fn insert_rows(
    transaction: &Connection,
    schema: &Schema,
    receiver: &Receiver<Batch>,
    load_id: i64,
    options: LoadOptions,
    report: &mut LoadReport,
    stop: &dyn Fn() -> bool,
) -> rusqlite::Result<()> {
    let mut insert = transaction.prepare(&table::insert_statement(
        schema,
        options.mode == WriteMode::Upsert,
    ))?;
    let mut rejects = RejectLog::default();
    let io = |error: std::io::Error| rusqlite::Error::ToSqlConversionFailure(Box::new(error));
    let mut keep = |error: &RowError, record: Option<&str>, report: &mut LoadReport| {
        if report.first_errors.len() < FIRST_ERRORS {
            report.first_errors.push(error.clone());
        }
        rejects.push(error, record).map_err(io)
    };
    transaction.execute_batch("SAVEPOINT rows")?;
    // Set by a bad row under `skip_file` or `abort`, or by unreadable data:
    // the rows go back out at the end. `skip_file` keeps inserting until
    // then, so that keys already in the table are found and kept too.
    let mut take_rows_back = false;
    'batches: for batch in receiver.iter() {
        if stop() {
            return Ok(());
        }
        for item in &batch.items {
            let bad_row = match item {
                Item::Row { row, first, width } => {
                    report.rows_read += 1;
                    let values = &batch.values[*first..*first + *width];
                    for (index, value) in values.iter().enumerate() {
                        insert.raw_bind_parameter(
                            index + 1,
                            ToSqlOutput::Borrowed(batch.parameter(value)),
                        )?;
                    }
                    insert.raw_bind_parameter(values.len() + 1, load_id)?;
                    match insert.raw_execute() {
                        Ok(_) => {
                            report.rows_loaded += 1;
                            false
                        }
                        Err(error) => {
                            let refusal = refused(&error, schema, *row).ok_or(error)?;
                            // The raw cells stayed with the reader: keep the
                            // values SQLite refused as the record instead.
                            let record: Vec<serde_json::Value> =
                                values.iter().map(|value| batch.json(value)).collect();
                            let record = serde_json::Value::Array(record).to_string();
                            keep(&refusal, Some(&record), report)?;
                            true
                        }
                    }
                }
                Item::Bad {
                    errors,
                    record,
                    counts_as_row,
                } => {
                    for error in errors {
                        keep(error, record.as_deref(), report)?;
                    }
                    if *counts_as_row {
                        report.rows_read += 1;
                    }
                    *counts_as_row
                }
                Item::Fatal(error) => {
                    // Whatever was read, the object cannot be loaded whole.
                    keep(&RowError::from_read_error(error), None, report)?;
                    report.unreadable = Some(error.clone());
                    take_rows_back = true;
                    break 'batches;
                }
            };
            if bad_row {
                report.rows_rejected += 1;
                match options.on_error {
                    OnError::Continue => {}
                    OnError::SkipFile => take_rows_back = true,
                    OnError::Abort => {
                        take_rows_back = true;
                        break 'batches;
                    }
                }
            }
        }
    }
    if take_rows_back {
        transaction.execute_batch("ROLLBACK TO rows")?;
    }
    transaction.execute_batch("RELEASE rows")?;
    let mut statement = transaction.prepare(
        "INSERT INTO _droplake_rejects
         (load_id, row_number, field, field_number, value, error_type, constraint_name, message, record)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    rejects.write_all(&mut statement, load_id)
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
            self.try_load(csv, options).expect("load")
        }

        fn try_load(
            &mut self,
            csv: &str,
            options: LoadOptions,
        ) -> Result<LoadReport, WarehouseError> {
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
            self.warehouse.load(
                &self.schema,
                &self.descriptor,
                &object,
                reader.as_mut(),
                options,
            )
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
    fn under_append_a_second_object_keeps_the_first_rows_for_overlapping_keys() {
        let mut fixture = fixture();
        fixture.load("id,amount\n1,1\n2,2\n", LoadOptions::default());
        let second = fixture.load("id,amount\n2,20\n3,30\n", LoadOptions::default());
        assert_eq!(
            (second.outcome, second.rows_loaded, second.rows_rejected),
            (Outcome::Partial, 1, 1)
        );
        assert_eq!(second.first_errors[0].kind, ErrorType::PrimaryKey);
        assert_eq!(
            fixture.rows(),
            [(1, "1.00".into()), (2, "2.00".into()), (3, "30.00".into())]
        );
        let record: String = fixture
            .warehouse
            .connection
            .query_row(
                "SELECT record FROM _droplake_rejects WHERE load_id = ?1",
                [second.load_id],
                |row| row.get(0),
            )
            .expect("reject");
        assert_eq!(
            record, r#"[2,"20.00"]"#,
            "the refused values are kept as the record"
        );
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

    /// Regression: rejects were written under the rows' savepoint, so
    /// taking the rows back out took earlier rejects with them.
    #[test]
    fn rejects_before_unreadable_data_are_kept_under_every_policy() {
        for on_error in [OnError::Continue, OnError::SkipFile, OnError::Abort] {
            let mut fixture = fixture();
            let report = fixture.load(
                "id,amount\n1,1\n2,-5\n3,\"x\n",
                LoadOptions {
                    on_error,
                    ..LoadOptions::default()
                },
            );
            assert_eq!(
                report.outcome,
                if on_error == OnError::Abort {
                    Outcome::Aborted
                } else {
                    Outcome::Failed
                },
                "{on_error:?}"
            );
            let expected = if on_error == OnError::Abort { 1 } else { 2 };
            assert_eq!(
                fixture.count("SELECT count(*) FROM _droplake_rejects"),
                expected,
                "{on_error:?}"
            );
            assert!(fixture.rows().is_empty(), "{on_error:?}");
        }
    }

    /// Regression: under `skip_file`, rows after the first bad one were not
    /// inserted, so a key already in the table went unreported.
    #[test]
    fn skip_file_reports_every_reject_whatever_the_order_of_rows() {
        for csv in ["id,amount\n1,-1\n9,1\n", "id,amount\n9,1\n1,-1\n"] {
            let mut fixture = fixture();
            fixture.load("id,amount\n9,9\n", LoadOptions::default());
            let options = LoadOptions {
                on_error: OnError::SkipFile,
                ..LoadOptions::default()
            };
            let report = fixture.load(csv, options);
            assert_eq!(
                (report.outcome, report.rows_rejected),
                (Outcome::Failed, 2),
                "{csv:?}"
            );
            assert_eq!(
                fixture.count(
                    "SELECT count(*) FROM _droplake_rejects WHERE error_type = 'primary-key'"
                ),
                1,
                "{csv:?}"
            );
            assert_eq!(fixture.rows(), [(9, "9.00".to_string())], "{csv:?}");
        }
    }

    #[test]
    fn many_rejects_spill_to_a_file_and_are_all_recorded() {
        let mut fixture = fixture();
        let bad: String = (1..=10_000).map(|id| format!("{id},bad\n")).collect();
        let options = LoadOptions {
            on_error: OnError::SkipFile,
            ..LoadOptions::default()
        };
        let report = fixture.load(&format!("id,amount\n{bad}"), options);
        assert_eq!(report.rows_rejected, 10_000);
        assert_eq!(
            fixture.count("SELECT count(*) FROM _droplake_rejects"),
            10_000
        );
        assert_eq!(
            fixture.count("SELECT count(DISTINCT row_number) FROM _droplake_rejects"),
            10_000
        );
    }

    #[test]
    fn upsert_without_a_primary_key_is_refused_not_appended() {
        let mut fixture = fixture();
        fixture.schema.primary_key.clear();
        let upsert = LoadOptions {
            mode: WriteMode::Upsert,
            ..LoadOptions::default()
        };
        let error = fixture
            .try_load("id,amount\n1,1\n", upsert)
            .expect_err("no primary key");
        assert!(error.to_string().contains("has no primaryKey"), "{error}");
        assert_eq!(
            crate::exit::HasExitCode::exit_code(&error),
            crate::exit::ExitCode::Config
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
        let error = fixture
            .try_load("id,amount\n2,2\n", LoadOptions::default())
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
