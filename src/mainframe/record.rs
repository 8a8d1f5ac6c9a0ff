//! Records: the values in one record's bytes, read by its copybook.
//!
//! A [`Decoder`] walks a record's items in order and hands every value of
//! every named elementary item to a [`Sink`], with the occurrence indices
//! of the OCCURS tables around it. A table DEPENDING ON a count has only
//! that many occurrences; the count is the value of its counter in the same
//! record, read before the table (the copybook guarantees it comes first).
//! In the fixed layout (the default) a table takes its maximum space
//! whatever its count; with `variable_occurs` it takes only its count's,
//! and the items after it move up, as in a V record written by COBOL.
//!
//! REDEFINES alternatives are all decoded, unless [`Routing`] names the
//! alternative (or, among several 01 records, the record) that a
//! record-type field selects. A field whose bytes are not valid for its
//! type is a [`FieldError`] carrying its name, offset and raw bytes; the
//! sink decides whether that is a null, a reject or the end.

use std::borrow::Cow;
use std::collections::HashMap;

use super::codepage::Charset;
use super::copybook::{
    Copybook, DataType, FloatWidth, Item, ItemId, ItemKind, SignPosition, ZonedSign,
};
use super::decimal::Decimal;
use super::number::{
    Endian, Family, FloatFormat, NumberError, Reading, Sign, read_binary, read_float, read_packed,
    read_zoned, read_zoned_point,
};

/// What a counter's problem says happened to its table.
pub const EMPTY_TABLE: &str = "the table is read as empty";

/// A decoded value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// No value: blank numeric (by policy), or a field that could not be
    /// read where errors become nulls.
    Null,
    Text(String),
    Number(Decimal),
    Float(f64),
}

/// What a numeric field of spaces or low-values is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Blank {
    /// Null: no value was written.
    #[default]
    Null,
    /// An error: the field must hold a number.
    Error,
}

/// How records are decoded.
#[derive(Debug, Clone)]
pub struct Options {
    /// The code page of text fields (and of the signs and points of
    /// numeric DISPLAY fields).
    pub charset: Charset,
    /// Code pages of particular fields, overriding `charset`.
    pub field_charsets: HashMap<ItemId, Charset>,
    /// Strict: only C, D and F sign nibbles; text must be printable in the
    /// code page.
    pub strict: bool,
    /// The padding of text fields is removed: trailing spaces, or leading
    /// ones for a JUSTIFIED RIGHT item (whose padding is on the left).
    pub trim: bool,
    pub blank: Blank,
    pub floats: FloatFormat,
    /// Byte order of COMP-5 (native binary); COMP is always big-endian.
    pub native_endian: Endian,
    /// OCCURS DEPENDING ON tables take only their count's space.
    pub variable_occurs: bool,
}

impl Options {
    pub fn new(charset: Charset) -> Options {
        Options {
            charset,
            field_charsets: HashMap::new(),
            strict: false,
            trim: true,
            blank: Blank::Null,
            floats: FloatFormat::IbmHex,
            native_endian: Endian::Big,
            variable_occurs: false,
        }
    }
}

/// Which REDEFINES alternative (or which 01 record) a record-type field
/// selects.
#[derive(Debug, Clone)]
pub struct Routing {
    /// The record-type field: elementary, outside any OCCURS, at the same
    /// place in every record it routes.
    pub field: ItemId,
    /// Its value (text trimmed, or a number as written) and the item that
    /// value selects: a record, or an alternative of a REDEFINES set.
    pub routes: Vec<(String, ItemId)>,
}

/// A field whose bytes are not a value of its type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field {name} at record offset {offset} (bytes {hex}): {message}", hex = hex::encode_upper(bytes))]
pub struct FieldError {
    pub item: ItemId,
    /// The name, qualified by its groups when it is ambiguous, with its
    /// occurrence (`AMOUNT (2)`).
    pub name: String,
    /// The field's offset in the record.
    pub offset: usize,
    pub bytes: Vec<u8>,
    pub message: String,
}

/// Why a record cannot be decoded at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("the record is {len} bytes; its layout needs {needed} bytes up to field {field}")]
    Short {
        len: usize,
        needed: usize,
        field: String,
    },
    #[error("the count {count} of {counter} is outside OCCURS {min} TO {max} of {table}")]
    Count {
        counter: String,
        table: String,
        count: String,
        min: u32,
        max: u32,
    },
    #[error(
        "the count of {table} cannot be read: its counter {counter} does not hold a whole number"
    )]
    Uncounted { counter: String, table: String },
    #[error("{0}")]
    Field(FieldError),
}

/// Receives a record's values in record order.
pub trait Sink {
    /// An OCCURS table `table` at `indices` (of the tables around it) has
    /// `count` occurrences in this record; called before its values, and
    /// also when `count` is 0.
    fn table(&mut self, _table: &Item, _indices: &[u32], _count: u32) {}

    /// The value of elementary item `item` at `indices`, or why its bytes
    /// are not one. Returning an error ends the record with it.
    /// The count of table `table` cannot be read or is out of its
    /// range (`error`). By default that ends the record; a sink that would
    /// rather go on takes `problem` (the counter's name, offset and bytes)
    /// and returns `Ok`: in the fixed layout the table then has no
    /// occurrences and the fields after it are read where they lie. With
    /// variable-size tables nothing after it can be placed, so the record
    /// always ends.
    fn uncounted(&mut self, error: RecordError, problem: FieldError) -> Result<(), RecordError> {
        let _ = problem;
        Err(error)
    }

    fn value(
        &mut self,
        item: &Item,
        indices: &[u32],
        value: Result<Value, FieldError>,
    ) -> Result<(), RecordError>;
}

/// Decodes the records of one copybook, borrowed or its own (a reader
/// that outlives the copybook it was made from keeps a copy).
#[derive(Debug)]
pub struct Decoder<'c> {
    copybook: Cow<'c, Copybook>,
    options: Options,
    routing: Option<Routing>,
    /// The record decoded when routing does not choose one (the first).
    record: Option<ItemId>,
    /// The items tables depend on: their values are counts.
    counters: Vec<ItemId>,
    /// Names of ambiguous items, qualified.
    names: HashMap<ItemId, String>,
}

impl<'c> Decoder<'c> {
    pub fn new(copybook: &'c Copybook, options: Options, routing: Option<Routing>) -> Decoder<'c> {
        Decoder::of(Cow::Borrowed(copybook), options, routing)
    }

    /// A decoder that keeps its own copy of `copybook`.
    pub fn owning(
        copybook: Copybook,
        options: Options,
        routing: Option<Routing>,
    ) -> Decoder<'static> {
        Decoder::of(Cow::Owned(copybook), options, routing)
    }

    fn of(copybook: Cow<'c, Copybook>, options: Options, routing: Option<Routing>) -> Decoder<'c> {
        let counters = copybook
            .items()
            .iter()
            .filter_map(|item| item.occurs.and_then(|occurs| occurs.depending_on))
            .collect();
        Decoder {
            names: output_names(&copybook),
            copybook,
            options,
            routing,
            record: None,
            counters,
        }
    }

    /// Decodes records by the layout of `record` (one of the copybook's
    /// records) unless routing chooses another, rather than by the first.
    pub fn with_record(mut self, record: ItemId) -> Decoder<'c> {
        self.record = Some(record);
        self
    }

    pub fn copybook(&self) -> &Copybook {
        &self.copybook
    }

    /// The name an item's values go by: its own, or, when another item of
    /// its record has the same name, qualified (`ADDRESS OF PERSON`).
    pub fn name(&self, id: ItemId) -> &str {
        self.names
            .get(&id)
            .map_or_else(|| self.copybook.item(id).display_name(), String::as_str)
    }

    /// The record layout `bytes` is in: the routed one, or the one chosen
    /// by [`Decoder::with_record`], or the first.
    pub fn record_for(&self, bytes: &[u8]) -> Option<&Item> {
        let routed = self.routing.as_ref().and_then(|routing| {
            let value = self.route_value(routing, bytes)?;
            routing
                .routes
                .iter()
                .find(|(key, target)| *key == value && self.copybook.item(*target).parent.is_none())
                .map(|(_, target)| self.copybook.item(*target))
        });
        routed
            .or_else(|| self.record.map(|id| self.copybook.item(id)))
            .or_else(|| self.copybook.records().next())
    }

    /// The record-type value of `bytes`, as routes are written: text without
    /// the spaces or low-values (0x00) that pad it, a number as printed.
    fn route_value(&self, routing: &Routing, bytes: &[u8]) -> Option<String> {
        let item = self.copybook.item(routing.field);
        let field = bytes.get(item.offset..item.offset + item.length)?;
        match self.field(item, field, item.offset, &[]) {
            Ok(Value::Text(text)) => Some(text.trim_matches([' ', '\0']).to_string()),
            Ok(Value::Number(number)) => Some(number.to_string()),
            _ => None,
        }
    }

    /// The record-type value of `bytes` as routes are written (text
    /// trimmed, a number as written), when routing and readable.
    pub fn record_type(&self, bytes: &[u8]) -> Option<String> {
        self.route_value(self.routing.as_ref()?, bytes)
    }

    /// Decodes one record into `sink`.
    pub fn decode(&self, bytes: &[u8], sink: &mut dyn Sink) -> Result<(), RecordError> {
        self.decode_measured(bytes, sink).map(|_| ())
    }

    /// Decodes one record into `sink` and returns the bytes its layout
    /// took: the record's length, or with `variable_occurs` only as much as
    /// its counts make it (for records written back to back).
    pub fn decode_measured(&self, bytes: &[u8], sink: &mut dyn Sink) -> Result<usize, RecordError> {
        let Some(record) = self.record_for(bytes) else {
            return Ok(0);
        };
        self.walk(record, bytes, sink)
    }

    /// Decodes one record into `sink` by the layout of `record` (one of the
    /// copybook's records), whatever its record type says; routing still
    /// selects among the REDEFINES alternatives inside it.
    pub fn decode_as(
        &self,
        record: &Item,
        bytes: &[u8],
        sink: &mut dyn Sink,
    ) -> Result<(), RecordError> {
        self.walk(record, bytes, sink).map(|_| ())
    }

    /// Decodes one record by the layout of `record`; returns the bytes it took.
    fn walk(&self, record: &Item, bytes: &[u8], sink: &mut dyn Sink) -> Result<usize, RecordError> {
        let route = self
            .routing
            .as_ref()
            .and_then(|routing| self.route_value(routing, bytes));
        let mut walk = Walk {
            decoder: self,
            bytes,
            sink,
            counts: Vec::new(),
            indices: Vec::new(),
            route,
        };
        walk.item(record, 0)
    }

    /// Decodes the bytes of one occurrence of elementary item `item`.
    fn field(
        &self,
        item: &Item,
        bytes: &[u8],
        offset: usize,
        indices: &[u32],
    ) -> Result<Value, FieldError> {
        let Some(elementary) = item.elementary() else {
            return Ok(Value::Null);
        };
        let charset = self
            .options
            .field_charsets
            .get(&item.id)
            .unwrap_or(&self.options.charset);
        let strict = self.options.strict;
        let error = |message: String| FieldError {
            item: item.id,
            name: self.occurrence_name(item.id, indices),
            offset,
            bytes: bytes.to_vec(),
            message,
        };
        let number = |reading: Result<Reading<Decimal>, NumberError>| match reading {
            Ok(Reading::Value(value)) => Ok(Value::Number(value)),
            Ok(Reading::Blank) if self.options.blank == Blank::Null => Ok(Value::Null),
            Ok(Reading::Blank) => Err(error("the field is blank".to_string())),
            Err(problem) => Err(error(problem.to_string())),
        };
        let family = if charset.page().is_ebcdic() {
            Family::Ebcdic
        } else {
            Family::Ascii
        };
        match elementary.data {
            DataType::Text => {
                // The padding is trimmed, on the right, or on the left of a
                // JUSTIFIED RIGHT item; before decoding, since only one
                // byte of a page is a space, and most text is padding.
                let space = charset.page().space();
                let kept = if !self.options.trim {
                    bytes
                } else if elementary.justified_right {
                    let start = bytes
                        .iter()
                        .position(|&b| b != space)
                        .unwrap_or(bytes.len());
                    &bytes[start..]
                } else {
                    let end = bytes
                        .iter()
                        .rposition(|&b| b != space)
                        .map_or(0, |at| at + 1);
                    &bytes[..end]
                };
                let mut text = String::new();
                if strict {
                    charset
                        .decode_strict(kept, &mut text)
                        .map_err(|problem| error(problem.to_string()))?;
                } else {
                    charset.decode_lossy(kept, &mut text);
                }
                Ok(Value::Text(text))
            }
            DataType::Zoned(zoned) => {
                let sign = match zoned.sign {
                    ZonedSign::Unsigned => Sign::Unsigned,
                    ZonedSign::Overpunched(SignPosition::Leading) => Sign::Leading,
                    ZonedSign::Overpunched(SignPosition::Trailing) => Sign::Trailing,
                    ZonedSign::Separate(SignPosition::Leading) => Sign::LeadingSeparate,
                    ZonedSign::Separate(SignPosition::Trailing) => Sign::TrailingSeparate,
                };
                let scale = zoned.decimal.scale;
                number(if zoned.explicit_point {
                    read_zoned_point(bytes, scale, sign, family, strict)
                } else {
                    read_zoned(bytes, scale, sign, family, strict)
                })
            }
            DataType::Edited(decimal) => number(read_edited(bytes, charset, decimal.scale.max(0))),
            DataType::Packed(decimal) => number(read_packed(bytes, decimal.scale, strict)),
            DataType::Binary(binary) => {
                let endian = if binary.native {
                    self.options.native_endian
                } else {
                    Endian::Big
                };
                read_binary(bytes, binary.decimal.scale, binary.decimal.signed, endian)
                    .map(Value::Number)
                    .map_err(|problem| error(problem.to_string()))
            }
            DataType::Float(width) => {
                let value = read_float(bytes, self.options.floats)
                    .map_err(|problem| error(problem.to_string()))?;
                Ok(Value::Float(match width {
                    FloatWidth::Single => f64::from(value as f32),
                    FloatWidth::Double => value,
                }))
            }
        }
    }

    /// `NAME`, or `NAME (2, 3)` for an occurrence.
    fn occurrence_name(&self, id: ItemId, indices: &[u32]) -> String {
        occurrence_name(self.name(id), indices)
    }
}

/// `NAME`, or `NAME (2, 3)` for an occurrence (1-based, as COBOL counts).
pub(super) fn occurrence_name(name: &str, indices: &[u32]) -> String {
    if indices.is_empty() {
        return name.to_string();
    }
    let list: Vec<String> = indices
        .iter()
        .map(|index| (index + 1).to_string())
        .collect();
    format!("{name} ({})", list.join(", "))
}

/// Reads a number written with editing characters (`9(6).99-`, `+9(8)`,
/// `Z(6)VZZ-`, `9(8).9(2)`): its digits in order, a sign (`-`, `+`, `CR`,
/// `DB`), at most one point, and the spaces, commas, `$`, `*` and `/` of
/// zero suppression and insertion around them. Without a written point the
/// picture's `scale` places the point.
fn read_edited(
    bytes: &[u8],
    charset: &Charset,
    scale: i32,
) -> Result<Reading<Decimal>, NumberError> {
    let mut text = String::with_capacity(bytes.len());
    charset.decode_lossy(bytes, &mut text);
    let mut body = text.trim_matches(|c: char| c == ' ' || c == '\0');
    if body.is_empty() {
        return Ok(Reading::Blank);
    }
    let mut negative = false;
    for suffix in ["CR", "DB"] {
        if let Some(rest) = body.strip_suffix(suffix) {
            negative = true;
            body = rest;
        }
    }
    let mut digits = String::new();
    let mut point: Option<usize> = None;
    for (index, character) in body.chars().enumerate() {
        match character {
            '0'..='9' => digits.push(character),
            '.' if point.is_none() => point = Some(digits.len()),
            '-' => negative = true,
            '+' | ' ' | ',' | '$' | '*' | '/' | 'B' => {}
            _ => {
                let at = text.len() - text.trim_start().len() + index;
                return Err(NumberError::Digit {
                    at,
                    byte: bytes.get(at).copied().unwrap_or(0),
                });
            }
        }
    }
    if digits.is_empty() {
        return Ok(Reading::Blank);
    }
    let written_scale = point.map_or(scale, |at| (digits.len() - at) as i32);
    let value: Decimal = digits.parse().map_err(NumberError::Value)?;
    let coefficient = if negative {
        -value.coefficient()
    } else {
        value.coefficient()
    };
    Ok(Reading::Value(Decimal::new(coefficient, written_scale)))
}

/// One record being decoded.
struct Walk<'d, 'c, 's> {
    decoder: &'d Decoder<'c>,
    bytes: &'d [u8],
    sink: &'s mut dyn Sink,
    /// Values of counters read so far: (counter, indices, count).
    counts: Vec<(ItemId, Vec<u32>, i128)>,
    /// The occurrence indices of the tables around the current item.
    indices: Vec<u32>,
    /// The record-type value, when routing.
    route: Option<String>,
}

impl Walk<'_, '_, '_> {
    /// Decodes item `item` (all its occurrences) starting at `offset`, and
    /// returns the bytes it took.
    fn item(&mut self, item: &Item, offset: usize) -> Result<usize, RecordError> {
        let Some(occurs) = item.occurs else {
            return self.occurrence(item, offset);
        };
        let count = match occurs.depending_on {
            Some(counter) => match self.count(item, counter, occurs.min, occurs.max) {
                Ok(count) => count,
                Err(error) if !self.decoder.options.variable_occurs => {
                    let problem = self.counter_problem(counter, &error);
                    self.sink.uncounted(error, problem)?;
                    0
                }
                Err(error) => return Err(error),
            },
            None => occurs.max,
        };
        self.sink.table(item, &self.indices, count);
        let mut at = offset;
        for index in 0..count {
            self.indices.push(index);
            let taken = self.occurrence(item, at);
            self.indices.pop();
            let taken = taken?;
            at += if self.decoder.options.variable_occurs {
                taken
            } else {
                item.length
            };
        }
        Ok(if self.decoder.options.variable_occurs {
            at - offset
        } else {
            item.extent()
        })
    }

    /// The counter of a table whose count is wrong, as a field problem:
    /// its name, its place in the fixed layout, its bytes, and `error`.
    fn counter_problem(&self, counter: ItemId, error: &RecordError) -> FieldError {
        let copybook = self.decoder.copybook();
        let depth = copybook.dimensions(counter).len();
        let prefix = &self.indices[..depth.min(self.indices.len())];
        let offset = copybook
            .offset_at(counter, prefix)
            .unwrap_or(copybook.item(counter).offset);
        let end = offset + copybook.item(counter).length;
        FieldError {
            item: counter,
            name: self.decoder.occurrence_name(counter, prefix),
            offset,
            bytes: self.bytes.get(offset..end).unwrap_or_default().to_vec(),
            message: format!("{error}; {EMPTY_TABLE}"),
        }
    }

    /// The count a table's counter holds at the current indices.
    fn count(&self, table: &Item, counter: ItemId, min: u32, max: u32) -> Result<u32, RecordError> {
        let copybook = self.decoder.copybook();
        let depth = copybook.dimensions(counter).len();
        let prefix = &self.indices[..depth.min(self.indices.len())];
        let value = self
            .counts
            .iter()
            .rev()
            .find(|(item, indices, _)| *item == counter && indices == prefix)
            .map(|(_, _, value)| *value);
        let error = |count: String| RecordError::Count {
            counter: self.decoder.name(counter).to_string(),
            table: self.decoder.name(table.id).to_string(),
            count,
            min,
            max,
        };
        let value = value.ok_or_else(|| RecordError::Uncounted {
            counter: self.decoder.name(counter).to_string(),
            table: self.decoder.name(table.id).to_string(),
        })?;
        u32::try_from(value)
            .ok()
            .filter(|count| (min..=max).contains(count) || (*count == 0 && min <= 1))
            .ok_or_else(|| error(value.to_string()))
    }

    /// Decodes one occurrence of `item` at `offset`; returns its bytes.
    fn occurrence(&mut self, item: &Item, offset: usize) -> Result<usize, RecordError> {
        let decoder = self.decoder;
        match &item.kind {
            ItemKind::Elementary(_) => {
                let end = offset + item.length;
                let Some(bytes) = self.bytes.get(offset..end) else {
                    return Err(RecordError::Short {
                        len: self.bytes.len(),
                        needed: end,
                        field: decoder.occurrence_name(item.id, &self.indices),
                    });
                };
                let counter = decoder.counters.contains(&item.id);
                if item.is_filler() && !counter {
                    // A FILLER's value is never wanted.
                    return Ok(item.length);
                }
                let value = decoder.field(item, bytes, offset, &self.indices);
                if counter {
                    let count = match &value {
                        Ok(Value::Number(number)) => {
                            number.rescale(0).ok().map(Decimal::coefficient)
                        }
                        _ => None,
                    };
                    if let Some(count) = count {
                        self.counts.push((item.id, self.indices.clone(), count));
                    }
                }
                if !item.is_filler() {
                    self.sink.value(item, &self.indices, value)?;
                }
                Ok(item.length)
            }
            ItemKind::Group => {
                let copybook = decoder.copybook();
                let mut placement = Placement::new(offset, decoder.options.variable_occurs);
                for child in copybook.children(item.id) {
                    let start = placement.start(copybook, child);
                    if !self.routed_in(child) {
                        // An alternative not decoded is still stepped over.
                        if child.redefines.is_none() {
                            placement.took(child, start, child.extent());
                        }
                        continue;
                    }
                    let taken = self.item(child, start)?;
                    placement.took(child, start, taken);
                }
                Ok(placement.length(item))
            }
        }
    }

    /// Whether `child` is decoded: always, unless routing picks another
    /// member of its REDEFINES set.
    fn routed_in(&self, child: &Item) -> bool {
        let Some(routing) = &self.decoder.routing else {
            return true;
        };
        let copybook = self.decoder.copybook();
        let head = child.redefines.unwrap_or(child.id);
        let set: Vec<ItemId> = std::iter::once(head)
            .chain(copybook.item(head).redefined_by.iter().copied())
            .collect();
        let routed: Vec<&(String, ItemId)> = routing
            .routes
            .iter()
            .filter(|(_, target)| set.contains(target))
            .collect();
        if routed.is_empty() {
            return true;
        }
        routed
            .iter()
            .any(|(value, target)| *target == child.id && Some(value) == self.route.as_ref())
    }
}

/// Where the items of a group lie. In the fixed layout, at their offsets.
/// With variable-size tables, one after another as long as each turns out
/// to be, the members of a REDEFINES set all at the set's start, and the
/// set as long as its longest member. The decoder and the encoder walk a
/// record the same way, through this.
#[derive(Debug)]
pub(super) struct Placement {
    variable: bool,
    /// Where the group starts.
    offset: usize,
    /// Where the current REDEFINES set (or lone item) starts.
    set_start: usize,
    /// The furthest any item so far reached; never before `set_start`.
    set_end: usize,
}

impl Placement {
    pub(super) fn new(offset: usize, variable: bool) -> Placement {
        Placement {
            variable,
            offset,
            set_start: offset,
            set_end: offset,
        }
    }

    /// Where `child`, the group's next item, starts.
    pub(super) fn start(&mut self, copybook: &Copybook, child: &Item) -> usize {
        if !self.variable {
            return self.offset + copybook.offset_in_parent(child.id);
        }
        if child.redefines.is_none() {
            self.set_start = self.set_end;
        }
        self.set_start
    }

    /// `child`, starting at `start`, took `taken` bytes.
    pub(super) fn took(&mut self, child: &Item, start: usize, taken: usize) {
        if !self.variable {
            return;
        }
        self.set_end = match child.redefines {
            Some(_) => self.set_end.max(start + taken),
            None => start + taken,
        };
    }

    /// The bytes the whole group took.
    pub(super) fn length(&self, group: &Item) -> usize {
        if self.variable {
            self.set_end - self.offset
        } else {
            group.length
        }
    }
}

/// Qualified names for the items whose names are not unique in their
/// record (`ADDRESS OF PERSON`), with as few qualifiers as make them unique.
pub(super) fn output_names(copybook: &Copybook) -> HashMap<ItemId, String> {
    let mut names = HashMap::new();
    for record in copybook.records() {
        let items: Vec<&Item> = copybook
            .descendants(record.id)
            .iter()
            .filter(|item| !item.is_filler() && item.elementary().is_some())
            .collect();
        let mut by_name: HashMap<String, Vec<ItemId>> = HashMap::new();
        for item in &items {
            by_name
                .entry(item.display_name().to_ascii_uppercase())
                .or_default()
                .push(item.id);
        }
        for ids in by_name.values().filter(|ids| ids.len() > 1) {
            for depth in 1.. {
                let qualified: Vec<String> =
                    ids.iter().map(|id| qualify(copybook, *id, depth)).collect();
                let mut unique = qualified.clone();
                unique.sort();
                unique.dedup();
                let exhausted = ids
                    .iter()
                    .all(|id| qualify(copybook, *id, depth) == qualify(copybook, *id, depth + 1));
                if unique.len() == qualified.len() || exhausted {
                    names.extend(ids.iter().copied().zip(qualified));
                    break;
                }
            }
        }
    }
    names
}

/// `NAME OF GROUP OF ...` with at most `depth` named groups.
fn qualify(copybook: &Copybook, id: ItemId, depth: usize) -> String {
    let item = copybook.item(id);
    let mut parts = vec![item.display_name().to_string()];
    let mut at = item.parent;
    while let Some(parent) = at {
        let group = copybook.item(parent);
        if parts.len() > depth {
            break;
        }
        if let Some(name) = &group.name {
            parts.push(name.clone());
        }
        at = group.parent;
    }
    parts.join(" OF ")
}

impl Value {
    /// Appends the value as JSON: text as a string, a decimal as a JSON
    /// number written exactly (`-1234.56`, never through a float), a float
    /// as the shortest number that reads back the same, null as null.
    pub fn write_json(&self, out: &mut String) {
        use std::fmt::Write;
        match self {
            Value::Null => out.push_str("null"),
            Value::Text(text) => super::json::write_string(text, out),
            Value::Number(number) => number.write_to(out),
            Value::Float(value) if value.is_finite() => {
                let _ = write!(out, "{value:?}");
            }
            Value::Float(_) => out.push_str("null"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mainframe::codepage::{CodePage, Newline};
    use crate::mainframe::copybook::SourceFormat;
    use crate::mainframe::json::JsonRecord;

    fn copybook(text: &str) -> Copybook {
        Copybook::parse(text, "test.cpy", SourceFormat::Free).expect("a valid copybook")
    }

    fn cp037() -> Options {
        Options::new(Charset::new(CodePage::Cp037, Newline::Nel))
    }

    /// EBCDIC bytes of `text` (cp037).
    fn e(text: &str) -> Vec<u8> {
        let mut out = Vec::new();
        Charset::new(CodePage::Cp037, Newline::Nel)
            .encode(text, &mut out)
            .expect("encodable");
        out
    }

    fn json(decoder: &Decoder<'_>, bytes: &[u8]) -> String {
        let mut sink = JsonRecord::new(decoder, false);
        decoder.decode(bytes, &mut sink).expect("decodes");
        let mut out = String::new();
        sink.write(&mut out);
        out
    }

    const ACCOUNTS: &str = "
        01 ACCOUNT.
           05 CUST-ID    PIC 9(4).
           05 NAME       PIC X(6).
           05 BALANCE    PIC S9(5)V99 COMP-3.
           05 FILLER     PIC X(2).
           05 N-TX       PIC 9.
           05 TX OCCURS 0 TO 3 TIMES DEPENDING ON N-TX.
              10 TX-CODE PIC X.
              10 TX-AMT  PIC S9(3) COMP.
           05 TRAILER    PIC X(2).";

    fn account(count: u8, transactions: &[(&str, i16)], fixed: bool) -> Vec<u8> {
        let mut bytes = e("0042ALICE ");
        bytes.extend_from_slice(&[0x01, 0x23, 0x45, 0x6D]);
        bytes.extend_from_slice(&[0x00, 0xFF]);
        bytes.extend_from_slice(&e(&count.to_string()));
        for (code, amount) in transactions {
            bytes.extend_from_slice(&e(code));
            bytes.extend_from_slice(&amount.to_be_bytes());
        }
        if fixed {
            bytes.resize(bytes.len() + 3 * (3 - transactions.len()), 0x40);
        }
        bytes.extend_from_slice(&e("ZZ"));
        bytes
    }

    #[test]
    fn a_record_decodes_to_flat_fields_with_arrays_for_occurs() {
        let book = copybook(ACCOUNTS);
        let decoder = Decoder::new(&book, cp037(), None);
        assert_eq!(
            json(&decoder, &account(2, &[("D", 150), ("C", -20)], true)),
            r#"{"CUST-ID":42,"NAME":"ALICE","BALANCE":-1234.56,"N-TX":2,"TX-CODE":["D","C"],"TX-AMT":[150,-20],"TRAILER":"ZZ"}"#
        );
    }

    #[test]
    fn a_count_of_zero_gives_empty_arrays() {
        let book = copybook(ACCOUNTS);
        let decoder = Decoder::new(&book, cp037(), None);
        let line = json(&decoder, &account(0, &[], true));
        assert!(line.contains(r#""TX-CODE":[],"TX-AMT":[]"#), "{line}");
    }

    #[test]
    fn variable_occurs_moves_the_later_fields_up() {
        let book = copybook(ACCOUNTS);
        let mut options = cp037();
        options.variable_occurs = true;
        let decoder = Decoder::new(&book, options, None);
        let line = json(&decoder, &account(1, &[("D", 7)], false));
        assert!(
            line.ends_with(r#""TX-CODE":["D"],"TX-AMT":[7],"TRAILER":"ZZ"}"#),
            "{line}"
        );
    }

    #[test]
    fn a_count_beyond_the_table_is_a_problem_naming_both_and_the_table_reads_empty() {
        let book = copybook(ACCOUNTS);
        let decoder = Decoder::new(&book, cp037(), None);
        let mut strict = JsonRecord::new(&decoder, true);
        let error = decoder
            .decode(&account(7, &[], true), &mut strict)
            .expect_err("refused");
        assert_eq!(
            error.to_string(),
            "the count 7 of N-TX is outside OCCURS 0 TO 3 of TX"
        );
        // Lenient: the record goes on, the table empty, the rest in place.
        let mut lenient = JsonRecord::new(&decoder, false);
        decoder
            .decode(&account(7, &[], true), &mut lenient)
            .expect("decodes");
        let mut line = String::new();
        lenient.write(&mut line);
        assert!(
            line.ends_with(r#""N-TX":7,"TX-CODE":[],"TX-AMT":[],"TRAILER":"ZZ"}"#),
            "{line}"
        );
        assert_eq!(
            lenient.problems[0].to_string(),
            "field N-TX at record offset 16 (bytes F7): the count 7 of N-TX is outside \
             OCCURS 0 TO 3 of TX; the table is read as empty"
        );
        // With variable-size tables nothing after it can be placed.
        let mut options = cp037();
        options.variable_occurs = true;
        let variable = Decoder::new(&book, options, None);
        let mut sink = JsonRecord::new(&variable, false);
        assert!(variable.decode(&account(7, &[], false), &mut sink).is_err());
    }

    #[test]
    fn a_bad_field_is_null_with_its_place_and_bytes_unless_strict() {
        let book = copybook(ACCOUNTS);
        let decoder = Decoder::new(&book, cp037(), None);
        let mut bytes = account(0, &[], true);
        // BALANCE is bytes 10-13: a digit nibble of B in its third byte.
        bytes[12] = 0xAB;
        let mut sink = JsonRecord::new(&decoder, false);
        decoder.decode(&bytes, &mut sink).expect("decodes");
        let mut line = String::new();
        sink.write(&mut line);
        assert!(line.contains(r#""BALANCE":null"#), "{line}");
        assert_eq!(
            sink.problems[0].to_string(),
            "field BALANCE at record offset 10 (bytes 0123AB6D): byte 2 (0xAB) is not a digit"
        );
        let mut strict = JsonRecord::new(&decoder, true);
        assert!(matches!(
            decoder.decode(&bytes, &mut strict),
            Err(RecordError::Field(_))
        ));
    }

    const ENTITIES: &str = "
        01 ENTITY.
           05 SEGMENT-ID PIC X.
           05 COMPANY.
              10 COMPANY-NAME PIC X(4).
              10 ADDRESS      PIC X(3).
           05 PERSON REDEFINES COMPANY.
              10 FIRST-NAME   PIC X(2).
              10 ADDRESS      PIC X(5).";

    #[test]
    fn every_redefines_view_is_decoded_and_repeated_names_are_qualified() {
        let book = copybook(ENTITIES);
        let decoder = Decoder::new(&book, cp037(), None);
        assert_eq!(
            json(&decoder, &e("CACMEOSL")),
            r#"{"SEGMENT-ID":"C","COMPANY-NAME":"ACME","ADDRESS OF COMPANY":"OSL","FIRST-NAME":"AC","ADDRESS OF PERSON":"MEOSL"}"#
        );
    }

    #[test]
    fn routing_decodes_only_the_alternative_the_record_type_selects() {
        let book = copybook(ENTITIES);
        let id = |name: &str| {
            book.items()
                .iter()
                .find(|item| item.is_named(name))
                .map(|item| item.id)
                .expect("an item")
        };
        let routing = Routing {
            field: id("SEGMENT-ID"),
            routes: vec![("C".into(), id("COMPANY")), ("P".into(), id("PERSON"))],
        };
        let decoder = Decoder::new(&book, cp037(), Some(routing));
        assert_eq!(
            json(&decoder, &e("PJOBERGN")),
            r#"{"SEGMENT-ID":"P","FIRST-NAME":"JO","ADDRESS OF PERSON":"BERGN"}"#
        );
        assert_eq!(json(&decoder, &e("XJOBERGN")), r#"{"SEGMENT-ID":"X"}"#);
    }

    #[test]
    fn edited_and_explicit_point_numbers_read_their_written_point_and_sign() {
        let book = copybook(
            "01 R.
               05 A PIC 9(6).99-.
               05 B PIC +9(4).
               05 C PIC 9(3).9(2).",
        );
        let mut options = Options::new(Charset::new(CodePage::Ascii, Newline::Nel));
        options.trim = true;
        let decoder = Decoder::new(&book, options, None);
        assert_eq!(
            json(&decoder, b"001234.50--0042789.0 "),
            r#"{"A":-1234.50,"B":-42,"C":789.0}"#
        );
    }

    #[test]
    fn a_justified_right_item_loses_its_padding_on_the_left() {
        let book = copybook("01 R. 05 A PIC X(5) JUSTIFIED RIGHT. 05 B PIC X(5).");
        let decoder = Decoder::new(&book, cp037(), None);
        assert_eq!(
            json(&decoder, &e("  A B A B ")),
            r#"{"A":"A B","B":" A B"}"#
        );
    }

    #[test]
    fn a_short_record_names_the_field_it_ends_in() {
        let book = copybook(ACCOUNTS);
        let decoder = Decoder::new(&book, cp037(), None);
        let mut sink = JsonRecord::new(&decoder, false);
        let error = decoder
            .decode(&e("0042AL"), &mut sink)
            .expect_err("refused");
        assert_eq!(
            error.to_string(),
            "the record is 6 bytes; its layout needs 10 bytes up to field NAME"
        );
    }

    #[test]
    fn decode_measured_says_how_many_bytes_the_record_took() {
        let book = copybook(ACCOUNTS);
        let mut options = cp037();
        let fixed = Decoder::new(&book, options.clone(), None);
        let bytes = account(1, &[("D", 7)], true);
        let mut sink = JsonRecord::new(&fixed, false);
        assert_eq!(fixed.decode_measured(&bytes, &mut sink), Ok(bytes.len()));
        options.variable_occurs = true;
        let variable = Decoder::new(&book, options, None);
        let bytes = account(1, &[("D", 7)], false);
        let mut longer = bytes.clone();
        longer.extend(e("NEXT RECORD"));
        let mut sink = JsonRecord::new(&variable, false);
        assert_eq!(
            variable.decode_measured(&longer, &mut sink),
            Ok(bytes.len())
        );
    }

    #[test]
    fn with_record_decodes_by_another_01_record() {
        let book = copybook(
            "01 HEADER. 05 KIND PIC X. 05 RUN-DATE PIC 9(4).
             01 DETAIL. 05 KIND PIC X. 05 QTY PIC 9(2). 05 FILLER PIC X(2).",
        );
        let detail = book.record("DETAIL").expect("a record").id;
        let decoder = Decoder::new(&book, cp037(), None).with_record(detail);
        assert_eq!(json(&decoder, &e("D42  ")), r#"{"KIND":"D","QTY":42}"#);
    }

    #[test]
    fn a_record_type_padded_with_low_values_still_routes() {
        let padded = copybook("01 R. 05 KIND PIC X(3). 05 A PIC X(2). 05 B REDEFINES A PIC 9(2).");
        let kind = padded.items()[1].id;
        let b = padded.items()[3].id;
        let routing = Routing {
            field: kind,
            routes: vec![("N".into(), b)],
        };
        let decoder = Decoder::new(&padded, cp037(), Some(routing));
        let mut bytes = e("N");
        bytes.extend([0x00, 0x00]);
        bytes.extend(e("42"));
        assert_eq!(json(&decoder, &bytes), r#"{"KIND":"N\u0000\u0000","B":42}"#);
    }

    #[test]
    fn a_counter_that_holds_no_number_is_named() {
        let book = copybook("01 R. 05 N PIC X. 05 T OCCURS 0 TO 2 DEPENDING ON N. 10 V PIC X.");
        let decoder = Decoder::new(&book, cp037(), None);
        let mut sink = JsonRecord::new(&decoder, true);
        let error = decoder.decode(&e("A  "), &mut sink).expect_err("refused");
        assert_eq!(
            error.to_string(),
            "the count of T cannot be read: its counter N does not hold a whole number"
        );
        let mut lenient = JsonRecord::new(&decoder, false);
        assert_eq!(decoder.decode(&e("A  "), &mut lenient), Ok(()));
        assert_eq!(lenient.problems.len(), 1);
    }
}
