//! Fields: a column's name, its type with the type's options, its missing
//! values and its constraints, as loaded and checked from a schema file.

use std::fmt;

use super::constraint::Constraints;
use super::value::Decimal;

/// One field of a table schema.
#[derive(Debug, Clone)]
pub struct Field {
    /// The field's name: the column label the data must carry.
    pub name: String,
    /// The type, with its type-specific options.
    pub kind: FieldType,
    /// The texts that mean "no value" in this field: the field's own
    /// `missingValues` (v2) or else the schema's. Never empty-checked
    /// twice: `""` is in it unless the schema said otherwise.
    pub missing_values: Vec<String>,
    /// The constraints, with bounds and enums already cast to this type.
    pub constraints: Constraints,
}

impl Field {
    /// Whether `text` is one of this field's missing values.
    #[inline]
    pub fn is_missing(&self, text: &str) -> bool {
        self.missing_values.iter().any(|missing| missing == text)
    }
}

/// A field's type and the options that go with it.
#[derive(Debug, Clone)]
pub enum FieldType {
    /// `string`, in one of its formats.
    String(StringFormat),
    /// `integer`.
    Integer(IntegerOptions),
    /// `number`.
    Number(NumberOptions),
    /// `boolean`, with the texts that mean true and false.
    Boolean(BooleanOptions),
    /// `date`.
    Date(TemporalFormat),
    /// `time`.
    Time(TemporalFormat),
    /// `datetime`.
    Datetime(TemporalFormat),
    /// `year`.
    Year,
    /// `yearmonth`.
    YearMonth,
    /// `duration` (ISO 8601).
    Duration,
    /// `object`: a JSON object.
    Object,
    /// `array`: a JSON array.
    Array,
    /// `list`: delimited items of one simple type.
    List(ListOptions),
    /// `any`: the cell as it is.
    Any,
}

impl FieldType {
    /// The type's name in the standard.
    pub fn name(&self) -> &'static str {
        match self {
            FieldType::String(_) => "string",
            FieldType::Integer(_) => "integer",
            FieldType::Number(_) => "number",
            FieldType::Boolean(_) => "boolean",
            FieldType::Date(_) => "date",
            FieldType::Time(_) => "time",
            FieldType::Datetime(_) => "datetime",
            FieldType::Year => "year",
            FieldType::YearMonth => "yearmonth",
            FieldType::Duration => "duration",
            FieldType::Object => "object",
            FieldType::Array => "array",
            FieldType::List(_) => "list",
            FieldType::Any => "any",
        }
    }
}

impl fmt::Display for FieldType {
    /// What a value of this type looks like, for messages: "an integer",
    /// "a date in the format %d/%m/%Y".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldType::String(StringFormat::Default) => f.write_str("a string"),
            FieldType::String(StringFormat::Email) => f.write_str("an email address"),
            FieldType::String(StringFormat::Uri) => f.write_str("a URI"),
            FieldType::String(StringFormat::Uuid) => {
                f.write_str("a UUID (8-4-4-4-12 hexadecimal digits)")
            }
            FieldType::String(StringFormat::Binary) => f.write_str("base64 binary"),
            FieldType::Integer(options) => {
                f.write_str("an integer")?;
                if let Some(group) = options.group_char {
                    write!(f, " with group separator '{group}'")?;
                }
                Ok(())
            }
            FieldType::Number(options) => {
                f.write_str("a number")?;
                if options.decimal_char != '.' {
                    write!(f, " with decimal separator '{}'", options.decimal_char)?;
                }
                if let Some(group) = options.group_char {
                    write!(f, " with group separator '{group}'")?;
                }
                if let Some(places) = options.decimal_places {
                    write!(f, " with at most {places} decimal places")?;
                }
                Ok(())
            }
            FieldType::Boolean(options) => write!(
                f,
                "a boolean (one of {} or {})",
                options.true_values.join(", "),
                options.false_values.join(", ")
            ),
            FieldType::Date(format) => format.describe(f, "a date", "YYYY-MM-DD"),
            FieldType::Time(format) => format.describe(f, "a time", "hh:mm:ss[.f][Z|+hh:mm]"),
            FieldType::Datetime(format) => {
                format.describe(f, "a datetime", "YYYY-MM-DDThh:mm:ss[.f][Z|+hh:mm]")
            }
            FieldType::Year => f.write_str("a year (YYYY)"),
            FieldType::YearMonth => f.write_str("a year and month (YYYY-MM)"),
            FieldType::Duration => f.write_str("an ISO 8601 duration (such as P1DT2H)"),
            FieldType::Object => f.write_str("a JSON object"),
            FieldType::Array => f.write_str("a JSON array"),
            FieldType::List(options) => write!(
                f,
                "a list of {} separated by '{}'",
                options.item_type.name(),
                options.delimiter
            ),
            FieldType::Any => f.write_str("any value"),
        }
    }
}

/// The formats of `string`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringFormat {
    /// Any text.
    Default,
    /// An email address.
    Email,
    /// An absolute URI (a scheme, a colon, no spaces).
    Uri,
    /// A UUID in its 8-4-4-4-12 hexadecimal form.
    Uuid,
    /// Base64-encoded bytes.
    Binary,
}

/// Options of `integer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntegerOptions {
    /// When false, leading and trailing non-digits (`$`, `%`) are stripped.
    pub bare_number: bool,
    /// A character that separates groups of digits (v2), removed before
    /// parsing.
    pub group_char: Option<char>,
}

/// Options of `number`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumberOptions {
    /// The decimal separator, `.` by default.
    pub decimal_char: char,
    /// A character that separates groups of digits, removed before parsing.
    pub group_char: Option<char>,
    /// When false, leading and trailing non-digits (`$`, `%`) are stripped.
    pub bare_number: bool,
    /// droplake's `decimalPlaces`: the field is an exact decimal with at
    /// most this many digits after the point (money); the warehouse stores
    /// it exactly. `None`: an ordinary number.
    pub decimal_places: Option<u8>,
}

impl NumberOptions {
    /// Checks a cast number against `decimalPlaces`.
    pub(super) fn fits(&self, number: Decimal) -> Result<Decimal, super::CastError> {
        match self.decimal_places {
            Some(_) if !number.is_finite() => Err(super::cast::NOT_FINITE),
            // No more places written than allowed: none to count (the usual
            // case, and counting divides a 128-bit number by ten).
            Some(places) if number.exponent().min(0).unsigned_abs() <= u32::from(places) => {
                Ok(number)
            }
            Some(places) if significant_places(number) > u32::from(places) => {
                Err(super::cast::TOO_MANY_PLACES)
            }
            _ => Ok(number),
        }
    }
}

/// The digits after the point that matter: `12.50` has one, `7.0` none.
fn significant_places(number: Decimal) -> u32 {
    let (mut coefficient, mut places) = (
        number.coefficient(),
        number.exponent().min(0).unsigned_abs(),
    );
    while places > 0 && coefficient % 10 == 0 {
        coefficient /= 10;
        places -= 1;
    }
    places
}

/// Options of `boolean`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BooleanOptions {
    /// Texts that mean true.
    pub true_values: Vec<String>,
    /// Texts that mean false.
    pub false_values: Vec<String>,
}

impl Default for BooleanOptions {
    fn default() -> Self {
        let owned = |values: &[&str]| values.iter().map(|value| value.to_string()).collect();
        BooleanOptions {
            true_values: owned(&["true", "True", "TRUE", "1"]),
            false_values: owned(&["false", "False", "FALSE", "0"]),
        }
    }
}

/// The formats of `date`, `time` and `datetime`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemporalFormat {
    /// The ISO 8601 form the standard names.
    Default,
    /// Any ISO 8601 or RFC 3339 form, a space for the `T`, and (for
    /// datetimes) RFC 2822.
    Any,
    /// A strptime-style pattern such as `%d/%m/%Y`.
    Pattern(String),
}

impl TemporalFormat {
    fn describe(&self, f: &mut fmt::Formatter<'_>, what: &str, iso: &str) -> fmt::Result {
        match self {
            TemporalFormat::Default => write!(f, "{what} in the form {iso}"),
            TemporalFormat::Any => write!(f, "{what}"),
            TemporalFormat::Pattern(pattern) => write!(f, "{what} in the format {pattern}"),
        }
    }
}

/// Options of `list`.
#[derive(Debug, Clone)]
pub struct ListOptions {
    /// What separates the items, `,` by default; never empty.
    pub delimiter: String,
    /// The type of each item, `string` by default.
    pub item_type: ItemType,
    /// `item_type` as the field type each item is cast with, built once.
    pub item: Box<FieldType>,
}

/// The types a list's items may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemType {
    String,
    Integer,
    Number,
    Boolean,
    Date,
    Time,
    Datetime,
}

impl ItemType {
    /// The type's name in the standard.
    pub fn name(self) -> &'static str {
        match self {
            ItemType::String => "string",
            ItemType::Integer => "integer",
            ItemType::Number => "number",
            ItemType::Boolean => "boolean",
            ItemType::Date => "date",
            ItemType::Time => "time",
            ItemType::Datetime => "datetime",
        }
    }

    /// The field type each item is cast as, with default options.
    pub fn field_type(self) -> FieldType {
        match self {
            ItemType::String => FieldType::String(StringFormat::Default),
            ItemType::Integer => FieldType::Integer(IntegerOptions {
                bare_number: true,
                group_char: None,
            }),
            ItemType::Number => FieldType::Number(NumberOptions {
                decimal_char: '.',
                group_char: None,
                bare_number: true,
                decimal_places: None,
            }),
            ItemType::Boolean => FieldType::Boolean(BooleanOptions::default()),
            ItemType::Date => FieldType::Date(TemporalFormat::Default),
            ItemType::Time => FieldType::Time(TemporalFormat::Default),
            ItemType::Datetime => FieldType::Datetime(TemporalFormat::Default),
        }
    }
}
