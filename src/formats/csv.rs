//! The CSV and TSV reader: a hand-written byte state machine over one large
//! read buffer.
//!
//! Why not the `csv` crate: its reader grows a record without bound, and a
//! 100 MB field must be refused without buffering 100 MB; and it has no
//! `skipInitialSpace` or null sequence. This reader copies each record's
//! cells into one bounded buffer, validates UTF-8 once per record, and swaps
//! the buffer into the [`Record`]; nothing is allocated per record once the
//! buffers have grown. Runs of unquoted cells are split with 64-byte SIMD
//! masks (see [`CsvReader::plain_cells`]); other cells are scanned with a
//! byte-class table, a tight loop plus one `memcpy` per cell.
//!
//! Conventions, following Python's `csv` module (which frictionless-py reads
//! CSV with) where the Table Dialect is silent:
//!
//! - Row numbers count every physical record, including header rows,
//!   comments and blank lines, as frictionless-py's enumeration does; so
//!   with a header the first data row is row 2.
//! - A blank line is a record with no cells (Python's `csv` yields `[]`, and
//!   frictionless-py keeps it unless its non-standard `skipBlankRows` is
//!   set), which the validator reports as `blank-row`; a line of delimiters
//!   such as `,,,` is a record of empty cells. The newline ending the last
//!   record does not start another.
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
    unquoted_stop: Stops,
    /// Bytes that end the fast scan of a quoted cell.
    quoted_stop: Stops,
    /// The bytes that take a record off [`CsvReader::plain_cells`]'s fast
    /// path (terminators, the quote, the escape), when that path applies.
    plain_stop: Option<Special>,
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

/// A set of bytes to stop at, and a fast way to find the first of them.
#[derive(Clone, Copy)]
struct Stops {
    /// Whether each byte is in the set.
    table: [bool; 256],
    /// With at most three bytes in the set: each broadcast to the eight
    /// lanes of a word, for scanning eight bytes at a time.
    words: Option<[u64; 3]>,
}

impl Stops {
    fn new(table: [bool; 256]) -> Stops {
        let bytes: Vec<u8> = (0..=255u8)
            .filter(|&byte| table[usize::from(byte)])
            .collect();
        let words = match bytes[..] {
            [a] => Some([a, a, a]),
            [a, b] => Some([a, b, b]),
            [a, b, c] => Some([a, b, c]),
            _ => None,
        }
        .map(|needles| needles.map(|byte| u64::from(byte) * LANES_LOW));
        Stops { table, words }
    }

    /// The index of the first byte of `hay` in the set.
    #[inline]
    fn find(&self, hay: &[u8]) -> Option<usize> {
        let Some(words) = self.words else {
            return hay.iter().position(|&byte| self.table[usize::from(byte)]);
        };
        let (chunks, rest) = hay.as_chunks::<8>();
        for (index, chunk) in chunks.iter().enumerate() {
            let word = u64::from_le_bytes(*chunk);
            let mut found = 0;
            for needle in words {
                // The classic "has a zero byte" test: exact for the lowest
                // matching lane, which is the only one used.
                let x = word ^ needle;
                found |= x.wrapping_sub(LANES_LOW) & !x & LANES_HIGH;
            }
            if found != 0 {
                return Some(index * 8 + (found.trailing_zeros() / 8) as usize);
            }
        }
        rest.iter()
            .position(|&byte| self.table[usize::from(byte)])
            .map(|index| chunks.len() * 8 + index)
    }
}

/// The bytes that end a run of plain cells (terminators, quote, escape: at
/// most four, repeated to fill the array), for [`CsvReader::plain_cells`].
#[derive(Clone, Copy)]
struct Special([u8; 4]);

impl Special {
    fn new(table: [bool; 256]) -> Option<Special> {
        let bytes: Vec<u8> = (0..=255u8)
            .filter(|&byte| table[usize::from(byte)])
            .collect();
        match bytes[..] {
            [a] => Some([a, a, a, a]),
            [a, b] => Some([a, b, b, b]),
            [a, b, c] => Some([a, b, c, c]),
            [a, b, c, d] => Some([a, b, c, d]),
            _ => None,
        }
        .map(Special)
    }
}

/// Bit `i` is set when byte `i` of `block` is one of `needles`. Written so
/// that LLVM compiles it to SIMD compares (0/1 bytes), then gathers each
/// eight of those into eight bits with one multiply: under two instructions
/// a byte, where a byte loop, or `memchr` on a haystack as short as a cell,
/// costs several.
#[inline]
fn mask64(block: &[u8; 64], needles: [u8; 4]) -> u64 {
    let mut hits = [0u8; 64];
    for (hit, &byte) in hits.iter_mut().zip(block) {
        *hit = u8::from(
            (byte == needles[0])
                | (byte == needles[1])
                | (byte == needles[2])
                | (byte == needles[3]),
        );
    }
    let mut mask = 0;
    for (index, group) in hits.as_chunks::<8>().0.iter().enumerate() {
        // Byte k of the group (0 or 1) lands on bit 56 + k of the product.
        let bits = u64::from_le_bytes(*group).wrapping_mul(0x0102_0408_1020_4080) >> 56;
        mask |= bits << (index * 8);
    }
    mask
}

/// Calls `found` with the index of every byte of `hay[..limit]` that is one
/// of `needles`, in order, until it returns `false`. Blocks are read from
/// `hay` whole where it is long enough, past `limit` if need be, so that
/// only the very end of `hay` needs a padded copy.
#[inline]
fn each_match(hay: &[u8], limit: usize, needles: [u8; 4], mut found: impl FnMut(usize) -> bool) {
    let mut offset = 0;
    while offset < limit {
        let rest = &hay[offset..];
        let mut mask = match rest.first_chunk::<64>() {
            Some(block) => mask64(block, needles),
            None => {
                let mut block = [0u8; 64];
                block[..rest.len()].copy_from_slice(rest);
                mask64(&block, needles)
            }
        };
        if limit - offset < 64 {
            mask &= (1u64 << (limit - offset)) - 1;
        }
        while mask != 0 {
            if !found(offset + mask.trailing_zeros() as usize) {
                return;
            }
            mask &= mask - 1;
        }
        offset += 64;
    }
}

const LANES_LOW: u64 = 0x0101_0101_0101_0101;
const LANES_HIGH: u64 = 0x8080_8080_8080_8080;

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
        // The fast path stops at everything that ends an unquoted cell but
        // the delimiter, and at the quote. It does not skip initial spaces.
        let plain_stop = if dialect.skip_initial_space {
            None
        } else {
            let mut table = unquoted_stop;
            table[usize::from(delimiter)] = false;
            if let Some(quote) = quote {
                table[usize::from(quote)] = true;
            }
            Special::new(table)
        };
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
            unquoted_stop: Stops::new(unquoted_stop),
            quoted_stop: Stops::new(quoted_stop),
            plain_stop,
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
    ///
    /// Header rows are counted among the records that are not comments, so
    /// that a leading `# generated by …` line does not swallow the header
    /// (frictionless-py would find no labels at all); row numbers still count
    /// every physical record.
    fn read_header(&mut self, rows: &[u64], join: &str) -> Result<Vec<String>, ReadError> {
        let last = rows.last().copied().unwrap_or(1);
        let mut labels: Vec<String> = Vec::new();
        let mut previous: Vec<Option<String>> = Vec::new();
        let mut counted = 0;
        while counted < last {
            let Some(raw) = self.next_raw()? else {
                break;
            };
            if raw.comment || self.comment_rows.contains(&raw.position.row) {
                continue;
            }
            counted += 1;
            if !rows.contains(&counted) {
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
            if !raw.overflow && self.plain_cells(position)? {
                return Ok(Some(raw));
            }
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

    /// The fast path for the common record: the unquoted cells ahead in the
    /// buffer, up to the first byte that needs [`CsvReader::parse_cell`]
    /// (a terminator, quote or escape), are found with one SIMD search for
    /// that byte and one for the delimiters, instead of a scan per cell.
    /// Takes the complete cells before that byte, and the record's last cell
    /// if the byte ends the record; leaves everything else (a cell with a
    /// quote or escape, a record that runs past the buffer or over the size
    /// limit) to the general parser, starting at a cell boundary. Returns
    /// whether it ended the record.
    #[inline]
    fn plain_cells(&mut self, position: Position) -> Result<bool, ReadError> {
        let Some(Special(special)) = self.plain_stop else {
            return Ok(false);
        };
        let available = self.input.available();
        let mut stop = None;
        each_match(available, available.len(), special, |index| {
            stop = Some(index);
            false
        });
        let Some(stop) = stop else {
            return Ok(false);
        };
        let byte = available[stop];
        let ends_record = byte != self.delimiter && self.ends_record(byte);
        // The limit counts each cell's text plus one per cell: at most the
        // bytes up to the stop plus one. A record that may go over it is
        // left to the general parser, which reports it.
        if self.bytes.len() + self.ends.len() + stop + 1 > self.max_record_bytes {
            return Ok(false);
        }
        let delimiter = self.delimiter;
        let mut start = 0;
        let mut cell = |bytes: &mut Vec<u8>, start: usize, end: usize| {
            let cell_start = bytes.len();
            let text = &available[start..end];
            // Cells are short: copying a fixed 16 bytes (the buffer goes on
            // past the cell) and cutting back is a few moves, where copying
            // exactly the cell is a call to `memcpy`.
            match available[start..].first_chunk::<16>() {
                Some(chunk) if text.len() <= 16 => {
                    bytes.extend_from_slice(chunk);
                    bytes.truncate(cell_start + text.len());
                }
                _ => bytes.extend_from_slice(text),
            }
            if self
                .null_sequence
                .as_deref()
                .is_some_and(|null| text == null)
            {
                bytes.truncate(cell_start);
                self.nulls.push(self.ends.len());
            }
            self.ends.push(bytes.len());
        };
        each_match(available, stop, [delimiter; 4], |index| {
            cell(&mut self.bytes, start, index);
            start = index + 1;
            true
        });
        if ends_record {
            cell(&mut self.bytes, start, stop);
            self.input.pos += stop + 1;
            self.end_line(byte, position)?;
        } else {
            self.input.pos += start;
        }
        Ok(ends_record)
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
            let Some(byte) = self.copy_until(false, cells, overflow).map_err(io_error)? else {
                return Ok((CellEnd::Eof, quoted));
            };
            if byte == self.delimiter {
                return Ok((CellEnd::Delimiter, quoted));
            }
            if self.ends_record(byte) {
                self.end_line(byte, position)?;
                return Ok((CellEnd::Record, quoted));
            }
            // The escape character: the next byte is literal.
            if !self.copy_escaped(cells, overflow).map_err(io_error)? {
                return Ok((CellEnd::Eof, quoted));
            }
        }
    }

    /// Copies the cell's bytes up to the next stop byte (of the quoted or
    /// the unquoted set), consumes that byte and returns it; `None` at the
    /// end of the input.
    fn copy_until(
        &mut self,
        quoted: bool,
        cells: usize,
        overflow: &mut bool,
    ) -> io::Result<Option<u8>> {
        loop {
            if !self.input.fill()? {
                return Ok(None);
            }
            let available = self.input.available();
            let stops = if quoted {
                &self.quoted_stop
            } else {
                &self.unquoted_stop
            };
            let Some(index) = stops.find(available) else {
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
            return Ok(Some(byte));
        }
    }

    /// After an escape character: copies the next byte literally. Returns
    /// false at the end of the input.
    fn copy_escaped(&mut self, cells: usize, overflow: &mut bool) -> io::Result<bool> {
        let Some(next) = self.input.peek_byte()? else {
            return Ok(false);
        };
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
        Ok(true)
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
            let Some(byte) = self.copy_until(true, cells, overflow).map_err(io_error)? else {
                return Err(unterminated());
            };
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
            if !self.copy_escaped(cells, overflow).map_err(io_error)? {
                return Err(unterminated());
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
                Err(problem) => Err(ReadError::Record {
                    position: raw.position,
                    kind: "encoding-error",
                    message: format!(
                        "invalid UTF-8 on line {}, in cell {} at byte {} of the cell",
                        raw.position.line + problem.newlines,
                        problem.cell + 1,
                        problem.offset
                    ),
                }),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use serde_json::json;

    use super::super::testing::{cells, read_all, with_dialect};
    use super::super::{OpenError, ReadOptions};
    use super::*;

    fn csv(bytes: &[u8]) -> Vec<serde_json::Value> {
        cells(bytes, Format::Csv, &ReadOptions::default())
    }

    fn positions(bytes: &[u8], options: &ReadOptions) -> Vec<(u64, u64, u64)> {
        let (_, outcomes) = read_all(bytes, Format::Csv, options).expect("opens");
        outcomes
            .into_iter()
            .map(|outcome| {
                let position = outcome.expect("reads").0;
                (position.row, position.line, position.byte)
            })
            .collect()
    }

    fn error_of(bytes: &[u8], options: &ReadOptions) -> ReadError {
        let (_, outcomes) = read_all(bytes, Format::Csv, options).expect("opens");
        outcomes
            .into_iter()
            .find_map(Result::err)
            .expect("an error")
    }

    #[test]
    fn the_header_gives_labels_and_the_first_record_is_row_2() {
        let (labels, outcomes) = read_all(
            b"id,name\n1,ada\n2,bob\n",
            Format::Csv,
            &ReadOptions::default(),
        )
        .expect("opens");
        assert_eq!(labels, Some(vec!["id".to_owned(), "name".to_owned()]));
        let rows: Vec<_> = outcomes.into_iter().map(|o| o.expect("reads")).collect();
        assert_eq!(
            rows[0].0,
            Position {
                row: 2,
                line: 2,
                byte: 8
            }
        );
        assert_eq!(rows[0].1, json!(["1", "ada"]));
        assert_eq!(
            rows[1].0,
            Position {
                row: 3,
                line: 3,
                byte: 14
            }
        );
    }

    #[test]
    fn without_a_header_the_first_record_is_row_1() {
        let options = with_dialect(r#"{"header": false}"#);
        let (labels, _) = read_all(b"1,ada\n", Format::Csv, &options).expect("opens");
        assert_eq!(labels, None);
        assert_eq!(positions(b"1,ada\n2,bob", &options), [(1, 1, 0), (2, 2, 6)]);
    }

    #[test]
    fn quoted_cells_hold_delimiters_quotes_and_newlines() {
        assert_eq!(
            csv(b"h\n\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",plain\n"),
            [json!(["a,b", "say \"hi\"", "two\nlines", "plain"])]
        );
    }

    #[test]
    fn a_quoted_cell_spanning_lines_is_one_row_starting_where_it_starts() {
        let options = ReadOptions::default();
        assert_eq!(
            positions(b"h\n\"x\ny\nz\"\nnext\n", &options),
            [(2, 2, 2), (3, 5, 10)]
        );
    }

    #[test]
    fn crlf_lf_and_lone_cr_line_ends_mix() {
        let bytes = b"a,b\r\n1,2\n3,4\r5,6\r\n7,8";
        assert_eq!(
            csv(bytes),
            [
                json!(["1", "2"]),
                json!(["3", "4"]),
                json!(["5", "6"]),
                json!(["7", "8"])
            ]
        );
        assert_eq!(
            positions(bytes, &ReadOptions::default()),
            [(2, 2, 5), (3, 3, 9), (4, 4, 13), (5, 5, 18)]
        );
    }

    #[test]
    fn blank_lines_are_records_without_cells_and_delimiters_make_empty_cells() {
        assert_eq!(
            csv(b"a,b\n\n,\n1,2\n"),
            [json!([]), json!(["", ""]), json!(["1", "2"])]
        );
        assert_eq!(
            positions(b"a,b\n\n,\n", &ReadOptions::default()),
            [(2, 2, 4), (3, 3, 5)]
        );
    }

    #[test]
    fn the_final_newline_does_not_start_a_record() {
        assert_eq!(csv(b"a\n1\n"), [json!(["1"])]);
        assert_eq!(csv(b"a\n1"), [json!(["1"])]);
        assert_eq!(csv(b"a\r\n1\r\n"), [json!(["1"])]);
    }

    #[test]
    fn a_trailing_delimiter_makes_a_last_empty_cell() {
        assert_eq!(csv(b"a\n1,\n"), [json!(["1", ""])]);
    }

    #[test]
    fn the_delimiter_and_quote_are_configurable() {
        let options = with_dialect(r#"{"delimiter": ";", "quoteChar": "'"}"#);
        assert_eq!(
            cells(b"a;b\n'x;y';\"z\"\n", Format::Csv, &options),
            [json!(["x;y", "\"z\""])]
        );
    }

    #[test]
    fn tsv_splits_on_tabs_and_does_not_quote() {
        assert_eq!(
            cells(b"a\tb\n\"x\ty\n", Format::Tsv, &ReadOptions::default()),
            [json!(["\"x", "y"])]
        );
    }

    #[test]
    fn without_double_quote_the_escape_char_escapes_quotes() {
        let options = with_dialect(r#"{"doubleQuote": false, "escapeChar": "\\"}"#);
        assert_eq!(
            cells(b"a,b\n\"say \\\"hi\\\"\",x\\,y\n", Format::Csv, &options),
            [json!(["say \"hi\"", "x,y"])]
        );
    }

    #[test]
    fn without_double_quote_two_quotes_close_and_reopen_nothing() {
        let options = with_dialect(r#"{"doubleQuote": false}"#);
        assert_eq!(
            cells(b"a\n\"x\"\"y\"\n", Format::Csv, &options),
            [json!(["x\"y\""])]
        );
    }

    #[test]
    fn text_after_a_closing_quote_is_kept_and_inner_quotes_are_literal() {
        assert_eq!(csv(b"a,b\n\"ab\"c,x\"y\n"), [json!(["abc", "x\"y"])]);
    }

    #[test]
    fn comment_lines_are_skipped_but_keep_their_row_numbers() {
        let options = with_dialect(r##"{"commentChar": "#"}"##);
        let bytes = b"# a comment, \"with a quote\na,b\n#another\n1,2\n";
        let (labels, outcomes) = read_all(bytes, Format::Csv, &options).expect("opens");
        assert_eq!(labels, Some(vec!["a".to_owned(), "b".to_owned()]));
        let rows: Vec<_> = outcomes.into_iter().map(|o| o.expect("reads")).collect();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].1, json!(["1", "2"]));
        assert_eq!((rows[0].0.row, rows[0].0.line), (4, 4));
    }

    #[test]
    fn comment_rows_are_skipped_by_number() {
        let options = with_dialect(r#"{"commentRows": [3]}"#);
        assert_eq!(
            cells(b"a\n1\nskip me\n2\n", Format::Csv, &options),
            [json!(["1"]), json!(["2"])]
        );
    }

    #[test]
    fn several_header_rows_are_joined() {
        let options = with_dialect(r#"{"headerRows": [1, 2], "headerJoin": "_"}"#);
        let (labels, outcomes) = read_all(
            b"amount,amount,id\nnet,gross,\n1,2,3\n",
            Format::Csv,
            &options,
        )
        .expect("opens");
        assert_eq!(
            labels,
            Some(vec![
                "amount_net".into(),
                "amount_gross".into(),
                "id_".into()
            ])
        );
        let first = outcomes.into_iter().next().expect("a row").expect("reads");
        assert_eq!(first.0.row, 3);
    }

    #[test]
    fn skip_initial_space_drops_spaces_before_cells_and_quotes() {
        let options = with_dialect(r#"{"skipInitialSpace": true}"#);
        assert_eq!(
            cells(b"a, b\n1,  \"x, y\" ,  z\n", Format::Csv, &options),
            [json!(["1", "x, y ", "z"])]
        );
        assert_eq!(csv(b"a\n  1, 2\n"), [json!(["  1", " 2"])]);
    }

    #[test]
    fn the_null_sequence_makes_unquoted_cells_null() {
        let options = with_dialect(r#"{"nullSequence": "\\N"}"#);
        let (_, outcomes) =
            read_all(b"a,b,c\n\\N,\"\\N\",x\\N\n", Format::Csv, &options).expect("opens");
        assert_eq!(
            outcomes[0].as_ref().expect("reads").1,
            json!([null, "\\N", "x\\N"])
        );
        let mut reader = super::super::from_reader(
            Box::new(std::io::Cursor::new(b"a,b\n\\N,1\n".to_vec())),
            std::path::Path::new("t"),
            Format::Csv,
            &options,
        )
        .expect("opens");
        let mut record = Record::new();
        assert!(reader.read(&mut record).expect("reads"));
        assert!(record.is_null(0));
        assert!(!record.is_null(1));
        assert_eq!(record.get(1), Some(super::super::Cell::Text("1")));
    }

    #[test]
    fn an_unusual_line_terminator_ends_records() {
        let options = with_dialect(r#"{"lineTerminator": "|", "header": false}"#);
        assert_eq!(
            cells(b"a,b|c\nd,e|", Format::Csv, &options),
            [json!(["a", "b"]), json!(["c\nd", "e"])]
        );
    }

    #[test]
    fn a_utf8_bom_is_not_part_of_the_first_label() {
        let (labels, _) = read_all(
            b"\xef\xbb\xbfid,name\n1,a\n",
            Format::Csv,
            &ReadOptions::default(),
        )
        .expect("opens");
        assert_eq!(labels, Some(vec!["id".to_owned(), "name".to_owned()]));
    }

    #[test]
    fn an_empty_file_is_an_error() {
        for options in [ReadOptions::default(), with_dialect(r#"{"header": false}"#)] {
            match read_all(b"", Format::Csv, &options) {
                Err(OpenError::Empty { path }) => assert_eq!(path.to_str(), Some("test")),
                other => panic!("expected Empty, got {other:?}"),
            }
        }
    }

    #[test]
    fn a_header_only_file_has_labels_and_no_rows() {
        let (labels, outcomes) =
            read_all(b"a,b\n", Format::Csv, &ReadOptions::default()).expect("opens");
        assert_eq!(labels, Some(vec!["a".to_owned(), "b".to_owned()]));
        assert!(outcomes.is_empty());
    }

    #[test]
    fn an_unterminated_quote_is_fatal_with_where_it_opened() {
        let error = error_of(
            b"a,b\n1,2\n3,\"never closed\n4,5\n",
            &ReadOptions::default(),
        );
        match &error {
            ReadError::Fatal { position, message } => {
                assert_eq!((position.row, position.line, position.byte), (3, 3, 8));
                assert!(message.contains("line 3 (byte 10)"), "{message}");
            }
            other => panic!("expected a fatal error, got {other:?}"),
        }
    }

    #[test]
    fn invalid_utf8_is_an_encoding_error_for_that_record_only() {
        let (_, outcomes) = read_all(
            b"a,b\n1,ok\n2,caf\xe9\n3,fine\n",
            Format::Csv,
            &ReadOptions::default(),
        )
        .expect("opens");
        assert_eq!(outcomes.len(), 3);
        match &outcomes[1] {
            Err(ReadError::Record {
                position,
                kind,
                message,
            }) => {
                assert_eq!(*kind, "encoding-error");
                assert_eq!((position.row, position.line, position.byte), (3, 3, 9));
                assert!(message.contains("line 3, in cell 2 at byte 3"), "{message}");
            }
            other => panic!("expected an encoding error, got {other:?}"),
        }
        assert_eq!(outcomes[2].as_ref().expect("reads").1, json!(["3", "fine"]));
    }

    #[test]
    fn an_encoding_error_in_a_multi_line_cell_names_its_own_line() {
        let (_, outcomes) = read_all(
            b"a,b\n1,\"first\nsecond \xff\"\n",
            Format::Csv,
            &ReadOptions::default(),
        )
        .expect("opens");
        match &outcomes[0] {
            Err(ReadError::Record {
                position, message, ..
            }) => {
                assert_eq!(position.line, 2);
                assert!(
                    message.contains("line 3, in cell 2 at byte 13"),
                    "{message}"
                );
            }
            other => panic!("expected an encoding error, got {other:?}"),
        }
    }

    #[test]
    fn invalid_utf8_split_across_cells_is_caught() {
        // Each cell alone is invalid; together their bytes would be valid.
        let (_, outcomes) =
            read_all(b"a,b\n\xc3,\xa9\n", Format::Csv, &ReadOptions::default()).expect("opens");
        assert!(
            matches!(
                &outcomes[0],
                Err(ReadError::Record {
                    kind: "encoding-error",
                    ..
                })
            ),
            "{outcomes:?}"
        );
    }

    #[test]
    fn invalid_utf8_in_the_header_is_refused_at_open() {
        match read_all(b"a,\xff\n1,2\n", Format::Csv, &ReadOptions::default()) {
            Err(OpenError::Header { source, .. }) => {
                assert!(source.to_string().contains("label 2"), "{source}");
            }
            other => panic!("expected a header error, got {other:?}"),
        }
    }

    /// Yields `a,b\n1,"` + `size` bytes of `x` + `"\n3,4\n` without holding
    /// them.
    struct HugeField {
        head: &'static [u8],
        size: u64,
        tail: &'static [u8],
        at: u64,
    }

    impl Read for HugeField {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let head = self.head.len() as u64;
            let mut written = 0;
            while written < buf.len() {
                let at = self.at;
                let byte = if at < head {
                    self.head[at as usize]
                } else if at < head + self.size {
                    b'x'
                } else if let Some(&byte) = self.tail.get((at - head - self.size) as usize) {
                    byte
                } else {
                    break;
                };
                buf[written] = byte;
                written += 1;
                self.at += 1;
            }
            Ok(written)
        }
    }

    #[test]
    fn a_100_mb_field_is_a_row_error_without_buffering_it() {
        for (head, tail) in [
            (&b"a,b\n1,\""[..], &b"\"\n3,4\n"[..]),
            (&b"a,b\n1,"[..], &b"\n3,4\n"[..]),
        ] {
            let source = HugeField {
                head,
                size: 100 * 1024 * 1024,
                tail,
                at: 0,
            };
            let options = ReadOptions {
                max_record_bytes: 1024 * 1024,
                ..ReadOptions::default()
            };
            let mut reader =
                CsvReader::new(Box::new(source), Format::Csv, &options).expect("opens");
            let mut record = Record::new();
            match reader.read(&mut record) {
                Err(ReadError::Record {
                    position,
                    kind,
                    message,
                }) => {
                    assert_eq!(kind, "format-error");
                    assert_eq!(position.row, 2);
                    assert!(message.contains("1048576 bytes"), "{message}");
                }
                other => panic!("expected a row error, got {other:?}"),
            }
            // The record buffer never grew past the limit.
            assert!(
                reader.bytes.capacity() <= 2 * 1024 * 1024,
                "{}",
                reader.bytes.capacity()
            );
            assert!(reader.read(&mut record).expect("reads on"));
            assert_eq!(record.to_json(), json!(["3", "4"]));
            assert_eq!(record.position.line, 3);
            assert!(!reader.read(&mut record).expect("ends"));
        }
    }

    #[test]
    fn many_empty_cells_count_against_the_limit() {
        let options = ReadOptions {
            max_record_bytes: 100,
            ..ReadOptions::default()
        };
        let mut bytes = b"a\n".to_vec();
        bytes.extend(std::iter::repeat_n(b',', 1000));
        bytes.extend_from_slice(b"\n1\n");
        let (_, outcomes) = read_all(&bytes, Format::Csv, &options).expect("opens");
        assert!(matches!(
            &outcomes[0],
            Err(ReadError::Record {
                kind: "format-error",
                ..
            })
        ));
        assert_eq!(outcomes[1].as_ref().expect("reads").1, json!(["1"]));
    }

    #[test]
    fn gzip_input_is_read_and_a_truncated_one_is_fatal() {
        let mut text = b"a,b\n".to_vec();
        for index in 0..20_000 {
            text.extend_from_slice(format!("{index},row {index}\n").as_bytes());
        }
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(&text).expect("writing to a Vec");
        let gzip = encoder.finish().expect("writing to a Vec");
        assert_eq!(
            cells(&gzip, Format::Csv, &ReadOptions::default()).len(),
            20_000
        );

        let truncated = &gzip[..gzip.len() - 100];
        let (_, outcomes) =
            read_all(truncated, Format::Csv, &ReadOptions::default()).expect("opens");
        let last = outcomes.last().expect("some outcome");
        assert!(matches!(last, Err(ReadError::Fatal { .. })), "{last:?}");
    }

    #[test]
    fn latin1_is_read_by_configuration() {
        let options = ReadOptions {
            encoding: "latin1".parse().expect("known"),
            ..ReadOptions::default()
        };
        assert_eq!(
            cells(b"a\ncaf\xe9\n", Format::Csv, &options),
            [json!(["café"])]
        );
    }

    #[test]
    fn utf16_with_a_bom_is_read_whatever_the_configuration() {
        let text = "a,b\n1,é\n";
        let mut bytes = vec![0xff, 0xfe];
        for unit in text.encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        assert_eq!(
            cells(&bytes, Format::Csv, &ReadOptions::default()),
            [json!(["1", "é"])]
        );
    }

    #[test]
    fn binary_junk_gives_errors_not_panics() {
        let junk: Vec<u8> = (0..20_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for format in [Format::Csv, Format::Tsv] {
            if let Ok((_, outcomes)) = read_all(&junk, format, &ReadOptions::default()) {
                assert!(outcomes.iter().any(Result::is_err));
            }
        }
    }

    #[test]
    fn the_word_scan_finds_the_first_stop_byte() {
        let mut table = [false; 256];
        for byte in [b',', b'\n', b'\r'] {
            table[usize::from(byte)] = true;
        }
        let stops = Stops::new(table);
        assert!(stops.words.is_some());
        let slow = Stops {
            words: None,
            ..stops
        };
        let hay = b"abcdefgh,ijklmnopqrstu\r\nvwxyz0123456789,,\xff\x80\x7f,abc";
        for start in 0..hay.len() {
            for end in start..=hay.len() {
                let part = &hay[start..end];
                assert_eq!(stops.find(part), slow.find(part), "{start}..{end}");
            }
        }
    }

    /// Every record and error, with the fast path for plain cells on or off.
    fn read_with_fast_path(
        bytes: &[u8],
        options: &ReadOptions,
        fast: bool,
    ) -> Vec<Result<(Position, serde_json::Value), String>> {
        let source = Box::new(io::Cursor::new(bytes.to_vec()));
        let mut reader = match CsvReader::new(source, Format::Csv, options) {
            Ok(reader) => reader,
            Err(error) => return vec![Err(format!("{error:?}"))],
        };
        if !fast {
            reader.plain_stop = None;
        }
        let mut record = Record::new();
        let mut outcomes = Vec::new();
        loop {
            match reader.read(&mut record) {
                Ok(true) => outcomes.push(Ok((record.position, record.to_json()))),
                Ok(false) => break,
                Err(error @ ReadError::Fatal { .. }) => {
                    outcomes.push(Err(error.to_string()));
                    break;
                }
                Err(error) => outcomes.push(Err(error.to_string())),
            }
        }
        outcomes
    }

    #[test]
    fn the_fast_path_for_plain_cells_reads_as_the_general_parser() {
        let long = "x".repeat(150);
        let mut invalid = format!("é,ü{long},").into_bytes();
        invalid.extend_from_slice(b"\xff,z\n1,2\n");
        let inputs: [Vec<u8>; 5] = [
            b"a,b,c\n1,2,3\r\n4,,6\r7,8,\n,,\n\n|x|y".to_vec(),
            b"1,\\N,\"\\N\",x\\,y,a\"b\"c,\"q\"\"x\",\"multi\nline\"\nlast".to_vec(),
            format!("{long},{long}\n1,{long},2\n{long}\n,{long},\n#c,d\n").into_bytes(),
            invalid,
            (0..40)
                .map(|n| format!("{n},{}\n", "y".repeat(n)))
                .collect::<String>()
                .into_bytes(),
        ];
        let dialects = [
            r#"{"header": false}"#,
            r#"{"header": true, "nullSequence": "\\N"}"#,
            r##"{"header": false, "escapeChar": "\\", "commentChar": "#"}"##,
            r#"{"header": false, "lineTerminator": "|", "quoteChar": "'"}"#,
            r#"{"header": false, "delimiter": ";", "doubleQuote": false, "escapeChar": "\\"}"#,
        ];
        for bytes in &inputs {
            for dialect in dialects {
                for buffer_bytes in [1, 2, 7, 63, 64, 65, 100, 200, 64 * 1024] {
                    for max_record_bytes in [10, 64, 160, 1024] {
                        let options = ReadOptions {
                            buffer_bytes,
                            max_record_bytes,
                            ..with_dialect(dialect)
                        };
                        assert_eq!(
                            read_with_fast_path(bytes, &options, true),
                            read_with_fast_path(bytes, &options, false),
                            "{:?} {dialect} {buffer_bytes} {max_record_bytes}",
                            String::from_utf8_lossy(bytes)
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn tiny_buffers_read_the_same_as_large_ones() {
        let bytes = b"a,b,c\r\n\"q\"\"x\",\"multi\r\nline\",\\N\n\n# not a comment\n,,\r\"end\"";
        let large = with_dialect(r#"{"nullSequence": "\\N"}"#);
        let expected = read_all(bytes, Format::Csv, &large).expect("opens");
        for size in 1..9 {
            let small = ReadOptions {
                buffer_bytes: size,
                ..large.clone()
            };
            let got = read_all(bytes, Format::Csv, &small).expect("opens");
            assert_eq!(got, expected, "buffer of {size} bytes");
        }
    }
}
