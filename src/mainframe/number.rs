//! The numeric fields of COBOL records, read from and written to bytes.
//!
//! Zoned (DISPLAY) numbers are read from their nibbles, never through a
//! code page: the low nibble of each byte is a digit, the zone nibble of the
//! sign byte carries the sign (overpunch), or a separate `+`/`-` byte does.
//! Packed decimals (COMP-3) hold two digits a byte and a sign nibble last.
//! Binary numbers (COMP, COMP-4, COMP-5, BINARY) are two's complement,
//! big-endian as on z/OS. Every one of these becomes an exact [`Decimal`];
//! only COMP-1 and COMP-2, which are floating point on the mainframe too,
//! become `f64`.
//!
//! Sign nibbles: C, A, E and F are positive, D and B negative; in strict
//! mode only C, D and F are accepted. A field that is all spaces or all
//! low-values (0x00) is [`Reading::Blank`]: whether that is null or an
//! error is the caller's policy.

use super::decimal::{Decimal, MAX_DIGITS};

/// The character family of zoned digits: where the digits and signs are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Digits 0xF0–0xF9, space 0x40, `+` 0x4E, `-` 0x60.
    Ebcdic,
    /// Digits 0x30–0x39, space 0x20, `+` 0x2B, `-` 0x2D; an overpunched
    /// sign is `{`, `A`–`I` (positive) or `}`, `J`–`R` (negative).
    Ascii,
}

impl Family {
    fn space(self) -> u8 {
        match self {
            Family::Ebcdic => 0x40,
            Family::Ascii => b' ',
        }
    }

    fn plus(self) -> u8 {
        match self {
            Family::Ebcdic => 0x4E,
            Family::Ascii => b'+',
        }
    }

    fn minus(self) -> u8 {
        match self {
            Family::Ebcdic => 0x60,
            Family::Ascii => b'-',
        }
    }

    fn point(self) -> u8 {
        match self {
            Family::Ebcdic => 0x4B,
            Family::Ascii => b'.',
        }
    }
}

/// Where a zoned number's sign is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sign {
    /// No sign: the picture has no `S`.
    #[default]
    Unsigned,
    /// Overpunched on the last digit (the COBOL default for `S`).
    Trailing,
    /// Overpunched on the first digit (`SIGN LEADING`).
    Leading,
    /// A separate `+` or `-` byte after the digits.
    TrailingSeparate,
    /// A separate `+` or `-` byte before the digits.
    LeadingSeparate,
}

impl Sign {
    pub fn is_signed(self) -> bool {
        self != Sign::Unsigned
    }
}

/// What a numeric field held.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reading<T> {
    Value(T),
    /// All spaces or all low-values: no value was written.
    Blank,
}

/// Why the bytes of a numeric field are not a number of its type.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NumberError {
    #[error("byte {at} (0x{byte:02X}) is not a digit")]
    Digit { at: usize, byte: u8 },
    #[error("byte {at} (0x{byte:02X}) has no valid sign")]
    Sign { at: usize, byte: u8 },
    #[error("the field is {len} bytes; its picture needs {expected}")]
    Length { len: usize, expected: usize },
    #[error("{0}")]
    Value(#[from] super::decimal::DecimalError),
    #[error("{value} does not fit {bytes} bytes")]
    Overflow { value: String, bytes: usize },
    #[error("{value} is negative; the field is unsigned")]
    Unsigned { value: String },
    #[error("the floating-point value {0} cannot be written in this format")]
    Float(f64),
}

/// Whether every byte is a space or every byte is 0x00.
fn is_blank(bytes: &[u8], space: u8) -> bool {
    bytes.iter().all(|&b| b == space) || bytes.iter().all(|&b| b == 0)
}

/// The sign of a zone or packed sign nibble: `Some(true)` for negative.
fn nibble_sign(nibble: u8, strict: bool) -> Option<bool> {
    match nibble {
        0xC | 0xF => Some(false),
        0xD => Some(true),
        0xA | 0xE if !strict => Some(false),
        0xB if !strict => Some(true),
        _ => None,
    }
}

/// Reads a zoned decimal of `bytes.len()` bytes (the sign byte included when
/// it is separate) at `scale`.
pub fn read_zoned(
    bytes: &[u8],
    scale: i32,
    sign: Sign,
    family: Family,
    strict: bool,
) -> Result<Reading<Decimal>, NumberError> {
    if is_blank(bytes, family.space()) {
        return Ok(Reading::Blank);
    }
    let (digits, offset, separate) = match sign {
        Sign::LeadingSeparate => (bytes.get(1..).unwrap_or_default(), 1, bytes.first()),
        Sign::TrailingSeparate => (
            bytes
                .get(..bytes.len().saturating_sub(1))
                .unwrap_or_default(),
            0,
            bytes.last(),
        ),
        _ => (bytes, 0, None),
    };
    if digits.is_empty() || digits.len() > MAX_DIGITS as usize {
        return Err(NumberError::Length {
            len: bytes.len(),
            expected: digits.len().clamp(1, MAX_DIGITS as usize),
        });
    }
    let mut negative = false;
    if let Some(&byte) = separate {
        let at = if sign == Sign::LeadingSeparate {
            0
        } else {
            bytes.len() - 1
        };
        negative = if byte == family.minus() {
            true
        } else if byte == family.plus() || (!strict && byte == family.space()) {
            false
        } else {
            return Err(NumberError::Sign { at, byte });
        };
    }
    // Outside strict mode an unsigned field's last byte may carry a
    // positive sign zone (C or F): some writers always set one.
    let sign_at = match sign {
        Sign::Trailing => Some(digits.len() - 1),
        Sign::Leading => Some(0),
        Sign::Unsigned if !strict => Some(digits.len() - 1),
        _ => None,
    };
    let mut coefficient = Digits::default();
    for (index, &byte) in digits.iter().enumerate() {
        let digit = if Some(index) == sign_at {
            let (digit, is_negative) = overpunched(byte, family, strict)
                .filter(|(_, is_negative)| sign.is_signed() || !is_negative)
                .ok_or_else(|| NumberError::Sign {
                    at: index + offset,
                    byte,
                })?;
            negative = is_negative;
            digit
        } else {
            plain_digit(byte, family).ok_or_else(|| NumberError::Digit {
                at: index + offset,
                byte,
            })?
        };
        coefficient.push(digit);
    }
    let coefficient = coefficient.value().ok_or_else(|| too_long(digits))?;
    Ok(Reading::Value(Decimal::new(
        if negative { -coefficient } else { coefficient },
        scale,
    )))
}

/// The error of a field whose digits are more than a decimal holds.
fn too_long(bytes: &[u8]) -> NumberError {
    NumberError::Value(super::decimal::DecimalError::TooLong {
        value: format!("the number in bytes {}", hex::encode_upper(bytes)),
    })
}

/// Decimal digits gathered into an integer: 18 at a time in 64-bit
/// arithmetic, which is all most fields have, and 128-bit only between
/// those runs.
#[derive(Debug, Default)]
struct Digits {
    high: i128,
    low: u64,
    count: u32,
}

impl Digits {
    const RUN: u32 = 18;

    #[inline]
    fn push(&mut self, digit: u8) {
        if self.count == Self::RUN {
            self.high = shift(self.high, Self::RUN, self.low);
            self.low = 0;
            self.count = 0;
        }
        self.low = self.low * 10 + u64::from(digit);
        self.count += 1;
    }

    /// The integer, or `None` beyond what an `i128` holds (more than 38
    /// digits can be written in a 20-byte packed field).
    fn value(&self) -> Option<i128> {
        if self.high == 0 {
            return Some(i128::from(self.low));
        }
        let value = shift(self.high, self.count, self.low);
        (value >= 0).then_some(value)
    }
}

/// `high` followed by the `count` digits of `low`; negative (-1) once it
/// no longer fits, and from then on.
fn shift(high: i128, count: u32, low: u64) -> i128 {
    if high < 0 {
        return -1;
    }
    high.checked_mul(10i128.pow(count))
        .and_then(|value| value.checked_add(i128::from(low)))
        .unwrap_or(-1)
}

/// Reads a zoned decimal written with its decimal point as a byte
/// (`9(8).9(2)`, `S9(3).99`, which Cobrix reads as numbers): the digits
/// around one point byte, the sign as [`read_zoned`] reads it, and spaces
/// on either side as padding (`789.09    `). The written point places the
/// decimal point; without one, `scale` does.
pub fn read_zoned_point(
    bytes: &[u8],
    scale: i32,
    sign: Sign,
    family: Family,
    strict: bool,
) -> Result<Reading<Decimal>, NumberError> {
    if is_blank(bytes, family.space()) {
        return Ok(Reading::Blank);
    }
    let space = family.space();
    let start = bytes.iter().position(|&b| b != space).unwrap_or(0);
    let end = bytes
        .iter()
        .rposition(|&b| b != space)
        .map_or(bytes.len(), |at| at + 1);
    let mut digits = Vec::with_capacity(end - start);
    let mut point = None;
    for &byte in &bytes[start..end] {
        if byte == family.point() && point.is_none() {
            point = Some(digits.len());
        } else {
            digits.push(byte);
        }
    }
    let written_scale = match point {
        Some(at) => {
            let sign_after = usize::from(sign == Sign::TrailingSeparate);
            (digits.len() - at).saturating_sub(sign_after) as i32
        }
        None => scale,
    };
    // Positions in errors are the field's, not the digits'.
    let place = |at: usize| start + at + usize::from(point.is_some_and(|point| at >= point));
    read_zoned(&digits, written_scale, sign, family, strict).map_err(|error| match error {
        NumberError::Digit { at, byte } => NumberError::Digit {
            at: place(at),
            byte,
        },
        NumberError::Sign { at, byte } => NumberError::Sign {
            at: place(at),
            byte,
        },
        NumberError::Length { .. } => NumberError::Length {
            len: bytes.len(),
            expected: bytes.len(),
        },
        other => other,
    })
}

/// The digit of a zoned byte that carries no sign.
fn plain_digit(byte: u8, family: Family) -> Option<u8> {
    let zone = match family {
        Family::Ebcdic => 0xF,
        Family::Ascii => 0x3,
    };
    (byte >> 4 == zone && byte & 0x0F <= 9).then_some(byte & 0x0F)
}

/// The digit and sign (true = negative) of the byte that carries the sign.
fn overpunched(byte: u8, family: Family, strict: bool) -> Option<(u8, bool)> {
    match family {
        Family::Ebcdic => {
            let digit = byte & 0x0F;
            (digit <= 9).then_some(())?;
            Some((digit, nibble_sign(byte >> 4, strict)?))
        }
        Family::Ascii => match byte {
            b'0'..=b'9' => Some((byte - b'0', false)),
            b'{' => Some((0, false)),
            b'A'..=b'I' => Some((byte - b'A' + 1, false)),
            b'}' => Some((0, true)),
            b'J'..=b'R' => Some((byte - b'J' + 1, true)),
            // Micro Focus and some ASCII conversions: zone 7 is negative.
            0x70..=0x79 if !strict => Some((byte - 0x70, true)),
            _ => None,
        },
    }
}

/// Writes `value` as a zoned decimal of `digits` digits at `scale`.
pub fn write_zoned(
    value: Decimal,
    digits: u32,
    scale: i32,
    sign: Sign,
    family: Family,
    out: &mut Vec<u8>,
) -> Result<(), NumberError> {
    let coefficient = fit_signed(value, digits, scale, sign.is_signed())?;
    let text = format!(
        "{:0>width$}",
        coefficient.unsigned_abs(),
        width = digits as usize
    );
    let negative = coefficient < 0;
    let sign_byte = if negative {
        family.minus()
    } else {
        family.plus()
    };
    if sign == Sign::LeadingSeparate {
        out.push(sign_byte);
    }
    for (index, byte) in text.bytes().enumerate() {
        let digit = byte - b'0';
        let overpunch = match sign {
            Sign::Trailing => index + 1 == text.len(),
            Sign::Leading => index == 0,
            _ => false,
        };
        out.push(match (family, overpunch, negative) {
            (Family::Ascii, true, _) => ascii_overpunch(digit, negative),
            (Family::Ascii, false, _) => b'0' + digit,
            (Family::Ebcdic, true, true) => 0xD0 | digit,
            (Family::Ebcdic, true, false) => 0xC0 | digit,
            (Family::Ebcdic, false, _) => 0xF0 | digit,
        });
    }
    if sign == Sign::TrailingSeparate {
        out.push(sign_byte);
    }
    Ok(())
}

fn ascii_overpunch(digit: u8, negative: bool) -> u8 {
    match (digit, negative) {
        (0, false) => b'{',
        (0, true) => b'}',
        (d, false) => b'A' + d - 1,
        (d, true) => b'J' + d - 1,
    }
}

/// The coefficient of `value` for a field of `digits` digits at `scale`;
/// a negative value needs a signed field.
fn fit_signed(value: Decimal, digits: u32, scale: i32, signed: bool) -> Result<i128, NumberError> {
    let coefficient = value.fit(digits, scale)?;
    if coefficient < 0 && !signed {
        return Err(NumberError::Unsigned {
            value: value.to_string(),
        });
    }
    Ok(coefficient)
}

/// The bytes a packed decimal of `digits` digits takes.
pub fn packed_len(digits: u32) -> usize {
    digits as usize / 2 + 1
}

/// Reads a packed decimal (COMP-3) at `scale`.
pub fn read_packed(
    bytes: &[u8],
    scale: i32,
    strict: bool,
) -> Result<Reading<Decimal>, NumberError> {
    if bytes.is_empty() || bytes.len() > packed_len(MAX_DIGITS) {
        return Err(NumberError::Length {
            len: bytes.len(),
            expected: bytes.len().clamp(1, packed_len(MAX_DIGITS)),
        });
    }
    if bytes.iter().all(|&b| b == 0) || bytes.iter().all(|&b| b == 0x40 || b == b' ') {
        return Ok(Reading::Blank);
    }
    let mut digits = Digits::default();
    let last = bytes.len() - 1;
    let mut negative = false;
    for (at, &byte) in bytes.iter().enumerate() {
        let high = byte >> 4;
        if high > 9 {
            return Err(NumberError::Digit { at, byte });
        }
        digits.push(high);
        let low = byte & 0x0F;
        if at < last {
            if low > 9 {
                return Err(NumberError::Digit { at, byte });
            }
            digits.push(low);
        } else {
            negative = nibble_sign(low, strict).ok_or(NumberError::Sign { at, byte })?;
        }
    }
    let coefficient = digits.value().ok_or_else(|| too_long(bytes))?;
    Ok(Reading::Value(Decimal::new(
        if negative { -coefficient } else { coefficient },
        scale,
    )))
}

/// Writes `value` as a packed decimal of `digits` digits: sign C or D when
/// `signed`, F when not.
pub fn write_packed(
    value: Decimal,
    digits: u32,
    scale: i32,
    signed: bool,
    out: &mut Vec<u8>,
) -> Result<(), NumberError> {
    let coefficient = fit_signed(value, digits, scale, signed)?;
    let len = packed_len(digits);
    let text = format!(
        "{:0>width$}",
        coefficient.unsigned_abs(),
        width = len * 2 - 1
    );
    let sign = match (signed, coefficient < 0) {
        (false, _) => 0x0F,
        (true, false) => 0x0C,
        (true, true) => 0x0D,
    };
    let nibbles: Vec<u8> = text.bytes().map(|b| b - b'0').chain([sign]).collect();
    out.extend(nibbles.chunks(2).map(|pair| pair[0] << 4 | pair[1]));
    Ok(())
}

/// Byte order of binary fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Endian {
    /// As on z/OS.
    #[default]
    Big,
    Little,
}

/// The bytes a binary field of `digits` digits takes (IBM: halfword,
/// fullword, doubleword, and 16 bytes beyond 18 digits).
pub fn binary_len(digits: u32) -> usize {
    match digits {
        0..=4 => 2,
        5..=9 => 4,
        10..=18 => 8,
        _ => 16,
    }
}

/// Reads a binary integer of 1 to 16 bytes at `scale`.
pub fn read_binary(
    bytes: &[u8],
    scale: i32,
    signed: bool,
    endian: Endian,
) -> Result<Decimal, NumberError> {
    if bytes.is_empty() || bytes.len() > 16 {
        return Err(NumberError::Length {
            len: bytes.len(),
            expected: bytes.len().clamp(1, 16),
        });
    }
    let mut raw = [0u8; 16];
    let start = 16 - bytes.len();
    raw[start..].copy_from_slice(bytes);
    if endian == Endian::Little {
        raw[start..].reverse();
    }
    let negative = signed && raw[start] & 0x80 != 0;
    if negative {
        raw[..start].fill(0xFF);
    }
    let unsigned = u128::from_be_bytes(raw);
    let coefficient = if signed {
        i128::from_be_bytes(raw)
    } else {
        i128::try_from(unsigned).map_err(|_| NumberError::Overflow {
            value: unsigned.to_string(),
            bytes: bytes.len(),
        })?
    };
    let value = Decimal::new(coefficient, scale);
    // Only 16 bytes hold more digits than a decimal may have.
    if bytes.len() == 16 && value.digits() > MAX_DIGITS {
        return Err(NumberError::Overflow {
            value: coefficient.to_string(),
            bytes: bytes.len(),
        });
    }
    Ok(value)
}

/// Writes `value` as a binary integer of `len` bytes at `scale`, checked
/// against the picture's `digits`.
pub fn write_binary(
    value: Decimal,
    digits: u32,
    scale: i32,
    signed: bool,
    len: usize,
    endian: Endian,
    out: &mut Vec<u8>,
) -> Result<(), NumberError> {
    let coefficient = fit_signed(value, digits, scale, signed)?;
    let overflow = || NumberError::Overflow {
        value: value.to_string(),
        bytes: len,
    };
    if len == 0 || len > 16 {
        return Err(overflow());
    }
    let bits = len as u32 * 8;
    let fits = if signed {
        bits == 128 || (-(1i128 << (bits - 1))..(1i128 << (bits - 1))).contains(&coefficient)
    } else {
        bits == 128 || coefficient < (1i128 << bits)
    };
    if !fits {
        return Err(overflow());
    }
    let raw = coefficient.to_be_bytes();
    let mut bytes = raw[16 - len..].to_vec();
    if endian == Endian::Little {
        bytes.reverse();
    }
    out.extend_from_slice(&bytes);
    Ok(())
}

/// How COMP-1 and COMP-2 are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FloatFormat {
    /// IBM hexadecimal floating point (System/360), as z/OS COBOL writes.
    #[default]
    IbmHex,
    /// IEEE 754, big-endian (COBOL with FLOAT(NATIVE), or a converted file).
    IeeeBig,
    /// IEEE 754, little-endian.
    IeeeLittle,
}

/// Reads a 4-byte (COMP-1) or 8-byte (COMP-2) floating-point number.
pub fn read_float(bytes: &[u8], format: FloatFormat) -> Result<f64, NumberError> {
    let length = || NumberError::Length {
        len: bytes.len(),
        expected: if bytes.len() < 8 { 4 } else { 8 },
    };
    match (format, bytes.len()) {
        (FloatFormat::IbmHex, 4 | 8) => {
            let mut raw = [0u8; 8];
            raw[..bytes.len()].copy_from_slice(bytes);
            let word = u64::from_be_bytes(raw);
            let negative = word >> 63 == 1;
            let exponent = i32::try_from((word >> 56) & 0x7F).unwrap_or(0) - 64;
            let fraction = word & 0x00FF_FFFF_FFFF_FFFF;
            // 0.fraction × 16^exponent, with the fraction's 56 bits.
            let magnitude = fraction as f64 * 2f64.powi(4 * exponent - 56);
            Ok(if negative { -magnitude } else { magnitude })
        }
        (FloatFormat::IeeeBig | FloatFormat::IeeeLittle, 4) => {
            let mut raw: [u8; 4] = bytes.try_into().map_err(|_| length())?;
            if format == FloatFormat::IeeeLittle {
                raw.reverse();
            }
            Ok(f64::from(f32::from_be_bytes(raw)))
        }
        (FloatFormat::IeeeBig | FloatFormat::IeeeLittle, 8) => {
            let mut raw: [u8; 8] = bytes.try_into().map_err(|_| length())?;
            if format == FloatFormat::IeeeLittle {
                raw.reverse();
            }
            Ok(f64::from_be_bytes(raw))
        }
        _ => Err(length()),
    }
}

/// Writes `value` as a 4-byte or 8-byte floating-point number.
pub fn write_float(
    value: f64,
    len: usize,
    format: FloatFormat,
    out: &mut Vec<u8>,
) -> Result<(), NumberError> {
    if !value.is_finite() || !matches!(len, 4 | 8) {
        return Err(NumberError::Float(value));
    }
    let mut bytes = match (format, len) {
        (FloatFormat::IbmHex, _) => ibm_hex(value, len).ok_or(NumberError::Float(value))?,
        (_, 4) => (value as f32).to_be_bytes().to_vec(),
        _ => value.to_be_bytes().to_vec(),
    };
    if format == FloatFormat::IeeeLittle {
        bytes.reverse();
    }
    out.extend_from_slice(&bytes);
    Ok(())
}

/// `value` in IBM hexadecimal floating point of `len` bytes (rounded to the
/// nearest fraction), or `None` when its exponent is out of range.
fn ibm_hex(value: f64, len: usize) -> Option<Vec<u8>> {
    let fraction_bits = if len == 4 { 24 } else { 56 };
    let sign = if value.is_sign_negative() { 0x80u8 } else { 0 };
    let magnitude = value.abs();
    if magnitude == 0.0 {
        return Some(vec![0; len]);
    }
    // The exponent e with 16^(e-1) <= magnitude < 16^e.
    let mut exponent = (magnitude.log2() / 4.0).floor() as i32 + 1;
    let mut fraction = (magnitude * 2f64.powi(fraction_bits - 4 * exponent)).round() as u64;
    if fraction >> fraction_bits != 0 {
        exponent += 1;
        fraction = (magnitude * 2f64.powi(fraction_bits - 4 * exponent)).round() as u64;
    } else if fraction >> (fraction_bits - 4) == 0 {
        exponent -= 1;
        fraction = (magnitude * 2f64.powi(fraction_bits - 4 * exponent)).round() as u64;
    }
    let biased = u8::try_from(exponent + 64).ok().filter(|e| *e < 128)?;
    let mut bytes = vec![sign | biased];
    let fraction_bytes = fraction.to_be_bytes();
    bytes.extend_from_slice(&fraction_bytes[8 - (len - 1)..]);
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(reading: Result<Reading<Decimal>, NumberError>) -> String {
        match reading {
            Ok(Reading::Value(decimal)) => decimal.to_string(),
            Ok(Reading::Blank) => "blank".into(),
            Err(error) => format!("error: {error}"),
        }
    }

    #[test]
    fn zoned_ebcdic_carries_its_sign_in_the_zone_of_the_last_digit() {
        let zoned = |bytes: &[u8], strict| {
            value(read_zoned(bytes, 2, Sign::Trailing, Family::Ebcdic, strict))
        };
        assert_eq!(
            zoned(&[0xF1, 0xF2, 0xF3, 0xF4, 0xF5, 0xD6], false),
            "-1234.56"
        );
        assert_eq!(
            zoned(&[0xF1, 0xF2, 0xF3, 0xF4, 0xF5, 0xC6], false),
            "1234.56"
        );
        assert_eq!(zoned(&[0xF0, 0xF0, 0xF6], false), "0.06");
        assert_eq!(zoned(&[0xF0, 0xF0, 0xB6], false), "-0.06");
        assert_eq!(
            zoned(&[0xF0, 0xF0, 0xB6], true),
            "error: byte 2 (0xB6) has no valid sign"
        );
        assert_eq!(
            zoned(&[0xF0, 0x4B, 0xC6], false),
            "error: byte 1 (0x4B) is not a digit"
        );
        assert_eq!(zoned(&[0x40, 0x40, 0x40], false), "blank");
        assert_eq!(zoned(&[0x00, 0x00, 0x00], false), "blank");
    }

    #[test]
    fn zoned_signs_may_lead_or_stand_apart() {
        let read = |bytes: &[u8], sign| value(read_zoned(bytes, 0, sign, Family::Ebcdic, true));
        assert_eq!(read(&[0xD1, 0xF2], Sign::Leading), "-12");
        assert_eq!(read(&[0x60, 0xF1, 0xF2], Sign::LeadingSeparate), "-12");
        assert_eq!(read(&[0xF1, 0xF2, 0x4E], Sign::TrailingSeparate), "12");
        assert_eq!(
            read(&[0xF1, 0xF2, 0xC1], Sign::TrailingSeparate),
            "error: byte 2 (0xC1) has no valid sign"
        );
        assert_eq!(read(&[0xF1, 0xF2], Sign::Unsigned), "12");
        assert_eq!(
            read(&[0xF1, 0xC2], Sign::Unsigned),
            "error: byte 1 (0xC2) is not a digit"
        );
        let lenient =
            |bytes: &[u8]| value(read_zoned(bytes, 0, Sign::Unsigned, Family::Ebcdic, false));
        assert_eq!(lenient(&[0xF1, 0xC2]), "12");
        assert_eq!(
            lenient(&[0xF1, 0xD2]),
            "error: byte 1 (0xD2) has no valid sign"
        );
    }

    #[test]
    fn digits_beyond_what_a_decimal_holds_are_an_error_not_a_wrap() {
        let mut nines = vec![0x99; 19];
        nines.push(0x9C);
        assert_eq!(
            value(read_packed(&nines, 0, true)),
            format!(
                "error: the number in bytes {} has more than 38 digits",
                hex::encode_upper(&nines)
            )
        );
        // 38 nines and more leading zeros than a run still read exactly.
        let mut widest = vec![0x09];
        widest.extend([0x99; 18]);
        widest.push(0x9D);
        assert_eq!(
            value(read_packed(&widest, 0, true)),
            format!("-{}", "9".repeat(38))
        );
        let zoned = vec![0xF9; 38];
        assert_eq!(
            value(read_zoned(&zoned, 2, Sign::Unsigned, Family::Ebcdic, true)),
            format!("{}.99", "9".repeat(36))
        );
    }

    #[test]
    fn a_written_point_places_the_decimal_point_and_the_sign_stays_overpunched() {
        let read = |bytes: &[u8], scale, sign| {
            value(read_zoned_point(bytes, scale, sign, Family::Ebcdic, false))
        };
        // S9(3).99 holding -305.03: the sign on the last digit (0xD3).
        assert_eq!(
            read(&[0xF3, 0xF0, 0xF5, 0x4B, 0xF0, 0xD3], 2, Sign::Trailing),
            "-305.03"
        );
        // 9(8).9(2) written left-justified: "789.09    ".
        let mut left = vec![0xF7, 0xF8, 0xF9, 0x4B, 0xF0, 0xF9];
        left.resize(11, 0x40);
        assert_eq!(read(&left, 2, Sign::Unsigned), "789.09");
        assert_eq!(
            read(&[0x60, 0xF1, 0x4B, 0xF5], 1, Sign::LeadingSeparate),
            "-1.5"
        );
        assert_eq!(
            read(&[0xF1, 0x4B, 0xF5, 0xF0, 0x4E], 2, Sign::TrailingSeparate),
            "1.50"
        );
        // Positions in errors count the point.
        assert_eq!(
            read(&[0xF1, 0x4B, 0xC1, 0xF0], 2, Sign::Unsigned),
            "error: byte 2 (0xC1) is not a digit"
        );
        assert_eq!(read(&[0x40; 6], 2, Sign::Trailing), "blank");
    }

    #[test]
    fn zoned_ascii_reads_overpunch_letters() {
        let read = |bytes: &[u8]| value(read_zoned(bytes, 2, Sign::Trailing, Family::Ascii, false));
        assert_eq!(read(b"1234}"), "-123.40");
        assert_eq!(read(b"1234{"), "123.40");
        assert_eq!(read(b"1234R"), "-123.49");
        assert_eq!(read(b"1234A"), "123.41");
        assert_eq!(read(b"12345"), "123.45");
        assert_eq!(read(b"12 45"), "error: byte 2 (0x20) is not a digit");
    }

    #[test]
    fn packed_decimals_take_two_digits_a_byte_and_a_sign_nibble() {
        let packed = |bytes: &[u8], strict| value(read_packed(bytes, 2, strict));
        assert_eq!(packed(&[0x12, 0x34, 0x56, 0x7D], false), "-12345.67");
        assert_eq!(packed(&[0x12, 0x34, 0x56, 0x7C], false), "12345.67");
        assert_eq!(packed(&[0x00, 0x0F], false), "0.00");
        assert_eq!(packed(&[0x00, 0x1A], false), "0.01");
        assert_eq!(
            packed(&[0x00, 0x1A], true),
            "error: byte 1 (0x1A) has no valid sign"
        );
        assert_eq!(
            packed(&[0x1A, 0x1C], false),
            "error: byte 0 (0x1A) is not a digit"
        );
        assert_eq!(packed(&[0x00, 0x00], false), "blank");
    }

    #[test]
    fn binary_numbers_are_big_endian_twos_complement() {
        let read = |bytes: &[u8], signed| {
            read_binary(bytes, 2, signed, Endian::Big).map(|d| d.to_string())
        };
        assert_eq!(read(&[0xFF, 0xFE], true), Ok("-0.02".into()));
        assert_eq!(read(&[0xFF, 0xFE], false), Ok("655.34".into()));
        assert_eq!(read(&[0x00, 0x00, 0x30, 0x39], true), Ok("123.45".into()));
        assert_eq!(
            read_binary(&[0x39, 0x30], 0, true, Endian::Little).map(|d| d.to_string()),
            Ok("12345".into())
        );
        assert_eq!(
            read(&[0xFF; 16], false).expect_err("refused").to_string(),
            format!("{} does not fit 16 bytes", u128::MAX)
        );
    }

    #[test]
    fn ibm_hexadecimal_floats_read_as_ibm_defines_them() {
        // 0x42640000 is 100.0; 0xC276A000 is -118.625 (IBM's own example).
        assert_eq!(
            read_float(&[0x42, 0x64, 0x00, 0x00], FloatFormat::IbmHex),
            Ok(100.0)
        );
        assert_eq!(
            read_float(&[0xC2, 0x76, 0xA0, 0x00], FloatFormat::IbmHex),
            Ok(-118.625)
        );
        assert_eq!(
            read_float(&[0x41, 0x10, 0, 0, 0, 0, 0, 0], FloatFormat::IbmHex),
            Ok(1.0)
        );
        assert_eq!(read_float(&[0; 8], FloatFormat::IbmHex), Ok(0.0));
        let mut out = Vec::new();
        write_float(-118.625, 4, FloatFormat::IbmHex, &mut out).expect("fits");
        assert_eq!(out, [0xC2, 0x76, 0xA0, 0x00]);
        assert!(read_float(&[0; 3], FloatFormat::IbmHex).is_err());
    }

    #[test]
    fn writing_checks_the_picture() {
        let mut out = Vec::new();
        let error = write_packed("1234.5".parse().expect("decimal"), 5, 2, true, &mut out);
        assert_eq!(
            error.expect_err("refused").to_string(),
            "1234.5 needs 6 digits; the field has 5"
        );
        let error = write_zoned(
            "-1".parse().expect("decimal"),
            3,
            0,
            Sign::Unsigned,
            Family::Ebcdic,
            &mut out,
        );
        assert_eq!(
            error.expect_err("refused").to_string(),
            "-1 is negative; the field is unsigned"
        );
        let error = write_binary(
            "40000".parse().expect("decimal"),
            9,
            0,
            true,
            2,
            Endian::Big,
            &mut out,
        );
        assert_eq!(
            error.expect_err("refused").to_string(),
            "40000 does not fit 2 bytes"
        );
    }

    fn decimal(digits: u32) -> impl proptest::strategy::Strategy<Value = (Decimal, u32, i32)> {
        use proptest::prelude::*;
        (1..=digits, -2i32..6).prop_flat_map(|(digits, scale)| {
            let limit = 10i128.pow(digits);
            (-limit + 1..limit).prop_map(move |c| (Decimal::new(c, scale), digits, scale))
        })
    }

    proptest::proptest! {
        #[test]
        fn zoned_round_trips((value, digits, scale) in decimal(38), leading in proptest::bool::ANY, separate in proptest::bool::ANY, ebcdic in proptest::bool::ANY) {
            let sign = match (leading, separate) {
                (true, true) => Sign::LeadingSeparate,
                (true, false) => Sign::Leading,
                (false, true) => Sign::TrailingSeparate,
                (false, false) => Sign::Trailing,
            };
            let family = if ebcdic { Family::Ebcdic } else { Family::Ascii };
            let mut out = Vec::new();
            write_zoned(value, digits, scale, sign, family, &mut out).expect("fits");
            let back = read_zoned(&out, scale, sign, family, true).expect("reads");
            // Zero with every digit written is never blank: 0xF0s are not spaces.
            proptest::prop_assert_eq!(back, Reading::Value(value));
        }

        #[test]
        fn packed_round_trips((value, digits, scale) in decimal(38)) {
            let mut out = Vec::new();
            write_packed(value, digits, scale, true, &mut out).expect("fits");
            proptest::prop_assert_eq!(out.len(), packed_len(digits));
            proptest::prop_assert_eq!(read_packed(&out, scale, true).expect("reads"), Reading::Value(value));
        }

        #[test]
        fn binary_round_trips((value, digits, scale) in decimal(38), little in proptest::bool::ANY) {
            let endian = if little { Endian::Little } else { Endian::Big };
            let mut out = Vec::new();
            let len = binary_len(digits);
            write_binary(value, digits, scale, true, len, endian, &mut out).expect("fits");
            proptest::prop_assert_eq!(read_binary(&out, scale, true, endian).expect("reads"), value);
        }

        #[test]
        fn ibm_double_round_trips_every_f64_in_range(value in -1e70f64..1e70) {
            let mut out = Vec::new();
            write_float(value, 8, FloatFormat::IbmHex, &mut out).expect("fits");
            proptest::prop_assert_eq!(read_float(&out, FloatFormat::IbmHex).expect("reads"), value);
        }
    }
}
