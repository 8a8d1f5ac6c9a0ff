//! One record as one flat JSON object: what `droplake decode` prints.
//!
//! Keys are the copybook's elementary names as written (`CUST-ID`),
//! qualified only when a name repeats in the record (`ADDRESS OF PERSON`),
//! in record order. A field under OCCURS is an array with one value per
//! occurrence (as many as OCCURS DEPENDING ON says), nested once per
//! table. Groups and FILLER never appear. A field that cannot be read is
//! null, and the problem is kept for the caller to report, unless the sink
//! is strict, when it ends the record.

use super::copybook::Item;
use super::record::{Decoder, FieldError, RecordError, Sink, Value};

/// A value, or a list of them for a table.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    Leaf(Value),
    List(Vec<Node>),
}

/// Collects one record's values as a flat JSON object.
#[derive(Debug)]
pub struct JsonRecord<'d, 'c> {
    decoder: &'d Decoder<'c>,
    strict: bool,
    fields: Vec<(String, Node)>,
    /// The fields that could not be read, in order.
    pub problems: Vec<FieldError>,
}

impl<'d, 'c> JsonRecord<'d, 'c> {
    pub fn new(decoder: &'d Decoder<'c>, strict: bool) -> JsonRecord<'d, 'c> {
        JsonRecord {
            decoder,
            strict,
            fields: Vec::new(),
            problems: Vec::new(),
        }
    }

    /// Forgets the previous record.
    pub fn clear(&mut self) {
        self.fields.clear();
        self.problems.clear();
    }

    /// The node of `key`, made when missing.
    fn node(&mut self, key: &str, make: impl FnOnce() -> Node) -> &mut Node {
        let at = match self.fields.iter().position(|(name, _)| name == key) {
            Some(at) => at,
            None => {
                self.fields.push((key.to_string(), make()));
                self.fields.len() - 1
            }
        };
        &mut self.fields[at].1
    }

    /// Appends the record as one line of JSON (without the newline).
    pub fn write(&self, out: &mut String) {
        out.push('{');
        for (index, (key, node)) in self.fields.iter().enumerate() {
            if index > 0 {
                out.push(',');
            }
            out.push_str(&serde_json::to_string(key).unwrap_or_default());
            out.push(':');
            write_node(node, out);
        }
        out.push('}');
    }
}

fn write_node(node: &Node, out: &mut String) {
    match node {
        Node::Leaf(value) => value.write_json(out),
        Node::List(items) => {
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

/// The list at `indices` (creating lists on the way), for a key whose
/// values are nested `depth` tables deep.
fn list_at<'n>(mut node: &'n mut Node, indices: &[u32]) -> Option<&'n mut Vec<Node>> {
    for &index in indices {
        let Node::List(items) = node else { return None };
        let index = index as usize;
        while items.len() <= index {
            items.push(Node::List(Vec::new()));
        }
        node = &mut items[index];
    }
    match node {
        Node::List(items) => Some(items),
        Node::Leaf(_) => None,
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
            let key = self.decoder.name(item.id).to_string();
            let node = self.node(&key, || Node::List(Vec::new()));
            let _ = list_at(node, indices);
        }
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
        let key = self.decoder.name(item.id).to_string();
        let Some((last, outer)) = indices.split_last() else {
            *self.node(&key, || Node::Leaf(Value::Null)) = Node::Leaf(value);
            return Ok(());
        };
        let node = self.node(&key, || Node::List(Vec::new()));
        if let Some(list) = list_at(node, outer) {
            let last = *last as usize;
            while list.len() < last {
                list.push(Node::Leaf(Value::Null));
            }
            if list.len() == last {
                list.push(Node::Leaf(value));
            } else {
                list[last] = Node::Leaf(value);
            }
        }
        Ok(())
    }
}
