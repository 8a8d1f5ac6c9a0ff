//! The record: what every reader yields and the validator consumes.
//!
//! This is the seam between reading and validating. Readers fill a reusable
//! [`Record`]; the validator casts its [`Cell`]s by position against the
//! schema's fields. Text cells borrow from one buffer per record, so reading a
//! CSV row allocates nothing once the buffers have grown to fit.
//!
//! A missing value that the reader itself recognises (a JSON `null`, or a
//! CSV cell equal to the dialect's `nullSequence`) is always
//! `Cell::Json(&Value::Null)`; [`Record::is_null`] asks the same question.

use std::fmt;

/// Where a record starts in its file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Position {
    /// The row number in the Table Schema convention: with a header row the
    /// header is row 1 and the first record row 2; without one, the first
    /// record is row 1.
    pub row: u64,
    /// The physical line (1-based) where the record starts; a quoted field
    /// spanning lines makes a record span several.
    pub line: u64,
    /// The byte offset of the record's first byte in the decoded input
    /// (after decompression).
    pub byte: u64,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "row {} (line {}, byte {})",
            self.row, self.line, self.byte
        )
    }
}

/// One cell as read, before casting.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'r> {
    /// Text to be cast by the field's type (CSV, TSV, fixed-width text).
    Text(&'r str),
    /// A value that arrived typed (JSON). JSON `null` is a missing value.
    Json(&'r serde_json::Value),
}

/// One record: its position and its cells, in file order (for JSON objects,
/// in the order of the reader's labels).
#[derive(Debug, Clone, Default)]
pub struct Record {
    /// Where the record starts.
    pub position: Position,
    /// The cells' storage; which variant depends on the reader.
    storage: Storage,
}

#[derive(Debug, Clone)]
enum Storage {
    Text(TextCells),
    Json(Vec<serde_json::Value>),
}

impl Default for Storage {
    fn default() -> Self {
        Storage::Text(TextCells::default())
    }
}

/// The JSON `null` a text cell stands for when it is a null sequence.
static NULL: serde_json::Value = serde_json::Value::Null;

/// The text cells of one record: all of their text in one buffer, and where
/// each cell ends.
///
/// Invariants: `ends` is non-decreasing, its last element (if any) is
/// `text.len()`, and every end is a char boundary of `text`; `nulls` holds
/// the indexes of cells that matched the dialect's null sequence, ascending.
#[derive(Debug, Clone, Default)]
pub struct TextCells {
    text: String,
    ends: Vec<usize>,
    nulls: Vec<usize>,
}

impl TextCells {
    /// Appends a cell holding `text`.
    pub fn push_field(&mut self, text: &str) {
        self.text.push_str(text);
        self.ends.push(self.text.len());
    }

    /// Appends a missing value (the dialect's null sequence).
    pub fn push_null(&mut self) {
        self.nulls.push(self.ends.len());
        self.ends.push(self.text.len());
    }

    /// Removes every cell, keeping the buffers.
    pub fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
        self.nulls.clear();
    }

    /// The number of cells.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are no cells.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    #[inline]
    fn get(&self, index: usize) -> Option<Cell<'_>> {
        let end = *self.ends.get(index)?;
        if !self.nulls.is_empty() && self.nulls.binary_search(&index).is_ok() {
            return Some(Cell::Json(&NULL));
        }
        let start = match index {
            0 => 0,
            _ => self.ends.get(index - 1).copied().unwrap_or(0),
        };
        self.text.get(start..end).map(Cell::Text)
    }

    /// Fills the cells from raw bytes parsed by a reader: `bytes` is every
    /// cell's content back to back, `ends` where each cell ends, `nulls` the
    /// null cells. The buffers are swapped, not copied, so neither side
    /// allocates once warm, and UTF-8 is validated once for the whole record.
    /// On invalid UTF-8 (including a cell boundary inside a character), says
    /// where, and leaves the cells empty.
    pub(crate) fn fill_from_utf8(
        &mut self,
        bytes: &mut Vec<u8>,
        ends: &mut Vec<usize>,
        nulls: &mut Vec<usize>,
    ) -> Result<(), Utf8Problem> {
        std::mem::swap(&mut self.ends, ends);
        std::mem::swap(&mut self.nulls, nulls);
        let mut old = std::mem::take(&mut self.text).into_bytes();
        old.clear();
        std::mem::swap(bytes, &mut old);
        // `old` now holds the new cells' bytes, `bytes` the previous buffer.
        let count_newlines =
            |text: &[u8]| text.iter().filter(|&&byte| byte == b'\n').count() as u64;
        let (bad_at, newlines) = match String::from_utf8(old) {
            Ok(text) => {
                self.text = text;
                match self
                    .ends
                    .iter()
                    .find(|&&end| !self.text.is_char_boundary(end))
                {
                    None => return Ok(()),
                    Some(&end) => (
                        end,
                        count_newlines(self.text.as_bytes().get(..end).unwrap_or_default()),
                    ),
                }
            }
            Err(error) => {
                let valid = error.utf8_error().valid_up_to();
                let newlines = count_newlines(error.as_bytes().get(..valid).unwrap_or_default());
                // Keep the buffer for the next record.
                *bytes = error.into_bytes();
                (valid, newlines)
            }
        };
        let cell = self.ends.iter().position(|&end| end > bad_at).unwrap_or(0);
        let start = cell
            .checked_sub(1)
            .and_then(|index| self.ends.get(index))
            .copied()
            .unwrap_or(0);
        self.clear();
        Err(Utf8Problem {
            cell,
            offset: bad_at.saturating_sub(start),
            newlines,
        })
    }
}

/// Where a record's text stopped being UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Utf8Problem {
    /// The cell (0-based).
    pub(crate) cell: usize,
    /// The offset of the bad byte within the cell's text.
    pub(crate) offset: usize,
    /// How many line breaks the record's text has before the bad byte.
    pub(crate) newlines: u64,
}

impl Record {
    /// An empty record, to be filled by a reader again and again.
    pub fn new() -> Record {
        Record::default()
    }

    /// The number of cells.
    pub fn len(&self) -> usize {
        match &self.storage {
            Storage::Text(cells) => cells.len(),
            Storage::Json(values) => values.len(),
        }
    }

    /// Whether the record has no cells at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The cell at `index` (0-based), if the record is that long.
    ///
    /// A text cell that matched the dialect's `nullSequence` comes back as
    /// `Cell::Json(&Value::Null)`: a missing value, exactly as a JSON `null`.
    #[inline]
    pub fn get(&self, index: usize) -> Option<Cell<'_>> {
        match &self.storage {
            Storage::Text(cells) => cells.get(index),
            Storage::Json(values) => values.get(index).map(Cell::Json),
        }
    }

    /// Whether the cell at `index` is a missing value by the reader's own
    /// rules (a JSON `null`, or a text cell equal to the null sequence).
    /// Missing values declared by the schema (`missingValues`) are the
    /// validator's business, not this.
    pub fn is_null(&self, index: usize) -> bool {
        matches!(self.get(index), Some(Cell::Json(serde_json::Value::Null)))
    }

    /// The cells in order.
    pub fn cells(&self) -> impl Iterator<Item = Cell<'_>> {
        (0..self.len()).filter_map(|index| self.get(index))
    }

    /// The text storage, cleared, for a reader of text cells to fill.
    pub fn text_mut(&mut self) -> &mut TextCells {
        if !matches!(self.storage, Storage::Text(_)) {
            self.storage = Storage::Text(TextCells::default());
        }
        match &mut self.storage {
            Storage::Text(cells) => {
                cells.clear();
                cells
            }
            Storage::Json(_) => unreachable!("storage was just made text"),
        }
    }

    /// The typed storage, cleared, for a reader of JSON values to fill.
    pub fn json_mut(&mut self) -> &mut Vec<serde_json::Value> {
        if !matches!(self.storage, Storage::Json(_)) {
            self.storage = Storage::Json(Vec::new());
        }
        match &mut self.storage {
            Storage::Json(values) => {
                values.clear();
                values
            }
            Storage::Text(_) => unreachable!("storage was just made JSON"),
        }
    }

    /// The record as a JSON array of its cells, kept with a rejected row so
    /// that it can be re-processed later.
    pub fn to_json(&self) -> serde_json::Value {
        self.cells()
            .map(|cell| match cell {
                Cell::Text(text) => serde_json::Value::String(text.to_owned()),
                Cell::Json(value) => value.clone(),
            })
            .collect()
    }
}

/// A problem reading the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// One record could not be read (bad encoding, over the size limit, a
    /// malformed JSON line); the reader can go on with the next one.
    #[error("{position}: {message}")]
    Record {
        /// Where the bad record starts.
        position: Position,
        /// `encoding-error` or `format-error`, as the validator reports it.
        kind: &'static str,
        /// What is wrong, for a person.
        message: String,
    },
    /// The input cannot be read any further (truncated compression, an
    /// unterminated quote at the end, an I/O error).
    #[error("{position}: {message}")]
    Fatal {
        /// How far reading got.
        position: Position,
        /// What is wrong, for a person.
        message: String,
    },
    /// A binary record whose bytes cannot be decoded (a bad packed
    /// decimal, an unknown record type); the reader can go on with the
    /// next one.
    #[error("{}: {}", .0.position, .0.message)]
    Undecodable(Box<Undecodable>),
    /// The file fails a check it carries itself, such as a trailer's
    /// record count or control total: none of it may load. Reading ends.
    #[error("{position}: {message}")]
    Refused {
        /// The record the check is about (the trailer), or the end.
        position: Position,
        /// What was expected and what was found.
        message: String,
    },
}

impl ReadError {
    /// Why a load of the file committed no rows because of this error, for
    /// a person.
    pub fn why_nothing_loaded(&self) -> String {
        match self {
            ReadError::Refused { .. } => format!("the file fails its own check: {self}"),
            _ => format!("the data could not be read to its end: {self}"),
        }
    }
}

/// A binary record that cannot be decoded, with what a reject keeps of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undecodable {
    /// Where the record starts (`row` and `line` are its record number).
    pub position: Position,
    /// The column of the field that cannot be read, if one is to blame.
    pub field: Option<String>,
    /// That column's 1-based number.
    pub field_number: Option<usize>,
    /// That field's bytes, in hexadecimal.
    pub value: Option<String>,
    /// What is wrong, for a person.
    pub message: String,
    /// The record's bytes, in hexadecimal.
    pub record: String,
}

/// A streaming source of records.
pub trait RecordReader {
    /// The header labels, or `None` for formats and dialects without a header.
    fn labels(&self) -> Option<&[String]>;

    /// Reads the next record into `record`. Returns `Ok(false)` at the end of
    /// the input. After a [`ReadError::Record`] or [`ReadError::Undecodable`]
    /// the caller may call again for the next record; after a
    /// [`ReadError::Fatal`] or [`ReadError::Refused`] it must stop.
    fn read(&mut self, record: &mut Record) -> Result<bool, ReadError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_switches_storage_as_readers_fill_it() {
        let mut record = Record::new();
        let text = record.text_mut();
        text.push_field("1");
        text.push_field("a,b");
        assert_eq!(record.len(), 2);
        assert_eq!(record.get(1), Some(Cell::Text("a,b")));
        assert_eq!(record.to_json(), serde_json::json!(["1", "a,b"]));

        record.json_mut().push(serde_json::json!(5));
        assert!(!record.is_null(0));
        assert_eq!(record.len(), 1);
        assert_eq!(record.get(0), Some(Cell::Json(&serde_json::json!(5))));
        assert_eq!(record.get(1), None);
    }

    #[test]
    fn a_null_text_cell_reads_as_json_null() {
        let mut record = Record::new();
        let text = record.text_mut();
        text.push_field("a");
        text.push_null();
        text.push_field("");
        assert_eq!(record.len(), 3);
        assert_eq!(record.get(1), Some(Cell::Json(&serde_json::Value::Null)));
        assert!(record.is_null(1));
        assert!(!record.is_null(2));
        assert_eq!(record.to_json(), serde_json::json!(["a", null, ""]));
    }

    #[test]
    fn filling_from_bytes_checks_utf8_once_and_at_cell_boundaries() {
        let mut cells = TextCells::default();
        let (mut bytes, mut ends, mut nulls) = (b"abc\xc3\xa9".to_vec(), vec![2, 5], vec![]);
        assert_eq!(
            cells.fill_from_utf8(&mut bytes, &mut ends, &mut nulls),
            Ok(())
        );
        assert_eq!(cells.get(1), Some(Cell::Text("cé")));
        // A cell boundary inside a character is refused.
        let (mut bytes, mut ends, mut nulls) = (b"\xc3\xa9".to_vec(), vec![1, 2], vec![]);
        assert_eq!(
            cells.fill_from_utf8(&mut bytes, &mut ends, &mut nulls),
            Err(Utf8Problem {
                cell: 1,
                offset: 0,
                newlines: 0
            })
        );
        assert!(cells.is_empty());
        let (mut bytes, mut ends, mut nulls) = (b"o\nk\xff".to_vec(), vec![1, 4], vec![]);
        assert_eq!(
            cells.fill_from_utf8(&mut bytes, &mut ends, &mut nulls),
            Err(Utf8Problem {
                cell: 1,
                offset: 2,
                newlines: 1
            })
        );
    }
}
