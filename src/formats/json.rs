//! The JSON Lines and JSON array readers.
//!
//! Both cut the input into one row's bytes at a time, bounded by the record
//! limit, and parse only that slice with `serde_json`: JSON Lines by line,
//! a JSON array (`[ {...}, {...} ]`) by a small scanner that follows strings
//! and nesting to find where each element ends. The file is never read
//! whole, and a malformed row (invalid JSON, invalid UTF-8, over the limit)
//! is an error for that row only, because its extent is known before it is
//! parsed. A broken array structure (no `[`, no `,` between rows, no closing
//! `]`) is fatal.
//!
//! Rows are objects or arrays:
//!
//! - Objects: the labels are the keys of the first object, in file order,
//!   and count as row 1 (as in frictionless-py), so the first object is
//!   row 2. Later objects' cells follow the label order; a missing key is a
//!   `null` cell (a missing value, as frictionless-py reads keyed rows); keys
//!   not among the labels become extra cells after the labelled ones, in file
//!   order, so the validator reports `extra-cell`.
//! - Arrays: cells by position. With `header` (the default) the first array
//!   holds the labels and is row 1; without it the first array is row 1 of
//!   data. An object row in such a file is mapped by the labels, or is a
//!   `format-error` without them.
//!
//! Blank lines in JSON Lines are skipped and take no row number.

use std::collections::HashMap;
use std::fmt;
use std::io;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::decode::{Input, Source};
use super::{Format, HeaderError, Position, ReadError, ReadOptions, Record, RecordReader};

/// One row as parsed.
#[derive(Debug)]
enum Shape {
    Object(Vec<(String, Value)>),
    Array(Vec<Value>),
}

impl<'de> Deserialize<'de> for Shape {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Shape, D::Error> {
        deserializer.deserialize_any(ShapeVisitor)
    }
}

struct ShapeVisitor;

impl<'de> Visitor<'de> for ShapeVisitor {
    type Value = Shape;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a row: a JSON object or array")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Shape, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
        while let Some(entry) = map.next_entry::<String, Value>()? {
            entries.push(entry);
        }
        Ok(Shape::Object(entries))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Shape, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element::<Value>()? {
            items.push(item);
        }
        Ok(Shape::Array(items))
    }
}

/// Where the reader is in a JSON array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ArrayState {
    /// The opening `[` is still to come.
    Start,
    /// Inside, before the first element.
    First,
    /// Inside, after an element.
    Next,
    /// After the closing `]`.
    Closed,
}

/// A streaming JSON Lines or JSON array reader.
pub(crate) struct JsonReader {
    input: Input,
    /// JSON Lines rather than one array.
    lines: bool,
    state: ArrayState,
    labels: Option<Vec<String>>,
    /// Each label's index, for placing object values.
    index: HashMap<String, usize>,
    /// The row number of the last row read; starts at 1 when the labels
    /// came from an object's keys (the virtual header row).
    row: u64,
    /// The line (1-based) of the next unread byte.
    line: u64,
    max_record_bytes: usize,
    /// The bytes of the row being parsed.
    scratch: Vec<u8>,
    /// The first data row, read while looking for the labels.
    pending: Option<(Position, Shape)>,
    /// Set after the end of input or a fatal error.
    done: bool,
}

impl fmt::Debug for JsonReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonReader")
            .field("input", &self.input)
            .field("lines", &self.lines)
            .field("row", &self.row)
            .field("line", &self.line)
            .finish_non_exhaustive()
    }
}

/// A row's bytes are in `scratch`, starting at `position`.
#[derive(Debug, Clone, Copy)]
struct Raw {
    position: Position,
    overflow: bool,
}

fn fatal_io(position: Position, error: io::Error) -> ReadError {
    ReadError::Fatal {
        position,
        message: format!("cannot read further: {error}"),
    }
}

fn is_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r')
}

fn label_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

impl JsonReader {
    /// Builds a reader and reads as far as the labels (the first row).
    pub(crate) fn new(
        source: Source,
        format: Format,
        options: &ReadOptions,
    ) -> Result<JsonReader, HeaderError> {
        let mut reader = JsonReader {
            input: Input::new(source, options.buffer_bytes),
            lines: format == Format::Jsonl,
            state: ArrayState::Start,
            labels: None,
            index: HashMap::new(),
            row: 0,
            line: 1,
            max_record_bytes: options.max_record_bytes,
            scratch: Vec::new(),
            pending: None,
            done: false,
        };
        let start = reader.position();
        reader.skip_space(start)?;
        if reader
            .input
            .peek_byte()
            .map_err(|error| fatal_io(start, error))?
            .is_none()
        {
            return Err(HeaderError::Empty);
        }
        let Some(raw) = reader.next_raw()? else {
            reader.done = true;
            return Ok(reader);
        };
        let position = Position {
            row: 1,
            ..raw.position
        };
        let shape = reader.parse(raw)?;
        match shape {
            Shape::Object(entries) => {
                let mut labels = Vec::with_capacity(entries.len());
                for (key, _) in &entries {
                    if !reader.index.contains_key(key) {
                        reader.index.insert(key.clone(), labels.len());
                        labels.push(key.clone());
                    }
                }
                reader.labels = Some(labels);
                reader.row = 2;
                reader.pending = Some((Position { row: 2, ..position }, Shape::Object(entries)));
            }
            Shape::Array(items) if options.dialect.header => {
                let labels: Vec<String> = items.iter().map(label_text).collect();
                for (index, label) in labels.iter().enumerate() {
                    reader.index.entry(label.clone()).or_insert(index);
                }
                reader.labels = Some(labels);
                reader.row = 1;
            }
            Shape::Array(items) => {
                reader.row = 1;
                reader.pending = Some((position, Shape::Array(items)));
            }
        }
        Ok(reader)
    }

    fn position(&self) -> Position {
        Position {
            row: self.row,
            line: self.line,
            byte: self.input.offset(),
        }
    }

    /// Skips JSON whitespace, counting lines.
    fn skip_space(&mut self, position: Position) -> Result<(), ReadError> {
        while let Some(byte) = self
            .input
            .peek_byte()
            .map_err(|error| fatal_io(position, error))?
        {
            if !is_space(byte) {
                break;
            }
            if byte == b'\n' {
                self.line += 1;
            }
            self.input.pos += 1;
        }
        Ok(())
    }

    /// Cuts the next row's bytes into `scratch`.
    fn next_raw(&mut self) -> Result<Option<Raw>, ReadError> {
        if self.lines {
            self.next_line()
        } else {
            self.next_element()
        }
    }

    /// The next non-blank line.
    fn next_line(&mut self) -> Result<Option<Raw>, ReadError> {
        loop {
            self.scratch.clear();
            let position = self.position();
            let mut overflow = false;
            let mut any = false;
            loop {
                if !self
                    .input
                    .fill()
                    .map_err(|error| fatal_io(position, error))?
                {
                    break;
                }
                any = true;
                let available = self.input.available();
                let newline = available.iter().position(|&byte| byte == b'\n');
                let end = newline.unwrap_or(available.len());
                if !overflow {
                    if self.scratch.len() + end > self.max_record_bytes {
                        overflow = true;
                        self.scratch.clear();
                    } else {
                        self.scratch.extend_from_slice(&available[..end]);
                    }
                }
                match newline {
                    Some(index) => {
                        self.input.pos += index + 1;
                        self.line += 1;
                        break;
                    }
                    None => self.input.pos = self.input.end,
                }
            }
            if !any {
                return Ok(None);
            }
            if overflow || self.scratch.iter().any(|&byte| !is_space(byte)) {
                self.row += 1;
                let position = Position {
                    row: self.row,
                    ..position
                };
                return Ok(Some(Raw { position, overflow }));
            }
        }
    }

    /// The next element of the array, checking the punctuation around it.
    fn next_element(&mut self) -> Result<Option<Raw>, ReadError> {
        let here = self.position();
        let fatal = |position: Position, message: String| ReadError::Fatal { position, message };
        self.skip_space(here)?;
        let peek = |reader: &mut JsonReader| {
            let position = reader.position();
            reader
                .input
                .peek_byte()
                .map_err(|error| fatal_io(position, error))
        };
        match self.state {
            ArrayState::Closed => return Ok(None),
            ArrayState::Start => match peek(self)? {
                Some(b'[') => {
                    self.input.pos += 1;
                    self.state = ArrayState::First;
                    self.skip_space(here)?;
                    if peek(self)? == Some(b']') {
                        self.input.pos += 1;
                        return self.close();
                    }
                }
                _ => {
                    return Err(fatal(
                        self.position(),
                        "a JSON file must hold one array of rows, `[ {...}, {...} ]`; for one object per line use JSON Lines (.jsonl)".into(),
                    ));
                }
            },
            ArrayState::First => {}
            ArrayState::Next => match peek(self)? {
                Some(b',') => {
                    self.input.pos += 1;
                    self.skip_space(here)?;
                }
                Some(b']') => {
                    self.input.pos += 1;
                    return self.close();
                }
                None => {
                    return Err(fatal(
                        self.position(),
                        "the JSON array is not closed: the input ends without `]`".into(),
                    ));
                }
                Some(byte) => {
                    return Err(fatal(
                        self.position(),
                        format!(
                            "expected `,` or `]` after the row, found {:?}",
                            char::from(byte)
                        ),
                    ));
                }
            },
        }
        if peek(self)?.is_none() {
            return Err(fatal(
                self.position(),
                "the JSON array is not closed: the input ends without `]`".into(),
            ));
        }
        self.state = ArrayState::Next;
        self.row += 1;
        let position = self.position();
        let overflow = self.scan_element(position)?;
        Ok(Some(Raw { position, overflow }))
    }

    /// After the closing `]`: only whitespace may follow.
    fn close(&mut self) -> Result<Option<Raw>, ReadError> {
        self.state = ArrayState::Closed;
        let here = self.position();
        self.skip_space(here)?;
        if self
            .input
            .peek_byte()
            .map_err(|error| fatal_io(here, error))?
            .is_some()
        {
            return Err(ReadError::Fatal {
                position: self.position(),
                message: "unexpected data after the JSON array's closing `]`".into(),
            });
        }
        Ok(None)
    }

    /// Copies one element into `scratch` (bounded), following strings and
    /// nesting; stops before the `,` or `]` that follows it. Returns whether
    /// it was over the limit.
    fn scan_element(&mut self, position: Position) -> Result<bool, ReadError> {
        self.scratch.clear();
        let mut overflow = false;
        let mut depth = 0usize;
        let mut in_string = false;
        let mut escaped = false;
        loop {
            if !self
                .input
                .fill()
                .map_err(|error| fatal_io(position, error))?
            {
                if depth == 0 && !in_string {
                    // A scalar at the very end; the missing `]` is reported next.
                    return Ok(overflow);
                }
                return Err(ReadError::Fatal {
                    position,
                    message: "unexpected end of input inside the row".into(),
                });
            }
            let available = self.input.available();
            let mut end = None;
            for (index, &byte) in available.iter().enumerate() {
                if byte == b'\n' {
                    self.line += 1;
                }
                if in_string {
                    if escaped {
                        escaped = false;
                    } else if byte == b'\\' {
                        escaped = true;
                    } else if byte == b'"' {
                        in_string = false;
                    }
                    continue;
                }
                match byte {
                    b'"' => in_string = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' if depth > 0 => {
                        depth -= 1;
                        if depth == 0 {
                            end = Some(index + 1);
                            break;
                        }
                    }
                    b'}' | b']' | b',' if depth == 0 => {
                        end = Some(index);
                        break;
                    }
                    byte if depth == 0 && is_space(byte) => {
                        if byte == b'\n' {
                            // Not consumed: skip_space counts it again.
                            self.line -= 1;
                        }
                        end = Some(index);
                        break;
                    }
                    _ => {}
                }
            }
            let taken = end.unwrap_or(available.len());
            if !overflow {
                if self.scratch.len() + taken > self.max_record_bytes {
                    overflow = true;
                    self.scratch.clear();
                } else {
                    self.scratch.extend_from_slice(&available[..taken]);
                }
            }
            self.input.pos += taken;
            if end.is_some() {
                return Ok(overflow);
            }
        }
    }

    /// Parses the row in `scratch`.
    fn parse(&self, raw: Raw) -> Result<Shape, ReadError> {
        let position = raw.position;
        if raw.overflow {
            return Err(ReadError::Record {
                position,
                kind: "format-error",
                message: format!(
                    "the row is longer than the limit of {} bytes (max_record_bytes); it was skipped",
                    self.max_record_bytes
                ),
            });
        }
        if let Err(error) = std::str::from_utf8(&self.scratch) {
            return Err(ReadError::Record {
                position,
                kind: "encoding-error",
                message: format!(
                    "invalid UTF-8 at byte {}",
                    position.byte + error.valid_up_to() as u64
                ),
            });
        }
        serde_json::from_slice::<Shape>(&self.scratch).map_err(|error| {
            let text = error.to_string();
            let what = text.split(" at line ").next().unwrap_or(&text);
            ReadError::Record {
                position,
                kind: "format-error",
                message: format!(
                    "invalid JSON at line {}, column {}: {what}",
                    position.line + error.line().saturating_sub(1) as u64,
                    error.column()
                ),
            }
        })
    }

    /// Puts a parsed row's cells into `record`, in label order.
    fn fill(&self, shape: Shape, record: &mut Record) -> Result<(), ReadError> {
        let position = record.position;
        let values = record.json_mut();
        match shape {
            Shape::Array(items) => values.extend(items),
            Shape::Object(entries) => {
                let Some(labels) = &self.labels else {
                    return Err(ReadError::Record {
                        position,
                        kind: "format-error",
                        message: "an object row in a file of array rows without a header: its keys match no labels".into(),
                    });
                };
                values.resize(labels.len(), Value::Null);
                let mut extra = Vec::new();
                for (key, value) in entries {
                    match self
                        .index
                        .get(&key)
                        .and_then(|&index| values.get_mut(index))
                    {
                        Some(slot) => *slot = value,
                        None => extra.push(value),
                    }
                }
                values.extend(extra);
            }
        }
        Ok(())
    }
}

impl RecordReader for JsonReader {
    fn labels(&self) -> Option<&[String]> {
        self.labels.as_deref()
    }

    fn read(&mut self, record: &mut Record) -> Result<bool, ReadError> {
        if let Some((position, shape)) = self.pending.take() {
            record.position = position;
            self.fill(shape, record)?;
            return Ok(true);
        }
        if self.done {
            return Ok(false);
        }
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
        record.position = raw.position;
        record.json_mut();
        let shape = self.parse(raw)?;
        self.fill(shape, record)?;
        Ok(true)
    }
}
