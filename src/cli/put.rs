//! `droplake put DATASET FILE...`: store files in the lake atomically.
//!
//! Each file is put on its own: a failure is reported and the others go on,
//! and the exit code is that of the first failure.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use clap::Args;

use super::{Failure, interrupt};
use crate::config::Settings;
use crate::exit::{ExitCode, HasExitCode};
use crate::lake::{DatasetName, InFlight, Lake, ObjectName, PutOptions, Stored};

/// Arguments of `droplake put`.
#[derive(Debug, Args)]
#[command(
    after_help = "Each file is written to a temporary name, flushed to disk, then renamed into \
    LAKE/DATASET/dt=YYYY-MM-DD/NAME (UTC), so readers never see a partial file."
)]
pub struct PutArgs {
    /// The dataset: a directory directly under the lake, such as `orders`.
    pub dataset: DatasetName,

    /// Files to put; `-` reads standard input and needs --name.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// The object's file name; defaults to the file's own name.
    #[arg(long, value_name = "NAME")]
    pub name: Option<OsString>,

    /// Replace an existing object of the same name instead of refusing.
    #[arg(long)]
    pub replace: bool,

    /// Print one JSON object per file: {"path", "size", "sha256"}.
    #[arg(long)]
    pub json: bool,

    /// Wait until the running daemon is done with each object, and exit
    /// with its outcome: 0 done, 1 rejected rows or failed handlers, 75
    /// timed out.
    #[arg(long)]
    pub wait: bool,

    /// How long --wait waits, such as 30s or 5m.
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "30s",
        requires = "wait"
    )]
    pub timeout: crate::config::Duration,
}

/// A file given to `put` that cannot be used as a source.
#[derive(Debug, thiserror::Error)]
enum SourceError {
    #[error("{}: cannot open: {error}; check the path and its permissions", path.display())]
    Open { path: PathBuf, error: io::Error },
    #[error("{}: is a directory; put takes files", path.display())]
    Directory { path: PathBuf },
    #[error("{}: cannot name an object: {reason}", path.display())]
    Name { path: PathBuf, reason: String },
}

impl HasExitCode for SourceError {
    fn exit_code(&self) -> ExitCode {
        match self {
            SourceError::Open { .. } | SourceError::Directory { .. } => ExitCode::NoInput,
            SourceError::Name { .. } => ExitCode::Usage,
        }
    }
}

pub fn run(settings: &Settings, args: PutArgs) -> Result<ExitCode, Failure> {
    check_sources(&args.files, args.name.as_ref())?;
    let lake = Lake::open(&settings.lake, settings.filter.clone())
        .map_err(|error| Failure::new(ExitCode::Config, error))?;
    let in_flight = InFlight::new();
    interrupt::clean_up_on_signal(in_flight.clone()).map_err(|error| {
        Failure::new(
            ExitCode::IoErr,
            anyhow::anyhow!("cannot install signal handlers: {error}"),
        )
    })?;
    let options = PutOptions {
        replace: args.replace,
        in_flight,
        ..PutOptions::default()
    };

    let mut outcome = ExitCode::Ok;
    let mut stdout = io::stdout().lock();
    let mut stored_all = Vec::new();
    for file in &args.files {
        match put_one(&lake, &args.dataset, args.name.as_ref(), file, &options) {
            Ok(stored) => {
                print(&mut stdout, &stored, args.json).map_err(Failure::stdout)?;
                stored_all.push(stored);
            }
            Err(failure) => {
                eprintln!("droplake: {:#}", failure.error);
                outcome = outcome.worst(failure.code);
            }
        }
    }
    if args.wait {
        let deadline = std::time::Instant::now() + args.timeout.get();
        for stored in &stored_all {
            let code = wait_for(settings, &args.dataset, stored, deadline);
            outcome = outcome.worst(code);
        }
    }
    Ok(outcome)
}

/// Waits until the daemon has finished the object `stored`, or `deadline`;
/// prints its outcome and returns its exit code.
fn wait_for(
    settings: &Settings,
    dataset: &DatasetName,
    stored: &Stored,
    deadline: std::time::Instant,
) -> ExitCode {
    let path = stored.relative.as_os_str().as_encoded_bytes();
    let sha256 = stored.sha256_hex();
    let shown = stored.relative.display();
    loop {
        let found = crate::warehouse::open_read_only(&settings.warehouse)
            .ok()
            .and_then(|connection| {
                crate::warehouse::ledger::find(&connection, dataset.as_str(), path, &sha256)
                    .ok()
                    .flatten()
                    .map(|object| (object, connection))
            });
        if let Some((object, connection)) = found
            && object.state != "active"
        {
            let errors: Vec<String> = crate::warehouse::ledger::jobs_of(&connection, object.id)
                .unwrap_or_default()
                .into_iter()
                .filter(|(_, state)| *state == crate::warehouse::ledger::JobState::Dead)
                .map(|(handler, _)| handler)
                .collect();
            let (code, what) = match object.state.as_str() {
                "done" => (ExitCode::Ok, "done".to_string()),
                "duplicate" => (
                    ExitCode::Ok,
                    "a duplicate of an earlier object; skipped".into(),
                ),
                _ if errors.is_empty() => (ExitCode::Problems, "done, with rejected rows".into()),
                _ => (
                    ExitCode::Problems,
                    format!("failed (dead: {})", errors.join(", ")),
                ),
            };
            eprintln!(
                "droplake: {shown}: object {}: {what}; see `droplake events`",
                object.id
            );
            return code;
        }
        if std::time::Instant::now() >= deadline {
            eprintln!(
                "droplake: {shown}: no outcome within the timeout; is the daemon running (droplake run)?"
            );
            return ExitCode::TempFail;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Refuses a list of sources that cannot be put: standard input without a
/// name or twice, or one name for several files.
pub(super) fn check_sources(files: &[PathBuf], name: Option<&OsString>) -> Result<(), Failure> {
    let stdin_count = files
        .iter()
        .filter(|file| file.as_path() == Path::new("-"))
        .count();
    let usage = |message: String| Err(Failure::new(ExitCode::Usage, anyhow::anyhow!(message)));
    if stdin_count > 0 && name.is_none() {
        return usage("putting standard input (-) needs --name NAME".into());
    }
    if stdin_count > 1 {
        return usage("standard input (-) can be put only once".into());
    }
    if name.is_some() && files.len() > 1 {
        return usage(format!(
            "--name applies to a single file, but {} were given",
            files.len()
        ));
    }
    Ok(())
}

/// Puts one source (`-` for standard input) into `dataset`, named `name` or
/// after the file.
pub(super) fn put_one(
    lake: &Lake,
    dataset: &DatasetName,
    name: Option<&OsString>,
    file: &Path,
    options: &PutOptions,
) -> Result<Stored, Failure> {
    let name_error = |reason: String| SourceError::Name {
        path: file.to_path_buf(),
        reason,
    };
    let name = match (name, file.file_name()) {
        (Some(name), _) => name.clone(),
        (None, Some(name)) => name.to_owned(),
        (None, None) => {
            return Err(name_error("it has no file name; give one with --name".into()).into());
        }
    };
    let name = ObjectName::new(name).map_err(|error| name_error(error.to_string()))?;
    let source_error = |error: crate::lake::PutError| {
        let code = error.exit_code();
        Failure::new(
            code,
            anyhow::Error::new(error).context(format!("putting {}", file.display())),
        )
    };
    if file == Path::new("-") {
        return lake
            .put(dataset, &name, io::stdin().lock(), options)
            .map_err(source_error);
    }
    let source = File::open(file).map_err(|error| SourceError::Open {
        path: file.to_path_buf(),
        error,
    })?;
    if source.metadata().is_ok_and(|metadata| metadata.is_dir()) {
        return Err(SourceError::Directory {
            path: file.to_path_buf(),
        }
        .into());
    }
    lake.put(dataset, &name, source, options)
        .map_err(source_error)
}

fn print(out: &mut impl Write, stored: &Stored, json: bool) -> io::Result<()> {
    if json {
        let line = serde_json::json!({
            "path": stored.path.to_string_lossy(),
            "size": stored.size,
            "sha256": stored.sha256_hex(),
        });
        writeln!(out, "{line}")
    } else {
        writeln!(
            out,
            "{}  {} bytes  sha256:{}",
            stored.path.display(),
            stored.size,
            stored.sha256_hex()
        )
    }
}
