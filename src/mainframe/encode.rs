//! Records written: the bytes of one record from the values of its fields,
//! by its copybook; the inverse of [`super::record::Decoder`].
//!
//! An [`Encoder`] walks a record's items in order, as the decoder does,
//! asks a [`Source`] for the value of every named elementary item at the
//! occurrence indices of the OCCURS tables around it, and writes it at its
//! offset. Nothing is ever rounded or cut: a text longer than its field, a
//! number with more digits or decimal places than its picture, a negative
//! number in an unsigned field are errors naming the field and the value.
//!
//! - **Text** in the code page, padded with spaces on the right (on the
//!   left for JUSTIFIED RIGHT). A number given for a text field is written
//!   as its decimal text.
//! - **Numbers**: zoned, packed and binary exactly (`number::write_*`);
//!   numeric-edited pictures as COBOL edits them (zero suppression,
//!   floating and fixed signs, `CR`/`DB`, `$`, insertion characters), except
//!   the insertion zero `0`, which no reader can tell from a digit and is
//!   refused. BLANK WHEN ZERO writes a zero as spaces. A number may come as
//!   text (its exact decimal text) or as a binary float, which is taken at
//!   its shortest decimal text: it must then fit the picture exactly.
//! - **COMP-1 and COMP-2** are floating point on the mainframe too: a value
//!   is written as the nearest number of the float format.
//! - **Bytes no value is written to** (FILLER, the REDEFINES alternatives
//!   not written, occurrences past an OCCURS DEPENDING ON count in the fixed
//!   layout) are spaces of the code page.
//! - **Missing and null.** A field the source has no value for (`None`) is
//!   written blank: spaces for text, zero for a number. A null is spaces for
//!   text, and for a number what the [`NullPolicy`] says (an error unless
//!   told otherwise). Text that is empty or all spaces is null for a number.
//! - **REDEFINES**: one alternative of a set is written: with [`Routing`],
//!   the one the record-type field's value selects (the values of the
//!   others are not read); without, the one whose fields have values. Two
//!   alternatives with values are an error; none leaves the bytes spaces.
//! - **OCCURS DEPENDING ON**: the counter's value is the count. Where the
//!   source has no value for the counter, the count is the number of
//!   occurrences the source holds (its arrays), and that is written (0
//!   when it holds none: a missing number is zero). A
//!   count the arrays disagree with, or a value past the count, is an error.
//!   With `variable_occurs` a table takes only its count's space and the
//!   items after it move up, as the decoder's option reads them.

use std::collections::HashMap;

use super::codepage::Charset;
use super::copybook::{
    Copybook, DataType, Elementary, Item, ItemId, ItemKind, Picture, Precision, SignPosition,
    Symbol, ZonedSign,
};
use super::decimal::{Decimal, MAX_DIGITS};
use super::number::{
    Endian, Family, FloatFormat, Sign, write_binary, write_float, write_packed, write_zoned,
};
use super::record::{Placement, Routing, Value, output_names};

/// What a null becomes in a numeric field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NullPolicy {
    /// An error naming the field: a number has no null on the mainframe.
    #[default]
    Error,
    /// Spaces (a decoder reads them as blank); refused for binary and
    /// floating-point fields, which have no blank.
    Spaces,
    /// Zero.
    Zeros,
    /// Low-values (bytes 0x00), for every type; text fields too.
    LowValues,
}

/// How records are encoded.
#[derive(Debug, Clone)]
pub struct Options {
    /// The code page of text fields and of the digits, signs and points of
    /// numeric DISPLAY fields.
    pub charset: Charset,
    pub floats: FloatFormat,
    /// Byte order of COMP-5 (native binary); COMP is always big-endian.
    pub native_endian: Endian,
    /// OCCURS DEPENDING ON tables take only their count's space.
    pub variable_occurs: bool,
    pub null: NullPolicy,
}

impl Options {
    pub fn new(charset: Charset) -> Options {
        Options {
            charset,
            floats: FloatFormat::IbmHex,
            native_endian: Endian::Big,
            variable_occurs: false,
            null: NullPolicy::Error,
        }
    }
}

/// Where the values of one record come from.
pub trait Source {
    /// The value of elementary item `item` at `indices` (one per OCCURS
    /// around it, 0-based, outermost first), or `None` when the record has
    /// none (no column for it). An error says why the value cannot be read.
    fn value(&self, item: &Item, indices: &[u32]) -> Result<Option<Value>, String>;

    /// How many occurrences of `table` at `indices` (of the tables around
    /// it) the record holds, when the source knows (an array does); an
    /// error when its arrays disagree.
    fn occurrences(&self, table: &Item, indices: &[u32]) -> Result<Option<u32>, String>;

    /// Whether elementary item `item` has a value other than null at some
    /// occurrence whose indices start with `indices`.
    fn given(&self, item: &Item, indices: &[u32]) -> bool;
}

/// Why a record cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field {name}: {message}")]
pub struct EncodeError {
    pub item: ItemId,
    /// The name, qualified when it is ambiguous, with its occurrence
    /// (`AMOUNT (2)`).
    pub name: String,
    pub message: String,
}

/// Encodes records of one 01 record of a copybook.
#[derive(Debug)]
pub struct Encoder<'c> {
    copybook: &'c Copybook,
    record: &'c Item,
    options: Options,
    routing: Option<Routing>,
    /// The tables that depend on each counter.
    counters: HashMap<ItemId, Vec<ItemId>>,
    /// Names of ambiguous items, qualified (as the decoder names them).
    names: HashMap<ItemId, String>,
}

impl<'c> Encoder<'c> {
    /// An encoder of `record` (a record of `copybook`).
    pub fn new(
        copybook: &'c Copybook,
        record: ItemId,
        options: Options,
        routing: Option<Routing>,
    ) -> Encoder<'c> {
        let mut counters: HashMap<ItemId, Vec<ItemId>> = HashMap::new();
        for item in copybook.items() {
            if let Some(counter) = item.occurs.and_then(|occurs| occurs.depending_on) {
                counters.entry(counter).or_default().push(item.id);
            }
        }
        Encoder {
            copybook,
            record: copybook.record_of(record),
            options,
            routing,
            counters,
            names: output_names(copybook),
        }
    }

    pub fn copybook(&self) -> &'c Copybook {
        self.copybook
    }

    /// The record this encoder writes.
    pub fn record(&self) -> &'c Item {
        self.record
    }

    /// The name an item goes by in messages (as the decoder names it).
    pub fn name(&self, id: ItemId) -> &str {
        self.names
            .get(&id)
            .map_or_else(|| self.copybook.item(id).display_name(), String::as_str)
    }

    /// Writes one record into `out` (replacing what it held): the record's
    /// full length, or, with `variable_occurs`, as long as its counts make it.
    pub fn encode(&self, source: &dyn Source, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.clear();
        out.resize(self.record.length, self.options.charset.page().space());
        let route = match &self.routing {
            Some(routing) => self.route_value(routing, source)?,
            None => None,
        };
        let mut walk = Walk {
            encoder: self,
            source,
            out,
            counts: Vec::new(),
            indices: Vec::new(),
            route,
            scratch: Vec::new(),
        };
        let taken = walk.item(self.record, 0)?;
        if self.options.variable_occurs {
            out.truncate(taken);
        }
        Ok(())
    }

    /// The record-type value the source gives, as routes are written: text
    /// trimmed, a number at the field's scale.
    fn route_value(
        &self,
        routing: &Routing,
        source: &dyn Source,
    ) -> Result<Option<String>, EncodeError> {
        let item = self.copybook.item(routing.field);
        let error = |message: String| self.error(item.id, &[], message);
        let value = source.value(item, &[]).map_err(error)?;
        let Some(elementary) = item.elementary() else {
            return Ok(None);
        };
        Ok(match (value, elementary.data.decimal()) {
            (None | Some(Value::Null), _) => None,
            (Some(Value::Text(text)), None) => Some(text.trim().to_string()),
            (Some(value), Some(precision)) => {
                let number = decimal_of(&value).map_err(error)?;
                Some(
                    number
                        .rescale(precision.scale)
                        .unwrap_or(number)
                        .to_string(),
                )
            }
            (Some(value), None) => Some(text_of(&value).map_err(error)?.trim().to_string()),
        })
    }

    fn error(&self, id: ItemId, indices: &[u32], message: String) -> EncodeError {
        EncodeError {
            item: id,
            name: self.occurrence_name(id, indices),
            message,
        }
    }

    /// `NAME`, or `NAME (2, 3)` for an occurrence.
    fn occurrence_name(&self, id: ItemId, indices: &[u32]) -> String {
        super::record::occurrence_name(self.name(id), indices)
    }

    /// Writes `value` for the elementary `item` into `out` (empty), exactly
    /// `item.length` bytes.
    fn field(
        &self,
        item: &Item,
        elementary: &Elementary,
        value: Option<Value>,
        out: &mut Vec<u8>,
    ) -> Result<(), String> {
        let len = item.length;
        let charset = &self.options.charset;
        let space = charset.page().space();
        let numeric = elementary.data != DataType::Text;
        let value = match value {
            Some(Value::Text(text)) if numeric && text.trim().is_empty() => Some(Value::Null),
            other => other,
        };
        let value = match value {
            Some(Value::Null) => match (elementary.data, self.options.null) {
                (_, NullPolicy::LowValues) => {
                    out.resize(len, 0);
                    return Ok(());
                }
                (DataType::Text, _) | (_, NullPolicy::Spaces)
                    if !matches!(elementary.data, DataType::Binary(_) | DataType::Float(_)) =>
                {
                    out.resize(len, space);
                    return Ok(());
                }
                (_, NullPolicy::Spaces) => {
                    return Err(format!(
                        "the value is null, and a {} field has no blank value: --null spaces cannot \
                         write it; --null zeros or low-values can",
                        elementary.usage
                    ));
                }
                (_, NullPolicy::Error) => {
                    return Err(
                        "the value is null, and a number field cannot be null: choose what \
                         a null becomes with --null spaces, zeros or low-values"
                            .to_string(),
                    );
                }
                (_, NullPolicy::Zeros) => Value::Number(Decimal::ZERO),
            },
            None if !numeric => {
                out.resize(len, space);
                return Ok(());
            }
            None => Value::Number(Decimal::ZERO),
            Some(value) => value,
        };
        let family = if charset.page().is_ebcdic() {
            Family::Ebcdic
        } else {
            Family::Ascii
        };
        let blank_zero = |number: &Decimal, out: &mut Vec<u8>| {
            let blank = elementary.blank_when_zero && number.coefficient() == 0;
            if blank {
                out.resize(len, space);
            }
            blank
        };
        let number = |value: &Value| -> Result<Decimal, String> { decimal_of(value) };
        let explain = |value: &Value, error: String| match value {
            Value::Float(_) => format!(
                "{error}; the value is a REAL (binary floating point), taken at its shortest \
                 decimal text and never rounded: round it in the query, or keep the column \
                 as an exact decimal"
            ),
            _ => error,
        };
        match elementary.data {
            DataType::Text => {
                let text = text_of(&value)?;
                let shown = text.as_str();
                let text = if elementary.justified_right {
                    text.trim_start_matches(' ')
                } else {
                    text.trim_end_matches(' ')
                };
                let count = text.chars().count();
                if count > len {
                    return Err(format!(
                        "{shown:?} is {count} characters; the field holds {len}, and droplake \
                         never cuts a value"
                    ));
                }
                if elementary.justified_right {
                    out.resize(len - count, space);
                }
                charset
                    .encode(text, out)
                    .map_err(|unencodable| unencodable.to_string())?;
                out.resize(len, space);
            }
            DataType::Zoned(zoned) if !zoned.explicit_point => {
                let decimal = number(&value)?;
                if !blank_zero(&decimal, out) {
                    write_zoned(
                        decimal,
                        zoned.decimal.digits,
                        zoned.decimal.scale,
                        sign_of(zoned.sign),
                        family,
                        out,
                    )
                    .map_err(|error| explain(&value, error.to_string()))?;
                }
            }
            DataType::Zoned(zoned) => {
                let decimal = number(&value)?;
                let separate = match zoned.sign {
                    ZonedSign::Separate(position) => Some(position),
                    _ => None,
                };
                let text = edit(
                    picture_of(elementary)?,
                    zoned.decimal,
                    separate,
                    decimal,
                    elementary.blank_when_zero,
                )
                .map_err(|error| explain(&value, error))?;
                charset
                    .encode(&text, out)
                    .map_err(|unencodable| unencodable.to_string())?;
            }
            DataType::Edited(precision) => {
                let decimal = number(&value)?;
                let text = edit(
                    picture_of(elementary)?,
                    precision,
                    None,
                    decimal,
                    elementary.blank_when_zero,
                )
                .map_err(|error| explain(&value, error))?;
                charset
                    .encode(&text, out)
                    .map_err(|unencodable| unencodable.to_string())?;
            }
            DataType::Packed(precision) => {
                let decimal = number(&value)?;
                write_packed(
                    decimal,
                    precision.digits,
                    precision.scale,
                    precision.signed,
                    out,
                )
                .map_err(|error| explain(&value, error.to_string()))?;
            }
            DataType::Binary(binary) => {
                let decimal = number(&value)?;
                let (digits, endian) = if binary.native {
                    // COMP-5 may use all of its storage.
                    (MAX_DIGITS, self.options.native_endian)
                } else {
                    (binary.decimal.digits, Endian::Big)
                };
                write_binary(
                    decimal,
                    digits,
                    binary.decimal.scale,
                    binary.decimal.signed,
                    len,
                    endian,
                    out,
                )
                .map_err(|error| explain(&value, error.to_string()))?;
            }
            DataType::Float(_) => {
                let float = float_of(&value)?;
                write_float(float, len, self.options.floats, out)
                    .map_err(|error| error.to_string())?;
            }
        }
        if out.len() != len {
            return Err(format!(
                "wrote {} bytes for a field of {len} bytes; the picture is not one droplake can \
                 write",
                out.len()
            ));
        }
        Ok(())
    }
}

/// The number sign of a zoned item.
fn sign_of(sign: ZonedSign) -> Sign {
    match sign {
        ZonedSign::Unsigned => Sign::Unsigned,
        ZonedSign::Overpunched(SignPosition::Leading) => Sign::Leading,
        ZonedSign::Overpunched(SignPosition::Trailing) => Sign::Trailing,
        ZonedSign::Separate(SignPosition::Leading) => Sign::LeadingSeparate,
        ZonedSign::Separate(SignPosition::Trailing) => Sign::TrailingSeparate,
    }
}

fn picture_of(elementary: &Elementary) -> Result<&Picture, String> {
    elementary
        .picture
        .as_ref()
        .ok_or_else(|| "the field has no picture".to_string())
}

/// A value as the text of a text field: text as it is, a number as its
/// decimal text.
fn text_of(value: &Value) -> Result<String, String> {
    match value {
        Value::Text(text) => Ok(text.clone()),
        Value::Number(number) => Ok(number.to_string()),
        Value::Float(float) if float.is_finite() => Ok(float.to_string()),
        Value::Float(float) => Err(format!("{float} is not a number a text field can hold")),
        Value::Null => Ok(String::new()),
    }
}

/// A value as an exact decimal: a number as it is, text read as a decimal,
/// a binary float at its shortest decimal text (the text that reads back as
/// the same float: `0.1`, not `0.1000000000000000055511151231257827`).
pub fn decimal_of(value: &Value) -> Result<Decimal, String> {
    match value {
        Value::Number(number) => Ok(*number),
        Value::Text(text) => text
            .trim()
            .parse()
            .map_err(|_| format!("{text:?} is not a number")),
        Value::Float(float) if float.is_finite() => float
            .to_string()
            .parse()
            .map_err(|error: super::decimal::DecimalError| error.to_string()),
        Value::Float(float) => Err(format!("{float} is not a number a decimal field can hold")),
        Value::Null => Err("the value is null".to_string()),
    }
}

/// A value as a binary float: the nearest one.
fn float_of(value: &Value) -> Result<f64, String> {
    match value {
        Value::Float(float) => Ok(*float),
        Value::Number(number) => Ok(number.to_f64()),
        Value::Text(text) => text
            .trim()
            .parse()
            .map_err(|_| format!("{text:?} is not a number")),
        Value::Null => Err("the value is null".to_string()),
    }
}

/// `value` as a numeric-edited picture prints it (also an explicit-point
/// DISPLAY number, whose sign, when SEPARATE, is a `+` or `-` at
/// `separate`). Leading zeros are suppressed by `Z` (spaces) and `*`
/// (asterisks) up to the first non-zero digit or the point; a floating
/// `+`, `-` or `$` string prints its symbol just before the first digit
/// shown; insertion characters in the suppressed part become spaces (or
/// asterisks). A zero in a picture whose digit positions all suppress is all
/// spaces (asterisks but the point with `*`), as with BLANK WHEN ZERO.
fn edit(
    picture: &Picture,
    precision: Precision,
    separate: Option<SignPosition>,
    value: Decimal,
    blank_when_zero: bool,
) -> Result<String, String> {
    use Symbol::*;
    let has = |symbol: Symbol| picture.runs.iter().any(|run| run.symbol == symbol);
    let count = |symbol: Symbol| -> u32 {
        picture
            .runs
            .iter()
            .filter(|run| run.symbol == symbol)
            .map(|run| run.count)
            .sum()
    };
    if has(Zero) {
        return Err(format!(
            "the picture {} inserts zeros (0), which a reader cannot tell from digits; droplake \
             does not write it",
            picture.text
        ));
    }
    let floating: Vec<Symbol> = [Plus, Minus, Currency]
        .into_iter()
        .filter(|symbol| count(*symbol) > 1)
        .collect();
    if floating.len() > 1 {
        return Err(format!(
            "the picture {} has two floating strings; droplake does not write it",
            picture.text
        ));
    }
    let floating = floating.first().copied();
    let coefficient = value
        .fit(precision.digits, precision.scale)
        .map_err(|error| error.to_string())?;
    let negative = coefficient < 0;
    let signed = separate.is_some() || has(Plus) || has(Minus) || has(Credit) || has(Debit);
    if negative && !signed {
        return Err(format!(
            "{value} is negative; the picture {} has no sign",
            picture.text
        ));
    }
    let size = picture.size as usize + usize::from(separate.is_some());
    if coefficient == 0 && (blank_when_zero || !has(Nine)) {
        let check = has(CheckProtect) && !blank_when_zero;
        let mut text = String::with_capacity(size);
        for run in &picture.runs {
            for _ in 0..run.count
                * if matches!(run.symbol, Credit | Debit) {
                    2
                } else {
                    1
                }
            {
                match run.symbol {
                    Sign | ImpliedPoint | Scaling => {}
                    Point if check => text.push('.'),
                    _ if check => text.push('*'),
                    _ => text.push(' '),
                }
            }
        }
        text.extend(std::iter::repeat_n(' ', size - text.chars().count()));
        return Ok(text);
    }
    let digits = format!(
        "{:0>width$}",
        coefficient.unsigned_abs(),
        width = precision.digits as usize
    );
    let mut digits = digits.chars();
    let fill = if has(CheckProtect) { '*' } else { ' ' };
    let sign_char = if negative { '-' } else { '+' };
    let float_char = match floating {
        Some(Plus) => sign_char,
        Some(Minus) if negative => '-',
        Some(Currency) => '$',
        _ => ' ',
    };
    let mut editing = Editing {
        out: Vec::with_capacity(size),
        started: false,
        float_seen: false,
        float_placed: false,
        float_char,
    };
    if separate == Some(SignPosition::Leading) {
        editing.out.push(sign_char);
    }
    for run in &picture.runs {
        for _ in 0..run.count {
            let symbol = run.symbol;
            match symbol {
                Sign | Scaling => {}
                ImpliedPoint => editing.start(),
                _ if Some(symbol) == floating && !editing.float_seen => {
                    editing.float_seen = true;
                    editing.out.push(' ');
                }
                _ if Some(symbol) == floating => {
                    editing.digit(digits.next().unwrap_or('0'), ' ');
                }
                Nine => {
                    editing.start();
                    editing.out.push(digits.next().unwrap_or('0'));
                }
                ZeroSuppress | CheckProtect => editing.digit(digits.next().unwrap_or('0'), fill),
                Plus => editing.out.push(sign_char),
                Minus => editing.out.push(if negative { '-' } else { ' ' }),
                Credit => editing
                    .out
                    .extend(if negative { ['C', 'R'] } else { [' ', ' '] }),
                Debit => editing
                    .out
                    .extend(if negative { ['D', 'B'] } else { [' ', ' '] }),
                Currency => editing.out.push('$'),
                Point => {
                    editing.start();
                    editing.out.push('.');
                }
                Comma | Blank | Slash => {
                    let shown = match symbol {
                        Comma => ',',
                        Slash => '/',
                        _ => ' ',
                    };
                    let suppressed = if editing.float_seen { ' ' } else { fill };
                    let character = if editing.started { shown } else { suppressed };
                    editing.out.push(character);
                }
                Any | Alphabetic | Zero => {
                    return Err(format!("the picture {} is not a number's", picture.text));
                }
            }
        }
    }
    if separate == Some(SignPosition::Trailing) {
        editing.out.push(sign_char);
    }
    Ok(editing.out.into_iter().collect())
}

/// A number being edited into its picture, character by character.
struct Editing {
    out: Vec<char>,
    /// Whether significance has begun: a digit (or the point) was shown.
    started: bool,
    /// Whether the first symbol of the floating string has been passed.
    float_seen: bool,
    /// Whether the floating symbol has been printed.
    float_placed: bool,
    /// What the floating string prints before the first digit shown.
    float_char: char,
}

impl Editing {
    /// Significance begins: the floating symbol takes the position just
    /// before (a suppressed one).
    fn start(&mut self) {
        if self.started {
            return;
        }
        self.started = true;
        if self.float_seen
            && !self.float_placed
            && let Some(last) = self.out.last_mut()
        {
            *last = self.float_char;
            self.float_placed = true;
        }
    }

    /// A suppressible digit position: `fill` while the digits are leading
    /// zeros, the digit from the first non-zero one on.
    fn digit(&mut self, digit: char, fill: char) {
        if !self.started && digit == '0' {
            self.out.push(fill);
        } else {
            self.start();
            self.out.push(digit);
        }
    }
}

/// One record being written.
struct Walk<'e, 'c> {
    encoder: &'e Encoder<'c>,
    source: &'e dyn Source,
    out: &'e mut Vec<u8>,
    /// Counts written so far: (counter, indices, count).
    counts: Vec<(ItemId, Vec<u32>, u32)>,
    /// The occurrence indices of the tables around the current item.
    indices: Vec<u32>,
    /// The record-type value, when routing.
    route: Option<String>,
    /// One field's bytes.
    scratch: Vec<u8>,
}

impl Walk<'_, '_> {
    fn error(&self, id: ItemId, message: String) -> EncodeError {
        self.encoder.error(id, &self.indices, message)
    }

    /// Writes item `item` (all its occurrences) at `offset`; returns the
    /// bytes it took.
    fn item(&mut self, item: &Item, offset: usize) -> Result<usize, EncodeError> {
        let Some(occurs) = item.occurs else {
            return self.occurrence(item, offset);
        };
        let count = match occurs.depending_on {
            Some(counter) => self.count(item, counter)?,
            None => occurs.max,
        };
        let given = self
            .source
            .occurrences(item, &self.indices)
            .map_err(|message| self.error(item.id, message))?;
        if let Some(given) = given
            && given != count
        {
            let message = match occurs.depending_on {
                Some(counter) => format!(
                    "{given} occurrences are given, but {} says {count}",
                    self.encoder.name(counter)
                ),
                None => format!("{given} occurrences are given; the table has {count}"),
            };
            return Err(self.error(item.id, message));
        }
        if occurs.depending_on.is_some() {
            self.nothing_past(item, count, occurs.max)?;
        }
        let variable = self.encoder.options.variable_occurs;
        let mut at = offset;
        for index in 0..count {
            self.indices.push(index);
            let taken = self.occurrence(item, at);
            self.indices.pop();
            at += if variable {
                taken?
            } else {
                taken.map(|_| item.length)?
            };
        }
        Ok(if variable { at - offset } else { item.extent() })
    }

    /// Refuses values at the occurrences of `table` from `count` to `max`.
    fn nothing_past(&mut self, table: &Item, count: u32, max: u32) -> Result<(), EncodeError> {
        let copybook = self.encoder.copybook;
        let fields: Vec<&Item> = std::iter::once(table)
            .chain(copybook.descendants(table.id))
            .filter(|item| item.elementary().is_some() && !item.is_filler())
            .collect();
        for index in count..max {
            self.indices.push(index);
            let given = fields
                .iter()
                .find(|field| self.source.given(field, &self.indices));
            let error = given.map(|field| {
                let counter = table
                    .occurs
                    .and_then(|occurs| occurs.depending_on)
                    .map_or("", |counter| self.encoder.name(counter));
                self.error(
                    field.id,
                    format!(
                        "a value is given past the count: {counter} says {} has {count} occurrences",
                        self.encoder.name(table.id)
                    ),
                )
            });
            self.indices.pop();
            if let Some(error) = error {
                return Err(error);
            }
        }
        Ok(())
    }

    /// The count of table `table` that its counter was written with.
    fn count(&self, table: &Item, counter: ItemId) -> Result<u32, EncodeError> {
        let depth = self.encoder.copybook.dimensions(counter).len();
        let prefix = &self.indices[..depth.min(self.indices.len())];
        self.counts
            .iter()
            .rev()
            .find(|(item, indices, _)| *item == counter && indices == prefix)
            .map(|(_, _, count)| *count)
            .ok_or_else(|| {
                self.error(
                    table.id,
                    format!(
                        "the table depends on {}, which is not written in this record",
                        self.encoder.name(counter)
                    ),
                )
            })
    }

    /// Writes one occurrence of `item` at `offset`; returns its bytes.
    fn occurrence(&mut self, item: &Item, offset: usize) -> Result<usize, EncodeError> {
        let encoder = self.encoder;
        match &item.kind {
            ItemKind::Elementary(elementary) => {
                if item.is_filler() {
                    return Ok(item.length);
                }
                let mut value = self
                    .source
                    .value(item, &self.indices)
                    .map_err(|message| self.error(item.id, message))?;
                if let Some(tables) = encoder.counters.get(&item.id) {
                    value = Some(self.counter(item, tables, value)?);
                }
                self.scratch.clear();
                let mut scratch = std::mem::take(&mut self.scratch);
                let written = encoder.field(item, elementary, value, &mut scratch);
                let result = written
                    .map_err(|message| self.error(item.id, message))
                    .and_then(|()| {
                        let end = offset + item.length;
                        let target = self.out.get_mut(offset..end).ok_or_else(|| {
                            self.encoder.error(
                                item.id,
                                &self.indices,
                                format!("the field ends at byte {end}, past the record"),
                            )
                        })?;
                        target.copy_from_slice(&scratch);
                        Ok(item.length)
                    });
                self.scratch = scratch;
                result
            }
            ItemKind::Group => {
                let copybook = encoder.copybook;
                let mut placement = Placement::new(offset, encoder.options.variable_occurs);
                let mut chosen: Option<ItemId> = None;
                for child in copybook.children(item.id) {
                    let start = placement.start(copybook, child);
                    let in_set = child.redefines.is_some() || !child.redefined_by.is_empty();
                    if child.redefines.is_none() && in_set {
                        chosen = self.choose(child)?;
                    }
                    if in_set && chosen != Some(child.id) {
                        // Not written; the decoder still steps over it
                        // (without routing it decodes every alternative).
                        if child.redefines.is_none() || encoder.routing.is_none() {
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

    /// The value a counter is written with, and its count recorded for the
    /// tables that depend on it: its own value, or else the number of
    /// occurrences the source holds.
    fn counter(
        &mut self,
        item: &Item,
        tables: &[ItemId],
        value: Option<Value>,
    ) -> Result<Value, EncodeError> {
        let copybook = self.encoder.copybook;
        let given = match &value {
            None | Some(Value::Null) => None,
            Some(Value::Text(text)) if text.trim().is_empty() => None,
            Some(value) => Some(
                decimal_of(value)
                    .ok()
                    .and_then(|number| number.rescale(0).ok())
                    .and_then(|number| u32::try_from(number.coefficient()).ok())
                    .ok_or_else(|| {
                        self.error(item.id, format!("{value:?} is not a count of occurrences"))
                    })?,
            ),
        };
        let count = match given {
            Some(count) => count,
            None => {
                let mut found: Option<u32> = None;
                for &table in tables {
                    let table = copybook.item(table);
                    // Only a table at this item's own depth has one count
                    // per occurrence of this counter.
                    if copybook.dimensions(table.id).len() != self.indices.len() + 1 {
                        continue;
                    }
                    let occurrences = self
                        .source
                        .occurrences(table, &self.indices)
                        .map_err(|message| self.error(table.id, message))?;
                    match (found, occurrences) {
                        (Some(earlier), Some(now)) if earlier != now => {
                            return Err(self.error(
                                item.id,
                                format!(
                                    "the tables that depend on it are given {earlier} and {now} \
                                     occurrences"
                                ),
                            ));
                        }
                        (_, Some(now)) => found = Some(now),
                        _ => {}
                    }
                }
                match (found, &value) {
                    (Some(count), _) => count,
                    // A missing counter is blank, as every missing number is.
                    (None, None) => 0,
                    (None, Some(_)) => {
                        let tables: Vec<&str> = tables
                            .iter()
                            .map(|table| self.encoder.name(*table))
                            .collect();
                        return Err(self.error(
                            item.id,
                            format!(
                                "the count of {} is null: give it a value, or give the table's \
                                 fields as arrays",
                                tables.join(", ")
                            ),
                        ));
                    }
                }
            }
        };
        for &table in tables {
            let table = copybook.item(table);
            if let Some(occurs) = table.occurs
                && !((occurs.min..=occurs.max).contains(&count) || (count == 0 && occurs.min <= 1))
            {
                return Err(self.error(
                    item.id,
                    format!(
                        "the count {count} is outside OCCURS {} TO {} of {}",
                        occurs.min,
                        occurs.max,
                        self.encoder.name(table.id)
                    ),
                ));
            }
        }
        self.counts.push((item.id, self.indices.clone(), count));
        Ok(match (given, value) {
            (Some(_), Some(value)) => value,
            _ => Value::Number(Decimal::new(i128::from(count), 0)),
        })
    }

    /// The member of the REDEFINES set headed by `head` to write: the
    /// routed one, or the one whose fields have values.
    fn choose(&self, head: &Item) -> Result<Option<ItemId>, EncodeError> {
        let copybook = self.encoder.copybook;
        let set: Vec<ItemId> = std::iter::once(head.id)
            .chain(head.redefined_by.iter().copied())
            .collect();
        if let Some(routing) = &self.encoder.routing {
            let routed: Vec<&(String, ItemId)> = routing
                .routes
                .iter()
                .filter(|(_, target)| set.contains(target))
                .collect();
            if !routed.is_empty() {
                return Ok(routed
                    .iter()
                    .find(|(value, _)| Some(value) == self.route.as_ref())
                    .map(|(_, target)| *target));
            }
        }
        let mut with_values: Vec<(ItemId, &Item)> = Vec::new();
        for &member in &set {
            let item = copybook.item(member);
            let field = std::iter::once(item)
                .chain(copybook.descendants(member))
                .filter(|field| field.elementary().is_some() && !field.is_filler())
                .find(|field| self.source.given(field, &self.indices));
            if let Some(field) = field {
                with_values.push((member, field));
            }
        }
        match with_values.as_slice() {
            [] => Ok(None),
            [(member, _)] => Ok(Some(*member)),
            [(first, first_field), (second, second_field), ..] => Err(self.error(
                head.id,
                format!(
                    "the REDEFINES alternatives {} and {} both have values ({} and {}); a \
                     record holds one: leave the other's fields null, or route by a \
                     record-type field",
                    self.encoder.name(*first),
                    self.encoder.name(*second),
                    self.encoder.name(first_field.id),
                    self.encoder.name(second_field.id)
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mainframe::codepage::{CodePage, Newline};
    use crate::mainframe::copybook::{FloatWidth, SourceFormat};
    use crate::mainframe::record::{Decoder, RecordError, Sink};

    fn copybook(text: &str) -> Copybook {
        Copybook::parse(text, "test.cpy", SourceFormat::Free).expect("a valid copybook")
    }

    fn id(book: &Copybook, name: &str) -> ItemId {
        book.items()
            .iter()
            .find(|item| item.is_named(name))
            .map(|item| item.id)
            .unwrap_or_else(|| panic!("no item {name}"))
    }

    fn charset(page: CodePage) -> Charset {
        Charset::new(page, Newline::Nel)
    }

    /// Values by item and occurrence, and occurrence counts by table: what
    /// a row of a table gives.
    #[derive(Debug, Default, Clone)]
    struct Given {
        values: HashMap<(ItemId, Vec<u32>), Value>,
        occurrences: HashMap<(ItemId, Vec<u32>), u32>,
    }

    impl Given {
        fn set(mut self, book: &Copybook, name: &str, indices: &[u32], value: Value) -> Given {
            self.values
                .insert((id(book, name), indices.to_vec()), value);
            self
        }
    }

    impl Source for Given {
        fn value(&self, item: &Item, indices: &[u32]) -> Result<Option<Value>, String> {
            Ok(self.values.get(&(item.id, indices.to_vec())).cloned())
        }
        fn occurrences(&self, table: &Item, indices: &[u32]) -> Result<Option<u32>, String> {
            Ok(self.occurrences.get(&(table.id, indices.to_vec())).copied())
        }
        fn given(&self, item: &Item, indices: &[u32]) -> bool {
            self.values.iter().any(|((id, at), value)| {
                *id == item.id && at.starts_with(indices) && *value != Value::Null
            })
        }
    }

    /// Every value a decoder finds, by item and occurrence.
    #[derive(Default)]
    struct Collect(HashMap<(ItemId, Vec<u32>), Value>);

    impl Sink for Collect {
        fn value(
            &mut self,
            item: &Item,
            indices: &[u32],
            value: Result<Value, crate::mainframe::record::FieldError>,
        ) -> Result<(), RecordError> {
            let value = value.map_err(RecordError::Field)?;
            self.0.insert((item.id, indices.to_vec()), value);
            Ok(())
        }
    }

    fn text(value: &str) -> Value {
        Value::Text(value.to_string())
    }

    fn number(value: &str) -> Value {
        Value::Number(value.parse().expect("a decimal"))
    }

    fn encode(book: &Copybook, options: Options, given: &Given) -> Result<Vec<u8>, EncodeError> {
        let record = book.records().next().expect("a record").id;
        let encoder = Encoder::new(book, record, options, None);
        let mut out = Vec::new();
        encoder.encode(given, &mut out).map(|()| out)
    }

    const SMALL: &str = "01 R. 05 NAME PIC X(6). 05 CODE PIC X(4) JUSTIFIED RIGHT.
        05 FILLER PIC X(2). 05 QTY PIC S9(3)V9 COMP-3. 05 N PIC 9(3). 05 B PIC S9(4) COMP.";

    fn small(book: &Copybook) -> Given {
        Given::default()
            .set(book, "NAME", &[], text("ALICE"))
            .set(book, "CODE", &[], text("AB"))
            .set(book, "QTY", &[], number("-12.5"))
            .set(book, "N", &[], Value::Number(Decimal::new(7, 0)))
            .set(book, "B", &[], number("-2"))
    }

    #[test]
    fn fields_are_written_at_their_offsets_in_their_encodings() {
        let book = copybook(SMALL);
        let bytes = encode(&book, Options::new(charset(CodePage::Cp037)), &small(&book));
        assert_eq!(
            hex::encode_upper(bytes.expect("encodes")),
            "C1D3C9C3C5404040C1C2404000125DF0F0F7FFFE"
        );
    }

    #[test]
    fn a_text_too_long_for_its_field_is_refused_not_cut() {
        let book = copybook(SMALL);
        let given = small(&book).set(&book, "NAME", &[], text("ALICE COOPER"));
        let error = encode(&book, Options::new(charset(CodePage::Cp037)), &given);
        assert_eq!(
            error.expect_err("refused").to_string(),
            "field NAME: \"ALICE COOPER\" is 12 characters; the field holds 6, and droplake never \
             cuts a value"
        );
        // Padding beyond the field is not part of the value.
        let padded = small(&book).set(&book, "NAME", &[], text("ALICE     "));
        assert!(encode(&book, Options::new(charset(CodePage::Cp037)), &padded).is_ok());
    }

    #[test]
    fn numbers_are_never_rounded_not_even_binary_floats() {
        let book = copybook(SMALL);
        let options = || Options::new(charset(CodePage::Cp037));
        let given = small(&book).set(&book, "QTY", &[], Value::Float(0.1 + 0.2));
        let error = encode(&book, options(), &given).expect_err("refused");
        assert!(
            error.to_string().starts_with(
                "field QTY: 0.30000000000000004 has more decimal places than the field's 1; \
                 the value is a REAL"
            ),
            "{error}"
        );
        let given = small(&book).set(&book, "QTY", &[], Value::Float(12.5));
        let bytes = encode(&book, options(), &given).expect("12.5 is exact");
        assert_eq!(hex::encode_upper(&bytes[12..15]), "00125C");
        for (value, message) in [
            ("12345", "field N: 12345 needs 5 digits; the field has 3"),
            ("-1", "field N: -1 is negative; the field is unsigned"),
            (
                "1.5",
                "field N: 1.5 has more decimal places than the field's 0",
            ),
            ("abc", "field N: \"abc\" is not a number"),
        ] {
            let given = small(&book).set(&book, "N", &[], text(value));
            let error = encode(&book, options(), &given).expect_err(value);
            assert_eq!(error.to_string(), message);
        }
    }

    #[test]
    fn a_null_number_is_an_error_unless_a_policy_says_what_to_write() {
        let book = copybook(SMALL);
        let given =
            small(&book)
                .set(&book, "N", &[], Value::Null)
                .set(&book, "NAME", &[], Value::Null);
        let with = |null: NullPolicy| {
            let mut options = Options::new(charset(CodePage::Cp037));
            options.null = null;
            encode(&book, options, &given).map(|bytes| hex::encode_upper(&bytes[15..18]))
        };
        let error = with(NullPolicy::Error).expect_err("refused");
        assert!(
            error.to_string().starts_with("field N: the value is null"),
            "{error}"
        );
        assert_eq!(with(NullPolicy::Spaces).expect("spaces"), "404040");
        assert_eq!(with(NullPolicy::Zeros).expect("zeros"), "F0F0F0");
        assert_eq!(with(NullPolicy::LowValues).expect("low-values"), "000000");
        let binary = small(&book).set(&book, "B", &[], Value::Null);
        let mut options = Options::new(charset(CodePage::Cp037));
        options.null = NullPolicy::Spaces;
        let error = encode(&book, options, &binary).expect_err("no blank binary");
        assert!(
            error.to_string().contains("--null zeros or low-values"),
            "{error}"
        );
        // A null text is spaces; so is empty text for a number, under the policy.
        let mut options = Options::new(charset(CodePage::Cp037));
        options.null = NullPolicy::Spaces;
        let blank =
            small(&book)
                .set(&book, "NAME", &[], Value::Null)
                .set(&book, "N", &[], text(""));
        let bytes = encode(&book, options, &blank).expect("encodes");
        assert_eq!(hex::encode_upper(&bytes[..6]), "404040404040");
        assert_eq!(hex::encode_upper(&bytes[15..18]), "404040");
    }

    #[test]
    fn edited_pictures_print_as_cobol_edits_them_and_read_back() {
        let cases = [
            ("ZZZ9.99-", "-12.5", "  12.50-"),
            ("ZZZ9.99-", "12.5", "  12.50 "),
            ("$$,$$9.99CR", "-1234.5", "$1,234.50CR"),
            ("$$,$$9.99CR", "12.5", "   $12.50  "),
            ("+++9", "5", "  +5"),
            ("+++9", "-5", "  -5"),
            ("---9", "5", "   5"),
            ("***,**9.99", "12.5", "*****12.50"),
            ("ZZZ.99", "0.05", "   .05"),
            ("Z(4)", "0", "    "),
            ("***.**", "0", "***.**"),
            ("99/99/99", "123199", "12/31/99"),
            ("Z,ZZ9DB", "-1234", "1,234DB"),
            ("-9(3)", "-7", "-007"),
        ];
        for (picture, value, printed) in cases {
            let book = copybook(&format!("01 R. 05 E PIC {picture}."));
            let given = Given::default().set(&book, "E", &[], number(value));
            let bytes =
                encode(&book, Options::new(charset(CodePage::Ascii)), &given).expect(picture);
            assert_eq!(
                String::from_utf8_lossy(&bytes),
                printed,
                "{picture} {value}"
            );
            let decoder = Decoder::new(
                &book,
                crate::mainframe::record::Options::new(charset(CodePage::Ascii)),
                None,
            );
            let mut sink = Collect::default();
            decoder.decode(&bytes, &mut sink).expect("decodes");
            let read = sink.0.into_values().next().expect("a value");
            let expected: Decimal = value.parse().expect("decimal");
            match read {
                Value::Number(read) => assert_eq!(
                    read.rescale(expected.scale()).expect("same scale"),
                    expected,
                    "{picture} {value}"
                ),
                Value::Null => assert_eq!(expected.coefficient(), 0, "{picture}"),
                other => panic!("{picture}: {other:?}"),
            }
        }
        let book = copybook("01 R. 05 E PIC 9990.");
        let given = Given::default().set(&book, "E", &[], number("5"));
        let error = encode(&book, Options::new(charset(CodePage::Ascii)), &given);
        assert!(
            error
                .expect_err("refused")
                .to_string()
                .contains("inserts zeros")
        );
    }

    #[test]
    fn explicit_points_blank_when_zero_and_separate_signs_are_written() {
        let book = copybook(
            "01 R. 05 A PIC 9(3).99. 05 B PIC S9(3).99 SIGN TRAILING SEPARATE.
               05 C PIC 9(3) BLANK WHEN ZERO. 05 D PIC S9(3) SIGN LEADING SEPARATE.",
        );
        let given = Given::default()
            .set(&book, "A", &[], number("12.5"))
            .set(&book, "B", &[], number("-1.5"))
            .set(&book, "C", &[], number("0"))
            .set(&book, "D", &[], number("-42"));
        let bytes = encode(&book, Options::new(charset(CodePage::Ascii)), &given).expect("ok");
        assert_eq!(String::from_utf8_lossy(&bytes), "012.50001.50-   -042");
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
    fn one_redefines_alternative_is_written_the_one_with_values() {
        let book = copybook(ENTITIES);
        let address_of = |group: &str| {
            book.items()
                .iter()
                .find(|item| {
                    item.is_named("ADDRESS")
                        && item.parent.is_some_and(|p| book.item(p).is_named(group))
                })
                .map(|item| item.id)
                .expect("an address")
        };
        let options = || Options::new(charset(CodePage::Ascii));
        let mut person = Given::default()
            .set(&book, "SEGMENT-ID", &[], text("P"))
            .set(&book, "FIRST-NAME", &[], text("JO"))
            .set(&book, "COMPANY-NAME", &[], Value::Null);
        person
            .values
            .insert((address_of("PERSON"), vec![]), text("BERGN"));
        let bytes = encode(&book, options(), &person).expect("person");
        assert_eq!(bytes, b"PJOBERGN");
        let mut both = person.clone();
        both.values
            .insert((address_of("COMPANY"), vec![]), text("OSL"));
        let error = encode(&book, options(), &both).expect_err("conflict");
        assert_eq!(
            error.to_string(),
            "field COMPANY: the REDEFINES alternatives COMPANY and PERSON both have values \
             (ADDRESS OF COMPANY and FIRST-NAME); a record holds one: leave the other's \
             fields null, or route by a record-type field"
        );
        // With routing, the record type decides and the other is not read.
        let routing = Routing {
            field: id(&book, "SEGMENT-ID"),
            routes: vec![
                ("C".into(), id(&book, "COMPANY")),
                ("P".into(), id(&book, "PERSON")),
            ],
        };
        let record = id(&book, "ENTITY");
        let encoder = Encoder::new(&book, record, options(), Some(routing));
        let mut out = Vec::new();
        encoder.encode(&both, &mut out).expect("routed");
        assert_eq!(out, b"PJOBERGN");
        // Neither alternative: spaces.
        let none = Given::default().set(&book, "SEGMENT-ID", &[], text("X"));
        assert_eq!(encode(&book, options(), &none).expect("blank"), b"X       ");
    }

    const ACCOUNTS: &str = "
        01 ACCOUNT.
           05 N-TX       PIC 9.
           05 TX OCCURS 0 TO 3 TIMES DEPENDING ON N-TX.
              10 TX-CODE PIC X.
              10 TX-AMT  PIC S9(3) COMP.
           05 TRAILER    PIC X(2).";

    fn transactions(book: &Copybook, count: u32) -> Given {
        let mut given = Given::default().set(book, "TRAILER", &[], text("ZZ"));
        for index in 0..count {
            given = given.set(book, "TX-CODE", &[index], text("D")).set(
                book,
                "TX-AMT",
                &[index],
                number(&format!("{}", index + 1)),
            );
        }
        given.occurrences.insert((id(book, "TX"), vec![]), count);
        given
    }

    #[test]
    fn a_depending_on_count_comes_from_the_arrays_when_not_given() {
        let book = copybook(ACCOUNTS);
        let options = || Options::new(charset(CodePage::Ascii));
        let bytes = encode(&book, options(), &transactions(&book, 2)).expect("derived");
        assert_eq!(hex::encode_upper(&bytes), "324400014400022020205A5A");
        let mut variable = options();
        variable.variable_occurs = true;
        let bytes = encode(&book, variable, &transactions(&book, 2)).expect("variable");
        assert_eq!(
            hex::encode_upper(&bytes),
            "32440001440002 5A5A".replace(' ', "")
        );
    }

    #[test]
    fn a_count_that_disagrees_with_the_values_is_refused() {
        let book = copybook(ACCOUNTS);
        let options = || Options::new(charset(CodePage::Ascii));
        let given = transactions(&book, 2).set(&book, "N-TX", &[], number("3"));
        let error = encode(&book, options(), &given).expect_err("refused");
        assert_eq!(
            error.to_string(),
            "field TX: 2 occurrences are given, but N-TX says 3"
        );
        let mut past = transactions(&book, 2).set(&book, "N-TX", &[], number("1"));
        past.occurrences.clear();
        let error = encode(&book, options(), &past).expect_err("refused");
        assert_eq!(
            error.to_string(),
            "field TX-CODE (2): a value is given past the count: N-TX says TX has 1 occurrences"
        );
        let mut missing = transactions(&book, 0);
        missing.occurrences.clear();
        let bytes = encode(&book, options(), &missing).expect("a missing count is 0");
        assert_eq!(bytes[0], b'0');
        let null = missing.set(&book, "N-TX", &[], Value::Null);
        let error = encode(&book, options(), &null).expect_err("refused");
        assert_eq!(
            error.to_string(),
            "field N-TX: the count of TX is null: give it a value, or give the table's fields as \
             arrays"
        );
        let mut many = transactions(&book, 4);
        many.occurrences.clear();
        let many = many.set(&book, "N-TX", &[], number("4"));
        let error = encode(&book, options(), &many).expect_err("refused");
        assert_eq!(
            error.to_string(),
            "field N-TX: the count 4 is outside OCCURS 0 TO 3 of TX"
        );
    }

    /// A record with a field of every kind: text (and JUSTIFIED RIGHT),
    /// zoned (unsigned, signed, SIGN LEADING, SEPARATE both ways, scaled),
    /// packed, binary (COMP halfword to doubleword, COMP-5), COMP-1, COMP-2,
    /// a numeric-edited picture, FILLER, an OCCURS DEPENDING ON table with
    /// items after it, a nested fixed table and a routed REDEFINES.
    const RICH: &str = "
        01 REC.
           05 ID          PIC 9(6).
           05 NAME        PIC X(12).
           05 CODE        PIC X(4) JUSTIFIED RIGHT.
           05 BALANCE     PIC S9(7)V99 COMP-3.
           05 RATE        PIC SV9(5) COMP-3.
           05 UNSIGNED-P  PIC 9(4) COMP-3.
           05 ZONED-U     PIC 9(4)V9.
           05 ZONED-S     PIC S9(5).
           05 LEAD-OVER   PIC S9(4) SIGN LEADING.
           05 LEAD-SEP    PIC S9(3)V99 SIGN LEADING SEPARATE.
           05 TRAIL-SEP   PIC S9(3) SIGN TRAILING SEPARATE.
           05 SCALED      PIC 9(3)PP.
           05 HALF        PIC S9(4) COMP.
           05 FULL        PIC 9(9) BINARY.
           05 DOUBLE-W    PIC S9(16)V99 COMP.
           05 NATIVE      PIC S9(4) COMP-5.
           05 FLOAT-S     COMP-1.
           05 FLOAT-D     COMP-2.
           05 EDITED      PIC $$$,$$9.99CR.
           05 FILLER      PIC X(3).
           05 KIND        PIC X.
           05 PERSON.
              10 FIRST-NAME PIC X(8).
              10 AGE        PIC 9(3).
           05 COMPANY REDEFINES PERSON.
              10 COMPANY-NAME PIC X(6).
              10 STAFF        PIC S9(5) COMP-3.
           05 N-ITEMS     PIC 9(2).
           05 ITEMS OCCURS 0 TO 4 TIMES DEPENDING ON N-ITEMS.
              10 ITEM-CODE  PIC X(3).
              10 ITEM-QTY   PIC S9(3) COMP-3.
           05 GRID OCCURS 2.
              10 CELL OCCURS 3 PIC S99.
           05 LAST-FIELD  PIC X(2).";

    /// A value that fits `item`, drawn from `rng`.
    fn fitting(item: &Item, ebcdic: bool, rng: &mut fastrand::Rng) -> Value {
        let elementary = item.elementary().expect("elementary");
        match elementary.data {
            DataType::Text => {
                let alphabet: Vec<char> = if ebcdic {
                    "ABCXYZabcxyz0189 .,-/&#@äöüéñ¢".chars().collect()
                } else {
                    "ABCXYZabcxyz0189 .,-/&#@".chars().collect()
                };
                let len = rng.usize(0..=item.length);
                let text: String = (0..len)
                    .map(|_| alphabet[rng.usize(..alphabet.len())])
                    .collect();
                Value::Text(if elementary.justified_right {
                    text.trim_start().to_string()
                } else {
                    text.trim_end().to_string()
                })
            }
            DataType::Float(FloatWidth::Single) => {
                // At most 20 significant bits: exact in every 4-byte format.
                let mantissa = f64::from(rng.i32(-(1 << 20)..(1 << 20)));
                Value::Float(mantissa / f64::from(1u32 << rng.u32(0..16)))
            }
            DataType::Float(FloatWidth::Double) => {
                let mantissa = rng.f64() * 2.0 - 1.0;
                Value::Float(mantissa * 10f64.powi(rng.i32(-30..30)))
            }
            data => {
                let precision = data.decimal().expect("a decimal type");
                let digits = rng.u32(0..=precision.digits);
                let magnitude = if digits == 0 {
                    0
                } else {
                    rng.i64(0..10i64.pow(digits.min(18))) as i128
                };
                let negative = precision.signed && rng.bool();
                let coefficient = if negative { -magnitude } else { magnitude };
                Value::Number(Decimal::new(coefficient, precision.scale))
            }
        }
    }

    /// Whether two values are the same: numbers by value, whatever their
    /// scale; floats bit for bit.
    fn same(left: &Value, right: &Value) -> bool {
        match (left, right) {
            (Value::Number(left), Value::Number(right)) => {
                let scale = left.scale().max(right.scale());
                left.rescale(scale).ok() == right.rescale(scale).ok()
            }
            (Value::Float(left), Value::Float(right)) => left.to_bits() == right.to_bits(),
            _ => left == right,
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        #[test]
        fn decode_of_encode_returns_every_value(seed in proptest::prelude::any::<u64>()) {
            let mut rng = fastrand::Rng::with_seed(seed);
            let book = copybook(RICH);
            let page = [CodePage::Cp037, CodePage::Cp1047, CodePage::Ascii][rng.usize(..3)];
            let floats =
                [FloatFormat::IbmHex, FloatFormat::IeeeBig, FloatFormat::IeeeLittle][rng.usize(..3)];
            let native_endian = if rng.bool() { Endian::Big } else { Endian::Little };
            let variable_occurs = rng.bool();
            let routing = Routing {
                field: id(&book, "KIND"),
                routes: vec![
                    ("P".into(), id(&book, "PERSON")),
                    ("C".into(), id(&book, "COMPANY")),
                ],
            };
            let kind = if rng.bool() { "P" } else { "C" };
            let count = rng.u32(0..=4);
            let mut given = Given::default();
            let mut expected: HashMap<(ItemId, Vec<u32>), Value> = HashMap::new();
            for item in book.items() {
                if item.elementary().is_none() || item.is_filler() {
                    continue;
                }
                let under = |group: &str| {
                    let mut at = item.parent;
                    while let Some(parent) = at {
                        if book.item(parent).is_named(group) {
                            return true;
                        }
                        at = book.item(parent).parent;
                    }
                    false
                };
                if (under("PERSON") && kind != "P") || (under("COMPANY") && kind != "C") {
                    continue;
                }
                let occurrences: Vec<Vec<u32>> = if under("ITEMS") {
                    (0..count).map(|index| vec![index]).collect()
                } else if item.is_named("CELL") {
                    (0..2).flat_map(|i| (0..3).map(move |j| vec![i, j])).collect()
                } else {
                    vec![vec![]]
                };
                for indices in occurrences {
                    let value = if item.is_named("KIND") {
                        text(kind)
                    } else if item.is_named("N-ITEMS") {
                        Value::Number(Decimal::new(i128::from(count), 0))
                    } else {
                        fitting(item, page.is_ebcdic(), &mut rng)
                    };
                    let give = !item.is_named("N-ITEMS") || rng.bool();
                    if give {
                        given.values.insert((item.id, indices.clone()), value.clone());
                    }
                    expected.insert((item.id, indices), value);
                }
            }
            if !given.values.contains_key(&(id(&book, "N-ITEMS"), vec![])) {
                given.occurrences.insert((id(&book, "ITEMS"), vec![]), count);
            }

            let mut options = Options::new(charset(page));
            options.floats = floats;
            options.native_endian = native_endian;
            options.variable_occurs = variable_occurs;
            let record = id(&book, "REC");
            let encoder = Encoder::new(&book, record, options, Some(routing.clone()));
            let mut bytes = Vec::new();
            encoder.encode(&given, &mut bytes).expect("the values fit");

            let mut decoding = crate::mainframe::record::Options::new(charset(page));
            decoding.floats = floats;
            decoding.native_endian = native_endian;
            decoding.variable_occurs = variable_occurs;
            decoding.strict = true;
            let decoder = Decoder::new(&book, decoding, Some(routing));
            let mut decoded = Collect::default();
            decoder.decode(&bytes, &mut decoded).expect("decodes");
            let mut keys: Vec<_> = expected.keys().cloned().collect();
            keys.sort();
            let mut found: Vec<_> = decoded.0.keys().cloned().collect();
            found.sort();
            proptest::prop_assert_eq!(&found, &keys);
            for (key, value) in &expected {
                let back = &decoded.0[key];
                proptest::prop_assert!(
                    same(back, value),
                    "{} {:?}: wrote {:?}, read {:?}",
                    book.item(key.0).display_name(),
                    key.1,
                    value,
                    back
                );
            }
        }
    }
}
