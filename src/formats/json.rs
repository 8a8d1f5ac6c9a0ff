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

use serde::de::{Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
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

/// Parses one row straight into a record's values, in label order, without
/// building an intermediate map or allocating its keys.
struct RowSeed<'a> {
    labels: &'a [String],
    index: &'a HashMap<String, usize>,
    values: &'a mut Vec<Value>,
}

impl<'de> DeserializeSeed<'de> for RowSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RowSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a row: a JSON object or array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(item) = seq.next_element::<Value>()? {
            self.values.push(item);
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.values.resize(self.labels.len(), Value::Null);
        let mut extra = Vec::new();
        let mut nth = 0;
        while let Some(key) = map.next_key::<Key<'de>>()? {
            let key = key.as_str();
            // Keys usually come in label order: try that before hashing.
            let slot = if self.labels.get(nth).is_some_and(|label| label == key) {
                Some(nth)
            } else {
                self.index.get(key).copied()
            };
            nth += 1;
            let value = map.next_value::<Value>()?;
            match slot.and_then(|index| self.values.get_mut(index)) {
                Some(cell) => *cell = value,
                None => extra.push(value),
            }
        }
        self.values.extend(extra);
        Ok(())
    }
}

/// An object key, borrowed from the input unless it had escapes.
enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Key<'_> {
    fn as_str(&self) -> &str {
        match self {
            Key::Borrowed(text) => text,
            Key::Owned(text) => text,
        }
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Key<'de>, D::Error> {
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Key<'de>, E> {
        Ok(Key::Borrowed(text))
    }

    fn visit_str<E>(self, text: &str) -> Result<Key<'de>, E> {
        Ok(Key::Owned(text.to_owned()))
    }

    fn visit_string<E>(self, text: String) -> Result<Key<'de>, E> {
        Ok(Key::Owned(text))
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

/// A row that is not valid JSON, with the line counted in the whole file.
fn invalid_json(position: Position, error: &serde_json::Error) -> ReadError {
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
}

/// An object row where there are no labels to place its values by.
fn no_labels(position: Position) -> ReadError {
    ReadError::Record {
        position,
        kind: "format-error",
        message: "an object row in a file of array rows without a header: its keys match no labels"
            .into(),
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

    /// Checks the row in `scratch` before parsing: not over the limit, and
    /// valid UTF-8.
    fn check(&self, raw: Raw) -> Result<(), ReadError> {
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
        Ok(())
    }

    /// Parses the row in `scratch` into a [`Shape`] (for the first row).
    fn parse(&self, raw: Raw) -> Result<Shape, ReadError> {
        self.check(raw)?;
        serde_json::from_slice::<Shape>(&self.scratch)
            .map_err(|error| invalid_json(raw.position, &error))
    }

    /// Parses the row in `scratch` straight into `values`.
    fn parse_into(&self, raw: Raw, values: &mut Vec<Value>) -> Result<(), ReadError> {
        self.check(raw)?;
        let (labels, index) = match &self.labels {
            Some(labels) => (&labels[..], &self.index),
            None => {
                let object = self.scratch.iter().find(|&&byte| !is_space(byte)) == Some(&b'{');
                if object {
                    return Err(no_labels(raw.position));
                }
                (&[][..], &self.index)
            }
        };
        let mut deserializer = serde_json::Deserializer::from_slice(&self.scratch);
        RowSeed {
            labels,
            index,
            values,
        }
        .deserialize(&mut deserializer)
        .and_then(|()| deserializer.end())
        .map_err(|error| invalid_json(raw.position, &error))
    }

    /// Puts a parsed row's cells into `record`, in label order.
    fn fill(&self, shape: Shape, record: &mut Record) -> Result<(), ReadError> {
        let position = record.position;
        let values = record.json_mut();
        match shape {
            Shape::Array(items) => values.extend(items),
            Shape::Object(entries) => {
                let Some(labels) = &self.labels else {
                    return Err(no_labels(position));
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
        self.parse_into(raw, record.json_mut())?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::testing::{cells, read_all, with_dialect};
    use super::super::{OpenError, ReadOptions};
    use super::*;

    fn rows(bytes: &[u8], format: Format) -> Vec<(u64, u64, Value)> {
        let (_, outcomes) = read_all(bytes, format, &ReadOptions::default()).expect("opens");
        outcomes
            .into_iter()
            .map(|outcome| {
                let (position, cells) = outcome.expect("reads");
                (position.row, position.line, cells)
            })
            .collect()
    }

    fn labels(bytes: &[u8], format: Format) -> Option<Vec<String>> {
        read_all(bytes, format, &ReadOptions::default())
            .expect("opens")
            .0
    }

    #[test]
    fn json_lines_objects_take_labels_from_the_first_object_in_order() {
        let bytes = b"{\"b\": 1, \"a\": \"x\"}\n{\"a\": \"y\", \"b\": 2}\n";
        assert_eq!(
            labels(bytes, Format::Jsonl),
            Some(vec!["b".into(), "a".into()])
        );
        assert_eq!(
            rows(bytes, Format::Jsonl),
            [(2, 1, json!([1, "x"])), (3, 2, json!([2, "y"]))]
        );
    }

    #[test]
    fn missing_keys_are_null_and_extra_keys_follow_the_labels() {
        let bytes = b"{\"a\": 1, \"b\": 2}\n{\"c\": 3, \"b\": 4, \"d\": [5]}\n";
        assert_eq!(rows(bytes, Format::Jsonl)[1].2, json!([null, 4, 3, [5]]));
    }

    #[test]
    fn json_lines_arrays_may_start_with_a_header() {
        let bytes = b"[\"id\", \"n\"]\n[1, \"a\"]\n[2, null, true]\n";
        assert_eq!(
            labels(bytes, Format::Jsonl),
            Some(vec!["id".into(), "n".into()])
        );
        assert_eq!(
            rows(bytes, Format::Jsonl),
            [(2, 2, json!([1, "a"])), (3, 3, json!([2, null, true]))]
        );
        let options = with_dialect(r#"{"header": false}"#);
        let (labels, outcomes) = read_all(b"[1]\n[2]\n", Format::Jsonl, &options).expect("opens");
        assert_eq!(labels, None);
        let first = outcomes[0].as_ref().expect("reads");
        assert_eq!((first.0.row, &first.1), (1, &json!([1])));
    }

    #[test]
    fn escaped_keys_match_their_labels() {
        let bytes = b"{\"a\": 1, \"b\": 2}\n{\"\\u0062\": 3, \"\\u0061\": 4}\n";
        assert_eq!(rows(bytes, Format::Jsonl)[1].2, json!([4, 3]));
    }

    #[test]
    fn an_object_row_without_labels_is_a_row_error() {
        let options = with_dialect(r#"{"header": false}"#);
        let (_, outcomes) =
            read_all(b"[1, 2]\n{\"a\": 1}\n[3]\n", Format::Jsonl, &options).expect("opens");
        assert!(
            matches!(&outcomes[1], Err(ReadError::Record { kind: "format-error", message, .. }) if message.contains("without a header")),
            "{:?}",
            outcomes[1]
        );
        assert_eq!(outcomes[2].as_ref().expect("reads").1, json!([3]));
    }

    #[test]
    fn blank_json_lines_are_skipped_without_a_row_number() {
        let bytes = b"{\"a\": 1}\n\n  \r\n{\"a\": 2}\r\n";
        assert_eq!(
            rows(bytes, Format::Jsonl),
            [(2, 1, json!([1])), (3, 4, json!([2]))]
        );
    }

    #[test]
    fn a_bad_json_line_is_a_row_error_and_reading_goes_on() {
        let bytes = b"{\"a\": 1}\n{\"a\": 2,}\n7\n{\"a\": \"\xff\"}\n{\"a\": 3}\n";
        let (_, outcomes) = read_all(bytes, Format::Jsonl, &ReadOptions::default()).expect("opens");
        assert_eq!(outcomes.len(), 5);
        match &outcomes[1] {
            Err(ReadError::Record {
                position,
                kind,
                message,
            }) => {
                assert_eq!(*kind, "format-error");
                assert_eq!((position.row, position.line, position.byte), (3, 2, 9));
                assert!(message.contains("invalid JSON at line 2"), "{message}");
            }
            other => panic!("expected a format error, got {other:?}"),
        }
        assert!(
            matches!(&outcomes[2], Err(ReadError::Record { kind: "format-error", message, .. }) if message.contains("object or array")),
            "{:?}",
            outcomes[2]
        );
        match &outcomes[3] {
            Err(ReadError::Record { kind, message, .. }) => {
                assert_eq!(*kind, "encoding-error");
                assert!(message.contains("byte 28"), "{message}");
            }
            other => panic!("expected an encoding error, got {other:?}"),
        }
        assert_eq!(outcomes[4].as_ref().expect("reads").1, json!([3]));
    }

    #[test]
    fn a_json_array_of_objects_is_streamed_row_by_row() {
        let bytes =
            b" [\n {\"id\": 1, \"tags\": [\"a\", \"]\"]},\n {\"id\": 2, \"s\": \"}{,\\\"\"}\n]\n";
        assert_eq!(
            labels(bytes, Format::Json),
            Some(vec!["id".into(), "tags".into()])
        );
        assert_eq!(
            rows(bytes, Format::Json),
            [
                (2, 2, json!([1, ["a", "]"]])),
                (3, 3, json!([2, null, "}{,\""])),
            ]
        );
    }

    #[test]
    fn a_json_array_of_arrays_has_a_header_row() {
        assert_eq!(
            rows(b"[[\"a\",\"b\"],[1,2],[3,4]]", Format::Json),
            [(2, 1, json!([1, 2])), (3, 1, json!([3, 4]))]
        );
    }

    #[test]
    fn a_bad_element_is_a_row_error_and_the_array_goes_on() {
        let bytes = b"[{\"a\": 1}, {\"a\": 2 \"b\": 3}, {\"a\": 4}]";
        let (_, outcomes) = read_all(bytes, Format::Json, &ReadOptions::default()).expect("opens");
        assert_eq!(outcomes.len(), 3);
        assert!(matches!(
            &outcomes[1],
            Err(ReadError::Record {
                kind: "format-error",
                ..
            })
        ));
        assert_eq!(outcomes[2].as_ref().expect("reads").1, json!([4]));
    }

    #[test]
    fn a_broken_array_is_fatal() {
        for bytes in [
            &b"[{\"a\": 1} {\"a\": 2}]"[..],
            b"[{\"a\": 1}, {\"a\": 2}",
            b"[{\"a\": 1}, {\"a\": 2",
            b"[{\"a\": 1}] trailing",
        ] {
            let (_, outcomes) =
                read_all(bytes, Format::Json, &ReadOptions::default()).expect("opens");
            assert!(
                matches!(outcomes.last(), Some(Err(ReadError::Fatal { .. }))),
                "{}: {outcomes:?}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn a_json_file_that_is_not_an_array_is_refused_clearly() {
        match read_all(
            b"{\"a\": 1}\n{\"a\": 2}\n",
            Format::Json,
            &ReadOptions::default(),
        ) {
            Err(OpenError::Header { source, .. }) => {
                assert!(source.to_string().contains("JSON Lines"), "{source}");
            }
            other => panic!("expected a header error, got {other:?}"),
        }
    }

    #[test]
    fn an_empty_array_has_no_rows_and_an_empty_file_is_an_error() {
        let (labels, outcomes) =
            read_all(b" [ ] ", Format::Json, &ReadOptions::default()).expect("opens");
        assert_eq!(labels, None);
        assert!(outcomes.is_empty());
        for format in [Format::Json, Format::Jsonl] {
            assert!(matches!(
                read_all(b" \n ", format, &ReadOptions::default()),
                Err(OpenError::Empty { .. })
            ));
        }
    }

    #[test]
    fn a_row_over_the_limit_is_skipped_with_an_error() {
        let options = ReadOptions {
            max_record_bytes: 64,
            ..ReadOptions::default()
        };
        let long = format!("{{\"a\": \"{}\"}}", "x".repeat(1000));
        let lines = format!("{{\"a\": 1}}\n{long}\n{{\"a\": 2}}\n");
        let array = format!("[{{\"a\": 1}},{long},{{\"a\": 2}}]");
        for (bytes, format) in [(lines, Format::Jsonl), (array, Format::Json)] {
            let (_, outcomes) = read_all(bytes.as_bytes(), format, &options).expect("opens");
            assert_eq!(outcomes.len(), 3, "{format}");
            assert!(
                matches!(&outcomes[1], Err(ReadError::Record { kind: "format-error", message, .. }) if message.contains("64 bytes")),
                "{format}: {:?}",
                outcomes[1]
            );
            assert_eq!(outcomes[2].as_ref().expect("reads").1, json!([2]));
        }
    }

    #[test]
    fn gzip_and_a_bom_are_handled_before_the_json() {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder
            .write_all(b"\xef\xbb\xbf{\"a\": 1}\n")
            .expect("writing to a Vec");
        let gzip = encoder.finish().expect("writing to a Vec");
        assert_eq!(
            cells(&gzip, Format::Jsonl, &ReadOptions::default()),
            [json!([1])]
        );
    }

    #[test]
    fn tiny_buffers_read_the_same_as_large_ones() {
        let bytes = b"[\n{\"a\": \"x\\\"]\", \"b\": [1, {\"c\": 2}]},\n 5 , {\"b\": null}\n]";
        let expected = read_all(bytes, Format::Json, &ReadOptions::default()).expect("opens");
        for size in 1..9 {
            let small = ReadOptions {
                buffer_bytes: size,
                ..ReadOptions::default()
            };
            let got = read_all(bytes, Format::Json, &small).expect("opens");
            assert_eq!(got, expected, "buffer of {size} bytes");
        }
    }
}
