//! `droplake insert TABLE FILE...`: the producer path for validated rows.
//!
//! Each file is put into the lake (the table's dataset) atomically, then
//! loaded into the table synchronously, in one transaction; the load is
//! recorded with the object's path and content hash, so no later scan loads
//! it again. Sending the same file twice is safe: the identical object is
//! kept, and the load is a duplicate that adds nothing (`--force` loads it
//! again). Exit 0 when every row loaded, 1 when some rows were rejected, 65
//! when nothing could be loaded.

use std::ffi::OsString;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use clap::Args;

use super::progress::Bar;
use super::{Failure, interrupt};
use crate::config::Settings;
use crate::exit::{ExitCode, HasExitCode};
use crate::lake::{DatasetName, InFlight, Lake, PutOptions};
use crate::loader::{self, Table};
use crate::warehouse::{LoadOptions, LoadReport, ObjectRef, Outcome, Warehouse};

/// How many of a load's errors are printed for people.
const SHOWN_ERRORS: usize = 5;

/// Arguments of `droplake insert`.
#[derive(Debug, Args)]
pub struct InsertArgs {
    /// The warehouse table: its schema is SCHEMAS/TABLE.json, and its files
    /// go to the lake dataset of the same name.
    pub table: DatasetName,

    /// Files to insert; `-` reads standard input and needs --name.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// The object's file name in the lake; defaults to the file's own name.
    #[arg(long, value_name = "NAME")]
    pub name: Option<OsString>,

    /// Load even if the same content was loaded into the table before.
    #[arg(long)]
    pub force: bool,

    /// Only validate, as `droplake validate` does: put and load nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Print one JSON object per file.
    #[arg(long)]
    pub json: bool,
}

pub fn run(settings: &Settings, args: InsertArgs) -> Result<ExitCode, Failure> {
    let table = Table::load(&settings.schemas, args.table.as_str())?;
    let read = settings.dataset(&args.table).read;
    if args.dry_run {
        return super::validate::check(&table.schema, &args.files, &read, 1000, args.json);
    }
    super::put::check_sources(&args.files, args.name.as_ref())?;
    let lake = Lake::open(&settings.lake, settings.filter.clone())
        .map_err(|error| Failure::new(ExitCode::Config, error))?;
    let mut warehouse = Warehouse::open(&settings.warehouse)?;
    let in_flight = InFlight::new();
    interrupt::clean_up_on_signal(in_flight.clone()).map_err(|error| {
        Failure::new(
            ExitCode::IoErr,
            anyhow::anyhow!("cannot install signal handlers: {error}"),
        )
    })?;
    let put_options = PutOptions {
        accept_identical: true,
        in_flight,
        ..PutOptions::default()
    };
    let load_options = LoadOptions {
        force: args.force,
        ..settings.load_options(&args.table, args.table.as_str())
    };

    let mut outcome = ExitCode::Ok;
    let mut stdout = io::stdout().lock();
    for file in &args.files {
        let inserted =
            super::put::put_one(&lake, &args.table, args.name.as_ref(), file, &put_options)
                .and_then(|stored| {
                    let object = ObjectRef {
                        path: stored.relative.to_string_lossy().into_owned(),
                        sha256: stored.sha256_hex(),
                        size: stored.size,
                    };
                    let bar = Bar::bytes(&stored.path, stored.size);
                    let report = loader::load_file(
                        &mut warehouse,
                        &table,
                        &stored.path,
                        &object,
                        &read,
                        load_options,
                        |file| bar.reader(file),
                    )
                    .map_err(|error| {
                        let code = error.exit_code();
                        Failure::new(
                            code,
                            anyhow::Error::new(error)
                                .context(format!("loading {}", stored.path.display())),
                        )
                    })?;
                    Ok((stored, report))
                });
        match inserted {
            Ok((stored, report)) => {
                outcome = outcome.worst(code_of(&report));
                print_report(
                    &mut stdout,
                    &stored.path,
                    &stored.sha256_hex(),
                    args.table.as_str(),
                    &report,
                    args.json,
                )
                .map_err(Failure::stdout)?;
            }
            Err(failure) => {
                eprintln!("droplake: {:#}", failure.error);
                outcome = outcome.worst(failure.code);
            }
        }
    }
    Ok(outcome)
}

/// The exit code a load's outcome stands for.
pub(super) fn code_of(report: &LoadReport) -> ExitCode {
    match report.outcome {
        Outcome::Loaded | Outcome::Duplicate => ExitCode::Ok,
        Outcome::Partial => ExitCode::Problems,
        Outcome::Failed | Outcome::Aborted => ExitCode::DataErr,
    }
}

/// Prints what loading the object at `path` into `table` did.
pub(super) fn print_report(
    out: &mut impl Write,
    path: &Path,
    sha256: &str,
    table: &str,
    report: &LoadReport,
    json: bool,
) -> io::Result<()> {
    if json {
        let line = serde_json::json!({
            "path": path.to_string_lossy(),
            "sha256": sha256,
            "table": table,
            "load_id": report.load_id,
            "outcome": report.outcome.name(),
            "rows_read": report.rows_read,
            "rows_loaded": report.rows_loaded,
            "rows_rejected": report.rows_rejected,
            "duplicate_of": report.duplicate_of,
            "errors": report.first_errors,
        });
        return writeln!(out, "{line}");
    }
    let path = path.display();
    if report.outcome == Outcome::Duplicate {
        let previous = report
            .duplicate_of
            .map(|id| format!(" by load {id}"))
            .unwrap_or_default();
        return writeln!(
            out,
            "{path}: already loaded{previous}; nothing added (--force loads it again)"
        );
    }
    writeln!(
        out,
        "{path}: {}: {} rows loaded, {} rejected (load {})",
        report.outcome.name(),
        report.rows_loaded,
        report.rows_rejected,
        report.load_id
    )?;
    for error in report.first_errors.iter().take(SHOWN_ERRORS) {
        writeln!(out, "  {error}")?;
    }
    if report.rows_rejected > 0 {
        writeln!(
            out,
            "  see every rejected row with: droplake rejects {table} --load {}",
            report.load_id
        )?;
    }
    if let Some(problem) = &report.unreadable {
        writeln!(out, "  {}", problem.why_nothing_loaded())?;
    }
    Ok(())
}
