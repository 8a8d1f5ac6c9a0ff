//! The record: what every reader yields and the validator consumes.
//!
//! This is the seam between reading and validating. Readers fill a reusable
//! [`Record`]; the validator casts its [`Cell`]s by position against the
//! schema's fields. Text cells borrow from one buffer per record, so reading a
//! CSV row allocates nothing once the buffers have grown to fit.

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
    Text(csv::StringRecord),
    Json(Vec<serde_json::Value>),
}

impl Default for Storage {
    fn default() -> Self {
        Storage::Text(csv::StringRecord::new())
    }
}

impl Record {
    /// An empty record, to be filled by a reader again and again.
    pub fn new() -> Record {
        Record::default()
    }

    /// The number of cells.
    pub fn len(&self) -> usize {
        match &self.storage {
            Storage::Text(record) => record.len(),
            Storage::Json(values) => values.len(),
        }
    }

    /// Whether the record has no cells at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The cell at `index` (0-based), if the record is that long.
    pub fn get(&self, index: usize) -> Option<Cell<'_>> {
        match &self.storage {
            Storage::Text(record) => record.get(index).map(Cell::Text),
            Storage::Json(values) => values.get(index).map(Cell::Json),
        }
    }

    /// The cells in order.
    pub fn cells(&self) -> impl Iterator<Item = Cell<'_>> {
        (0..self.len()).filter_map(|index| self.get(index))
    }

    /// The text storage, cleared, for a reader of text cells to fill.
    pub fn text_mut(&mut self) -> &mut csv::StringRecord {
        if !matches!(self.storage, Storage::Text(_)) {
            self.storage = Storage::Text(csv::StringRecord::new());
        }
        match &mut self.storage {
            Storage::Text(record) => {
                record.clear();
                record
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
}

/// A streaming source of records.
pub trait RecordReader {
    /// The header labels, or `None` for formats and dialects without a header.
    fn labels(&self) -> Option<&[String]>;

    /// Reads the next record into `record`. Returns `Ok(false)` at the end of
    /// the input. After a [`ReadError::Record`] the caller may call again for
    /// the next record; after a [`ReadError::Fatal`] it must stop.
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
        assert_eq!(record.len(), 1);
        assert_eq!(record.get(0), Some(Cell::Json(&serde_json::json!(5))));
        assert_eq!(record.get(1), None);
    }
}
