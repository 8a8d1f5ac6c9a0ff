//! `droplake export TABLE | --query SQL --copybook FILE --to DIR`: rows of
//! the warehouse written as a mainframe file, for a receiving system.
//!
//! The rows come from a read-only query (`warehouse::query`); each becomes
//! one record of the copybook (`mainframe::extract` maps columns to fields,
//! `mainframe::encode` writes the bytes), framed as F or V records, with an
//! optional header and trailer record carrying the count and totals.
//!
//! The receiving side never sees a partial file: the records go to a
//! hidden temporary file in the target directory, which is fsynced and
//! renamed to its name (never over an existing file unless `--replace`),
//! and the directory fsynced; only then is the trigger file written, the
//! same way. Any failure (a value that does not fit, a full disk, a signal)
//! removes the temporary file: there is no final file and no trigger.

use std::fs;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use rusqlite::types::Value as SqlValue;
use sha2::{Digest, Sha256};

use super::copybook::SourceArgs;
use super::{Failure, interrupt};
use crate::config::Settings;
use crate::exit::ExitCode;
use crate::lake::{InFlight, TempFile, sha256_of, sync_dir};
use crate::mainframe::codepage::{Charset, CodePage, Newline};
use crate::mainframe::copybook::{Copybook, ItemId};
use crate::mainframe::encode::{Encoder, NullPolicy, Options};
use crate::mainframe::extract::{BindOptions, Binding, Control, Totals};
use crate::mainframe::framing::{Rdw, RecordFormat, frame};
use crate::mainframe::number::{Endian, FloatFormat};
use crate::mainframe::record::Routing;
use crate::warehouse::query::{self, QueryError, Sink};

/// Arguments of `droplake export`.
#[derive(Debug, Args)]
#[command(
    group = clap::ArgGroup::new("rows").required(true).args(["table", "query"]),
    after_help = "The records are written to a hidden temporary file in DIR, flushed to disk and \
    renamed to NAME; the trigger file is written after that, the same way, so a receiver that \
    waits for the trigger never sees a partial file. See docs/mainframe.md."
)]
pub struct ExportArgs {
    /// The table to export, every row in the order it was loaded
    /// (droplake's _load_id column is left out).
    #[arg(value_name = "TABLE")]
    pub table: Option<String>,

    /// Export the rows of this read-only SQL query instead of a table.
    #[arg(long, value_name = "SQL")]
    pub query: Option<String>,

    /// The copybook that describes the records.
    #[arg(long, value_name = "FILE")]
    pub copybook: PathBuf,

    #[command(flatten)]
    pub source: SourceArgs,

    /// The record (level 01) each row becomes; by default the copybook's
    /// first.
    #[arg(long, value_name = "NAME")]
    pub record: Option<String>,

    /// The code page of text and DISPLAY numbers: cp037, cp273, cp500,
    /// cp1047, cp1140-cp1148, ascii, latin1.
    #[arg(long, value_name = "PAGE", default_value = "cp037")]
    pub encoding: CodePage,

    /// The record format: F (every record LRECL bytes) or V (each record
    /// after a 4-byte RDW).
    #[arg(long, value_enum, value_name = "RECFM", default_value_t = Recfm::F)]
    pub recfm: Recfm,

    /// The record length of an F file; by default the longest record the
    /// file holds (data, header and trailer). Shorter records are padded
    /// with spaces.
    #[arg(long, value_name = "N")]
    pub lrecl: Option<usize>,

    /// V: write the RDW's four bytes in reverse order.
    #[arg(long)]
    pub rdw_little_endian: bool,

    /// V: the RDW's length counts the record only, not the RDW itself.
    #[arg(long)]
    pub rdw_excludes_header: bool,

    /// How COMP-1 and COMP-2 are written.
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = FloatArg::Ibm)]
    pub float_format: FloatArg,

    /// COMP-5 is little-endian (as on x86), not big-endian (z/OS).
    #[arg(long)]
    pub comp5_little_endian: bool,

    /// OCCURS DEPENDING ON tables take only their count's space (the items
    /// after them move up), as COBOL writes V records.
    #[arg(long)]
    pub variable_occurs: bool,

    /// What a NULL becomes in a numeric field: an error, spaces, zeros or
    /// low-values (bytes 0x00). A NULL text is always spaces (low-values
    /// with low-values).
    #[arg(long, value_enum, value_name = "POLICY", default_value_t = NullArg::Error)]
    pub null: NullArg,

    /// Fields no column gives are written blank (spaces, zero for
    /// numbers) instead of refused.
    #[arg(long)]
    pub allow_missing: bool,

    /// Columns that match no field are left out instead of refused.
    #[arg(long)]
    pub ignore_unknown: bool,

    /// The record-type field whose value chooses the REDEFINES alternative
    /// to write (see --route).
    #[arg(long, value_name = "FIELD", requires = "route")]
    pub record_type: Option<String>,

    /// VALUE=ALTERNATIVE: a record whose record-type field holds VALUE is
    /// written with the REDEFINES alternative ALTERNATIVE. Repeatable.
    #[arg(long, value_name = "VALUE=ITEM", requires = "record_type")]
    pub route: Vec<String>,

    /// Write a header record first: this record (level 01) of the
    /// copybook.
    #[arg(long, value_name = "RECORD")]
    pub header: Option<String>,

    /// FIELD=VALUE: a field of the header; VALUE is text, {count} (the
    /// number of data records) or {sum:FIELD} (the exact total of a data
    /// field). Fields not set are blank. Repeatable.
    #[arg(long, value_name = "FIELD=VALUE", requires = "header")]
    pub header_field: Vec<String>,

    /// Write a trailer record last: this record (level 01) of the copybook.
    #[arg(long, value_name = "RECORD")]
    pub trailer: Option<String>,

    /// FIELD=VALUE: a field of the trailer, as --header-field. Repeatable.
    #[arg(long, value_name = "FIELD=VALUE", requires = "trailer")]
    pub trailer_field: Vec<String>,

    /// The directory to write into; it must exist.
    #[arg(long, value_name = "DIR")]
    pub to: PathBuf,

    /// The file's name; by default TABLE.dat (needed with --query).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// Replace an existing file of the same name (its trigger is removed
    /// first) instead of refusing.
    #[arg(long)]
    pub replace: bool,

    /// Write a trigger file after the data: NAME followed by this suffix
    /// (.done gives NAME.done), or a pattern with {name} or {stem}.
    #[arg(long, value_name = "SUFFIX")]
    pub trigger: Option<String>,

    /// Leave the trigger file empty instead of declaring the file's size,
    /// sha256 and record count in it (as droplake's marker files do).
    #[arg(long, requires = "trigger")]
    pub empty_trigger: bool,

    /// Print one JSON object: {"path", "records", "size", "sha256",
    /// "trigger"}.
    #[arg(long)]
    pub json: bool,
}

/// Record formats export writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Recfm {
    #[value(name = "F", alias = "f", alias = "FB", alias = "fb")]
    F,
    #[value(name = "V", alias = "v")]
    V,
}

/// Float formats, as the command line names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FloatArg {
    /// IBM hexadecimal floating point, as z/OS COBOL writes.
    Ibm,
    /// IEEE 754, big-endian.
    IeeeBig,
    /// IEEE 754, little-endian.
    IeeeLittle,
}

/// Null policies, as the command line names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NullArg {
    Error,
    Spaces,
    Zeros,
    LowValues,
}

/// What an export wrote.
#[derive(Debug, serde::Serialize)]
struct Written {
    path: PathBuf,
    records: u64,
    size: u64,
    sha256: String,
    trigger: Option<PathBuf>,
}

fn usage(message: String) -> Failure {
    Failure::new(ExitCode::Usage, anyhow::anyhow!(message))
}

pub fn run(settings: &Settings, args: ExportArgs) -> Result<ExitCode, Failure> {
    let copybook = args.source.load(&args.copybook)?;
    let record = match &args.record {
        Some(name) => copybook.record_named(name)?.id,
        None => copybook
            .records()
            .next()
            .map(|record| record.id)
            .ok_or_else(|| usage(format!("{} describes no record", args.copybook.display())))?,
    };
    let options = Options {
        charset: Charset::new(args.encoding, Newline::Nel),
        floats: match args.float_format {
            FloatArg::Ibm => FloatFormat::IbmHex,
            FloatArg::IeeeBig => FloatFormat::IeeeBig,
            FloatArg::IeeeLittle => FloatFormat::IeeeLittle,
        },
        native_endian: if args.comp5_little_endian {
            Endian::Little
        } else {
            Endian::Big
        },
        variable_occurs: args.variable_occurs,
        null: match args.null {
            NullArg::Error => NullPolicy::Error,
            NullArg::Spaces => NullPolicy::Spaces,
            NullArg::Zeros => NullPolicy::Zeros,
            NullArg::LowValues => NullPolicy::LowValues,
        },
    };
    let routing = routing(&copybook, record, &args)?;
    let encoder = Encoder::new(&copybook, record, options.clone(), routing);
    let control = |name: &Option<String>, fields: &[String]| -> Result<_, Failure> {
        let Some(name) = name else {
            return Ok(None);
        };
        let id = copybook.record_named(name)?.id;
        let control = Control::new(&copybook, id, fields, &encoder)?;
        let encoder = Encoder::new(&copybook, id, options.clone(), None);
        Ok(Some((control, encoder)))
    };
    let header = control(&args.header, &args.header_field)?;
    let trailer = control(&args.trailer, &args.trailer_field)?;

    let name = match (&args.name, &args.table) {
        (Some(name), _) => name.clone(),
        (None, Some(table)) => format!("{table}.dat"),
        (None, None) => return Err(usage("--query needs --name NAME for the file".into())),
    };
    check_name(&name)?;
    let trigger = args
        .trigger
        .as_deref()
        .map(|trigger| trigger_name(&name, trigger))
        .transpose()?;
    let format = match args.recfm {
        Recfm::F => {
            let longest = [Some(&encoder), header.as_ref().map(|h| &h.1)]
                .into_iter()
                .chain([trailer.as_ref().map(|t| &t.1)])
                .flatten()
                .map(|encoder| encoder.record().length)
                .max()
                .unwrap_or(0);
            let lrecl = args.lrecl.unwrap_or(longest);
            if lrecl < longest {
                return Err(usage(format!(
                    "--lrecl {lrecl} is shorter than the records, which take up to {longest} bytes"
                )));
            }
            RecordFormat::Fixed { lrecl }
        }
        Recfm::V if args.lrecl.is_some() => {
            return Err(usage(
                "--lrecl applies to F files; V records are as long as they are".into(),
            ));
        }
        Recfm::V => RecordFormat::Variable(Rdw {
            little_endian: args.rdw_little_endian,
            includes_header: !args.rdw_excludes_header,
        }),
    };
    let sql = match (&args.query, &args.table) {
        (Some(sql), _) => sql.clone(),
        (None, Some(table)) => format!(
            "SELECT * FROM {} ORDER BY rowid",
            crate::warehouse::table::quote(table)
        ),
        (None, None) => return Err(usage("give a TABLE or --query SQL".into())),
    };

    let target = Target::check(&args.to, &name, trigger.as_deref(), args.replace)?;
    let in_flight = InFlight::new();
    interrupt::clean_up_on_signal(in_flight.clone()).map_err(|error| {
        Failure::new(
            ExitCode::IoErr,
            anyhow::anyhow!("cannot install signal handlers: {error}"),
        )
    })?;
    if args.replace {
        target.remove_old_trigger()?;
    }

    let mut temp = TempFile::create(&target.dir, &in_flight)
        .map_err(|error| target.create_error(&target.path, error))?;
    let bind = BindOptions {
        allow_missing: args.allow_missing,
        ignore_unknown: args.ignore_unknown,
        skip: if args.table.is_some() {
            vec!["_load_id".to_string()]
        } else {
            Vec::new()
        },
    };
    let sums: Vec<ItemId> = [&header, &trailer]
        .into_iter()
        .flatten()
        .flat_map(|(control, _)| control.sums().collect::<Vec<_>>())
        .collect();
    // A second handle on the temporary file, so that the writer owns it.
    let file = temp
        .file()
        .try_clone()
        .map_err(|error| target.write_error(error))?;
    let mut writer = Extract {
        copybook: &copybook,
        encoder: &encoder,
        bind,
        binding: None,
        format,
        space: args.encoding.space(),
        out: BufWriter::with_capacity(256 * 1024, file),
        hasher: Sha256::new(),
        size: 0,
        totals: Totals::new(sums),
        record: Vec::new(),
        framed: Vec::new(),
        failure: None,
    };
    let mut header_len = 0;
    if let Some((control, header_encoder)) = &header {
        header_len = writer.control(control, header_encoder, "the header")?;
    }
    let result = query::query(&settings.warehouse, &sql, &mut writer);
    if let Some(failure) = writer.failure.take() {
        return Err(failure);
    }
    result.map_err(|error| match error {
        QueryError::Output(error) => target.write_error(error),
        error => query_failure(error, args.table.as_deref()),
    })?;
    if let Some((control, trailer_encoder)) = &trailer {
        writer.control(control, trailer_encoder, "the trailer")?;
    }
    let write_error = |error: io::Error| target.write_error(error);
    let Extract {
        out,
        hasher,
        mut size,
        totals,
        ..
    } = writer;
    let records = totals.count;
    let mut sha256 = Some(hex::encode(hasher.finalize()));
    let mut out = out
        .into_inner()
        .map_err(|error| write_error(error.into_error()))?;
    if let Some((control, header_encoder)) = header.as_ref().filter(|(c, _)| c.counts()) {
        // The header's count and totals are known now: write it again, in
        // place (a header is as long whatever its values).
        let mut framed = Vec::new();
        let mut record = Vec::new();
        header_encoder
            .encode(&control.values(&totals), &mut record)
            .map_err(|error| data_error(format!("the header: {error}")))?;
        frame(format, &record, args.encoding.space(), &mut framed)
            .map_err(|error| data_error(format!("the header: {error}")))?;
        if framed.len() != header_len {
            return Err(data_error(format!(
                "the header's length changed with its count or totals ({header_len} bytes, then \
                 {}); its layout must not depend on them",
                framed.len()
            )));
        }
        out.seek(SeekFrom::Start(0))
            .and_then(|_| out.write_all(&framed))
            .map_err(write_error)?;
        size = out.metadata().map_err(write_error)?.len();
        sha256 = None;
    }
    out.sync_all().map_err(write_error)?;
    let sha256 = match sha256 {
        Some(sha256) => sha256,
        None => hex::encode(sha256_of(temp.path()).map_err(write_error)?),
    };
    temp.rename_to(&target.path, args.replace)
        .map_err(|error| match error.kind() {
            io::ErrorKind::AlreadyExists => target.exists_error(&target.path),
            _ => write_error(error),
        })?;
    sync_dir(&target.dir).map_err(|error| target.not_durable(&target.path, error))?;
    tracing::debug!(path = %target.path.display(), records, size, "Wrote an extract.");

    let trigger_path = match &target.trigger {
        Some(path) => {
            let content = if args.empty_trigger {
                String::new()
            } else {
                format!(
                    "{}\n",
                    serde_json::json!({"size": size, "sha256": sha256, "records": records})
                )
            };
            target.write_trigger(path, content.as_bytes(), &in_flight, args.replace)?;
            Some(path.clone())
        }
        None => None,
    };
    let written = Written {
        path: target.path.clone(),
        records,
        size,
        sha256,
        trigger: trigger_path,
    };
    print(&written, args.json).map_err(Failure::stdout)?;
    Ok(ExitCode::Ok)
}

/// The routing of `--record-type FIELD --route VALUE=ALTERNATIVE`.
fn routing(
    copybook: &Copybook,
    record: ItemId,
    args: &ExportArgs,
) -> Result<Option<Routing>, Failure> {
    let Some(field) = &args.record_type else {
        return Ok(None);
    };
    let record_item = copybook.item(record);
    let find = |name: &str| {
        copybook
            .descendants(record)
            .iter()
            .find(|item| item.is_named(name))
            .ok_or_else(|| {
                usage(format!(
                    "{} has no item named {name}",
                    record_item.display_name()
                ))
            })
    };
    let field_item = find(field)?;
    if field_item.elementary().is_none() || !copybook.dimensions(field_item.id).is_empty() {
        return Err(usage(format!(
            "--record-type {field}: the record-type field must be elementary and occur once"
        )));
    }
    let mut routes = Vec::new();
    for route in &args.route {
        let (value, alternative) = route.split_once('=').ok_or_else(|| {
            usage(format!(
                "--route {route:?}: write VALUE=ALTERNATIVE, such as --route P=PERSON"
            ))
        })?;
        let target = find(alternative.trim())?;
        if target.redefines.is_none() && target.redefined_by.is_empty() {
            return Err(usage(format!(
                "--route {route}: {} is not an alternative of a REDEFINES",
                target.display_name()
            )));
        }
        routes.push((value.trim().to_string(), target.id));
    }
    Ok(Some(Routing {
        field: field_item.id,
        routes,
    }))
}

/// Refuses a file name that is not a plain name in the target directory.
fn check_name(name: &str) -> Result<(), Failure> {
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\0']) {
        return Err(usage(format!(
            "{name:?} is not a file name; --name takes a name without a directory"
        )));
    }
    Ok(())
}

/// The trigger file's name: `NAME` + suffix, or a pattern with `{name}`
/// (the file's name) or `{stem}` (without its last extension).
fn trigger_name(name: &str, trigger: &str) -> Result<String, Failure> {
    let stem = Path::new(name)
        .file_stem()
        .map_or(name.to_string(), |stem| stem.to_string_lossy().into_owned());
    let made = if trigger.contains('{') {
        trigger.replace("{name}", name).replace("{stem}", &stem)
    } else {
        format!("{name}{trigger}")
    };
    check_name(&made)?;
    if made == name {
        return Err(usage(format!(
            "--trigger {trigger} names the data file itself; give a suffix such as .done"
        )));
    }
    Ok(made)
}

fn data_error(message: String) -> Failure {
    Failure::new(
        ExitCode::DataErr,
        anyhow::anyhow!("{message}; nothing was written"),
    )
}

/// A query error, with a plainer message for a table that is not there.
fn query_failure(error: QueryError, table: Option<&str>) -> Failure {
    match (&error, table) {
        (QueryError::Invalid { message }, Some(table)) if message.contains("no such table") => {
            usage(format!(
                "the warehouse has no table {table}; `droplake status` lists the tables"
            ))
        }
        _ => {
            let code = crate::exit::HasExitCode::exit_code(&error);
            Failure::new(
                code,
                anyhow::Error::new(error).context("nothing was written"),
            )
        }
    }
}

/// Where the extract goes, checked before anything is written.
struct Target {
    dir: PathBuf,
    path: PathBuf,
    trigger: Option<PathBuf>,
}

impl Target {
    fn check(
        dir: &Path,
        name: &str,
        trigger: Option<&str>,
        replace: bool,
    ) -> Result<Target, Failure> {
        let cant = |message: String| Failure::new(ExitCode::CantCreate, anyhow::anyhow!(message));
        if !dir.is_dir() {
            return Err(cant(format!(
                "{} is not a directory; create it first, export writes only into an existing one",
                dir.display()
            )));
        }
        let target = Target {
            dir: dir.to_path_buf(),
            path: dir.join(name),
            trigger: trigger.map(|trigger| dir.join(trigger)),
        };
        if !replace {
            for path in std::iter::once(&target.path).chain(&target.trigger) {
                if path.symlink_metadata().is_ok() {
                    return Err(target.exists_error(path));
                }
            }
        }
        Ok(target)
    }

    /// With --replace, the old trigger goes first, so that a receiver
    /// never takes the old trigger for the new file.
    fn remove_old_trigger(&self) -> Result<(), Failure> {
        let Some(trigger) = &self.trigger else {
            return Ok(());
        };
        match fs::remove_file(trigger) {
            Ok(()) => sync_dir(&self.dir).map_err(|error| self.write_error(error)),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(self.write_error(error)),
        }
    }

    fn write_trigger(
        &self,
        path: &Path,
        content: &[u8],
        in_flight: &InFlight,
        replace: bool,
    ) -> Result<(), Failure> {
        let failed = |error: io::Error| {
            Failure::new(
                ExitCode::IoErr,
                anyhow::anyhow!(
                    "{} is in place, but its trigger {} could not be written: {error}; write the \
                     trigger by hand, or export again with --replace",
                    self.path.display(),
                    path.display()
                ),
            )
        };
        let mut temp = TempFile::create(&self.dir, in_flight).map_err(failed)?;
        temp.file()
            .write_all(content)
            .and_then(|()| temp.file().sync_all())
            .map_err(failed)?;
        temp.rename_to(path, replace).map_err(failed)?;
        sync_dir(&self.dir).map_err(failed)
    }

    fn exists_error(&self, path: &Path) -> Failure {
        Failure::new(
            ExitCode::CantCreate,
            anyhow::anyhow!(
                "{} already exists; export never overwrites a file unless --replace is given",
                path.display()
            ),
        )
    }

    fn create_error(&self, path: &Path, error: io::Error) -> Failure {
        Failure::new(
            ExitCode::CantCreate,
            anyhow::anyhow!(
                "cannot create a file in {} for {}: {error}",
                self.dir.display(),
                path.display()
            ),
        )
    }

    fn write_error(&self, error: io::Error) -> Failure {
        Failure::new(
            ExitCode::IoErr,
            anyhow::anyhow!(
                "writing {} failed: {error}; nothing was written",
                self.path.display()
            ),
        )
    }

    fn not_durable(&self, path: &Path, error: io::Error) -> Failure {
        Failure::new(
            ExitCode::IoErr,
            anyhow::anyhow!(
                "{} is in place, but flushing its directory to disk failed: {error}; it may not \
                 survive a crash, and no trigger was written",
                path.display()
            ),
        )
    }
}

/// The records being written: the query's rows as they come, through
/// one reused record buffer.
struct Extract<'a, W: Write> {
    copybook: &'a Copybook,
    encoder: &'a Encoder<'a>,
    bind: BindOptions,
    /// Made when the query's columns are known.
    binding: Option<Binding>,
    format: RecordFormat,
    /// The padding of F records.
    space: u8,
    out: BufWriter<W>,
    hasher: Sha256,
    size: u64,
    totals: Totals,
    record: Vec<u8>,
    framed: Vec<u8>,
    /// Why the rows stopped, when it was not the query.
    failure: Option<Failure>,
}

impl<W: Write> Extract<'_, W> {
    /// Writes one framed record.
    fn write(&mut self) -> io::Result<()> {
        self.out.write_all(&self.framed)?;
        self.hasher.update(&self.framed);
        self.size += self.framed.len() as u64;
        Ok(())
    }

    /// Writes a header or trailer record with the totals so far; returns
    /// its length, framed.
    fn control(
        &mut self,
        control: &Control,
        encoder: &Encoder<'_>,
        what: &str,
    ) -> Result<usize, Failure> {
        encoder
            .encode(&control.values(&self.totals), &mut self.record)
            .map_err(|error| data_error(format!("{what}: {error}")))?;
        self.framed.clear();
        frame(self.format, &self.record, self.space, &mut self.framed)
            .map_err(|error| data_error(format!("{what}: {error}")))?;
        self.write().map_err(|error| {
            Failure::new(
                ExitCode::IoErr,
                anyhow::anyhow!("writing the extract failed: {error}; nothing was written"),
            )
        })?;
        Ok(self.framed.len())
    }

    /// Stops the query with `failure`.
    fn stop(&mut self, failure: Failure) -> io::Error {
        self.failure = Some(failure);
        io::Error::other("stopped")
    }
}

impl<W: Write> Sink for Extract<'_, W> {
    fn columns(&mut self, names: &[String]) -> io::Result<()> {
        match Binding::new(self.encoder, names, &self.bind) {
            Ok(binding) => {
                self.binding = Some(binding);
                Ok(())
            }
            Err(error) => Err(self.stop(error.into())),
        }
    }

    fn row(&mut self, values: &[SqlValue]) -> io::Result<()> {
        let number = self.totals.count + 1;
        let Some(binding) = &self.binding else {
            return Err(io::Error::other("a row before the columns"));
        };
        let row = binding.row(self.copybook, values);
        let encoded = self
            .encoder
            .encode(&row, &mut self.record)
            .map_err(|error| error.to_string())
            .and_then(|()| self.totals.add(self.copybook, &row));
        if let Err(message) = encoded {
            return Err(self.stop(data_error(format!("row {number}: {message}"))));
        }
        self.framed.clear();
        if let Err(error) = frame(self.format, &self.record, self.space, &mut self.framed) {
            return Err(self.stop(data_error(format!("row {number}: {error}"))));
        }
        self.write()
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

fn print(written: &Written, json: bool) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    if json {
        return writeln!(
            stdout,
            "{}",
            serde_json::to_string(written).unwrap_or_default()
        );
    }
    write!(
        stdout,
        "{}  {} records  {} bytes  sha256:{}",
        written.path.display(),
        written.records,
        written.size,
        written.sha256
    )?;
    match &written.trigger {
        Some(trigger) => writeln!(stdout, "  trigger {}", trigger.display()),
        None => writeln!(stdout),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trigger_is_a_suffix_or_a_pattern_never_the_file_itself() {
        let name = |trigger: &str| trigger_name("CUST.G0001V00.dat", trigger).map_err(|f| f.code);
        assert_eq!(name(".done"), Ok("CUST.G0001V00.dat.done".to_string()));
        assert_eq!(name("{stem}.ok"), Ok("CUST.G0001V00.ok".to_string()));
        assert_eq!(name("{name}.trg"), Ok("CUST.G0001V00.dat.trg".to_string()));
        assert_eq!(name("{name}"), Err(ExitCode::Usage));
        assert_eq!(name("/../x"), Err(ExitCode::Usage));
        assert!(check_name("..").is_err() && check_name("a/b").is_err());
    }
}
