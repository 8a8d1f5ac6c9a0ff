//! The CSV and TSV reader: a hand-written byte state machine over one large
//! read buffer.
//!
//! Why not the `csv` crate: its reader grows a record without bound, and a
//! 100 MB field must be refused without buffering 100 MB; and it has no
//! `skipInitialSpace` or null sequence. This reader copies each record's
//! cells into one bounded buffer, validates UTF-8 once per record, and swaps
//! the buffer into the [`Record`]; nothing is allocated per record once the
//! buffers have grown. Unquoted cells are scanned with a byte-class table,
//! so the common case is a tight loop plus one `memcpy` per cell.
//!
//! Conventions, following Python's `csv` module (which frictionless-py reads
//! CSV with) where the Table Dialect is silent:
//!
//! - Row numbers count every physical record, including header rows,
//!   comments and blank lines, as frictionless-py's enumeration does; so
//!   with a header the first data row is row 2.
//! - A blank line is a record with no cells (Python's `csv` yields `[]`),
//!   which the validator reports as `blank-row`; a line of delimiters such as
//!   `,,,` is a record of empty cells. The newline ending the last record
//!   does not start another.
//! - `\n`, `\r\n` and lone `\r` all end records, mixed freely. A quoted cell
//!   may span lines; its record's line is where it starts.
//! - Text after a closing quote is kept (`"ab"c` is `abc`); a quote inside an
//!   unquoted cell is literal.
//! - The escape character makes the next byte literal, inside or outside
//!   quotes.
//! - A comment is a record whose first byte is `commentChar`; the physical
//!   line is skipped.
//! - `nullSequence` applies to unquoted cells only: `"\N"` quoted is text,
//!   as in PostgreSQL's `COPY`. A null cell reads as
//!   `Cell::Json(&Value::Null)`.
//! - An unterminated quote at the end of the input is fatal (everything from
//!   the quote on would be one cell); a record over the size limit is skipped
//!   with a `format-error`; invalid UTF-8 is an `encoding-error` for its
//!   record.

use std::collections::BTreeSet;
use std::io;

use super::decode::{Input, Source};
use super::dialect::Terminator;
use super::{Format, HeaderError, Position, ReadError, ReadOptions, Record, RecordReader};

/// How a cell ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CellEnd {
    Delimiter,
    Record,
    Eof,
}

/// What [`CsvReader::next_raw`] found.
#[derive(Debug, Clone, Copy)]
struct Raw {
    position: Position,
    /// The record was over the limit; its cells were dropped.
    overflow: bool,
    /// The record was a comment line.
    comment: bool,
}

/// A streaming CSV/TSV reader.
pub(crate) struct CsvReader {
    input: Input,
    delimiter: u8,
    quote: Option<u8>,
    double_quote: bool,
    comment: Option<u8>,
    terminator: Terminator,
    skip_initial_space: bool,
    null_sequence: Option<Box<[u8]>>,
    comment_rows: BTreeSet<u64>,
    /// The most bytes one record may take: its cells' text plus one per cell.
    max_record_bytes: usize,
    /// Bytes that end the fast scan of an unquoted cell.
    unquoted_stop: [bool; 256],
    /// Bytes that end the fast scan of a quoted cell.
    quoted_stop: [bool; 256],
    labels: Option<Vec<String>>,
    /// The row number of the last record parsed (0 before the first).
    row: u64,
    /// The line (1-based) of the next unread byte.
    line: u64,
    /// The cells of the record being parsed, back to back; swapped with the
    /// record's own buffer when the record is handed out.
    bytes: Vec<u8>,
    /// Where each cell ends in `bytes`.
    ends: Vec<usize>,
    /// Which cells are null.
    nulls: Vec<usize>,
    /// Set after the end of input or a fatal error.
    done: bool,
}

impl std::fmt::Debug for CsvReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvReader")
            .field("input", &self.input)
            .field("row", &self.row)
            .field("line", &self.line)
            .finish_non_exhaustive()
    }
}

fn fatal_io(position: Position, error: io::Error) -> ReadError {
    ReadError::Fatal {
        position,
        message: format!("cannot read further: {error}"),
    }
}

/// Appends `data` to the record unless that takes it over the limit, in
/// which case the record is marked overflowing and its bytes dropped.
#[inline]
fn push(bytes: &mut Vec<u8>, cells: usize, max: usize, overflow: &mut bool, data: &[u8]) {
    if *overflow {
        return;
    }
    if bytes.len() + data.len() + cells > max {
        *overflow = true;
        bytes.clear();
        return;
    }
    bytes.extend_from_slice(data);
}

impl CsvReader {
    /// Builds a reader and reads the header rows, if the dialect has them.
    pub(crate) fn new(
        source: Source,
        format: Format,
        options: &ReadOptions,
    ) -> Result<CsvReader, HeaderError> {
        let dialect = &options.dialect;
        let delimiter = dialect.delimiter_for(format);
        let quote = dialect.quote_for(format);
        let escape = dialect.escape_char.filter(|&escape| Some(escape) != quote);
        let mut unquoted_stop = [false; 256];
        let mut quoted_stop = [false; 256];
        unquoted_stop[usize::from(delimiter)] = true;
        match dialect.terminator {
            Terminator::AnyNewline => {
                unquoted_stop[usize::from(b'\n')] = true;
                unquoted_stop[usize::from(b'\r')] = true;
            }
            Terminator::Byte(byte) => unquoted_stop[usize::from(byte)] = true,
        }
        quoted_stop[usize::from(b'\n')] = true;
        if let Some(quote) = quote {
            quoted_stop[usize::from(quote)] = true;
        }
        if let Some(escape) = escape {
            unquoted_stop[usize::from(escape)] = true;
            quoted_stop[usize::from(escape)] = true;
        }
        let mut reader = CsvReader {
            input: Input::new(source, options.buffer_bytes),
            delimiter,
            quote,
            double_quote: dialect.double_quote,
            comment: dialect.comment_char,
            terminator: dialect.terminator,
            skip_initial_space: dialect.skip_initial_space,
            null_sequence: dialect
                .null_sequence
                .as_ref()
                .map(|text| text.as_bytes().into()),
            comment_rows: dialect.comment_rows.clone(),
            max_record_bytes: options.max_record_bytes,
            unquoted_stop,
            quoted_stop,
            labels: None,
            row: 0,
            line: 1,
            bytes: Vec::new(),
            ends: Vec::new(),
            nulls: Vec::new(),
            done: false,
        };
        let position = Position::default();
        if reader
            .input
            .peek_byte()
            .map_err(|error| fatal_io(position, error))?
            .is_none()
        {
            return Err(HeaderError::Empty);
        }
        if dialect.header {
            reader.labels = Some(reader.read_header(&dialect.header_rows, &dialect.header_join)?);
        }
        Ok(reader)
    }

    /// Reads the header rows and joins them into labels, as frictionless-py
    /// does: a cell equal to the one above it (a merged cell) is not repeated.
    fn read_header(&mut self, rows: &[u64], join: &str) -> Result<Vec<String>, ReadError> {
        let last = rows.last().copied().unwrap_or(1);
        let mut labels: Vec<String> = Vec::new();
        let mut previous: Vec<Option<String>> = Vec::new();
        while self.row < last {
            let Some(raw) = self.next_raw()? else {
                break;
            };
            if raw.comment || self.comment_rows.contains(&raw.position.row) {
                continue;
            }
            if !rows.contains(&raw.position.row) {
                continue;
            }
            if raw.overflow {
                return Err(self.overflow_error(raw.position));
            }
            let mut start = 0;
            for (index, &end) in self.ends.iter().enumerate() {
                let cell = std::str::from_utf8(&self.bytes[start..end]).map_err(|error| {
                    ReadError::Record {
                        position: raw.position,
                        kind: "encoding-error",
                        message: format!(
                            "invalid UTF-8 in label {} at byte {} of the label",
                            index + 1,
                            error.valid_up_to()
                        ),
                    }
                })?;
                start = end;
                if previous.len() <= index {
                    previous.resize(index + 1, None);
                }
                if previous[index].as_deref() == Some(cell) {
                    continue;
                }
                previous[index] = Some(cell.to_owned());
                match labels.get_mut(index) {
                    Some(label) => {
                        label.push_str(join);
                        label.push_str(cell);
                    }
                    None => labels.push(cell.to_owned()),
                }
            }
        }
        Ok(labels)
    }

    fn overflow_error(&self, position: Position) -> ReadError {
        ReadError::Record {
            position,
            kind: "format-error",
            message: format!(
                "the record is longer than the limit of {} bytes (max_record_bytes); it was skipped",
                self.max_record_bytes
            ),
        }
    }

    fn position(&self) -> Position {
        Position {
            row: self.row,
            line: self.line,
            byte: self.input.offset(),
        }
    }

    /// Parses the next physical record into `bytes`/`ends`/`nulls`.
    fn next_raw(&mut self) -> Result<Option<Raw>, ReadError> {
        self.bytes.clear();
        self.ends.clear();
        self.nulls.clear();
        let here = self.position();
        let Some(first) = self
            .input
            .peek_byte()
            .map_err(|error| fatal_io(here, error))?
        else {
            return Ok(None);
        };
        self.row += 1;
        let position = Position {
            row: self.row,
            ..here
        };
        let mut raw = Raw {
            position,
            overflow: false,
            comment: false,
        };
        if Some(first) == self.comment {
            raw.comment = true;
            self.skip_line(position)?;
            return Ok(Some(raw));
        }
        if self.ends_record(first) {
            self.input.pos += 1;
            self.end_line(first, position)?;
            return Ok(Some(raw));
        }
        loop {
            let cell_start = self.bytes.len();
            let (end, quoted) = self.parse_cell(&mut raw.overflow, position)?;
            if !raw.overflow {
                if self.bytes.len() + self.ends.len() + 1 > self.max_record_bytes {
                    raw.overflow = true;
                    self.bytes.clear();
                    self.ends.clear();
                    self.nulls.clear();
                } else {
                    let null = !quoted
                        && self
                            .null_sequence
                            .as_deref()
                            .is_some_and(|null| self.bytes[cell_start..] == *null);
                    if null {
                        self.bytes.truncate(cell_start);
                        self.nulls.push(self.ends.len());
                    }
                    self.ends.push(self.bytes.len());
                }
            }
            if end != CellEnd::Delimiter {
                return Ok(Some(raw));
            }
        }
    }

    fn ends_record(&self, byte: u8) -> bool {
        match self.terminator {
            Terminator::AnyNewline => byte == b'\n' || byte == b'\r',
            Terminator::Byte(terminator) => byte == terminator,
        }
    }

    /// Counts the line that `byte` (just consumed, a record terminator)
    /// ended, swallowing the `\n` of a `\r\n`.
    fn end_line(&mut self, byte: u8, position: Position) -> Result<(), ReadError> {
        self.line += 1;
        if byte == b'\r' && self.terminator == Terminator::AnyNewline {
            let next = self
                .input
                .peek_byte()
                .map_err(|error| fatal_io(position, error))?;
            if next == Some(b'\n') {
                self.input.pos += 1;
            }
        }
        Ok(())
    }

    /// Skips the rest of a comment line, terminator included.
    fn skip_line(&mut self, position: Position) -> Result<(), ReadError> {
        loop {
            if !self
                .input
                .fill()
                .map_err(|error| fatal_io(position, error))?
            {
                return Ok(());
            }
            let available = self.input.available();
            let found = available.iter().position(|&byte| self.ends_record(byte));
            match found {
                Some(index) => {
                    let byte = available[index];
                    self.input.pos += index + 1;
                    return self.end_line(byte, position);
                }
                None => self.input.pos = self.input.end,
            }
        }
    }

    /// Parses one cell into `bytes`, leaving the input after the delimiter
    /// or terminator that ended it. Returns how it ended and whether it was
    /// quoted.
    fn parse_cell(
        &mut self,
        overflow: &mut bool,
        position: Position,
    ) -> Result<(CellEnd, bool), ReadError> {
        let io_error = |error| fatal_io(position, error);
        if self.skip_initial_space {
            while self.input.peek_byte().map_err(io_error)? == Some(b' ') {
                self.input.pos += 1;
            }
        }
        let mut quoted = false;
        if let Some(quote) = self.quote
            && self.input.peek_byte().map_err(io_error)? == Some(quote)
        {
            self.input.pos += 1;
            quoted = true;
            self.parse_quoted(quote, overflow, position)?;
        }
        let cells = self.ends.len();
        loop {
            if !self.input.fill().map_err(io_error)? {
                return Ok((CellEnd::Eof, quoted));
            }
            let available = self.input.available();
            let stop = available
                .iter()
                .position(|&byte| self.unquoted_stop[usize::from(byte)]);
            let Some(index) = stop else {
                push(
                    &mut self.bytes,
                    cells,
                    self.max_record_bytes,
                    overflow,
                    available,
                );
                self.input.pos = self.input.end;
                continue;
            };
            let byte = available[index];
            push(
                &mut self.bytes,
                cells,
                self.max_record_bytes,
                overflow,
                &available[..index],
            );
            self.input.pos += index + 1;
            if byte == self.delimiter {
                return Ok((CellEnd::Delimiter, quoted));
            }
            if self.ends_record(byte) {
                self.end_line(byte, position)?;
                return Ok((CellEnd::Record, quoted));
            }
            // The escape character: the next byte is literal.
            match self.input.peek_byte().map_err(io_error)? {
                Some(next) => {
                    self.input.pos += 1;
                    if next == b'\n' {
                        self.line += 1;
                    }
                    push(
                        &mut self.bytes,
                        cells,
                        self.max_record_bytes,
                        overflow,
                        &[next],
                    );
                }
                None => return Ok((CellEnd::Eof, quoted)),
            }
        }
    }

    /// Parses the inside of a quoted cell, the opening quote consumed, up to
    /// and including the closing quote.
    fn parse_quoted(
        &mut self,
        quote: u8,
        overflow: &mut bool,
        position: Position,
    ) -> Result<(), ReadError> {
        let io_error = |error| fatal_io(position, error);
        let opened = (self.line, self.input.offset().saturating_sub(1));
        let unterminated = || ReadError::Fatal {
            position,
            message: format!(
                "unterminated quote: the quoted cell opened at line {} (byte {}) runs to the end of the input",
                opened.0, opened.1
            ),
        };
        let cells = self.ends.len();
        loop {
            if !self.input.fill().map_err(io_error)? {
                return Err(unterminated());
            }
            let available = self.input.available();
            let stop = available
                .iter()
                .position(|&byte| self.quoted_stop[usize::from(byte)]);
            let Some(index) = stop else {
                push(
                    &mut self.bytes,
                    cells,
                    self.max_record_bytes,
                    overflow,
                    available,
                );
                self.input.pos = self.input.end;
                continue;
            };
            let byte = available[index];
            push(
                &mut self.bytes,
                cells,
                self.max_record_bytes,
                overflow,
                &available[..index],
            );
            self.input.pos += index + 1;
            if byte == quote {
                if self.double_quote && self.input.peek_byte().map_err(io_error)? == Some(quote) {
                    self.input.pos += 1;
                    push(
                        &mut self.bytes,
                        cells,
                        self.max_record_bytes,
                        overflow,
                        &[quote],
                    );
                    continue;
                }
                return Ok(());
            }
            if byte == b'\n' {
                self.line += 1;
                push(
                    &mut self.bytes,
                    cells,
                    self.max_record_bytes,
                    overflow,
                    b"\n",
                );
                continue;
            }
            // The escape character: the next byte is literal.
            match self.input.peek_byte().map_err(io_error)? {
                Some(next) => {
                    self.input.pos += 1;
                    if next == b'\n' {
                        self.line += 1;
                    }
                    push(
                        &mut self.bytes,
                        cells,
                        self.max_record_bytes,
                        overflow,
                        &[next],
                    );
                }
                None => return Err(unterminated()),
            }
        }
    }
}

impl RecordReader for CsvReader {
    fn labels(&self) -> Option<&[String]> {
        self.labels.as_deref()
    }

    fn read(&mut self, record: &mut Record) -> Result<bool, ReadError> {
        if self.done {
            return Ok(false);
        }
        loop {
            let raw = match self.next_raw() {
                Ok(Some(raw)) => raw,
                Ok(None) => {
                    self.done = true;
                    return Ok(false);
                }
                Err(error) => {
                    self.done = true;
                    return Err(error);
                }
            };
            if raw.comment
                || (!self.comment_rows.is_empty() && self.comment_rows.contains(&raw.position.row))
            {
                continue;
            }
            record.position = raw.position;
            let cells = record.text_mut();
            if raw.overflow {
                return Err(self.overflow_error(raw.position));
            }
            return match cells.fill_from_utf8(&mut self.bytes, &mut self.ends, &mut self.nulls) {
                Ok(()) => Ok(true),
                Err((cell, offset)) => Err(ReadError::Record {
                    position: raw.position,
                    kind: "encoding-error",
                    message: format!(
                        "invalid UTF-8 in cell {} at byte {offset} of the cell",
                        cell + 1
                    ),
                }),
            };
        }
    }
}
