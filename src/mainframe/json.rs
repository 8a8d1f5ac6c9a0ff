//! One record as one flat JSON object: what `droplake decode` prints.
//!
//! Keys are the copybook's elementary names as written (`CUST-ID`),
//! qualified only when a name repeats in the record (`ADDRESS OF PERSON`),
//! in record order. A field under OCCURS is an array with one value per
//! occurrence (as many as OCCURS DEPENDING ON says), nested once per
//! table. Groups and FILLER never appear. A field that cannot be read is
//! null, and the problem is kept for the caller to report, unless the sink
//! is strict, when it ends the record.

use super::copybook::{Item, ItemId};
use super::record::{Decoder, FieldError, RecordError, Sink, Value};

/// The values of a field under OCCURS, as they are decoded: a leaf per
/// occurrence, a list per table around it (nested for nested tables).
/// Shared by every sink that builds arrays (here, and the loader's array
/// columns).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tree<L> {
    Leaf(L),
    List(Vec<Tree<L>>),
}

impl<L> Tree<L> {
    /// The list at `indices` (outermost first), made on the way; `None`
    /// when a leaf stands where a list should.
    pub(crate) fn list_at(&mut self, indices: &[u32]) -> Option<&mut Vec<Tree<L>>> {
        let mut node = self;
        for &index in indices {
            let Tree::List(items) = node else { return None };
            let index = index as usize;
            while items.len() <= index {
                items.push(Tree::List(Vec::new()));
            }
            node = &mut items[index];
        }
        match node {
            Tree::List(items) => Some(items),
            Tree::Leaf(_) => None,
        }
    }

    /// Sets the occurrence at `indices` (one or more) to `leaf`; skipped
    /// occurrences before it become `missing()`.
    pub(crate) fn put(&mut self, indices: &[u32], leaf: L, missing: impl Fn() -> L) {
        let Some((last, outer)) = indices.split_last() else {
            *self = Tree::Leaf(leaf);
            return;
        };
        if let Some(list) = self.list_at(outer) {
            let last = *last as usize;
            while list.len() < last {
                list.push(Tree::Leaf(missing()));
            }
            if list.len() == last {
                list.push(Tree::Leaf(leaf));
            } else {
                list[last] = Tree::Leaf(leaf);
            }
        }
    }
}

type Node = Tree<Value>;

/// Collects one record's values as a flat JSON object.
#[derive(Debug)]
pub struct JsonRecord<'d, 'c> {
    decoder: &'d Decoder<'c>,
    strict: bool,
    /// This record's fields in the order they came, by item.
    fields: Vec<(ItemId, Node)>,
    /// Where each item's field is in `fields` (by item index), or
    /// [`ABSENT`]: set for exactly the items in `fields`.
    slots: Vec<u32>,
    /// Each named elementary item's key as JSON with its colon
    /// (`"CUST-ID":`), by item index; made once, not per record.
    keys: Vec<String>,
    /// The fields that could not be read, in order.
    pub problems: Vec<FieldError>,
}

/// A slot of an item with no field in the record.
const ABSENT: u32 = u32::MAX;

impl<'d, 'c> JsonRecord<'d, 'c> {
    pub fn new(decoder: &'d Decoder<'c>, strict: bool) -> JsonRecord<'d, 'c> {
        let items = decoder.copybook().items();
        let keys = items
            .iter()
            .map(|item| {
                let mut key = String::new();
                if !item.is_filler() && item.elementary().is_some() {
                    write_string(decoder.name(item.id), &mut key);
                    key.push(':');
                }
                key
            })
            .collect();
        JsonRecord {
            decoder,
            strict,
            fields: Vec::new(),
            slots: vec![ABSENT; items.len()],
            keys,
            problems: Vec::new(),
        }
    }

    /// Forgets the previous record.
    pub fn clear(&mut self) {
        for (item, _) in &self.fields {
            self.slots[item.index()] = ABSENT;
        }
        self.fields.clear();
        self.problems.clear();
    }

    /// The node of `item`, made when missing.
    fn node(&mut self, item: ItemId, make: impl FnOnce() -> Node) -> &mut Node {
        let slot = &mut self.slots[item.index()];
        let at = if *slot == ABSENT {
            *slot = self.fields.len() as u32;
            self.fields.push((item, make()));
            self.fields.len() - 1
        } else {
            *slot as usize
        };
        &mut self.fields[at].1
    }

    /// Appends the record as one line of JSON (without the newline).
    pub fn write(&self, out: &mut String) {
        out.push('{');
        for (index, (item, node)) in self.fields.iter().enumerate() {
            if index > 0 {
                out.push(',');
            }
            out.push_str(&self.keys[item.index()]);
            write_node(node, out);
        }
        out.push('}');
    }
}

fn write_node(node: &Node, out: &mut String) {
    match node {
        Tree::Leaf(value) => value.write_json(out),
        Tree::List(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_node(item, out);
            }
            out.push(']');
        }
    }
}

impl Sink for JsonRecord<'_, '_> {
    fn table(&mut self, table: &Item, indices: &[u32], _count: u32) {
        // Every field under the table gets its (possibly empty) list here,
        // so that a count of 0 prints [] rather than nothing.
        let copybook = self.decoder.copybook();
        for item in copybook.descendants(table.id).iter().chain([table]) {
            if item.is_filler() || item.elementary().is_none() {
                continue;
            }
            let node = self.node(item.id, || Tree::List(Vec::new()));
            let _ = node.list_at(indices);
        }
    }

    fn uncounted(&mut self, error: RecordError, problem: FieldError) -> Result<(), RecordError> {
        if self.strict {
            return Err(error);
        }
        self.problems.push(problem);
        Ok(())
    }

    fn value(
        &mut self,
        item: &Item,
        indices: &[u32],
        value: Result<Value, FieldError>,
    ) -> Result<(), RecordError> {
        let value = match value {
            Ok(value) => value,
            Err(problem) if self.strict => return Err(RecordError::Field(problem)),
            Err(problem) => {
                self.problems.push(problem);
                Value::Null
            }
        };
        let make = || {
            if indices.is_empty() {
                Tree::Leaf(Value::Null)
            } else {
                Tree::List(Vec::new())
            }
        };
        self.node(item.id, make).put(indices, value, || Value::Null);
        Ok(())
    }
}

/// Appends `text` as a JSON string. Text without quotes, backslashes or
/// control characters, nearly all of it, is copied as it is.
pub fn write_string(text: &str, out: &mut String) {
    out.push('"');
    if !text.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        out.push_str(text);
    } else {
        for character in text.chars() {
            match character {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                c if u32::from(c) < 0x20 => {
                    use std::fmt::Write;
                    let _ = write!(out, "\\u{:04x}", u32::from(c));
                }
                c => out.push(c),
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_as_json_and_read_back_the_same() {
        for text in [
            "plain",
            "",
            "a \"quoted\" \\ path",
            "C\0\0\u{f}\n\r\t\u{8}\u{c}\u{1f}",
            "€ \u{85}\u{7f}",
        ] {
            let mut out = String::new();
            write_string(text, &mut out);
            let back: String = serde_json::from_str(&out).expect("valid JSON");
            assert_eq!(back, text, "{out}");
        }
        let mut out = String::new();
        write_string("C\0\u{f}", &mut out);
        assert_eq!(out, r#""C\u0000\u000f""#);
    }
}
