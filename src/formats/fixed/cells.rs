//! One record's values into the row's text cells, in column order.
//!
//! The decoder hands values in record order; each goes to the cell of its
//! column (found through the layout's slots in constant time), written as
//! text the schema casts exactly: a decimal with exactly its scale
//! (`-1234.56`), a float in its shortest form, text as decoded. A value
//! the decoder found null stays null, and so does a column the record has
//! no value for (a REDEFINES alternative its type does not select, an
//! occurrence beyond its OCCURS DEPENDING ON count). A column that holds a
//! whole OCCURS table is a JSON array. The values of the fields the control
//! checks need are kept aside as exact decimals.

use std::fmt::Write;
use std::ops::Range;

use super::{FixedLayout, Slot, flat_index};
use crate::formats::TextCells;
use crate::mainframe::copybook::Item;
use crate::mainframe::decimal::Decimal;
use crate::mainframe::json::Tree;
use crate::mainframe::record::{FieldError, RecordError, Sink, Value};

/// What a capture holds: nothing yet, a value, a null, or a field that
/// could not be read.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Captured {
    Missing,
    Number(Decimal),
    Null,
    Unreadable(String),
}

/// A JSON array being built for an array column: each leaf is a value's
/// text in the row's buffer and whether it is text (a string) or a number,
/// or `None` for a null.
type Node = Tree<Option<(Range<usize>, bool)>>;

/// The buffers of one row, reused from record to record.
#[derive(Debug, Default)]
pub(super) struct Row {
    /// Each column's text in `text`, or `None` for a null.
    cells: Vec<Option<Range<usize>>>,
    text: String,
    /// Array columns: their arrays, by column.
    arrays: Vec<Option<Node>>,
    /// The control checks' values, by capture.
    pub(super) captured: Vec<Captured>,
    /// The field that made the record undecodable, with its column.
    pub(super) failed: Option<(Option<usize>, FieldError)>,
}

impl Row {
    /// Forgets the previous record.
    pub(super) fn clear(&mut self, layout: &FixedLayout) {
        self.cells.clear();
        self.cells.resize(layout.columns.len(), None);
        self.text.clear();
        self.arrays.clear();
        self.captured.clear();
        self.captured
            .resize(layout.capture_count, Captured::Missing);
        self.failed = None;
    }

    /// Writes the row into `cells`, in column order.
    pub(super) fn fill(&mut self, cells: &mut TextCells) {
        for (column, array) in self.arrays.iter().enumerate() {
            if let Some(node) = array {
                let start = self.text.len();
                let mut json = String::new();
                write_node(node, &self.text, &mut json);
                self.text.push_str(&json);
                self.cells[column] = Some(start..self.text.len());
            }
        }
        for cell in &self.cells {
            match cell {
                Some(range) => cells.push_field(self.text.get(range.clone()).unwrap_or_default()),
                None => cells.push_null(),
            }
        }
    }

    /// Appends a value as text; `None` for a null.
    fn write(&mut self, value: &Value) -> Option<Range<usize>> {
        let start = self.text.len();
        match value {
            Value::Null => return None,
            Value::Text(text) => self.text.push_str(text),
            Value::Number(number) => number.write_to(&mut self.text),
            Value::Float(float) if float.is_finite() => {
                let _ = write!(self.text, "{float:?}");
            }
            Value::Float(_) => return None,
        }
        Some(start..self.text.len())
    }
}

/// The sink of one record: the layout it is read by, and its row.
pub(super) struct Cells<'a> {
    pub(super) layout: &'a FixedLayout,
    pub(super) row: &'a mut Row,
}

impl Sink for Cells<'_> {
    fn table(&mut self, table: &Item, indices: &[u32], _count: u32) {
        // Every array column under the table gets its (perhaps empty)
        // list here, so a count of 0 is [] rather than null.
        let copybook = &self.layout.copybook;
        for item in copybook.descendants(table.id).iter().chain([table]) {
            if let Slot::Array { column, .. } = self.layout.slots[item.id.index()] {
                let node = array_of(&mut self.row.arrays, column);
                let _ = node.list_at(indices);
            }
        }
    }

    fn value(
        &mut self,
        item: &Item,
        indices: &[u32],
        value: Result<Value, FieldError>,
    ) -> Result<(), RecordError> {
        let index = item.id.index();
        let value = match value {
            Ok(value) => value,
            Err(error) => {
                if let Some(capture) = self.layout.captures[index] {
                    self.row.captured[capture] = Captured::Unreadable(error.to_string());
                }
                if self.layout.lenient[index] {
                    Value::Null
                } else {
                    let column = match &self.layout.slots[index] {
                        Slot::Values { columns, maxes } => flat_index(maxes, indices)
                            .map(|flat| columns[flat])
                            .filter(|column| *column != usize::MAX),
                        Slot::Array { column, .. } => Some(*column),
                        Slot::None => None,
                    };
                    self.row.failed = Some((column, error.clone()));
                    return Err(RecordError::Field(error));
                }
            }
        };
        if let Some(capture) = self.layout.captures[index] {
            self.row.captured[capture] = match &value {
                Value::Number(number) => Captured::Number(*number),
                _ => Captured::Null,
            };
        }
        match &self.layout.slots[index] {
            Slot::None => {}
            Slot::Values { columns, maxes } => {
                if let Some(column) = flat_index(maxes, indices).map(|flat| columns[flat])
                    && column != usize::MAX
                {
                    self.row.cells[column] = self.row.write(&value);
                }
            }
            Slot::Array { column, dimensions } => {
                let is_text = matches!(value, Value::Text(_));
                let leaf = self.row.write(&value).map(|range| (range, is_text));
                if !indices.is_empty() && indices.len() == *dimensions {
                    array_of(&mut self.row.arrays, *column).put(indices, leaf, || None);
                }
            }
        }
        Ok(())
    }
}

/// The array of array column `column`, made when missing.
fn array_of(arrays: &mut Vec<Option<Node>>, column: usize) -> &mut Node {
    if arrays.len() <= column {
        arrays.resize(column + 1, None);
    }
    arrays[column].get_or_insert_with(|| Tree::List(Vec::new()))
}

/// Writes an array as JSON: text leaves as strings, numbers as numbers.
fn write_node(node: &Node, text: &str, out: &mut String) {
    match node {
        Tree::Leaf(None) => out.push_str("null"),
        Tree::Leaf(Some((range, is_text))) => {
            let value = text.get(range.clone()).unwrap_or_default();
            if *is_text {
                out.push_str(&serde_json::Value::from(value).to_string());
            } else {
                out.push_str(value);
            }
        }
        Tree::List(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_node(item, text, out);
            }
            out.push(']');
        }
    }
}
