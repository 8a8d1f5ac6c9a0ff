//! Readers that turn the bytes of a lake object into records.
//!
//! A reader streams: it holds one record at a time, reuses its buffers, and
//! refuses a record longer than a configured limit instead of growing without
//! bound. It knows nothing of schemas; it yields the header labels (when the
//! format has them) and then [`Record`]s whose cells are either text, to be
//! cast by the schema (CSV, TSV, fixed-width text), or values that arrived
//! already typed (JSON).
//!
//! [`open`] (a file) and [`from_reader`] (any byte stream, such as standard
//! input) pick the [`Format`], stack the decoding layers of the `decode`
//! module (gzip, byte order marks, legacy encodings) and read the header, so that
//! a returned reader already knows its labels. Errors split by consequence:
//! an [`OpenError`] means the file cannot be read at all; a [`ReadError`]
//! from [`RecordReader::read`] is either one bad record (go on) or the end
//! of what can be read.

mod csv;
mod decode;
mod dialect;
mod fixed;
mod json;
mod record;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

pub use decode::{TextEncoding, UnknownEncoding};
pub use dialect::{Dialect, DialectError, RawDialect, Terminator};
pub use fixed::{CountIncludes, FixedLayout, FixedSpec, OnMismatch, Recfm, SpecError};
pub use record::{Cell, Position, ReadError, Record, RecordReader, TextCells, Undecodable};

use crate::exit::{ExitCode, HasExitCode};

/// The default limit on the size of one record: 16 MiB.
pub const DEFAULT_MAX_RECORD_BYTES: usize = 16 * 1024 * 1024;

/// The file formats droplake reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Comma-separated values (or any delimiter the dialect names).
    Csv,
    /// Tab-separated values: tab delimiter, no quoting unless the dialect
    /// asks for it.
    Tsv,
    /// JSON Lines: one object (or one array) per line.
    Jsonl,
    /// One JSON array whose elements are objects (or arrays), streamed.
    Json,
    /// Fixed-width mainframe records described by a copybook; only from
    /// the configuration, which gives the layout ([`ReadOptions::fixed`]).
    Fixed,
}

impl Format {
    /// The format a file name implies: `.csv`, `.tsv`/`.tab`,
    /// `.jsonl`/`.ndjson`, `.json`, each optionally followed by `.gz`;
    /// case-insensitive.
    pub fn from_path(path: &Path) -> Option<Format> {
        // Bytes, not text: a name need not be UTF-8 to end in `.csv`.
        let name = path.file_name()?.as_encoded_bytes().to_ascii_lowercase();
        let name = name.strip_suffix(b".gz").unwrap_or(&name);
        let dot = name.iter().rposition(|&byte| byte == b'.')?;
        std::str::from_utf8(&name[dot + 1..]).ok()?.parse().ok()
    }

    /// The name used in configuration and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Jsonl => "jsonl",
            Format::Json => "json",
            Format::Fixed => "fixed",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A format name droplake does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown format `{0}`; use csv, tsv, jsonl or json")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(name: &str) -> Result<Format, UnknownFormat> {
        match name.to_ascii_lowercase().as_str() {
            "csv" => Ok(Format::Csv),
            "tsv" | "tab" => Ok(Format::Tsv),
            "jsonl" | "ndjson" => Ok(Format::Jsonl),
            "json" => Ok(Format::Json),
            _ => Err(UnknownFormat(name.to_owned())),
        }
    }
}

/// How to read a file: everything that does not come from the file itself.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// The format; `None` means "from the file name".
    pub format: Option<Format>,
    /// The CSV/TSV dialect; for JSON only `header` matters (whether a first
    /// array row holds the labels).
    pub dialect: Dialect,
    /// The text encoding when the file has no byte order mark.
    pub encoding: TextEncoding,
    /// The layout of fixed-width files (with `format` [`Format::Fixed`]).
    pub fixed: Option<Arc<FixedLayout>>,
    /// The largest record (or single field) accepted, in bytes; a larger one
    /// is a `format-error` for that row and reading goes on after it.
    pub max_record_bytes: usize,
    /// The size of the read buffer.
    pub buffer_bytes: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            format: None,
            dialect: Dialect::default(),
            encoding: TextEncoding::UTF_8,
            fixed: None,
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            buffer_bytes: decode::BUFFER_SIZE,
        }
    }
}

/// A file that cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The file could not be opened.
    #[error("cannot open {}: {source}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// Neither the configuration nor the file name says what format it is.
    #[error(
        "cannot tell the format of {}: name it .csv, .tsv, .tab, .jsonl, .ndjson or .json (optionally + .gz), or configure the format",
        path.display()
    )]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// The file holds no data at all (not even a header).
    #[error("{} is empty: it holds no header and no rows", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The header (or, for JSON, the first row that gives the labels) could
    /// not be read, or reading failed before it.
    #[error("cannot read the header of {}: {source}", path.display())]
    Header {
        /// The file.
        path: PathBuf,
        /// What went wrong, and where.
        source: ReadError,
    },
}

impl HasExitCode for OpenError {
    fn exit_code(&self) -> ExitCode {
        match self {
            OpenError::Open { source, .. } if source.kind() == io::ErrorKind::NotFound => {
                ExitCode::NoInput
            }
            OpenError::Open { source, .. } if source.kind() == io::ErrorKind::PermissionDenied => {
                ExitCode::NoInput
            }
            OpenError::Open { .. } => ExitCode::IoErr,
            OpenError::UnknownFormat { .. } => ExitCode::Usage,
            OpenError::Empty { .. } | OpenError::Header { .. } => ExitCode::DataErr,
        }
    }
}

/// A reader of records that can move to another thread.
pub type BoxedReader = Box<dyn RecordReader + Send>;

/// Opens `path` for reading records: the format from `options` or else the
/// file name, then gzip, encoding and header as described in the module doc.
pub fn open(path: &Path, options: &ReadOptions) -> Result<BoxedReader, OpenError> {
    open_through(path, options, |file| Box::new(file))
}

/// [`open`], with the file's bytes passed through `wrap` first (the daemon
/// hashes what the loader reads).
pub fn open_through(
    path: &Path,
    options: &ReadOptions,
    wrap: impl FnOnce(std::fs::File) -> Box<dyn io::Read + Send>,
) -> Result<BoxedReader, OpenError> {
    let format = options
        .format
        .or_else(|| Format::from_path(path))
        .ok_or_else(|| OpenError::UnknownFormat {
            path: path.to_owned(),
        })?;
    let file = std::fs::File::open(path).map_err(|source| OpenError::Open {
        path: path.to_owned(),
        source,
    })?;
    if format == Format::Fixed {
        let layout = options
            .fixed
            .clone()
            .ok_or_else(|| OpenError::UnknownFormat {
                path: path.to_owned(),
            })?;
        let len = file
            .metadata()
            .map_err(|source| OpenError::Open {
                path: path.to_owned(),
                source,
            })?
            .len();
        if len == 0 {
            return Err(OpenError::Empty {
                path: path.to_owned(),
            });
        }
        return Ok(Box::new(fixed::FixedReader::new(
            wrap(file),
            len,
            path,
            layout,
        )));
    }
    from_reader(wrap(file), path, format, options)
}

/// Reads records from any byte stream, such as standard input; `name` is
/// what errors call it (for example `-` or `<stdin>`).
pub fn from_reader(
    input: Box<dyn io::Read + Send>,
    name: &Path,
    format: Format,
    options: &ReadOptions,
) -> Result<BoxedReader, OpenError> {
    let source = decode::decoded(input, options.encoding).map_err(|error| OpenError::Header {
        path: name.to_owned(),
        source: ReadError::Fatal {
            position: Position::default(),
            message: format!("cannot read the input: {error}"),
        },
    })?;
    let opened = match format {
        Format::Fixed => Err(HeaderError::Read(ReadError::Fatal {
            position: Position::default(),
            message: "a fixed-width file must be read from a file, whose size frames its records, not from a stream".into(),
        })),
        Format::Csv | Format::Tsv => csv::CsvReader::new(source, format, options)
            .map(|reader| Box::new(reader) as BoxedReader),
        Format::Jsonl | Format::Json => json::JsonReader::new(source, format, options)
            .map(|reader| Box::new(reader) as BoxedReader),
    };
    opened.map_err(|error| match error {
        HeaderError::Empty => OpenError::Empty {
            path: name.to_owned(),
        },
        HeaderError::Read(source) => OpenError::Header {
            path: name.to_owned(),
            source,
        },
    })
}

/// Why a reader could not be built: what [`OpenError`] says, minus the path.
#[derive(Debug)]
pub(crate) enum HeaderError {
    /// No data at all.
    Empty,
    /// The header or first row was unreadable.
    Read(ReadError),
}

impl From<ReadError> for HeaderError {
    fn from(error: ReadError) -> Self {
        HeaderError::Read(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_follows_the_extension_with_or_without_gzip() {
        let cases = [
            ("a.csv", Some(Format::Csv)),
            ("dir.v2/a.CSV.gz", Some(Format::Csv)),
            ("a.tsv", Some(Format::Tsv)),
            ("a.tab.gz", Some(Format::Tsv)),
            ("a.jsonl", Some(Format::Jsonl)),
            ("a.ndjson.gz", Some(Format::Jsonl)),
            ("a.json", Some(Format::Json)),
            ("a.gz", None),
            ("a.txt", None),
            ("csv", None),
        ];
        for (name, format) in cases {
            assert_eq!(Format::from_path(Path::new(name)), format, "{name}");
        }
        // Regression: a name that is not UTF-8 had no format at all.
        use std::os::unix::ffi::OsStrExt;
        let latin1 = Path::new(std::ffi::OsStr::from_bytes(b"\xe9t\xe9.csv"));
        assert_eq!(Format::from_path(latin1), Some(Format::Csv));
    }

    #[test]
    fn an_unknown_format_names_the_file() {
        let error = match open(Path::new("/nowhere/orders.xlsx"), &ReadOptions::default()) {
            Err(error) => error,
            Ok(_) => panic!("an xlsx file cannot be read"),
        };
        assert!(
            error.to_string().contains("/nowhere/orders.xlsx"),
            "{error}"
        );
        assert_eq!(error.exit_code(), ExitCode::Usage);
    }

    #[test]
    fn a_missing_file_is_no_input() {
        let error = match open(Path::new("/nowhere/orders.csv"), &ReadOptions::default()) {
            Err(error) => error,
            Ok(_) => panic!("the file does not exist"),
        };
        assert_eq!(error.exit_code(), ExitCode::NoInput);
    }

    #[test]
    fn open_reads_a_gzipped_file_named_by_its_extension() {
        use std::io::Write;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("orders.csv.gz");
        let mut encoder = flate2::write::GzEncoder::new(
            std::fs::File::create(&path).expect("create"),
            flate2::Compression::fast(),
        );
        encoder.write_all(b"id\n1\n").expect("write");
        encoder.finish().expect("finish");
        let mut reader = open(&path, &ReadOptions::default()).expect("opens");
        assert_eq!(reader.labels(), Some(&["id".to_owned()][..]));
        let mut record = Record::new();
        assert!(reader.read(&mut record).expect("reads"));
        assert_eq!(record.get(0), Some(Cell::Text("1")));
        assert!(!reader.read(&mut record).expect("ends"));
    }

    #[test]
    fn a_dialect_file_is_read_and_named_in_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("dialect.json");
        std::fs::write(&path, r#"{"delimiter": ";"}"#).expect("write");
        assert_eq!(
            Dialect::from_file(&path).expect("valid").delimiter,
            Some(b';')
        );
        std::fs::write(&path, r#"{"delimiter": 1}"#).expect("write");
        let error = Dialect::from_file(&path).expect_err("a number");
        assert!(error.to_string().contains("dialect.json"), "{error}");
    }

    #[test]
    fn an_empty_file_is_a_data_error() {
        let error = match from_reader(
            Box::new(io::empty()),
            Path::new("<stdin>"),
            Format::Csv,
            &ReadOptions::default(),
        ) {
            Err(error) => error,
            Ok(_) => panic!("nothing to read"),
        };
        assert_eq!(error.exit_code(), ExitCode::DataErr);
        assert!(error.to_string().contains("<stdin> is empty"), "{error}");
    }

    #[test]
    fn format_names_parse_case_insensitively() {
        assert_eq!("CSV".parse::<Format>(), Ok(Format::Csv));
        assert_eq!("ndjson".parse::<Format>(), Ok(Format::Jsonl));
        assert!("xml".parse::<Format>().is_err());
    }
}

/// Helpers for the readers' tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// What a reader yielded for one record.
    pub(crate) type Outcome = Result<(Position, serde_json::Value), ReadError>;

    /// Reads `bytes` to the end (or to a fatal error), collecting every
    /// record as its position and JSON cells.
    pub(crate) fn read_all(
        bytes: &[u8],
        format: Format,
        options: &ReadOptions,
    ) -> Result<(Option<Vec<String>>, Vec<Outcome>), OpenError> {
        let mut reader = from_reader(
            Box::new(io::Cursor::new(bytes.to_vec())),
            Path::new("test"),
            format,
            options,
        )?;
        let labels = reader.labels().map(<[String]>::to_vec);
        let mut outcomes = Vec::new();
        let mut record = Record::new();
        loop {
            match reader.read(&mut record) {
                Ok(true) => outcomes.push(Ok((record.position, record.to_json()))),
                Ok(false) => break,
                Err(error @ (ReadError::Fatal { .. } | ReadError::Refused { .. })) => {
                    outcomes.push(Err(error));
                    break;
                }
                Err(error) => outcomes.push(Err(error)),
            }
            assert!(outcomes.len() < 1_000_000, "the reader does not end");
        }
        Ok((labels, outcomes))
    }

    /// The cells of every record, panicking on any error.
    pub(crate) fn cells(
        bytes: &[u8],
        format: Format,
        options: &ReadOptions,
    ) -> Vec<serde_json::Value> {
        let (_, outcomes) = read_all(bytes, format, options).expect("opens");
        outcomes
            .into_iter()
            .map(|outcome| outcome.expect("reads").1)
            .collect()
    }

    /// Options with a dialect given as JSON.
    pub(crate) fn with_dialect(json: &str) -> ReadOptions {
        ReadOptions {
            dialect: Dialect::from_json(json, "test").expect("a valid dialect"),
            ..ReadOptions::default()
        }
    }
}

/// Properties every reader keeps, whatever the input.
#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::testing::read_all;
    use super::*;

    fn write_csv(
        rows: &[Vec<String>],
        delimiter: u8,
        quote: u8,
        double_quote: bool,
        crlf: bool,
    ) -> Vec<u8> {
        let mut writer = ::csv::WriterBuilder::new()
            .flexible(true)
            .delimiter(delimiter)
            .quote(quote)
            .double_quote(double_quote)
            .escape(b'\\')
            .terminator(if crlf {
                ::csv::Terminator::CRLF
            } else {
                ::csv::Terminator::Any(b'\n')
            })
            .from_writer(Vec::new());
        for row in rows {
            writer.write_record(row).expect("writing to a Vec");
        }
        writer.into_inner().expect("writing to a Vec")
    }

    /// A JSON scalar: what a cell of a row usually holds.
    fn json_leaf() -> impl Strategy<Value = serde_json::Value> {
        prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<String>().prop_map(serde_json::Value::from),
            prop::collection::vec(any::<String>(), 0..3).prop_map(serde_json::Value::from),
        ]
    }

    proptest! {
        #[test]
        fn any_table_written_by_the_csv_crate_reads_back_cell_for_cell(
            rows in prop::collection::vec(prop::collection::vec(any::<String>(), 1..5), 1..8),
            delimiter in prop::sample::select(vec![b',', b';', b'\t', b'|']),
            quote in prop::sample::select(vec![b'"', b'\'']),
            double_quote in any::<bool>(),
            crlf in any::<bool>(),
            buffer_bytes in prop::sample::select(vec![1usize, 3, 7, 64, 256 * 1024]),
        ) {
            // The csv crate's writer escapes quotes but not the escape
            // character itself, so without doubled quotes a backslash cannot
            // round-trip through any reader: leave backslashes out then.
            let rows: Vec<Vec<String>> = if double_quote {
                rows
            } else {
                rows.into_iter()
                    .map(|row| row.into_iter().map(|cell| cell.replace('\\', "")).collect())
                    .collect()
            };
            let bytes = write_csv(&rows, delimiter, quote, double_quote, crlf);
            let mut dialect = Dialect {
                header: false,
                delimiter: Some(delimiter),
                quote_char: Some(Some(quote)),
                double_quote,
                ..Dialect::default()
            };
            if !double_quote {
                dialect.escape_char = Some(b'\\');
            }
            let options = ReadOptions { dialect, buffer_bytes, ..ReadOptions::default() };
            let (_, outcomes) = read_all(&bytes, Format::Csv, &options).expect("opens");
            let read: Vec<Vec<String>> = outcomes
                .into_iter()
                .map(|outcome| {
                    let (_, cells) = outcome.expect("reads");
                    serde_json::from_value(cells).expect("text cells")
                })
                .collect();
            prop_assert_eq!(read, rows);
        }

        #[test]
        fn any_rows_written_by_serde_json_read_back_value_for_value(
            rows in prop::collection::vec(prop::collection::vec(json_leaf(), 0..5), 0..8),
            buffer_bytes in prop::sample::select(vec![1usize, 5, 64, 256 * 1024]),
            pretty in any::<bool>(),
        ) {
            let options = ReadOptions {
                dialect: Dialect { header: false, ..Dialect::default() },
                buffer_bytes,
                ..ReadOptions::default()
            };
            let expected: Vec<serde_json::Value> =
                rows.iter().map(|row| serde_json::Value::from(row.clone())).collect();
            let mut lines = Vec::new();
            for row in &expected {
                serde_json::to_writer(&mut lines, row).expect("writing to a Vec");
                lines.push(b'\n');
            }
            let array = if pretty {
                serde_json::to_vec_pretty(&expected)
            } else {
                serde_json::to_vec(&expected)
            }
            .expect("writing to a Vec");
            for (bytes, format) in [(lines, Format::Jsonl), (array, Format::Json)] {
                match read_all(&bytes, format, &options) {
                    Ok((_, outcomes)) => {
                        let read: Vec<serde_json::Value> =
                            outcomes.into_iter().map(|o| o.expect("reads").1).collect();
                        prop_assert_eq!(&read, &expected);
                    }
                    // Only a file without a single row is refused.
                    Err(OpenError::Empty { .. }) => prop_assert!(expected.is_empty()),
                    Err(error) => prop_assert!(false, "{error}"),
                }
            }
        }

        #[test]
        fn random_bytes_never_panic_a_reader(
            bytes in prop::collection::vec(any::<u8>(), 0..512),
            format in prop::sample::select(vec![Format::Csv, Format::Tsv, Format::Jsonl, Format::Json]),
            buffer_bytes in 1usize..32,
            max_record_bytes in 1usize..64,
            skip_initial_space in any::<bool>(),
        ) {
            let dialect = Dialect {
                comment_char: Some(b'#'),
                escape_char: Some(b'\\'),
                null_sequence: Some("\\N".into()),
                skip_initial_space,
                ..Dialect::default()
            };
            let options = ReadOptions { dialect, buffer_bytes, max_record_bytes, ..ReadOptions::default() };
            let _ = read_all(&bytes, format, &options);
        }

        #[test]
        fn csv_reads_the_same_whatever_the_buffer_size(
            bytes in prop::collection::vec(
                prop::sample::select(b"ab,\"\n\r\\# ".to_vec()), 0..200),
            buffer_bytes in 1usize..16,
        ) {
            let dialect = Dialect {
                comment_char: Some(b'#'),
                escape_char: Some(b'\\'),
                skip_initial_space: true,
                null_sequence: Some("a".into()),
                ..Dialect::default()
            };
            let large = ReadOptions { dialect, ..ReadOptions::default() };
            let small = ReadOptions { buffer_bytes, ..large.clone() };
            let expected = read_all(&bytes, Format::Csv, &large).map_err(|e| e.to_string());
            let got = read_all(&bytes, Format::Csv, &small).map_err(|e| e.to_string());
            prop_assert_eq!(got, expected);
        }

        #[test]
        fn json_reads_the_same_whatever_the_buffer_size(
            bytes in prop::collection::vec(
                prop::sample::select(b"[]{}\"a:1, \n\\".to_vec()), 0..200),
            buffer_bytes in 1usize..16,
            lines in any::<bool>(),
        ) {
            let format = if lines { Format::Jsonl } else { Format::Json };
            let large = ReadOptions::default();
            let small = ReadOptions { buffer_bytes, ..ReadOptions::default() };
            let expected = read_all(&bytes, format, &large).map_err(|e| e.to_string());
            let got = read_all(&bytes, format, &small).map_err(|e| e.to_string());
            prop_assert_eq!(got, expected);
        }
    }
}
