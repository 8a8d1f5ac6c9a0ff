//! The items of a copybook, as decoders and writers need them: where each
//! lies in the record, how its bytes are encoded, how often it occurs, what
//! it redefines, and its condition names.
//!
//! Offsets and lengths are in bytes. An item's `offset` counts from the
//! start of its record (0-based) and is that of its first occurrence, and of
//! the first occurrence of every OCCURS around it; `length` is one
//! occurrence. Element `i` of an OCCURS item starts `i * length` bytes after
//! its `offset` (see [`super::Copybook::offset_at`]). OCCURS DEPENDING ON
//! tables take their maximum size in this fixed layout; a decoder that reads
//! records as long as their actual counts (`variable size occurs`) walks the
//! tree instead: [`super::Copybook::offset_in_parent`] is where an item
//! starts after the siblings before it, at their maximum sizes.

use std::fmt;

use super::picture::Picture;
use super::source::SourcePosition;

/// An item's index in its copybook ([`super::Copybook::item`]). Items are
/// numbered in source order, so an item's parent and everything before it
/// in the record have smaller ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ItemId(pub(super) u32);

impl ItemId {
    /// The position in [`super::Copybook::items`].
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// One data item: a record (level 01 or 77), a group or an elementary item.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub id: ItemId,
    /// The level number as written: 1–49 or 77 (condition names, level 88,
    /// are [`Condition`]s of the item before them). A copybook that starts
    /// below level 01 gets an implicit record of level 1 with no name.
    pub level: u8,
    /// The name as written (`CUST-ID`), or `None` for FILLER, an unnamed
    /// item and the implicit record. Names compare without regard to case.
    pub name: Option<String>,
    /// Where the entry's level number is.
    pub position: SourcePosition,
    /// The group it belongs to; `None` for a record.
    pub parent: Option<ItemId>,
    /// Its subordinate items, in order; empty for an elementary item.
    pub children: Vec<ItemId>,
    /// 0 for a record, 1 for its items, and so on.
    pub depth: u32,
    /// Bytes from the start of the record to this item's first byte (the
    /// first occurrence of it and of every OCCURS around it).
    pub offset: usize,
    /// Bytes of one occurrence.
    pub length: usize,
    /// The OCCURS clause, if any.
    pub occurs: Option<Occurs>,
    /// The item this one REDEFINES: an earlier sibling (or, for a record,
    /// an earlier record) whose bytes it shares.
    pub redefines: Option<ItemId>,
    /// The later siblings that REDEFINE this item.
    pub redefined_by: Vec<ItemId>,
    /// Group or elementary, with the elementary item's data type.
    pub kind: ItemKind,
    /// Its level-88 condition names, in order.
    pub conditions: Vec<Condition>,
}

impl Item {
    /// The name, or `FILLER` when it has none.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or("FILLER")
    }

    /// Whether the item is FILLER (or unnamed): it takes its bytes but is
    /// never an output field.
    pub fn is_filler(&self) -> bool {
        self.name.is_none()
    }

    /// Whether the item has a name equal to `name`, ignoring case.
    pub fn is_named(&self, name: &str) -> bool {
        self.name
            .as_deref()
            .is_some_and(|own| own.eq_ignore_ascii_case(name))
    }

    /// The elementary item's description, or `None` for a group.
    pub fn elementary(&self) -> Option<&Elementary> {
        match &self.kind {
            ItemKind::Group => None,
            ItemKind::Elementary(elementary) => Some(elementary),
        }
    }

    /// Bytes of all its occurrences (its `length` unless it has OCCURS, at
    /// the maximum count).
    pub fn extent(&self) -> usize {
        self.length * self.occurs.as_ref().map_or(1, |occurs| occurs.max as usize)
    }
}

/// A group of items, or an elementary item with its data type.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemKind {
    /// An item with subordinates; its bytes are theirs.
    Group,
    /// An item with a PICTURE (or COMP-1/COMP-2).
    Elementary(Elementary),
}

/// An elementary item: its picture, usage and the encoding they give.
#[derive(Debug, Clone, PartialEq)]
pub struct Elementary {
    /// The picture; `None` for COMP-1 and COMP-2, which have none.
    pub picture: Option<Picture>,
    /// The usage, its own or inherited from a group (DISPLAY by default).
    pub usage: Usage,
    /// How its bytes encode its value.
    pub data: DataType,
    /// JUSTIFIED RIGHT: text is aligned right (padding is on the left).
    pub justified_right: bool,
    /// BLANK WHEN ZERO: a zero is written as spaces.
    pub blank_when_zero: bool,
    /// SYNCHRONIZED was written. droplake inserts no slack bytes for it (see
    /// docs/mainframe.md): a record with compiler-inserted slack needs it
    /// declared as FILLER.
    pub synchronized: bool,
}

impl fmt::Display for Elementary {
    /// The item's type as a copybook would write it: `X(20)`,
    /// `S9(7)V99 COMP-3`, `S9(9) SIGN LEADING SEPARATE`, `COMP-1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        if let Some(picture) = &self.picture {
            parts.push(picture.text.clone());
        }
        if self.usage != Usage::Display || self.picture.is_none() {
            parts.push(self.usage.keyword().to_string());
        }
        if let DataType::Zoned(zoned) = self.data {
            match zoned.sign {
                ZonedSign::Separate(SignPosition::Leading) => {
                    parts.push("SIGN LEADING SEPARATE".to_string());
                }
                ZonedSign::Separate(SignPosition::Trailing) => {
                    parts.push("SIGN TRAILING SEPARATE".to_string());
                }
                ZonedSign::Overpunched(SignPosition::Leading) => {
                    parts.push("SIGN LEADING".to_string());
                }
                // The default for an S picture; said when a picture without
                // S is signed by the clause alone.
                ZonedSign::Overpunched(SignPosition::Trailing)
                    if self.picture.as_ref().is_some_and(|p| !p.signed) =>
                {
                    parts.push("SIGN TRAILING".to_string());
                }
                ZonedSign::Overpunched(SignPosition::Trailing) | ZonedSign::Unsigned => {}
            }
        }
        if self.justified_right {
            parts.push("JUSTIFIED RIGHT".to_string());
        }
        if self.blank_when_zero {
            parts.push("BLANK WHEN ZERO".to_string());
        }
        if self.synchronized {
            parts.push("SYNC".to_string());
        }
        f.write_str(&parts.join(" "))
    }
}

/// The USAGE of an elementary item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    /// DISPLAY: one character (byte) a position.
    Display,
    /// COMP, COMP-4, BINARY (and COMP-0): big-endian two's complement.
    Binary,
    /// COMP-5: binary whose values may use the whole storage, not only the
    /// PICTURE's digits.
    NativeBinary,
    /// COMP-3, PACKED-DECIMAL: two digits a byte, a sign nibble last.
    Packed,
    /// COMP-1: a 4-byte floating-point number.
    Float,
    /// COMP-2: an 8-byte floating-point number.
    Double,
}

impl Usage {
    /// The keyword droplake prints for it.
    pub fn keyword(self) -> &'static str {
        match self {
            Usage::Display => "DISPLAY",
            Usage::Binary => "COMP",
            Usage::NativeBinary => "COMP-5",
            Usage::Packed => "COMP-3",
            Usage::Float => "COMP-1",
            Usage::Double => "COMP-2",
        }
    }
}

impl fmt::Display for Usage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.keyword())
    }
}

/// How an elementary item's bytes encode its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataType {
    /// Characters (PIC X, A, and alphanumeric-edited): one a byte.
    Text,
    /// A zoned decimal (numeric DISPLAY): one digit a byte.
    Zoned(Zoned),
    /// A numeric-edited picture: digits with editing characters, one a
    /// byte; the picture's runs say which is where.
    Edited(Precision),
    /// A packed decimal (COMP-3): two digits a byte, the sign in the last
    /// nibble; `length` is `digits / 2 + 1`.
    Packed(Precision),
    /// A binary integer (COMP, COMP-4, BINARY, COMP-5), big-endian.
    Binary(Binary),
    /// A floating-point number, IBM hexadecimal or IEEE 754 by the
    /// decoder's choice.
    Float(FloatWidth),
}

impl DataType {
    /// The digits and scale of a decimal type; `None` for text and floats.
    pub fn decimal(&self) -> Option<Precision> {
        match self {
            DataType::Text | DataType::Float(_) => None,
            DataType::Zoned(zoned) => Some(zoned.decimal),
            DataType::Edited(decimal) | DataType::Packed(decimal) => Some(*decimal),
            DataType::Binary(binary) => Some(binary.decimal),
        }
    }
}

/// The digits of a decimal number and where its point is. The value of
/// the digit string `n` is `n × 10^-scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Precision {
    /// Digit positions in the picture (`9`s; `P`s not counted), 1–38.
    pub digits: u32,
    /// Digits after the decimal point: negative for trailing `P`s
    /// (`9(5)PPP`: -3), more than `digits` for leading ones (`PPP9(5)`: 8).
    pub scale: i32,
    /// Whether the value may be negative.
    pub signed: bool,
}

/// A zoned decimal: digits in DISPLAY, with the sign overpunched on the
/// first or last digit or in a character of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zoned {
    pub decimal: Precision,
    /// Where the sign is; `Unsigned` when the picture has no `S`.
    pub sign: ZonedSign,
    /// The picture has an explicit `.`, which takes a byte.
    pub explicit_point: bool,
}

/// Where a zoned decimal's sign is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZonedSign {
    /// No sign.
    Unsigned,
    /// In the zone of the first (leading) or last (trailing, the default)
    /// digit.
    Overpunched(SignPosition),
    /// In a `+` or `-` character of its own, first or last (SIGN ...
    /// SEPARATE); it takes a byte.
    Separate(SignPosition),
}

/// First or last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignPosition {
    Leading,
    Trailing,
}

/// A binary integer's digits and storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binary {
    pub decimal: Precision,
    /// Bytes: 2 for 1–4 digits, 4 for 5–9, 8 for 10–18; above 18, the
    /// bytes that hold the digits and a sign bit (as Cobrix does: 9 bytes
    /// for 19 and 20 digits, 16 for 37).
    pub bytes: u8,
    /// COMP-5: the value may use all of the storage, beyond the picture.
    pub native: bool,
}

/// The width of a floating-point number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FloatWidth {
    /// COMP-1: 4 bytes.
    Single,
    /// COMP-2: 8 bytes.
    Double,
}

/// The OCCURS clause of an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occurs {
    /// The fewest occurrences: the `m` of `OCCURS m TO n`; equal to `max`
    /// for a fixed table, and 1 when DEPENDING ON is written without `m TO`
    /// (IBM's rule).
    pub min: u32,
    /// The most occurrences; the fixed layout holds this many.
    pub max: u32,
    /// The item whose value is the actual count (DEPENDING ON). It is
    /// elementary, comes before the table in the record, and lies under no
    /// OCCURS that does not also hold the table, so the same occurrence
    /// indices find it. It is normally an unsigned integer, but any
    /// elementary item is accepted (a Cobrix case counts with a text item
    /// through a mapping): a reader checks the value it finds.
    pub depending_on: Option<ItemId>,
}

/// A level-88 condition name: values its item may hold, by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// The name as written.
    pub name: String,
    /// Where its level number is.
    pub position: SourcePosition,
    /// The values and ranges of its VALUE clause.
    pub values: Vec<ConditionValue>,
}

impl Condition {
    /// Whether the condition lists single values only (no THRU range).
    pub fn is_discrete(&self) -> bool {
        self.values
            .iter()
            .all(|value| matches!(value, ConditionValue::Single(_)))
    }
}

/// One value, or one `THRU` range, of a condition name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConditionValue {
    Single(Literal),
    /// `from THRU to`, both included.
    Range(Literal, Literal),
}

impl fmt::Display for ConditionValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConditionValue::Single(value) => write!(f, "{value}"),
            ConditionValue::Range(from, to) => write!(f, "{from} THRU {to}"),
        }
    }
}

/// A literal of a VALUE clause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Literal {
    /// `'ABC'`, without its quotes.
    Text(String),
    /// `X'C1C2'`.
    Hex(Vec<u8>),
    /// `42`, `-1.50`: an exact decimal.
    Number(NumericLiteral),
    /// SPACES, ZEROS, HIGH-VALUES, ...
    Figurative(Figurative),
    /// `ALL literal`: the literal repeated to fill the item.
    All(Box<Literal>),
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Text(text) => write!(f, "'{}'", text.replace('\'', "''")),
            Literal::Hex(bytes) => write!(f, "X'{}'", hex::encode_upper(bytes)),
            Literal::Number(number) => write!(f, "{number}"),
            Literal::Figurative(figurative) => f.write_str(figurative.keyword()),
            Literal::All(literal) => write!(f, "ALL {literal}"),
        }
    }
}

/// A figurative constant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Figurative {
    Spaces,
    Zeros,
    HighValues,
    LowValues,
    Quotes,
    Nulls,
}

impl Figurative {
    /// The keyword as droplake prints it.
    pub fn keyword(self) -> &'static str {
        match self {
            Figurative::Spaces => "SPACES",
            Figurative::Zeros => "ZEROS",
            Figurative::HighValues => "HIGH-VALUES",
            Figurative::LowValues => "LOW-VALUES",
            Figurative::Quotes => "QUOTES",
            Figurative::Nulls => "NULLS",
        }
    }
}

/// An exact numeric literal: `mantissa × 10^-scale` (`-1.50` is -150 and 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumericLiteral {
    pub mantissa: i128,
    pub scale: u32,
}

impl fmt::Display for NumericLiteral {
    /// The literal with exactly its scale's digits after the point.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.mantissa.unsigned_abs().to_string();
        let sign = if self.mantissa < 0 { "-" } else { "" };
        let scale = self.scale as usize;
        if scale == 0 {
            return write!(f, "{sign}{digits}");
        }
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (whole, fraction) = padded.split_at(padded.len() - scale);
        write!(f, "{sign}{whole}.{fraction}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_literals_print_with_their_scale() {
        let cases = [
            (-150, 2, "-1.50"),
            (5, 3, "0.005"),
            (42, 0, "42"),
            (0, 1, "0.0"),
        ];
        for (mantissa, scale, text) in cases {
            assert_eq!(NumericLiteral { mantissa, scale }.to_string(), text);
        }
    }

    #[test]
    fn literals_print_as_cobol_writes_them() {
        let range = ConditionValue::Range(
            Literal::Text("A'B".into()),
            Literal::All(Box::new(Literal::Hex(vec![0xff]))),
        );
        assert_eq!(range.to_string(), "'A''B' THRU ALL X'FF'");
    }
}
