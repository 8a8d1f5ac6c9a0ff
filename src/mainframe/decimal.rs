//! Exact decimals: the values of COBOL numeric fields.
//!
//! A [`Decimal`] is an integer coefficient and a scale: `-123456` at scale 2
//! is `-1234.56`. COBOL numbers have at most 38 digits, and an `i128` holds
//! any 38-digit integer, so no value is ever rounded or passed through
//! binary floating point. A negative scale is what the picture's trailing
//! `P`s mean: `9(3)PP` holding 123 is 12300.

use std::fmt;
use std::str::FromStr;

/// The most digits a COBOL number has.
pub const MAX_DIGITS: u32 = 38;

/// An exact decimal number: `coefficient × 10^-scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Decimal {
    coefficient: i128,
    scale: i32,
}

/// Why a number cannot be made to fit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecimalError {
    #[error("{0:?} is not a decimal number")]
    Syntax(String),
    #[error("{value} has more than {MAX_DIGITS} digits")]
    TooLong { value: String },
    #[error("{value} has more decimal places than the field's {scale}")]
    TooPrecise { value: String, scale: i32 },
    #[error("{value} needs {needed} digits; the field has {digits}")]
    TooLarge {
        value: String,
        needed: u32,
        digits: u32,
    },
}

impl Decimal {
    pub const ZERO: Decimal = Decimal {
        coefficient: 0,
        scale: 0,
    };

    /// `coefficient × 10^-scale`.
    pub fn new(coefficient: i128, scale: i32) -> Decimal {
        Decimal { coefficient, scale }
    }

    pub fn coefficient(self) -> i128 {
        self.coefficient
    }

    pub fn scale(self) -> i32 {
        self.scale
    }

    pub fn is_negative(self) -> bool {
        self.coefficient < 0
    }

    /// The number of digits of the coefficient (1 for zero).
    pub fn digits(self) -> u32 {
        digit_count(self.coefficient.unsigned_abs())
    }

    /// The same value at `scale`, when that loses no digit and the result
    /// has at most 38 digits.
    pub fn rescale(self, scale: i32) -> Result<Decimal, DecimalError> {
        let shift = scale - self.scale;
        if shift == 0 {
            return Ok(self);
        }
        if shift > 0 {
            let factor = pow10(shift.unsigned_abs()).ok_or_else(|| self.too_long())?;
            let coefficient = self
                .coefficient
                .checked_mul(factor)
                .filter(|value| digit_count(value.unsigned_abs()) <= MAX_DIGITS)
                .ok_or_else(|| self.too_long())?;
            return Ok(Decimal { coefficient, scale });
        }
        let too_precise = || DecimalError::TooPrecise {
            value: self.to_string(),
            scale,
        };
        let factor = pow10(shift.unsigned_abs()).ok_or_else(too_precise)?;
        if self.coefficient % factor != 0 {
            return Err(too_precise());
        }
        Ok(Decimal {
            coefficient: self.coefficient / factor,
            scale,
        })
    }

    /// The coefficient at `scale`, checked to fit `digits` digits: what a
    /// field with that picture stores.
    pub fn fit(self, digits: u32, scale: i32) -> Result<i128, DecimalError> {
        let scaled = self.rescale(scale)?;
        let needed = scaled.digits();
        if needed > digits && scaled.coefficient != 0 {
            return Err(DecimalError::TooLarge {
                value: self.to_string(),
                needed,
                digits,
            });
        }
        Ok(scaled.coefficient)
    }

    /// The exact sum, at the larger of the two scales; `None` when it has
    /// more than 38 digits.
    pub fn checked_add(self, other: Decimal) -> Option<Decimal> {
        let scale = self.scale.max(other.scale);
        let (left, right) = (self.rescale(scale).ok()?, other.rescale(scale).ok()?);
        let coefficient = left.coefficient.checked_add(right.coefficient)?;
        (digit_count(coefficient.unsigned_abs()) <= MAX_DIGITS)
            .then_some(Decimal { coefficient, scale })
    }

    /// The nearest binary floating-point number (for REAL columns only).
    pub fn to_f64(self) -> f64 {
        // Text round trip: correctly rounded, unlike dividing by a power of ten.
        self.to_string().parse().unwrap_or(f64::NAN)
    }

    fn too_long(self) -> DecimalError {
        DecimalError::TooLong {
            value: self.to_string(),
        }
    }
}

fn digit_count(value: u128) -> u32 {
    value.checked_ilog10().map_or(1, |log| log + 1)
}

fn pow10(exponent: u32) -> Option<i128> {
    10i128.checked_pow(exponent)
}

impl fmt::Display for Decimal {
    /// Plain notation with exactly `scale` decimal places: `-1234.56`,
    /// `0.00030503`, `30503000`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = String::new();
        self.write_to(&mut text);
        f.write_str(&text)
    }
}

impl Decimal {
    /// Appends the decimal as [`Display`](fmt::Display) prints it, without
    /// formatting machinery or allocation: decode prints millions.
    pub fn write_to(&self, out: &mut String) {
        let mut buffer = [0u8; 40];
        let start = ascii_digits(self.coefficient.unsigned_abs(), &mut buffer);
        let digits = &buffer[start..];
        if self.coefficient < 0 {
            out.push('-');
        }
        if self.scale <= 0 {
            push_digits(out, digits);
            if self.coefficient != 0 {
                out.extend(std::iter::repeat_n('0', self.scale.unsigned_abs() as usize));
            }
            return;
        }
        let scale = self.scale.unsigned_abs() as usize;
        if digits.len() > scale {
            let (whole, fraction) = digits.split_at(digits.len() - scale);
            push_digits(out, whole);
            out.push('.');
            push_digits(out, fraction);
        } else {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', scale - digits.len()));
            push_digits(out, digits);
        }
    }
}

/// Every two-digit string, `00` to `99`, one after the other.
const PAIRS: &str = "\
    0001020304050607080910111213141516171819\
    2021222324252627282930313233343536373839\
    4041424344454647484950515253545556575859\
    6061626364656667686970717273747576777879\
    8081828384858687888990919293949596979899";

/// Appends `digits` (ASCII digits), two at a time.
fn push_digits(out: &mut String, digits: &[u8]) {
    let (odd, pairs) = digits.split_at(digits.len() % 2);
    if let Some(&digit) = odd.first() {
        out.push(char::from(digit));
    }
    for pair in pairs.chunks_exact(2) {
        let at = usize::from(pair[0] - b'0') * 20 + usize::from(pair[1] - b'0') * 2;
        out.push_str(&PAIRS[at..at + 2]);
    }
}

/// Writes the ASCII decimal digits of `value` at the end of `buffer`;
/// returns where they start.
fn ascii_digits(value: u128, buffer: &mut [u8; 40]) -> usize {
    let mut at = buffer.len();
    match u64::try_from(value) {
        // 64-bit division is several times faster than 128-bit.
        Ok(mut small) => loop {
            at -= 1;
            buffer[at] = b'0' + (small % 10) as u8;
            small /= 10;
            if small == 0 {
                break;
            }
        },
        Err(_) => {
            let mut large = value;
            loop {
                at -= 1;
                buffer[at] = b'0' + (large % 10) as u8;
                large /= 10;
                if large == 0 {
                    break;
                }
            }
        }
    }
    at
}

impl FromStr for Decimal {
    type Err = DecimalError;

    /// Reads `-1234.56`, `+7`, `.5`, `12.` and `1.5E3`; the scale is the
    /// number of decimal places written (less the exponent).
    fn from_str(text: &str) -> Result<Decimal, DecimalError> {
        let syntax = || DecimalError::Syntax(text.to_string());
        let trimmed = text.trim();
        let (mantissa, exponent) = match trimmed.find(['e', 'E']) {
            Some(at) => {
                let exponent: i32 = trimmed[at + 1..].parse().map_err(|_| syntax())?;
                (&trimmed[..at], exponent)
            }
            None => (trimmed, 0),
        };
        let (negative, unsigned) = match mantissa.as_bytes().first() {
            Some(b'-') => (true, &mantissa[1..]),
            Some(b'+') => (false, &mantissa[1..]),
            _ => (false, mantissa),
        };
        let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        if whole.is_empty() && fraction.is_empty()
            || !whole
                .bytes()
                .chain(fraction.bytes())
                .all(|b| b.is_ascii_digit())
        {
            return Err(syntax());
        }
        let mut coefficient: i128 = 0;
        for byte in whole.bytes().chain(fraction.bytes()) {
            coefficient = coefficient
                .checked_mul(10)
                .and_then(|value| value.checked_add(i128::from(byte - b'0')))
                .filter(|value| digit_count(value.unsigned_abs()) <= MAX_DIGITS)
                .ok_or_else(|| DecimalError::TooLong {
                    value: text.to_string(),
                })?;
        }
        let places = i32::try_from(fraction.len()).map_err(|_| syntax())?;
        let scale = places.checked_sub(exponent).ok_or_else(syntax)?;
        Ok(Decimal {
            coefficient: if negative { -coefficient } else { coefficient },
            scale,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        text.parse().expect("a decimal")
    }

    #[test]
    fn a_decimal_prints_with_exactly_its_scale() {
        assert_eq!(Decimal::new(-123456, 2).to_string(), "-1234.56");
        assert_eq!(Decimal::new(3050, 2).to_string(), "30.50");
        assert_eq!(Decimal::new(0, 2).to_string(), "0.00");
        assert_eq!(Decimal::new(30503, 8).to_string(), "0.00030503");
        assert_eq!(Decimal::new(30503, -3).to_string(), "30503000");
        assert_eq!(Decimal::new(-5, 1).to_string(), "-0.5");
        assert_eq!(Decimal::new(0, -3).to_string(), "0");
    }

    #[test]
    fn sums_are_exact_at_the_larger_scale_and_refused_past_38_digits() {
        assert_eq!(d("1.5").checked_add(d("-0.25")), Some(d("1.25")));
        assert_eq!(
            d("1.50").checked_add(d("2")).map(|sum| sum.to_string()),
            Some("3.50".into())
        );
        let big = d("99999999999999999999999999999999999999");
        assert_eq!(big.checked_add(d("1")), None);
    }

    #[test]
    fn thirty_eight_digits_are_kept_exactly() {
        let big = "99999999999999999999999999999999999999";
        assert_eq!(d(big).to_string(), big);
        assert_eq!(d(&format!("-{big}")).digits(), 38);
        assert!(matches!(
            format!("{big}9").parse::<Decimal>(),
            Err(DecimalError::TooLong { .. })
        ));
    }

    #[test]
    fn text_is_read_with_the_scale_it_was_written_with() {
        assert_eq!(d("-1234.56"), Decimal::new(-123456, 2));
        assert_eq!(d("+7"), Decimal::new(7, 0));
        assert_eq!(d(".5"), Decimal::new(5, 1));
        assert_eq!(d("12."), Decimal::new(12, 0));
        assert_eq!(d("1.5E3"), Decimal::new(15, -2));
        for bad in ["", "-", ".", "1.2.3", "12a", "1e", "--1"] {
            assert!(bad.parse::<Decimal>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn rescaling_never_loses_a_digit() {
        assert_eq!(d("12.5").rescale(3), Ok(Decimal::new(12500, 3)));
        assert_eq!(d("12.500").rescale(1), Ok(Decimal::new(125, 1)));
        assert_eq!(
            d("12.55").rescale(1),
            Err(DecimalError::TooPrecise {
                value: "12.55".into(),
                scale: 1
            })
        );
        assert_eq!(d("1200").rescale(-2), Ok(Decimal::new(12, -2)));
    }

    #[test]
    fn fitting_a_picture_checks_its_digits() {
        assert_eq!(d("-1234.56").fit(7, 2), Ok(-123456));
        assert_eq!(
            d("123456.7").fit(7, 2).expect_err("refused").to_string(),
            "123456.7 needs 8 digits; the field has 7"
        );
        assert_eq!(d("0").fit(1, 0), Ok(0));
    }

    proptest::proptest! {
        #[test]
        fn printing_and_reading_round_trip(coefficient in proptest::num::i128::ANY, scale in -5i32..40) {
            // Trailing zeros a negative scale prints count as digits too.
            let coefficient = coefficient % 10i128.pow(MAX_DIGITS - scale.min(0).unsigned_abs());
            let value = Decimal::new(coefficient, scale);
            let back: Decimal = value.to_string().parse().expect("reads back");
            proptest::prop_assert_eq!(back.rescale(scale.max(0)), value.rescale(scale.max(0)));
        }
    }
}
