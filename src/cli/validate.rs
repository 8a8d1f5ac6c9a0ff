//! `droplake validate`: a dry run that checks data files against a table
//! schema and writes nothing.
//!
//! For people it prints a summary per file and the errors grouped so the
//! pattern shows ("amount: 312 type-errors, first at row 14: ..."); with
//! `--json` exactly one JSON object, `{"valid", "rows", "errorCount",
//! "errors"}`, each error with the Frictionless report keys plus `file`.
//! Exit 0 when valid, 1 when rows are invalid, 65 when data cannot be read,
//! 78 when the schema or dialect is bad.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use clap::Args;
use serde::Serialize;

use super::Failure;
use crate::config::Settings;
use crate::exit::{ExitCode, HasExitCode};
use crate::formats::{self, Dialect, Format, ReadError, ReadOptions, Record, TextEncoding};
use crate::schema::{RowError, Schema, Validator, Value, recycle};

/// Arguments of `droplake validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The Table Schema file to validate against.
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "table",
        conflicts_with = "table"
    )]
    pub schema: Option<PathBuf>,

    /// Validate against the schema of this warehouse table (SCHEMAS/NAME.json);
    /// files are read as its dataset is configured (format, dialect,
    /// encoding) unless the options below say otherwise.
    #[arg(long, value_name = "NAME")]
    pub table: Option<String>,

    /// A Table Dialect JSON file (delimiter, quoteChar, header, ...).
    #[arg(long, value_name = "FILE.json")]
    pub dialect: Option<PathBuf>,

    /// The data format; by default taken from each file's extension.
    #[arg(long, value_name = "FORMAT", value_parser = ["csv", "tsv", "jsonl", "json"])]
    pub format: Option<String>,

    /// The text encoding when a file has no byte order mark (utf-8, latin1,
    /// windows-1252, utf-16le, ...); by default utf-8.
    #[arg(long, value_name = "ENCODING")]
    pub encoding: Option<TextEncoding>,

    /// Keep at most N errors in the report (0: all); all are counted.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub limit_errors: usize,

    /// Print one JSON object instead of a summary.
    #[arg(long)]
    pub json: bool,

    /// Data files; `-` reads standard input (with --format, default csv).
    #[arg(required = true, value_name = "DATA")]
    pub data: Vec<PathBuf>,
}

/// One error as reported, with the file it is in.
#[derive(Debug, Serialize)]
struct Reported<'a> {
    #[serde(flatten)]
    error: &'a RowError,
    file: String,
}

/// What validating every file found.
#[derive(Debug, Default)]
struct Report {
    rows: u64,
    error_count: u64,
    /// The errors kept, with the file each is in.
    errors: Vec<(String, RowError)>,
    /// Per file and group (field, type, constraint): the count and first error.
    groups: BTreeMap<(String, Option<String>, String), (u64, RowError)>,
    /// Files that could not be read to their end, with why.
    unreadable: Vec<String>,
    limit: usize,
}

impl Report {
    fn add(&mut self, file: &str, error: &RowError) {
        self.error_count += 1;
        if self.limit == 0 || self.errors.len() < self.limit {
            self.errors.push((file.to_owned(), error.clone()));
        }
        let constraint = error
            .constraint
            .map(|constraint| format!(" ({constraint})"))
            .unwrap_or_default();
        let key = (
            file.to_owned(),
            error.field.clone(),
            format!("{}{constraint}", error.kind),
        );
        self.groups
            .entry(key)
            .and_modify(|(count, _)| *count += 1)
            .or_insert_with(|| (1, error.clone()));
    }
}

pub fn run(settings: &Settings, args: ValidateArgs) -> Result<ExitCode, Failure> {
    let schema = match (&args.schema, &args.table) {
        (Some(path), _) => Schema::load(path)?,
        (None, Some(table)) => Schema::load_table(&settings.schemas, table)?,
        (None, None) => {
            return Err(Failure::new(
                ExitCode::Usage,
                anyhow::anyhow!("give --schema FILE or --table NAME"),
            ));
        }
    };
    // A table's files are read as its dataset is configured.
    let dataset = args
        .table
        .as_deref()
        .and_then(|table| crate::lake::DatasetName::new(table).ok());
    let mut options = match &dataset {
        Some(dataset) => settings.dataset(dataset).read,
        None => ReadOptions::default(),
    };
    if let Some(encoding) = args.encoding {
        options.encoding = encoding;
    }
    if let Some(path) = &args.dialect {
        options.dialect = Dialect::from_file(path)?;
    }
    if let Some(format) = &args.format {
        options.format = Some(
            format
                .parse::<Format>()
                .map_err(|error| Failure::new(ExitCode::Usage, error))?,
        );
        options.fixed = None;
    }

    check(&schema, &args.data, &options, args.limit_errors, args.json)
}

/// Validates `files` against `schema`, prints the report (as JSON with
/// `json`), and returns the exit code it stands for. `insert --dry-run`
/// uses it too.
pub(super) fn check(
    schema: &Schema,
    files: &[PathBuf],
    options: &ReadOptions,
    limit: usize,
    json: bool,
) -> Result<ExitCode, Failure> {
    let mut report = Report {
        limit,
        ..Report::default()
    };
    for data in files {
        validate_file(schema, data, options, &mut report);
    }
    let output = if json {
        as_json(&report)
    } else {
        as_text(&report, files)
    };
    io::stdout()
        .write_all(output.as_bytes())
        .map_err(Failure::stdout)?;
    Ok(if !report.unreadable.is_empty() {
        ExitCode::DataErr
    } else if report.error_count > 0 {
        ExitCode::Problems
    } else {
        ExitCode::Ok
    })
}

/// Validates one file into `report`.
fn validate_file(schema: &Schema, data: &Path, options: &ReadOptions, report: &mut Report) {
    let file = data.display().to_string();
    let opened = if data == Path::new("-") {
        let format = options.format.unwrap_or(Format::Csv);
        formats::from_reader(Box::new(io::stdin()), Path::new("<stdin>"), format, options)
    } else {
        formats::open(data, options)
    };
    let mut reader = match opened {
        Ok(reader) => reader,
        Err(error) => {
            let code = error.exit_code();
            let message = error.to_string();
            if code == ExitCode::DataErr {
                report.add(
                    &file,
                    &RowError::from_read_error(&ReadError::Fatal {
                        position: Default::default(),
                        message: message.clone(),
                    }),
                );
            }
            report.unreadable.push(message);
            return;
        }
    };
    let mut validator = Validator::new(schema, reader.labels());
    for error in validator.header_errors() {
        report.add(&file, error);
    }
    let mut record = Record::new();
    // Empty between rows; `Value` is covariant in its lifetime, so the
    // `'static` vector serves as each row's without a `recycle` call.
    let mut spare: Vec<Value<'static>> = Vec::new();
    let mut errors = Vec::new();
    loop {
        match reader.read(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(error @ (ReadError::Record { .. } | ReadError::Undecodable(_))) => {
                report.rows += 1;
                report.add(&file, &RowError::from_read_error(&error));
                continue;
            }
            Err(error @ (ReadError::Fatal { .. } | ReadError::Refused { .. })) => {
                report.add(&file, &RowError::from_read_error(&error));
                report.unreadable.push(format!("{file}: {error}"));
                break;
            }
        }
        report.rows += 1;
        let mut values: Vec<Value<'_>> = std::mem::take(&mut spare);
        if !validator.check_row(&record, &mut values, &mut errors) {
            for error in errors.drain(..) {
                report.add(&file, &error);
            }
        }
        spare = recycle(values);
    }
}

fn as_json(report: &Report) -> String {
    let errors: Vec<Reported<'_>> = report
        .errors
        .iter()
        .map(|(file, error)| Reported {
            error,
            file: file.clone(),
        })
        .collect();
    let object = serde_json::json!({
        "valid": report.error_count == 0 && report.unreadable.is_empty(),
        "rows": report.rows,
        "errorCount": report.error_count,
        "errors": errors,
    });
    format!("{object}\n")
}

fn as_text(report: &Report, files: &[PathBuf]) -> String {
    let mut text = String::new();
    for file in files {
        let file = file.display().to_string();
        let groups: Vec<_> = report
            .groups
            .iter()
            .filter(|((name, ..), _)| *name == file)
            .collect();
        let count: u64 = groups.iter().map(|(_, (count, _))| count).sum();
        if groups.is_empty() {
            text.push_str(&format!("{file}: valid\n"));
            continue;
        }
        text.push_str(&format!(
            "{file}: {count} error{}\n",
            if count == 1 { "" } else { "s" }
        ));
        for ((_, field, kind), (count, first)) in groups {
            let field = field.as_deref().unwrap_or("(row)");
            let value = match first.value.as_deref() {
                Some(value) if !first.message.contains(&format!("{value:?}")) => {
                    format!("{value:?}: ")
                }
                _ => String::new(),
            };
            let plural = if *count == 1 { "" } else { "s" };
            text.push_str(&format!(
                "  {field}: {count} {kind}{plural}, first at row {}: {value}{}\n",
                first.row, first.message
            ));
        }
    }
    for problem in &report.unreadable {
        text.push_str(&format!("cannot read: {problem}\n"));
    }
    let verdict = if report.error_count == 0 && report.unreadable.is_empty() {
        "valid"
    } else {
        "invalid"
    };
    text.push_str(&format!(
        "{} rows checked, {} errors: {verdict}\n",
        report.rows, report.error_count
    ));
    text
}
