//! Casting: a cell's physical form (text, or a JSON value) to its typed
//! [`Value`], by its field's type and options.
//!
//! Casting knows nothing of readers or constraints: it takes a [`Cell`] and
//! answers with a value or a [`CastError`]. Missing values (the field's
//! `missingValues`, and JSON `null`) become [`Value::Null`]. Text is never
//! trimmed: a cell with surrounding spaces is a string with spaces, or a type
//! error for the other types (see `docs/table-schema.md`).

use std::borrow::Cow;

use base64::Engine;
use jiff::fmt::strtime;
use jiff::{Span, civil};

use super::field::{
    BooleanOptions, Field, FieldType, IntegerOptions, NumberOptions, StringFormat, TemporalFormat,
};
use super::iso;
use super::value::{Datetime, Decimal, Duration, MAX_DIGITS, Time, Value};
use crate::formats::Cell;

/// Why a cell is not a value of its field's type. The message is built by the
/// caller from the field's type (see [`FieldType`]'s `Display`) and this
/// detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CastError {
    /// A precision beyond "not of the type", such as "it does not fit in 64
    /// bits".
    pub detail: Option<&'static str>,
}

const NOT: CastError = CastError { detail: None };
const TOO_BIG: CastError = CastError {
    detail: Some("it does not fit in 64 bits"),
};
pub(super) const NOT_FINITE: CastError = CastError {
    detail: Some("an exact decimal must be a finite number"),
};
pub(super) const TOO_MANY_PLACES: CastError = CastError {
    detail: Some("it has more decimal places than the field's decimalPlaces"),
};
const TOO_PRECISE: CastError = CastError {
    detail: Some("it has more than 38 significant digits"),
};

/// Casts one cell by its field.
#[inline]
pub fn cast<'a>(field: &Field, cell: Cell<'a>) -> Result<Value<'a>, CastError> {
    match cell {
        Cell::Text(text) => {
            if field.is_missing(text) {
                Ok(Value::Null)
            } else {
                cast_text(&field.kind, text)
            }
        }
        Cell::Json(json) => match json {
            serde_json::Value::Null => Ok(Value::Null),
            serde_json::Value::String(text) if field.is_missing(text) => Ok(Value::Null),
            json => cast_json(&field.kind, json),
        },
    }
}

/// Casts one cell into `slot`, the validator's hot path: the common types
/// are written in place, which spares moving the value once more. On error
/// the slot is left as it was.
#[inline]
pub fn cast_into<'a>(field: &Field, cell: Cell<'a>, slot: &mut Value<'a>) -> Result<(), CastError> {
    let Cell::Text(text) = cell else {
        put(slot, cast(field, cell)?);
        return Ok(());
    };
    if field.is_missing(text) {
        put(slot, Value::Null);
        return Ok(());
    }
    let value = match &field.kind {
        FieldType::String(StringFormat::Default) | FieldType::Any => {
            Value::String(Cow::Borrowed(text))
        }
        FieldType::String(
            format @ (StringFormat::Email | StringFormat::Uri | StringFormat::Uuid),
        ) => {
            let valid = match format {
                StringFormat::Email => is_email(text),
                StringFormat::Uri => is_uri(text),
                _ => is_uuid(text),
            };
            if !valid {
                return Err(NOT);
            }
            Value::String(Cow::Borrowed(text))
        }
        FieldType::Integer(options) => Value::Integer(parse_integer(text, options)?),
        FieldType::Number(options) => Value::Number(options.fits(parse_number(text, options)?)?),
        FieldType::Boolean(options) => Value::Boolean(parse_boolean(text, options)?),
        FieldType::Date(format) => Value::Date(parse_date(text, format)?),
        // The ISO form, parsed inline: returned from a call, the datetime
        // was written field by field and read back whole, a store-forwarding
        // stall per row.
        FieldType::Datetime(TemporalFormat::Default) => {
            Value::Datetime(iso::datetime(text, false).ok_or(NOT)?)
        }
        FieldType::Datetime(format) => Value::Datetime(parse_datetime(text, format)?),
        kind => cast_text(kind, text)?,
    };
    put(slot, value);
    Ok(())
}

/// Writes `value` into `slot`. A slot the validator prepared holds `Null`,
/// which owns nothing: forgetting it spares a call into the drop glue per cell.
#[inline(always)]
fn put<'a>(slot: &mut Value<'a>, value: Value<'a>) {
    if slot.is_null() {
        std::mem::forget(std::mem::replace(slot, value));
    } else {
        *slot = value;
    }
}

/// Casts a text that is not a missing value.
#[inline]
pub fn cast_text<'a>(kind: &FieldType, text: &'a str) -> Result<Value<'a>, CastError> {
    match kind {
        FieldType::String(format) => cast_string(*format, text),
        FieldType::Integer(options) => parse_integer(text, options).map(Value::Integer),
        FieldType::Number(options) => parse_number(text, options)
            .and_then(|number| options.fits(number))
            .map(Value::Number),
        FieldType::Boolean(options) => parse_boolean(text, options).map(Value::Boolean),
        FieldType::Date(format) => parse_date(text, format).map(Value::Date),
        FieldType::Time(format) => parse_time(text, format).map(Value::Time),
        FieldType::Datetime(format) => parse_datetime(text, format).map(Value::Datetime),
        FieldType::Year => parse_year(text).map(Value::Year),
        FieldType::YearMonth => parse_yearmonth(text),
        FieldType::Duration => parse_duration(text).map(Value::Duration),
        FieldType::Object | FieldType::Array => {
            let json: serde_json::Value = serde_json::from_str(text).map_err(|_| NOT)?;
            cast_json(kind, &json).map(Value::into_owned)
        }
        FieldType::List(options) => {
            let items = text
                .split(options.delimiter.as_str())
                .map(|item| cast_text(&options.item, item))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Value::List(items))
        }
        FieldType::Any => Ok(Value::String(Cow::Borrowed(text))),
    }
}

/// Casts a JSON value that is not `null`: strings are cast as text, other
/// JSON types must be the field's own.
pub fn cast_json<'a>(
    kind: &FieldType,
    json: &'a serde_json::Value,
) -> Result<Value<'a>, CastError> {
    use serde_json::Value as Json;
    match (kind, json) {
        (FieldType::Any, Json::String(text)) => Ok(Value::String(Cow::Borrowed(text))),
        (FieldType::Any, json) => Ok(Value::Json(Box::new(Cow::Borrowed(json)))),
        (FieldType::Object, Json::Object(_)) | (FieldType::Array, Json::Array(_)) => {
            Ok(Value::Json(Box::new(Cow::Borrowed(json))))
        }
        (FieldType::Object | FieldType::Array, _) => Err(NOT),
        (_, Json::String(text)) => cast_text(kind, text),
        (FieldType::Integer(_), Json::Number(number)) => json_integer(number).map(Value::Integer),
        (FieldType::Year, Json::Number(number)) => {
            let year = json_integer(number)?;
            i16::try_from(year)
                .ok()
                .filter(|year| (0..=9999).contains(year))
                .map(Value::Year)
                .ok_or(NOT)
        }
        (FieldType::Number(options), Json::Number(number)) => json_number(number)
            .and_then(|number| options.fits(number))
            .map(Value::Number),
        (FieldType::Boolean(_), Json::Bool(b)) => Ok(Value::Boolean(*b)),
        (FieldType::YearMonth, Json::Array(parts)) => match parts.as_slice() {
            [Json::Number(year), Json::Number(month)] => {
                let year = i16::try_from(json_integer(year)?).map_err(|_| NOT)?;
                let month = i8::try_from(json_integer(month)?).map_err(|_| NOT)?;
                yearmonth(year, month)
            }
            _ => Err(NOT),
        },
        (FieldType::List(options), Json::Array(items)) => {
            let items = items
                .iter()
                .map(|item| match item {
                    Json::Null => Ok(Value::Null),
                    item => cast_json(&options.item, item),
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Value::List(items))
        }
        _ => Err(NOT),
    }
}

fn json_integer(number: &serde_json::Number) -> Result<i64, CastError> {
    if let Some(n) = number.as_i64() {
        return Ok(n);
    }
    if number.is_u64() {
        return Err(TOO_BIG);
    }
    // A float is an integer if it is integral and exactly representable.
    match number.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_992.0 => Ok(f as i64),
        Some(f) if f.fract() == 0.0 => Err(TOO_BIG),
        _ => Err(NOT),
    }
}

fn json_number(number: &serde_json::Number) -> Result<Decimal, CastError> {
    if let Some(n) = number.as_i64() {
        return Ok(Decimal::from(n));
    }
    if let Some(n) = number.as_u64() {
        return Ok(Decimal::new(false, u128::from(n), 0));
    }
    // A JSON float: its shortest round-trip text is the decimal the producer
    // most likely wrote. Formatted on the stack, no allocation.
    let mut buffer = [0u8; 64];
    let mut cursor = std::io::Cursor::new(&mut buffer[..]);
    std::io::Write::write_fmt(&mut cursor, format_args!("{number}")).map_err(|_| NOT)?;
    let length = usize::try_from(cursor.position()).map_err(|_| NOT)?;
    let text = std::str::from_utf8(&buffer[..length]).map_err(|_| NOT)?;
    decimal(text.as_bytes(), b'.', None)
}

#[inline]
fn cast_string(format: StringFormat, text: &str) -> Result<Value<'_>, CastError> {
    let valid = match format {
        StringFormat::Default => true,
        StringFormat::Email => is_email(text),
        StringFormat::Uri => is_uri(text),
        StringFormat::Uuid => is_uuid(text),
        StringFormat::Binary => {
            return base64::engine::general_purpose::STANDARD
                .decode(text)
                .map(Value::Binary)
                .map_err(|_| NOT);
        }
    };
    if valid {
        Ok(Value::String(Cow::Borrowed(text)))
    } else {
        Err(NOT)
    }
}

/// An email address: `local@domain`, the local part of RFC 5322 atoms
/// separated by dots, the domain of two or more DNS labels. Non-ASCII is
/// accepted (internationalised addresses); quoted local parts are not.
///
/// One pass over the bytes, no regex. Both parts are runs of allowed bytes
/// between single separators, so each is checked run by run: a tight
/// table-lookup loop finds where a run stops, and only the separators and
/// the runs' ends are looked at more closely.
pub fn is_email(text: &str) -> bool {
    let bytes = text.as_bytes();
    // Local part: atoms separated by single dots, up to the first `@`. Every
    // atom must be non-empty: that rules out a dot at either end, two dots
    // in a row and an empty local part.
    let mut at = 0;
    loop {
        let Some(run) = bytes[at..]
            .iter()
            .position(|&byte| EMAIL_CLASS[usize::from(byte)] & ATOM == 0)
        else {
            return false; // no `@`
        };
        if run == 0 {
            return false;
        }
        at += run;
        match bytes[at] {
            b'.' => at += 1,
            b'@' => break,
            _ => return false,
        }
    }
    let domain = &bytes[at + 1..];
    if at > 64 || domain.len() > 253 {
        return false;
    }
    // Domain: at least two labels of 1 to 63 letters, digits and inner
    // hyphens, separated by single dots.
    let mut labels = 0;
    let mut rest = domain;
    loop {
        let run = rest
            .iter()
            .position(|&byte| EMAIL_CLASS[usize::from(byte)] & LABEL == 0)
            .unwrap_or(rest.len());
        let label = &rest[..run];
        match (label.first(), label.last()) {
            (Some(&first), Some(&last)) if run <= 63 && first != b'-' && last != b'-' => {}
            _ => return false,
        }
        labels += 1;
        match rest.get(run) {
            None => return labels >= 2,
            Some(b'.') => rest = &rest[run + 1..],
            Some(_) => return false,
        }
    }
}

/// Bytes allowed in an email's local-part atoms.
const ATOM: u8 = 1;
/// Bytes allowed in an email's domain labels (besides the dots).
const LABEL: u8 = 2;
/// The class of each byte, for [`is_email`]; non-ASCII bytes are allowed in
/// both parts.
const EMAIL_CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        if b.is_ascii_alphanumeric() || b >= 0x80 {
            table[byte] = ATOM | LABEL;
        }
        byte += 1;
    }
    let extra = b"!#$%&'*+/=?^_`{|}~-";
    let mut index = 0;
    while index < extra.len() {
        table[extra[index] as usize] |= ATOM;
        index += 1;
    }
    table[b'-' as usize] |= LABEL;
    table
};

/// An absolute URI: a scheme (`[A-Za-z][A-Za-z0-9+.-]*`), a colon, and a
/// non-empty rest without spaces or control characters.
pub fn is_uri(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once(':') else {
        return false;
    };
    let mut scheme_bytes = scheme.bytes();
    let scheme_ok = scheme_bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && scheme_bytes.all(|b| b.is_ascii_alphanumeric() || b"+.-".contains(&b));
    scheme_ok
        && !rest.is_empty()
        && rest
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && c != '"' && c != '<' && c != '>')
}

/// A UUID in the hyphenated 8-4-4-4-12 form, either case.
pub fn is_uuid(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(index, byte)| match index {
            8 | 13 | 18 | 23 => *byte == b'-',
            _ => byte.is_ascii_hexdigit(),
        })
}

/// Strips what `bareNumber: false` allows around a number: leading and
/// trailing characters that are not digits (currency signs, `%`), keeping a
/// sign.
fn strip_non_digits(text: &str, keep_sign: bool) -> &str {
    let start = text
        .find(|c: char| c.is_ascii_digit() || (keep_sign && (c == '-' || c == '+')))
        .unwrap_or(text.len());
    let end = text
        .rfind(|c: char| c.is_ascii_digit())
        .map_or(start, |index| index + 1);
    text.get(start..end.max(start)).unwrap_or("")
}

/// Parses an integer: an optional sign and decimal digits (leading zeros
/// allowed), with group characters removed if the field has one. Beyond 64
/// bits it is an error, never a truncation.
#[inline]
pub fn parse_integer(text: &str, options: &IntegerOptions) -> Result<i64, CastError> {
    let text = if options.bare_number {
        text
    } else {
        strip_non_digits(text, true)
    };
    let bytes = text.as_bytes();
    let (negative, digits) = match bytes.first() {
        Some(b'-') => (true, &bytes[1..]),
        Some(b'+') => (false, &bytes[1..]),
        _ => (false, bytes),
    };
    if digits.is_empty() {
        return Err(NOT);
    }
    let Some(group) = options.group_char else {
        // The common case, without a group character: ASCII digits only, so
        // the bytes are read as they are, with no UTF-8 check and no chars.
        let mut magnitude: u64 = 0;
        for &byte in digits {
            let digit = byte.wrapping_sub(b'0');
            if digit > 9 {
                return Err(NOT);
            }
            magnitude = magnitude
                .checked_mul(10)
                .and_then(|m| m.checked_add(u64::from(digit)))
                .ok_or(TOO_BIG)?;
        }
        return signed(negative, magnitude);
    };
    let group = Some(group as u32);
    let mut magnitude: u64 = 0;
    let mut seen_digit = false;
    let mut chars = std::str::from_utf8(digits).map_err(|_| NOT)?.chars();
    // The common case is all ASCII digits; the char iterator is as fast then.
    for c in chars.by_ref() {
        let digit = (c as u32).wrapping_sub('0' as u32);
        if digit < 10 {
            seen_digit = true;
            magnitude = magnitude
                .checked_mul(10)
                .and_then(|m| m.checked_add(u64::from(digit)))
                .ok_or(TOO_BIG)?;
        } else if Some(c as u32) == group && seen_digit {
            continue;
        } else {
            return Err(NOT);
        }
    }
    if !seen_digit {
        return Err(NOT);
    }
    signed(negative, magnitude)
}

/// An integer's value from its sign and magnitude, if it fits in 64 bits.
#[inline]
fn signed(negative: bool, magnitude: u64) -> Result<i64, CastError> {
    if negative {
        if magnitude > i64::MAX as u64 + 1 {
            return Err(TOO_BIG);
        }
        Ok((magnitude as i64).wrapping_neg())
    } else {
        i64::try_from(magnitude).map_err(|_| TOO_BIG)
    }
}

/// Parses a number: `NaN`, `INF`, `-INF`, or an optional sign, digits with an
/// optional decimal part, and an optional exponent; exactly.
#[inline]
pub fn parse_number(text: &str, options: &NumberOptions) -> Result<Decimal, CastError> {
    match text {
        "NaN" => return Ok(Decimal::NAN),
        "INF" | "+INF" => return Ok(Decimal::INFINITY),
        "-INF" => return Ok(Decimal::NEG_INFINITY),
        _ => {}
    }
    let text = if options.bare_number {
        text
    } else {
        strip_non_digits(text, true)
    };
    let decimal_char = u8::try_from(options.decimal_char).ok();
    let group = options.group_char;
    match (decimal_char, group) {
        (Some(point), None) => decimal(text.as_bytes(), point, None),
        (Some(point), Some(group)) if group.is_ascii() => {
            decimal(text.as_bytes(), point, u8::try_from(group).ok())
        }
        _ => {
            // Non-ASCII separators (such as a narrow no-break space as group
            // character): rewrite into ASCII first. Rare, so it may allocate.
            let mut ascii = String::with_capacity(text.len());
            for c in text.chars() {
                if Some(c) == group {
                    continue;
                } else if c == options.decimal_char {
                    ascii.push('.');
                } else {
                    ascii.push(c);
                }
            }
            decimal(ascii.as_bytes(), b'.', None)
        }
    }
}

/// The decimal grammar over bytes.
fn decimal(bytes: &[u8], point: u8, group: Option<u8>) -> Result<Decimal, CastError> {
    let (negative, rest) = match bytes.first() {
        Some(b'-') => (true, &bytes[1..]),
        Some(b'+') => (false, &bytes[1..]),
        _ => (false, bytes),
    };
    match short_decimal(negative, rest, point) {
        Some(decimal) => Ok(decimal),
        None => long_decimal(negative, rest, point, group),
    }
}

/// The decimal grammar over the bytes after the sign, in full.
fn long_decimal(
    negative: bool,
    mut rest: &[u8],
    point: u8,
    group: Option<u8>,
) -> Result<Decimal, CastError> {
    let mut coefficient: u128 = 0;
    let mut significant: u32 = 0;
    let mut exponent: i64 = 0;
    let mut digits = 0usize;
    let mut in_fraction = false;
    while let Some((&byte, tail)) = rest.split_first() {
        if byte.is_ascii_digit() {
            digits += 1;
            if coefficient != 0 || byte != b'0' {
                significant += 1;
            }
            if significant > MAX_DIGITS {
                // Zeros past the last digit that fits carry no value: in the
                // integer part they raise the exponent, in the fraction they
                // are dropped. Any other digit would be rounded away.
                if byte != b'0' {
                    return Err(TOO_PRECISE);
                }
                if !in_fraction {
                    exponent += 1;
                }
            } else {
                coefficient = coefficient * 10 + u128::from(byte - b'0');
                if in_fraction {
                    exponent -= 1;
                }
            }
        } else if byte == point && !in_fraction {
            in_fraction = true;
        } else if Some(byte) == group && !in_fraction && digits > 0 {
        } else if byte == b'e' || byte == b'E' {
            break;
        } else {
            return Err(NOT);
        }
        rest = tail;
    }
    if digits == 0 {
        return Err(NOT);
    }
    if let Some((_, exponent_text)) = rest.split_first() {
        let (exponent_negative, exponent_digits) = match exponent_text.first() {
            Some(b'-') => (true, &exponent_text[1..]),
            Some(b'+') => (false, &exponent_text[1..]),
            _ => (false, exponent_text),
        };
        if exponent_digits.is_empty() || !exponent_digits.iter().all(u8::is_ascii_digit) {
            return Err(NOT);
        }
        let mut value: i64 = 0;
        for digit in exponent_digits {
            value = value
                .checked_mul(10)
                .and_then(|v| v.checked_add(i64::from(digit - b'0')))
                .filter(|v| *v < 1_000_000_000)
                .ok_or(NOT)?;
        }
        exponent += if exponent_negative { -value } else { value };
    }
    let exponent = i32::try_from(exponent).map_err(|_| NOT)?;
    Ok(Decimal::new(negative, coefficient, exponent))
}

/// The common number, `digits[.digits]` with at most 18 digits (a sign
/// already taken off), in 64-bit arithmetic: the same value [`decimal`]
/// computes in 128 bits, where nothing can round. `None` for anything else
/// (more digits, a group character, an exponent, not a number), which the
/// general grammar then decides.
#[inline]
fn short_decimal(negative: bool, bytes: &[u8], point: u8) -> Option<Decimal> {
    if bytes.len() > 19 {
        return None;
    }
    let mut coefficient: u64 = 0;
    let mut digits = 0;
    let mut places = None;
    for (index, &byte) in bytes.iter().enumerate() {
        let digit = byte.wrapping_sub(b'0');
        if digit < 10 {
            coefficient = coefficient * 10 + u64::from(digit);
            digits += 1;
        } else if byte == point && places.is_none() {
            places = Some(bytes.len() - index - 1);
        } else {
            return None;
        }
    }
    if digits == 0 || digits > 18 {
        return None;
    }
    let exponent = -i32::try_from(places.unwrap_or(0)).ok()?;
    Some(Decimal::new(negative, u128::from(coefficient), exponent))
}

#[inline]
fn parse_boolean(text: &str, options: &BooleanOptions) -> Result<bool, CastError> {
    if options.true_values.iter().any(|value| value == text) {
        Ok(true)
    } else if options.false_values.iter().any(|value| value == text) {
        Ok(false)
    } else {
        Err(NOT)
    }
}

/// A strptime pattern, without the `fmt:` prefix of v1.
fn pattern(pattern: &str) -> &str {
    pattern.strip_prefix("fmt:").unwrap_or(pattern)
}

#[inline]
fn parse_date(text: &str, format: &TemporalFormat) -> Result<civil::Date, CastError> {
    match format {
        TemporalFormat::Default => iso::date(text).ok_or(NOT),
        TemporalFormat::Any => iso::date(text)
            .or_else(|| text.parse::<civil::Date>().ok())
            .ok_or(NOT),
        TemporalFormat::Pattern(p) => strtime::parse(pattern(p), text)
            .and_then(|parsed| parsed.to_date())
            .map_err(|_| NOT),
    }
}

#[inline]
fn parse_time(text: &str, format: &TemporalFormat) -> Result<Time, CastError> {
    match format {
        TemporalFormat::Default => iso::time(text, false).ok_or(NOT),
        TemporalFormat::Any => iso::time(text, true)
            .or_else(|| {
                text.parse::<civil::Time>()
                    .ok()
                    .map(|time| Time { time, offset: None })
            })
            .ok_or(NOT),
        TemporalFormat::Pattern(p) => {
            let parsed = strtime::parse(pattern(p), text).map_err(|_| NOT)?;
            let time = parsed.to_time().map_err(|_| NOT)?;
            Ok(Time {
                time,
                offset: parsed.offset(),
            })
        }
    }
}

#[inline]
fn parse_datetime(text: &str, format: &TemporalFormat) -> Result<Datetime, CastError> {
    match format {
        TemporalFormat::Default => iso::datetime(text, false).ok_or(NOT),
        TemporalFormat::Any => iso::datetime(text, true)
            .or_else(|| {
                text.parse::<civil::DateTime>()
                    .ok()
                    .map(|datetime| Datetime {
                        datetime,
                        offset: None,
                    })
            })
            .or_else(|| {
                let zoned = jiff::fmt::rfc2822::parse(text).ok()?;
                Some(Datetime {
                    datetime: zoned.datetime(),
                    offset: Some(zoned.offset()),
                })
            })
            .ok_or(NOT),
        TemporalFormat::Pattern(p) => {
            let parsed = strtime::parse(pattern(p), text).map_err(|_| NOT)?;
            let datetime = parsed.to_datetime().map_err(|_| NOT)?;
            Ok(Datetime {
                datetime,
                offset: parsed.offset(),
            })
        }
    }
}

fn parse_year(text: &str) -> Result<i16, CastError> {
    let bytes = text.as_bytes();
    if bytes.len() != 4 || !bytes.iter().all(u8::is_ascii_digit) {
        return Err(NOT);
    }
    text.parse().map_err(|_| NOT)
}

fn yearmonth(year: i16, month: i8) -> Result<Value<'static>, CastError> {
    if (0..=9999).contains(&year) && (1..=12).contains(&month) {
        Ok(Value::YearMonth { year, month })
    } else {
        Err(NOT)
    }
}

fn parse_yearmonth(text: &str) -> Result<Value<'static>, CastError> {
    let (year, month) = text.split_once('-').ok_or(NOT)?;
    let year = parse_year(year)?;
    if month.len() != 2 || !month.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NOT);
    }
    let month = month.parse().map_err(|_| NOT)?;
    yearmonth(year, month)
}

fn parse_duration(text: &str) -> Result<Duration, CastError> {
    // jiff also reads its "friendly" format (`1h 30m`); the standard wants
    // ISO 8601 only, which always has a `P` after an optional sign.
    let iso = text
        .strip_prefix(['-', '+'])
        .unwrap_or(text)
        .starts_with(['P', 'p']);
    if !iso {
        return Err(NOT);
    }
    text.parse::<Span>()
        .map(|span| Duration(Box::new(span)))
        .map_err(|_| NOT)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The straightforward form of [`is_email`]'s rules (find the `@`, then
    /// check each part byte by byte), which the one-pass version must match.
    fn is_email_reference(text: &str) -> bool {
        let bytes = text.as_bytes();
        let Some(at) = bytes.iter().position(|&b| b == b'@') else {
            return false;
        };
        let (local, domain) = (&bytes[..at], &bytes[at + 1..]);
        if local.is_empty() || local.len() > 64 || domain.len() > 253 {
            return false;
        }
        let mut previous = b'.';
        for &byte in local {
            let ok = if byte == b'.' {
                previous != b'.'
            } else {
                EMAIL_CLASS[usize::from(byte)] & ATOM != 0
            };
            if !ok {
                return false;
            }
            previous = byte;
        }
        if previous == b'.' {
            return false;
        }
        let mut labels = 1;
        let mut label_length = 0;
        let mut previous = b'.';
        for &byte in domain {
            if byte == b'.' {
                if label_length == 0 || previous == b'-' {
                    return false;
                }
                labels += 1;
                label_length = 0;
            } else if EMAIL_CLASS[usize::from(byte)] & LABEL != 0 {
                if byte == b'-' && label_length == 0 {
                    return false;
                }
                label_length += 1;
                if label_length > 63 {
                    return false;
                }
            } else {
                return false;
            }
            previous = byte;
        }
        label_length > 0 && previous != b'-' && labels >= 2
    }

    #[test]
    fn email_lengths_are_checked_at_their_limits() {
        let label = |n: usize| "d".repeat(n);
        for n in [62, 63, 64, 65] {
            let local = format!("{}@b.co", label(n));
            let first = format!("a@{}.co", label(n));
            let last = format!("a@b.{}", label(n));
            for text in [local, first, last] {
                assert_eq!(is_email(&text), is_email_reference(&text), "{text}");
            }
        }
        let long_domain = format!("a@{}.{}", vec![label(63); 3].join("."), label(61));
        assert_eq!(long_domain.len() - 2, 253);
        assert!(is_email(&long_domain));
        assert!(!is_email(&format!("{long_domain}x")));
    }

    proptest! {
        #[test]
        fn short_decimals_read_as_the_full_grammar_reads_them(
            text in "[0-9.]{0,21}",
            negative in any::<bool>(),
            point in prop::sample::select(vec![b'.', b',']),
        ) {
            let text = if point == b',' { text.replace('.', ",") } else { text };
            if let Some(short) = short_decimal(negative, text.as_bytes(), point) {
                // The same representation, not only an equal value.
                let long = long_decimal(negative, text.as_bytes(), point, None);
                prop_assert_eq!(format!("{:?}", Ok::<_, CastError>(short)), format!("{long:?}"));
            }
        }

        #[test]
        fn the_one_pass_email_check_agrees_with_the_reference(
            text in "[ab9.@!é -]{0,24}",
            parts in prop::collection::vec("[a-]{0,70}", 0..4),
        ) {
            prop_assert_eq!(is_email(&text), is_email_reference(&text), "{:?}", text);
            let dotted = format!("{}@{}", parts.join("."), parts.join("."));
            prop_assert_eq!(is_email(&dotted), is_email_reference(&dotted), "{:?}", dotted);
        }
    }
}
