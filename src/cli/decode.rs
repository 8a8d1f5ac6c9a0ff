//! `droplake decode --copybook FILE.cpy DATA`: the records of a mainframe
//! file as JSON Lines, one flat object per record, in file order.
//!
//! The file is split into records by its record format
//! (`mainframe::framing`), each record is decoded by the copybook
//! (`mainframe::record`) and printed by `mainframe::json`: keys are the
//! elementary names as written, OCCURS are arrays, numbers exact. It
//! streams: one record in memory at a time, the output through a buffer,
//! and a closed pipe (`| head`) ends it quietly.
//!
//! A field whose bytes are not a value of its type is null, with a warning
//! on standard error naming the record, offset, field and bytes (at most
//! `--max-warnings`, then a count), and the run ends with exit code 1; with
//! `--strict` the first one ends the run (65). A record that cannot be
//! framed or decoded at all ends the run after the records before it have
//! been printed (65). Needs no configuration.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::Failure;
use super::copybook::SourceArgs;
use crate::exit::ExitCode;
use crate::mainframe::codepage::{Charset, CodePage, Newline};
use crate::mainframe::copybook::{Copybook, Item, ItemId};
use crate::mainframe::framing::{Framing, FramingError, Rdw, RecordFormat, Records};
use crate::mainframe::json::JsonRecord;
use crate::mainframe::number::{Endian, FloatFormat};
use crate::mainframe::record::{
    Decoder, EMPTY_TABLE, FieldError, Options, RecordError, Routing, Sink, Value,
};

/// Bytes read from the file and written to standard output at a time.
const BUFFER: usize = 256 * 1024;

/// Arguments of `droplake decode`.
#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// The data file, or - for standard input.
    #[arg(value_name = "DATA")]
    pub data: PathBuf,

    /// The COBOL copybook describing the records.
    #[arg(long, value_name = "FILE")]
    pub copybook: PathBuf,

    #[command(flatten)]
    pub source: SourceArgs,

    /// The 01 record to decode by, when the copybook has several (default:
    /// the first, unless --route chooses one).
    #[arg(long, value_name = "NAME")]
    pub record: Option<String>,

    /// The record format: F or FB (fixed length; blocking is invisible off
    /// the mainframe), V (each record after a 4-byte RDW), VB (blocks after
    /// a BDW), or text (lines).
    #[arg(
        long,
        value_enum,
        ignore_case = true,
        value_name = "RECFM",
        default_value = "F"
    )]
    pub recfm: Recfm,

    /// The record length of F, FB and text files [default: the copybook's
    /// record length; for F with --variable-occurs, records back to back,
    /// each as long as its counts make it].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub lrecl: Option<u32>,

    /// The code page of text fields (and of the signs of numeric DISPLAY
    /// fields): cp037, cp273, cp500, cp1047, cp1140-cp1148, ascii, latin1.
    #[arg(long, value_name = "CODEPAGE", default_value = "cp037", value_parser = code_page)]
    pub encoding: CodePage,

    /// What EBCDIC byte 0x15 is: nel (IBM's tables; 0x25 is LF) or lf (as
    /// z/OS UNIX and some transfers have it; 0x25 is then NEL).
    #[arg(long, value_enum, value_name = "NEWLINE", default_value = "nel")]
    pub newline: NewlineArg,

    /// The RDW and BDW lengths do not count their own 4 bytes (as after
    /// some transfers, and in GnuCOBOL's variable-length files).
    #[arg(long)]
    pub rdw_excludes_header: bool,

    /// The 4 bytes of each RDW and BDW are in reverse order (little-endian).
    #[arg(long)]
    pub rdw_little_endian: bool,

    /// Bytes at the start of the file that are not records.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub header_bytes: u64,

    /// Bytes at the end of the file that are not records.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub footer_bytes: u64,

    /// A field whose bytes are not a value of its type ends the run (exit
    /// 65); sign nibbles must be C, D or F, and text printable.
    #[arg(long)]
    pub strict: bool,

    /// The format of COMP-1 and COMP-2: ibm (hexadecimal floating point),
    /// ieee (IEEE 754 big-endian) or ieee-little.
    #[arg(long, value_enum, value_name = "FORMAT", default_value = "ibm")]
    pub floats: FloatsArg,

    /// The byte order of COMP-5 (native binary) fields: big as on z/OS, or
    /// little for files written on x86 (GnuCOBOL, Micro Focus). COMP,
    /// COMP-4 and BINARY are always big-endian.
    #[arg(long, value_enum, value_name = "ORDER", default_value = "big")]
    pub native_endian: EndianArg,

    /// OCCURS DEPENDING ON tables take only their count's space and the
    /// fields after them move up, as in records written by COBOL with
    /// variable-length tables.
    #[arg(long)]
    pub variable_occurs: bool,

    /// The record-type field whose value chooses the REDEFINES alternative
    /// or 01 record each record is decoded by (with --route).
    #[arg(long, value_name = "FIELD", requires = "route")]
    pub record_type: Option<String>,

    /// VALUE=ITEM: a record whose --record-type field is VALUE (text
    /// without its padding, a number as printed: 7, -1.50) is decoded by
    /// ITEM, a REDEFINES alternative or a 01 record; the other alternatives
    /// of its set are left out. Repeat for each value.
    #[arg(long, value_name = "VALUE=ITEM", requires = "record_type", value_parser = route)]
    pub route: Vec<(String, String)>,

    /// How many bad fields are described on standard error before the rest
    /// are only counted.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub max_warnings: u64,

    /// Decode every field of every record, but print only the number of
    /// records (a check that a file decodes, and its speed without JSON).
    #[arg(long)]
    pub count: bool,
}

/// The record formats, as the command line names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Recfm {
    #[value(name = "F")]
    F,
    #[value(name = "FB")]
    Fb,
    #[value(name = "V")]
    V,
    #[value(name = "VB")]
    Vb,
    #[value(name = "text")]
    Text,
}

/// `--newline`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NewlineArg {
    Nel,
    Lf,
}

/// `--floats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FloatsArg {
    Ibm,
    Ieee,
    IeeeLittle,
}

/// `--native-endian`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EndianArg {
    Big,
    Little,
}

fn code_page(name: &str) -> Result<CodePage, String> {
    name.parse()
}

fn route(text: &str) -> Result<(String, String), String> {
    let (value, item) = text
        .rsplit_once('=')
        .ok_or_else(|| format!("{text:?} is not VALUE=ITEM"))?;
    if item.trim().is_empty() {
        return Err(format!("{text:?} names no item after ="));
    }
    Ok((value.trim().to_string(), item.trim().to_string()))
}

pub fn run(args: DecodeArgs) -> Result<ExitCode, Failure> {
    let copybook = args.source.load(&args.copybook)?;
    let record = match &args.record {
        Some(name) => Some(copybook.record_named(name)?.id),
        None => None,
    };
    let routing = routing(&copybook, &args)?;
    let mut decoder = Decoder::new(&copybook, options(&args), routing);
    if let Some(record) = record {
        decoder = decoder.with_record(record);
    }
    let frames = open(&args, &copybook, record)?;
    let printer = if args.count {
        Printer::Count(Tally::new(args.strict))
    } else {
        Printer::Json(JsonRecord::new(&decoder, args.strict), String::new())
    };
    let mut warnings = Warnings::new(args.max_warnings);
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(BUFFER, stdout.lock());
    let outcome = decode_all(&decoder, frames, printer, &mut warnings, &mut out);
    // What was decoded before a failure is printed before it is reported.
    let flushed = out.flush().map_err(Stop::from);
    match outcome.and(flushed) {
        Ok(()) => Ok(warnings.finish()),
        Err(Stop::PipeClosed) => Ok(ExitCode::Ok),
        Err(Stop::Failed(failure)) => {
            warnings.finish();
            Err(failure)
        }
    }
}

/// Why decoding ended before the end of the file.
enum Stop {
    Failed(Failure),
    /// Standard output was closed by its reader (`| head`): not an error.
    PipeClosed,
}

impl From<io::Error> for Stop {
    fn from(error: io::Error) -> Stop {
        if error.kind() == io::ErrorKind::BrokenPipe {
            Stop::PipeClosed
        } else {
            Stop::Failed(Failure::stdout(error))
        }
    }
}

/// Decodes and prints every record.
fn decode_all(
    decoder: &Decoder<'_>,
    mut frames: Box<dyn Frames>,
    mut printer: Printer<'_, '_>,
    warnings: &mut Warnings,
    out: &mut impl Write,
) -> Result<(), Stop> {
    let mut records: u64 = 0;
    loop {
        let next = frames
            .next()
            .map_err(|error| Stop::Failed(framing_failure(error, records + 1)))?;
        let Some((offset, bytes)) = next else {
            break;
        };
        records += 1;
        printer.clear();
        let taken = decoder
            .decode_measured(bytes, printer.sink())
            .map_err(|error| {
                Stop::Failed(Failure::new(
                    ExitCode::DataErr,
                    anyhow::anyhow!("record {records} at byte {offset}: {error}"),
                ))
            })?;
        frames
            .took(taken)
            .map_err(|error| Stop::Failed(framing_failure(error, records)))?;
        warnings.report(records, offset, printer.problems());
        printer.print(out)?;
    }
    if matches!(printer, Printer::Count(_)) {
        writeln!(out, "{records}")?;
    }
    Ok(())
}

/// The decoding options the arguments ask for.
fn options(args: &DecodeArgs) -> Options {
    let newline = match args.newline {
        NewlineArg::Nel => Newline::Nel,
        NewlineArg::Lf => Newline::Lf,
    };
    let mut options = Options::new(Charset::new(args.encoding, newline));
    options.strict = args.strict;
    options.floats = match args.floats {
        FloatsArg::Ibm => FloatFormat::IbmHex,
        FloatsArg::Ieee => FloatFormat::IeeeBig,
        FloatsArg::IeeeLittle => FloatFormat::IeeeLittle,
    };
    options.native_endian = match args.native_endian {
        EndianArg::Big => Endian::Big,
        EndianArg::Little => Endian::Little,
    };
    options.variable_occurs = args.variable_occurs;
    options
}

/// `--record-type` and `--route` resolved to items of the copybook.
fn routing(copybook: &Copybook, args: &DecodeArgs) -> Result<Option<Routing>, Failure> {
    let Some(field) = &args.record_type else {
        return Ok(None);
    };
    let usage = |message: String| Failure::new(ExitCode::Usage, anyhow::anyhow!(message));
    let field_item = copybook.item(find_item(copybook, field).map_err(usage)?);
    if field_item.elementary().is_none() {
        return Err(usage(format!(
            "the record-type field {field} is a group; name an elementary item"
        )));
    }
    if !copybook.dimensions(field_item.id).is_empty() {
        return Err(usage(format!(
            "the record-type field {field} is under an OCCURS; it must have one place in the record"
        )));
    }
    let mut routes = Vec::new();
    for (value, name) in &args.route {
        let target = copybook.item(find_item(copybook, name).map_err(usage)?);
        let is_alternative = target.redefines.is_some() || !target.redefined_by.is_empty();
        if target.parent.is_some() && !is_alternative {
            return Err(usage(format!(
                "--route {value}={name}: {name} is neither a 01 record nor a REDEFINES \
                 alternative, so there is nothing to choose it from"
            )));
        }
        routes.push((value.clone(), target.id));
    }
    Ok(Some(Routing {
        field: field_item.id,
        routes,
    }))
}

/// The item a name means: `NAME`, or `NAME OF GROUP [OF ...]` (or `IN`)
/// when the name alone is ambiguous. Names compare without regard to case.
fn find_item(copybook: &Copybook, name: &str) -> Result<ItemId, String> {
    let words: Vec<&str> = name.split_whitespace().collect();
    let mut parts = vec![words.first().copied().unwrap_or_default()];
    let mut rest = words.iter().skip(1);
    while let Some(word) = rest.next() {
        let qualifier = rest.next();
        match qualifier {
            Some(group) if word.eq_ignore_ascii_case("OF") || word.eq_ignore_ascii_case("IN") => {
                parts.push(group);
            }
            _ => return Err(format!("{name:?} is not NAME or NAME OF GROUP")),
        }
    }
    let matches: Vec<&Item> = copybook
        .items()
        .iter()
        .filter(|item| item.is_named(parts[0]) && qualified_by(copybook, item, &parts[1..]))
        .collect();
    match matches.as_slice() {
        [item] => Ok(item.id),
        [] => Err(format!("the copybook has no item {name}")),
        several => {
            let names: Vec<String> = several
                .iter()
                .map(|item| copybook.qualified_name(item.id))
                .collect();
            Err(format!(
                "{name} is ambiguous ({}); qualify it with OF",
                names.join(", ")
            ))
        }
    }
}

/// Whether the groups around `item` include `qualifiers` in order, inner first.
fn qualified_by(copybook: &Copybook, item: &Item, qualifiers: &[&str]) -> bool {
    let mut wanted = qualifiers.iter().peekable();
    let mut at = item.parent;
    while let (Some(parent), Some(name)) = (at, wanted.peek()) {
        let group = copybook.item(parent);
        if group.is_named(name) {
            wanted.next();
        }
        at = group.parent;
    }
    wanted.peek().is_none()
}

/// The data file (or standard input) split into records.
fn open(
    args: &DecodeArgs,
    copybook: &Copybook,
    record: Option<ItemId>,
) -> Result<Box<dyn Frames>, Failure> {
    let (reader, len): (Box<dyn BufRead>, Option<u64>) = if args.data == Path::new("-") {
        (
            Box::new(BufReader::with_capacity(BUFFER, io::stdin())),
            None,
        )
    } else {
        let file = File::open(&args.data).map_err(|error| {
            let code = if error.kind() == io::ErrorKind::NotFound {
                ExitCode::NoInput
            } else {
                ExitCode::IoErr
            };
            Failure::new(
                code,
                anyhow::anyhow!("cannot open {}: {error}", args.data.display()),
            )
        })?;
        let metadata = file.metadata().ok().filter(std::fs::Metadata::is_file);
        (
            Box::new(BufReader::with_capacity(BUFFER, file)),
            metadata.map(|metadata| metadata.len()),
        )
    };
    let usage = |message: &str| Failure::new(ExitCode::Usage, anyhow::anyhow!("{message}"));
    let length = record.map_or_else(|| copybook.record_length(), |id| copybook.item(id).length);
    let rdw = Rdw {
        little_endian: args.rdw_little_endian,
        includes_header: !args.rdw_excludes_header,
    };
    if matches!(args.recfm, Recfm::V | Recfm::Vb) && args.lrecl.is_some() {
        return Err(usage(
            "--lrecl applies to F, FB and text records; V and VB records carry their lengths",
        ));
    }
    let lrecl = args.lrecl.map(|lrecl| lrecl as usize);
    let format = match args.recfm {
        Recfm::F | Recfm::Fb if args.variable_occurs && lrecl.is_none() => {
            return BackToBack::new(reader, len, args.header_bytes, args.footer_bytes, length)
                .map(|frames| Box::new(frames) as Box<dyn Frames>)
                .map_err(|error| framing_failure(error, 1));
        }
        Recfm::F | Recfm::Fb => RecordFormat::Fixed {
            lrecl: lrecl.unwrap_or(length),
        },
        Recfm::V => RecordFormat::Variable(rdw),
        Recfm::Vb => RecordFormat::VariableBlocked(rdw),
        Recfm::Text => RecordFormat::Text {
            lrecl: Some(lrecl.unwrap_or(length)),
            pad: args.encoding.space(),
        },
    };
    let framing = Framing {
        format,
        header: args.header_bytes,
        footer: args.footer_bytes,
    };
    let records = match len {
        Some(len) => Records::new(reader, len, framing),
        None => Records::stream(reader, framing),
    };
    records
        .map(|records| Box::new(records) as Box<dyn Frames>)
        .map_err(|error| framing_failure(error, 1))
}

/// A file's records, one at a time.
trait Frames {
    /// The next record and its byte offset in the file, or `None` at the
    /// end. Records written back to back come with every byte that may be
    /// theirs, up to the longest record.
    fn next(&mut self) -> Result<Option<(u64, &[u8])>, FramingError>;

    /// The record just given took `len` bytes.
    fn took(&mut self, len: usize) -> Result<(), FramingError>;
}

impl<R: BufRead> Frames for Records<R> {
    fn next(&mut self) -> Result<Option<(u64, &[u8])>, FramingError> {
        self.next_record()
    }

    fn took(&mut self, _len: usize) -> Result<(), FramingError> {
        Ok(())
    }
}

/// Records written back to back with nothing to say where each ends: F
/// records with variable-size OCCURS, each as long as its counts make it
/// (as Cobrix reads `variable_size_occurs` files). The decoder measures
/// each; this keeps a window of the longest record's bytes ahead.
struct BackToBack<R> {
    reader: R,
    /// Bytes read and not yet taken by a record, from `start`.
    window: Vec<u8>,
    start: usize,
    /// The file offset of `window[start]`.
    offset: u64,
    /// Where the records end (before the footer), when the length is known.
    end: Option<u64>,
    /// The longest record.
    longest: usize,
    /// The reader has no more bytes.
    exhausted: bool,
}

impl<R: BufRead> BackToBack<R> {
    fn new(
        mut reader: R,
        len: Option<u64>,
        header: u64,
        footer: u64,
        longest: usize,
    ) -> Result<BackToBack<R>, FramingError> {
        let end = match len {
            Some(len) => Some(len.checked_sub(footer).filter(|end| *end >= header).ok_or(
                FramingError::TooShort {
                    len,
                    header,
                    footer,
                },
            )?),
            None if footer > 0 => return Err(FramingError::FooterOfStream { footer }),
            None => None,
        };
        io::copy(&mut reader.by_ref().take(header), &mut io::sink())?;
        Ok(BackToBack {
            reader,
            window: Vec::with_capacity(2 * longest.max(BUFFER)),
            start: 0,
            offset: header,
            end,
            longest,
            exhausted: false,
        })
    }

    /// Bytes left before the footer, counting those in the window.
    fn left(&self) -> u64 {
        self.end
            .map_or(u64::MAX, |end| end.saturating_sub(self.offset))
    }
}

impl<R: BufRead> Frames for BackToBack<R> {
    fn next(&mut self) -> Result<Option<(u64, &[u8])>, FramingError> {
        if self.start > self.window.len() / 2 {
            self.window.drain(..self.start);
            self.start = 0;
        }
        while !self.exhausted && self.window.len() - self.start < self.longest {
            let wanted = (self.longest - (self.window.len() - self.start)) as u64;
            let room = self.left() - (self.window.len() - self.start) as u64;
            let read = self
                .reader
                .by_ref()
                .take(wanted.max(BUFFER as u64).min(room))
                .read_to_end(&mut self.window)?;
            self.exhausted = read == 0;
        }
        let available = (self.window.len() - self.start) as u64;
        let visible = available.min(self.left()) as usize;
        if visible == 0 {
            return Ok(None);
        }
        Ok(Some((
            self.offset,
            &self.window[self.start..self.start + visible],
        )))
    }

    fn took(&mut self, len: usize) -> Result<(), FramingError> {
        if len == 0 {
            return Err(FramingError::Descriptor {
                offset: self.offset,
                message: "the record's layout takes no bytes, so records cannot follow it"
                    .to_string(),
            });
        }
        self.start += len;
        self.offset += len as u64;
        Ok(())
    }
}

/// A framing error as the run's failure, at record `number`.
fn framing_failure(error: FramingError, number: u64) -> Failure {
    let code = match error {
        FramingError::Io(_) => ExitCode::IoErr,
        FramingError::FooterOfStream { .. } => ExitCode::Usage,
        _ => ExitCode::DataErr,
    };
    let message = match error.offset() {
        Some(_) => format!("record {number} {error}"),
        None => error.to_string(),
    };
    Failure::new(code, anyhow::anyhow!(message))
}

/// Where decoded records go: JSON Lines, or only counted.
enum Printer<'d, 'c> {
    /// The record's object, and the line it is written into.
    Json(JsonRecord<'d, 'c>, String),
    Count(Tally),
}

impl Printer<'_, '_> {
    fn clear(&mut self) {
        match self {
            Printer::Json(record, _) => record.clear(),
            Printer::Count(tally) => tally.problems.clear(),
        }
    }

    fn sink(&mut self) -> &mut dyn Sink {
        match self {
            Printer::Json(record, _) => record,
            Printer::Count(tally) => tally,
        }
    }

    fn problems(&self) -> &[FieldError] {
        match self {
            Printer::Json(record, _) => &record.problems,
            Printer::Count(tally) => &tally.problems,
        }
    }

    /// Writes the record decoded last.
    fn print(&mut self, out: &mut impl Write) -> io::Result<()> {
        let Printer::Json(record, line) = self else {
            return Ok(());
        };
        line.clear();
        record.write(line);
        line.push('\n');
        out.write_all(line.as_bytes())
    }
}

/// A sink that keeps no values, only the fields that could not be read.
#[derive(Debug)]
struct Tally {
    strict: bool,
    problems: Vec<FieldError>,
}

impl Tally {
    fn new(strict: bool) -> Tally {
        Tally {
            strict,
            problems: Vec::new(),
        }
    }
}

impl Sink for Tally {
    fn uncounted(&mut self, error: RecordError, problem: FieldError) -> Result<(), RecordError> {
        if self.strict {
            return Err(error);
        }
        self.problems.push(problem);
        Ok(())
    }

    fn value(
        &mut self,
        _item: &Item,
        _indices: &[u32],
        value: Result<Value, FieldError>,
    ) -> Result<(), RecordError> {
        match value {
            Ok(_) => Ok(()),
            Err(problem) if self.strict => Err(RecordError::Field(problem)),
            Err(problem) => {
                self.problems.push(problem);
                Ok(())
            }
        }
    }
}

/// The warnings about bad fields: the first `limit` described, the rest
/// counted.
#[derive(Debug)]
struct Warnings {
    limit: u64,
    fields: u64,
    records: u64,
}

impl Warnings {
    fn new(limit: u64) -> Warnings {
        Warnings {
            limit,
            fields: 0,
            records: 0,
        }
    }

    /// Warns of the bad fields of record `number` at byte `offset`.
    fn report(&mut self, number: u64, offset: u64, problems: &[FieldError]) {
        if problems.is_empty() {
            return;
        }
        self.records += 1;
        for problem in problems {
            self.fields += 1;
            if self.fields <= self.limit {
                // A bad field prints as null; a bad count, as an empty table
                // (its message says so).
                let shown = if problem.message.ends_with(EMPTY_TABLE) {
                    ""
                } else {
                    "; printed as null"
                };
                eprintln!("droplake: record {number} at byte {offset}: {problem}{shown}");
            }
        }
    }

    /// Sums up, and gives the exit code: 1 when a field was bad.
    fn finish(&self) -> ExitCode {
        if self.fields == 0 {
            return ExitCode::Ok;
        }
        let unshown = self.fields.saturating_sub(self.limit);
        let more = if unshown > 0 {
            format!(" ({unshown} not shown; see --max-warnings)")
        } else {
            String::new()
        };
        eprintln!(
            "droplake: {} {} in {} {} could not be read and {} null{more}",
            self.fields,
            plural(self.fields, "field", "fields"),
            self.records,
            plural(self.records, "record", "records"),
            plural(self.fields, "was printed as", "were printed as"),
        );
        ExitCode::Problems
    }
}

fn plural<'w>(count: u64, one: &'w str, many: &'w str) -> &'w str {
    if count == 1 { one } else { many }
}
