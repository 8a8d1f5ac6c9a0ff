//! Typed values: what a cell becomes once its field has cast it.
//!
//! A [`Value`] borrows the cell's text where it can (strings, JSON values), so
//! casting the common types allocates nothing. Numbers are exact
//! [`Decimal`]s, never only an `f64`, so that money survives the trip to the
//! warehouse; dates and times are jiff's civil types, with the offset kept
//! when the text had one. [`Value::compare`] orders values of one type for
//! the range constraints, and [`Value::hash_key`] feeds the uniqueness checks.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use jiff::civil;
use jiff::tz::Offset;
use jiff::{SignedDuration, Span, SpanRelativeTo};

/// One typed value.
#[derive(Debug, Clone)]
pub enum Value<'a> {
    /// A missing value: the cell was absent, empty, JSON `null`, or one of the
    /// field's `missingValues`.
    Null,
    /// A string (any format but `binary`), borrowed from the cell when it can.
    String(Cow<'a, str>),
    /// A `binary` string, decoded from base64.
    Binary(Vec<u8>),
    /// An `integer`.
    Integer(i64),
    /// A `number`, exact.
    Number(Decimal),
    /// A `boolean`.
    Boolean(bool),
    /// A `date`.
    Date(civil::Date),
    /// A `time`, with its offset if the text had one.
    Time(Time),
    /// A `datetime`, with its offset if the text had one.
    Datetime(Datetime),
    /// A `year`.
    Year(i16),
    /// A `yearmonth`.
    YearMonth { year: i16, month: i8 },
    /// A `duration` (ISO 8601).
    Duration(Duration),
    /// An `object` or `array`, or a JSON value of an `any` field.
    Json(Box<Cow<'a, serde_json::Value>>),
    /// A `list`: its items, each cast by the `itemType`.
    List(Vec<Value<'a>>),
}

impl Value<'_> {
    /// Whether dropping the value frees memory.
    fn owns_memory(&self) -> bool {
        matches!(
            self,
            Value::String(Cow::Owned(_))
                | Value::Binary(_)
                | Value::Json(_)
                | Value::Duration(_)
                | Value::List(_)
        )
    }

    /// Whether the value is missing.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The same value, owning everything it borrowed.
    pub fn into_owned(self) -> Value<'static> {
        match self {
            Value::Null => Value::Null,
            Value::String(text) => Value::String(Cow::Owned(text.into_owned())),
            Value::Binary(bytes) => Value::Binary(bytes),
            Value::Integer(n) => Value::Integer(n),
            Value::Number(n) => Value::Number(n),
            Value::Boolean(b) => Value::Boolean(b),
            Value::Date(d) => Value::Date(d),
            Value::Time(t) => Value::Time(t),
            Value::Datetime(d) => Value::Datetime(d),
            Value::Year(y) => Value::Year(y),
            Value::YearMonth { year, month } => Value::YearMonth { year, month },
            Value::Duration(d) => Value::Duration(d),
            Value::Json(json) => Value::Json(Box::new(Cow::Owned((*json).into_owned()))),
            Value::List(items) => Value::List(items.into_iter().map(Value::into_owned).collect()),
        }
    }

    /// Orders two values of the same ordered type (numbers, dates, times,
    /// years, durations); `None` for other types, mixed types and NaN.
    pub fn compare(&self, other: &Value<'_>) -> Option<Ordering> {
        match (self, other) {
            (Value::Integer(a), Value::Integer(b)) => Some(a.cmp(b)),
            (Value::Number(a), Value::Number(b)) => a.partial_cmp(b),
            (Value::Integer(a), Value::Number(b)) => Decimal::from(*a).partial_cmp(b),
            (Value::Number(a), Value::Integer(b)) => a.partial_cmp(&Decimal::from(*b)),
            (Value::Date(a), Value::Date(b)) => Some(a.cmp(b)),
            (Value::Time(a), Value::Time(b)) => Some(a.cmp(b)),
            (Value::Datetime(a), Value::Datetime(b)) => Some(a.cmp(b)),
            (Value::Year(a), Value::Year(b)) => Some(a.cmp(b)),
            (
                Value::YearMonth { year, month },
                Value::YearMonth {
                    year: year_b,
                    month: month_b,
                },
            ) => Some((year, month).cmp(&(year_b, month_b))),
            (Value::Duration(a), Value::Duration(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }

    /// Feeds the value's identity to a hasher: equal values (`1.50` and
    /// `1.5`, `10:00+01:00` and `09:00Z`) hash equally.
    pub fn hash_key<H: Hasher>(&self, state: &mut H) {
        std::mem::discriminant(self).hash(state);
        match self {
            Value::Null => {}
            Value::String(text) => text.hash(state),
            Value::Binary(bytes) => bytes.hash(state),
            Value::Integer(n) => n.hash(state),
            Value::Number(n) => n.hash(state),
            Value::Boolean(b) => b.hash(state),
            Value::Date(d) => d.hash(state),
            Value::Time(t) => t.instant_key().hash(state),
            Value::Datetime(d) => d.instant_key().hash(state),
            Value::Year(y) => y.hash(state),
            Value::YearMonth { year, month } => (year, month).hash(state),
            Value::Duration(d) => d.hash(state),
            Value::Json(json) => json.to_string().hash(state),
            Value::List(items) => {
                items.len().hash(state);
                for item in items {
                    item.hash_key(state);
                }
            }
        }
    }
}

impl PartialEq for Value<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::Binary(a), Value::Binary(b)) => a == b,
            (Value::Boolean(a), Value::Boolean(b)) => a == b,
            (Value::Json(a), Value::Json(b)) => a == b,
            (Value::List(a), Value::List(b)) => a == b,
            _ => self.compare(other) == Some(Ordering::Equal),
        }
    }
}

impl fmt::Display for Value<'_> {
    /// The canonical text of the value: ISO 8601 for dates and times, the
    /// exact decimal for numbers, base64 for binary.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use base64::Engine;
        match self {
            Value::Null => Ok(()),
            Value::String(text) => f.write_str(text),
            Value::Binary(bytes) => {
                f.write_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
            }
            Value::Integer(n) => write!(f, "{n}"),
            Value::Number(n) => write!(f, "{n}"),
            Value::Boolean(b) => write!(f, "{b}"),
            Value::Date(d) => write!(f, "{d}"),
            Value::Time(t) => write!(f, "{t}"),
            Value::Datetime(d) => write!(f, "{d}"),
            Value::Year(y) => write!(f, "{y:04}"),
            Value::YearMonth { year, month } => write!(f, "{year:04}-{month:02}"),
            Value::Duration(d) => write!(f, "{d}"),
            Value::Json(json) => write!(f, "{json}"),
            Value::List(items) => {
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{item}")?;
                }
                Ok(())
            }
        }
    }
}

/// Reuses a vector's allocation for values of another lifetime.
///
/// The validator fills a `Vec<Value<'r>>` that borrows from the record; to
/// read the next record the caller must end that borrow. Recycling keeps the
/// buffer without keeping the borrow: the vector is emptied and its
/// allocation handed back under the new lifetime (the standard library
/// collects in place when the element layout does not change).
#[inline]
pub fn recycle<'b>(mut values: Vec<Value<'_>>) -> Vec<Value<'b>> {
    // Most values own nothing (borrowed text, numbers, dates): forgetting
    // those spares the drop glue, a call per value. Popping them is cheaper
    // than a `drain`, or than visiting them in the collect below, which
    // then only changes the empty vector's lifetime.
    while let Some(value) = values.pop() {
        if value.owns_memory() {
            drop(value);
        } else {
            std::mem::forget(value);
        }
    }
    values.into_iter().map(|_| Value::Null).collect()
}

/// A time of day, with its UTC offset if the text had one.
/// Equality and order are by instant: `10:00+01:00` equals `09:00Z`.
#[derive(Debug, Clone, Copy)]
pub struct Time {
    /// The wall-clock time.
    pub time: civil::Time,
    /// The offset from UTC, if one was given (`Z` is zero).
    pub offset: Option<Offset>,
}

impl Time {
    /// Nanoseconds since midnight UTC; a time without offset counts as UTC.
    fn instant_key(&self) -> i64 {
        let nanos = i64::from(self.time.hour()) * 3_600_000_000_000
            + i64::from(self.time.minute()) * 60_000_000_000
            + i64::from(self.time.second()) * 1_000_000_000
            + i64::from(self.time.subsec_nanosecond());
        let offset = self.offset.map_or(0, |offset| i64::from(offset.seconds()));
        nanos - offset * 1_000_000_000
    }
}

impl PartialEq for Time {
    fn eq(&self, other: &Self) -> bool {
        self.instant_key() == other.instant_key()
    }
}

impl Eq for Time {}

impl Ord for Time {
    fn cmp(&self, other: &Self) -> Ordering {
        self.instant_key().cmp(&other.instant_key())
    }
}

impl PartialOrd for Time {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.time)?;
        write_offset(f, self.offset)
    }
}

/// A date and time, with its UTC offset if the text had one.
/// Equality and order are by instant: `10:00+01:00` equals `09:00Z`.
#[derive(Debug, Clone, Copy)]
pub struct Datetime {
    /// The wall-clock date and time.
    pub datetime: civil::DateTime,
    /// The offset from UTC, if one was given (`Z` is zero).
    pub offset: Option<Offset>,
}

impl Datetime {
    /// The instant as a UTC civil datetime; one without offset counts as UTC.
    pub fn instant_key(&self) -> civil::DateTime {
        match self.offset {
            None => self.datetime,
            Some(offset) => self
                .datetime
                .checked_sub(SignedDuration::from_secs(i64::from(offset.seconds())))
                .unwrap_or(self.datetime),
        }
    }
}

impl PartialEq for Datetime {
    fn eq(&self, other: &Self) -> bool {
        self.instant_key() == other.instant_key()
    }
}

impl Eq for Datetime {}

impl Ord for Datetime {
    fn cmp(&self, other: &Self) -> Ordering {
        self.instant_key().cmp(&other.instant_key())
    }
}

impl PartialOrd for Datetime {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Datetime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.datetime)?;
        write_offset(f, self.offset)
    }
}

fn write_offset(f: &mut fmt::Formatter<'_>, offset: Option<Offset>) -> fmt::Result {
    match offset {
        None => Ok(()),
        Some(offset) if offset.seconds() == 0 => f.write_str("Z"),
        Some(offset) => {
            let seconds = offset.seconds();
            let sign = if seconds < 0 { '-' } else { '+' };
            let seconds = seconds.unsigned_abs();
            write!(f, "{sign}{:02}:{:02}", seconds / 3600, seconds / 60 % 60)
        }
    }
}

/// An ISO 8601 duration such as `P1Y2M3DT4H`.
///
/// Durations with calendar units are ordered and compared as if they started
/// on 1970-01-01, so `P1M` is 31 days.
#[derive(Debug, Clone)]
pub struct Duration(pub Box<Span>);

impl Duration {
    fn nanos(&self) -> i128 {
        let relative = SpanRelativeTo::from(civil::date(1970, 1, 1));
        self.0
            .to_duration(relative)
            .map_or(0, |duration| duration.as_nanos())
    }
}

impl PartialEq for Duration {
    fn eq(&self, other: &Self) -> bool {
        self.nanos() == other.nanos()
    }
}

impl Eq for Duration {}

impl Ord for Duration {
    fn cmp(&self, other: &Self) -> Ordering {
        self.nanos().cmp(&other.nanos())
    }
}

impl PartialOrd for Duration {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Hash for Duration {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.nanos().hash(state);
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The most significant digits a [`Decimal`] keeps: 38, all that fit `u128`
/// with room to align two of them for comparison.
pub const MAX_DIGITS: u32 = 38;

/// An exact decimal number: `coefficient × 10^exponent`, with a sign, or one
/// of the special values the standard allows (`NaN`, `INF`, `-INF`).
///
/// The coefficient keeps the trailing zeros of the text (`12.50` is 1250 ×
/// 10⁻²), so the canonical text keeps the precision the producer wrote;
/// equality, ordering and hashing are by numeric value. Stored in 24 bytes
/// (the coefficient as two halves) so that values stay small.
#[derive(Debug, Clone, Copy)]
pub struct Decimal {
    /// The coefficient's low and high 64 bits; at most [`MAX_DIGITS`] digits.
    low: u64,
    high: u64,
    exponent: i32,
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    /// Zero or above.
    Positive,
    /// Below zero (never zero itself).
    Negative,
    NaN,
    Infinity,
    NegInfinity,
}

const POW10: [u128; 39] = {
    let mut table = [1u128; 39];
    let mut index = 1;
    while index < 39 {
        table[index] = table[index - 1] * 10;
        index += 1;
    }
    table
};

fn digit_count(n: u128) -> i32 {
    let mut count = 1;
    while count < 39 && n >= POW10[count as usize] {
        count += 1;
    }
    count
}

impl Decimal {
    /// Not a number.
    pub const NAN: Decimal = Decimal::special(Kind::NaN);
    /// Positive infinity.
    pub const INFINITY: Decimal = Decimal::special(Kind::Infinity);
    /// Negative infinity.
    pub const NEG_INFINITY: Decimal = Decimal::special(Kind::NegInfinity);

    const fn special(kind: Kind) -> Decimal {
        Decimal {
            low: 0,
            high: 0,
            exponent: 0,
            kind,
        }
    }

    /// A finite decimal from its parts; zero is never negative. The
    /// coefficient must have at most [`MAX_DIGITS`] digits for comparisons
    /// to be exact.
    pub fn new(negative: bool, coefficient: u128, exponent: i32) -> Decimal {
        Decimal {
            low: coefficient as u64,
            high: (coefficient >> 64) as u64,
            exponent,
            kind: if negative && coefficient != 0 {
                Kind::Negative
            } else {
                Kind::Positive
            },
        }
    }

    /// The digits, for finite numbers.
    pub fn coefficient(&self) -> u128 {
        (u128::from(self.high) << 64) | u128::from(self.low)
    }

    /// The power of ten the coefficient is scaled by, for finite numbers.
    pub fn exponent(&self) -> i32 {
        self.exponent
    }

    /// Whether the number is below zero (`-INF` included).
    pub fn is_negative(&self) -> bool {
        matches!(self.kind, Kind::Negative | Kind::NegInfinity)
    }

    /// Whether the number is finite (not NaN nor infinite).
    pub fn is_finite(&self) -> bool {
        matches!(self.kind, Kind::Positive | Kind::Negative)
    }

    /// Whether the number is NaN.
    pub fn is_nan(&self) -> bool {
        self.kind == Kind::NaN
    }

    /// The parts of a finite number: (negative, coefficient, exponent).
    fn parts(&self) -> Option<(bool, u128, i32)> {
        self.is_finite().then(|| {
            (
                self.kind == Kind::Negative,
                self.coefficient(),
                self.exponent,
            )
        })
    }

    /// The number of digits after the decimal point in the canonical text
    /// (`12.50` has 2), for finite numbers.
    pub fn scale(&self) -> Option<u32> {
        self.is_finite()
            .then(|| self.exponent.min(0).unsigned_abs())
    }

    /// The nearest `f64`, for consumers that cannot take exact decimals.
    pub fn to_f64(&self) -> f64 {
        match self.kind {
            Kind::NaN => f64::NAN,
            Kind::Infinity => f64::INFINITY,
            Kind::NegInfinity => f64::NEG_INFINITY,
            _ => self.to_string().parse().unwrap_or(f64::NAN),
        }
    }

    /// The coefficient with trailing zeros removed and the exponent adjusted:
    /// the identity of the value.
    fn normalized(&self) -> Option<(bool, u128, i32)> {
        let (negative, mut coefficient, mut exponent) = self.parts()?;
        if coefficient == 0 {
            return Some((false, 0, 0));
        }
        while coefficient % 10 == 0 {
            coefficient /= 10;
            exponent += 1;
        }
        Some((negative, coefficient, exponent))
    }

    /// Orders two finite magnitudes.
    fn cmp_magnitude(a: (u128, i32), b: (u128, i32)) -> Ordering {
        let (a_coef, a_exp) = a;
        let (b_coef, b_exp) = b;
        match (a_coef == 0, b_coef == 0) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            _ => {}
        }
        if a_exp == b_exp {
            return a_coef.cmp(&b_coef);
        }
        // Compare the position of the leading digit first; only numbers of
        // the same magnitude need aligning, and then the shift is < 39.
        let a_order = i64::from(digit_count(a_coef)) + i64::from(a_exp);
        let b_order = i64::from(digit_count(b_coef)) + i64::from(b_exp);
        if a_order != b_order {
            return a_order.cmp(&b_order);
        }
        // Same order: the exponents differ by less than 39 digits. A product
        // that overflows is larger than any coefficient (only possible for
        // coefficients beyond MAX_DIGITS, built by hand).
        let shift = |exponent_gap: i32| POW10.get(exponent_gap.unsigned_abs() as usize).copied();
        if a_exp >= b_exp {
            match shift(a_exp - b_exp).and_then(|p| a_coef.checked_mul(p)) {
                Some(a_aligned) => a_aligned.cmp(&b_coef),
                None => Ordering::Greater,
            }
        } else {
            match shift(b_exp - a_exp).and_then(|p| b_coef.checked_mul(p)) {
                Some(b_aligned) => a_coef.cmp(&b_aligned),
                None => Ordering::Less,
            }
        }
    }
}

impl From<i64> for Decimal {
    fn from(n: i64) -> Decimal {
        Decimal::new(n < 0, u128::from(n.unsigned_abs()), 0)
    }
}

impl PartialEq for Decimal {
    fn eq(&self, other: &Self) -> bool {
        self.partial_cmp(other) == Some(Ordering::Equal)
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        // Rank: -INF < negative < zero and positive < INF; NaN is unordered.
        let rank = |d: &Decimal| match d.kind {
            Kind::NegInfinity => Some(0),
            Kind::Negative => Some(1),
            Kind::Positive => Some(2),
            Kind::Infinity => Some(3),
            Kind::NaN => None,
        };
        let (a_rank, b_rank) = (rank(self)?, rank(other)?);
        if a_rank != b_rank || !self.is_finite() {
            return Some(a_rank.cmp(&b_rank));
        }
        let magnitude = Decimal::cmp_magnitude(
            (self.coefficient(), self.exponent),
            (other.coefficient(), other.exponent),
        );
        Some(if self.kind == Kind::Negative {
            magnitude.reverse()
        } else {
            magnitude
        })
    }
}

impl Hash for Decimal {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self.normalized() {
            Some(parts) => parts.hash(state),
            None => self.kind.hash(state),
        }
    }
}

impl fmt::Display for Decimal {
    /// Plain decimal notation (`-12.50`, `1200`), or `1.5E+400` style when
    /// plain notation would need more than 40 zeros.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (negative, coefficient, exponent) = match self.kind {
            Kind::NaN => return f.write_str("NaN"),
            Kind::Infinity => return f.write_str("INF"),
            Kind::NegInfinity => return f.write_str("-INF"),
            Kind::Positive | Kind::Negative => (
                self.kind == Kind::Negative,
                self.coefficient(),
                self.exponent,
            ),
        };
        if negative {
            f.write_str("-")?;
        }
        let digits = coefficient.to_string();
        if exponent >= 0 {
            if exponent > 40 {
                return write!(f, "{digits}E+{exponent}");
            }
            f.write_str(&digits)?;
            if coefficient != 0 {
                for _ in 0..exponent {
                    f.write_str("0")?;
                }
            }
            return Ok(());
        }
        let fraction = exponent.unsigned_abs() as usize;
        if fraction > digits.len() + 40 {
            return write!(f, "{digits}E{exponent}");
        }
        if fraction >= digits.len() {
            f.write_str("0.")?;
            for _ in 0..fraction - digits.len() {
                f.write_str("0")?;
            }
            f.write_str(&digits)
        } else {
            let (whole, part) = digits.split_at(digits.len() - fraction);
            write!(f, "{whole}.{part}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(negative: bool, coefficient: u128, exponent: i32) -> Decimal {
        Decimal::new(negative, coefficient, exponent)
    }

    #[test]
    fn decimals_compare_by_value_whatever_their_precision() {
        assert_eq!(dec(false, 1250, -2), dec(false, 125, -1));
        assert!(dec(false, 1, 0) > dec(false, 999, -3));
        assert!(dec(true, 1, 0) < dec(false, 0, 0));
        assert!(dec(true, 2, 0) < dec(true, 1, 0));
        assert_eq!(dec(true, 0, 5), dec(false, 0, -3));
        assert!(dec(false, 1, 300) > dec(false, u128::from(u64::MAX), 0));
        assert!(Decimal::INFINITY > dec(false, 1, 300));
        assert!(Decimal::NEG_INFINITY < dec(true, 1, 300));
        assert!(Decimal::NEG_INFINITY < Decimal::INFINITY);
        assert_eq!(Decimal::NAN.partial_cmp(&Decimal::NAN), None);
        assert_eq!(Decimal::NAN.partial_cmp(&dec(false, 1, 0)), None);
    }

    #[test]
    fn decimals_beyond_38_digits_built_by_hand_still_compare() {
        let big = dec(false, u128::MAX, 0);
        let aligned = dec(false, 4, 38);
        assert!(aligned > big);
        assert!(big < aligned);
        assert!(dec(false, 3, 38) < big);
    }

    #[test]
    fn decimals_print_the_precision_they_were_given() {
        assert_eq!(dec(false, 1250, -2).to_string(), "12.50");
        assert_eq!(dec(true, 5, -3).to_string(), "-0.005");
        assert_eq!(dec(false, 12, 2).to_string(), "1200");
        assert_eq!(dec(false, 0, 0).to_string(), "0");
        assert_eq!(dec(false, 15, 399).to_string(), "15E+399");
        assert_eq!(dec(false, 1250, -2).scale(), Some(2));
    }

    #[test]
    fn equal_decimals_hash_equally() {
        let hash = |value: Value<'_>| {
            let mut hasher = foldhash::quality::FixedState::with_seed(1).build_hasher();
            value.hash_key(&mut hasher);
            hasher.finish()
        };
        use std::hash::BuildHasher;
        assert_eq!(
            hash(Value::Number(dec(false, 150, -2))),
            hash(Value::Number(dec(false, 15, -1)))
        );
        assert_ne!(
            hash(Value::Number(dec(false, 15, -1))),
            hash(Value::Number(dec(false, 16, -1)))
        );
    }

    #[test]
    fn datetimes_with_offsets_compare_as_instants() {
        let at = |hour, offset: Option<i32>| Datetime {
            datetime: civil::date(2024, 1, 1).at(hour, 0, 0, 0),
            offset: offset.map(|seconds| Offset::from_seconds(seconds).unwrap_or(Offset::UTC)),
        };
        assert_eq!(at(10, Some(3600)), at(9, Some(0)));
        assert!(at(10, Some(7200)) < at(9, None));
        assert_eq!(at(10, Some(-5400)).to_string(), "2024-01-01T10:00:00-01:30");
        assert_eq!(at(10, Some(0)).to_string(), "2024-01-01T10:00:00Z");
    }

    #[test]
    fn a_value_fits_in_32_bytes_so_that_rows_stay_small() {
        assert!(size_of::<Value<'_>>() <= 32, "{}", size_of::<Value<'_>>());
    }

    #[test]
    fn recycling_keeps_the_allocation() {
        let text = String::from("abc");
        let mut values = Vec::with_capacity(16);
        values.push(Value::String(Cow::Borrowed(text.as_str())));
        let values: Vec<Value<'static>> = recycle(values);
        assert!(values.is_empty());
        assert!(values.capacity() >= 16);
    }
}
