//! Hand-written ISO 8601 parsers for the default date, time and datetime
//! forms: the hot path of casting, byte by byte, without allocation.
//!
//! Accepted: `YYYY-MM-DD`; `hh:mm:ss` with an optional fraction of 1 to 9
//! digits and an optional offset (`Z` or `±hh:mm`); and a date, `T`, a time.
//! The lenient mode (format `any`) also takes a space or a lowercase `t` for
//! the `T`, a lowercase `z`, a missing seconds part and offsets written
//! `±hhmm` or `±hh`. Calendar validity (leap days, month lengths) is jiff's.

use jiff::civil;
use jiff::tz::Offset;

use super::value::{Datetime, Time};

#[inline]
fn digits2(bytes: &[u8], at: usize) -> Option<i8> {
    let high = bytes.get(at)?.wrapping_sub(b'0');
    let low = bytes.get(at + 1)?.wrapping_sub(b'0');
    if high > 9 || low > 9 {
        return None;
    }
    Some((high * 10 + low) as i8)
}

/// Parses `YYYY-MM-DD` at the start of `bytes`.
#[inline(always)]
fn date_prefix(bytes: &[u8]) -> Option<civil::Date> {
    if bytes.len() < 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let year = i16::from(digits2(bytes, 0)?) * 100 + i16::from(digits2(bytes, 2)?);
    let month = digits2(bytes, 5)?;
    let day = digits2(bytes, 8)?;
    civil::Date::new(year, month, day).ok()
}

/// Parses a date in the form `YYYY-MM-DD`.
pub fn date(text: &str) -> Option<civil::Date> {
    let bytes = text.as_bytes();
    if bytes.len() != 10 {
        return None;
    }
    date_prefix(bytes)
}

/// Parses a time with optional fraction and offset; `lenient` as in `any`.
pub fn time(text: &str, lenient: bool) -> Option<Time> {
    time_bytes(text.as_bytes(), lenient)
}

#[inline(always)]
fn time_bytes(bytes: &[u8], lenient: bool) -> Option<Time> {
    if bytes.len() < 5 || bytes[2] != b':' {
        return None;
    }
    let hour = digits2(bytes, 0)?;
    let minute = digits2(bytes, 3)?;
    let mut at = 5;
    let mut second = 0;
    let mut nanos = 0i32;
    if bytes.get(at) == Some(&b':') {
        second = digits2(bytes, at + 1)?;
        at += 3;
        if bytes.get(at) == Some(&b'.') || (lenient && bytes.get(at) == Some(&b',')) {
            at += 1;
            let start = at;
            while let Some(digit) = bytes.get(at).filter(|byte| byte.is_ascii_digit()) {
                if at - start == 9 {
                    return None;
                }
                nanos = nanos * 10 + i32::from(digit - b'0');
                at += 1;
            }
            let count = at - start;
            if count == 0 {
                return None;
            }
            for _ in count..9 {
                nanos *= 10;
            }
        }
    } else if !lenient {
        return None;
    }
    let offset = offset(&bytes[at..], lenient)?;
    let time = civil::Time::new(hour, minute, second, nanos).ok()?;
    Some(Time { time, offset })
}

/// Parses what follows a time: nothing, `Z`, or `±hh:mm`.
#[inline]
fn offset(bytes: &[u8], lenient: bool) -> Option<Option<Offset>> {
    match bytes {
        [] => Some(None),
        [b'Z'] => Some(Some(Offset::UTC)),
        [b'z'] if lenient => Some(Some(Offset::UTC)),
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let (hours, minutes) = match rest {
                [_, _, b':', _, _] => (digits2(rest, 0)?, digits2(rest, 3)?),
                [_, _, _, _] if lenient => (digits2(rest, 0)?, digits2(rest, 2)?),
                [_, _] if lenient => (digits2(rest, 0)?, 0),
                _ => return None,
            };
            if hours > 23 || minutes > 59 {
                return None;
            }
            let seconds = i32::from(hours) * 3600 + i32::from(minutes) * 60;
            let seconds = if *sign == b'-' { -seconds } else { seconds };
            Offset::from_seconds(seconds).ok().map(Some)
        }
        _ => None,
    }
}

/// Parses a datetime: a date, `T`, a time with optional fraction and offset.
#[inline(always)]
pub fn datetime(text: &str, lenient: bool) -> Option<Datetime> {
    let bytes = text.as_bytes();
    let date = date_prefix(bytes)?;
    match bytes.get(10) {
        Some(b'T') => {}
        Some(b't' | b' ') if lenient => {}
        _ => return None,
    }
    let time = time_bytes(&bytes[11..], lenient)?;
    Some(Datetime {
        datetime: date.to_datetime(time.time),
        offset: time.offset,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_exactly_iso_and_calendar_valid() {
        assert_eq!(date("2024-02-29"), Some(civil::date(2024, 2, 29)));
        assert_eq!(date("2023-02-29"), None);
        assert_eq!(date("2100-02-29"), None);
        assert_eq!(date("2000-02-29"), Some(civil::date(2000, 2, 29)));
        assert_eq!(date("2024-04-31"), None);
        assert_eq!(date("2024-13-01"), None);
        assert_eq!(date("2024-1-01"), None);
        assert_eq!(date("2024-01-01 "), None);
        assert_eq!(date("2024/01/01"), None);
        assert_eq!(date("０２４-01-01"), None);
    }

    #[test]
    fn times_take_fractions_up_to_nanoseconds_and_offsets() {
        let t = time("23:59:59.123456789", false).map(|t| t.time);
        assert_eq!(t, Some(civil::time(23, 59, 59, 123_456_789)));
        let t = time("10:00:00.5Z", false);
        assert_eq!(t.map(|t| t.time), Some(civil::time(10, 0, 0, 500_000_000)));
        assert_eq!(t.and_then(|t| t.offset), Some(Offset::UTC));
        let t = time("10:00:00-05:30", false).and_then(|t| t.offset);
        assert_eq!(t.map(|offset| offset.seconds()), Some(-19800));
        assert!(time("10:00:00.1234567890", false).is_none());
        assert!(time("10:00:00.", false).is_none());
        assert!(time("24:00:00", false).is_none());
        assert!(time("23:60:00", false).is_none());
        assert!(time("23:59:60", false).is_none());
        assert!(time("10:00", false).is_none());
        assert!(time("10:00", true).is_some());
        assert!(time("10:00:00+0100", false).is_none());
        assert!(time("10:00:00+0100", true).is_some());
        assert!(time("10:00:00+24:00", false).is_none());
    }

    #[test]
    fn datetimes_need_the_t_unless_lenient() {
        let parsed = datetime("2024-02-29T12:30:45.25+01:00", false);
        assert_eq!(
            parsed.map(|d| d.datetime),
            Some(civil::date(2024, 2, 29).at(12, 30, 45, 250_000_000))
        );
        assert!(datetime("2024-02-29T12:30:45", false).is_some());
        assert!(datetime("2024-02-29 12:30:45", false).is_none());
        assert!(datetime("2024-02-29 12:30:45", true).is_some());
        assert!(datetime("2024-02-29T12:30:45z", false).is_none());
        assert!(datetime("2023-02-29T12:30:45Z", false).is_none());
        assert!(datetime("2024-02-29", false).is_none());
        assert!(datetime("2024-02-29T", false).is_none());
    }
}
