//! Durations as people write them in configuration: `250ms`, `2s`, `5m`,
//! `1h30m`, `30d`, `2w`.
//!
//! A number without a unit is refused rather than guessed at, since `30`
//! could mean seconds to one reader and minutes to another.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer};

/// A length of time parsed from text such as `5m` or `1h30m`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(std::time::Duration);

/// Units in the order they may appear, with their length in milliseconds.
const UNITS: [(&str, u64); 6] = [
    ("w", 604_800_000),
    ("d", 86_400_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

/// Text that is not a duration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "'{text}' is not a duration: {reason}; write a number and a unit (ms, s, m, h, d, w), such as '2s', '5m' or '1h30m'"
)]
pub struct DurationError {
    text: String,
    reason: &'static str,
}

impl Duration {
    /// The standard-library duration.
    pub fn get(self) -> std::time::Duration {
        self.0
    }
}

impl From<std::time::Duration> for Duration {
    fn from(duration: std::time::Duration) -> Self {
        Duration(duration)
    }
}

impl FromStr for Duration {
    type Err = DurationError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = |reason| DurationError {
            text: text.to_owned(),
            reason,
        };
        let mut rest = text.trim();
        if rest.is_empty() {
            return Err(error("it is empty"));
        }
        let mut total: u64 = 0;
        // Each unit may appear once, largest first; `smallest` is the index
        // of the next unit allowed.
        let mut smallest = 0;
        while !rest.is_empty() {
            let digits = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            if digits == 0 {
                return Err(error(if rest.starts_with('-') {
                    "it is negative"
                } else {
                    "a number is missing"
                }));
            }
            let number: u64 = rest[..digits]
                .parse()
                .map_err(|_| error("the number is too large"))?;
            rest = &rest[digits..];
            let letters = rest
                .find(|c: char| !c.is_ascii_alphabetic())
                .unwrap_or(rest.len());
            if letters == 0 {
                return Err(error("a unit is missing"));
            }
            let Some(index) = UNITS.iter().position(|(unit, _)| *unit == &rest[..letters]) else {
                return Err(error("the unit is unknown"));
            };
            if index < smallest {
                return Err(error("units must go from largest to smallest, each once"));
            }
            smallest = index + 1;
            total = number
                .checked_mul(UNITS[index].1)
                .and_then(|millis| total.checked_add(millis))
                .ok_or_else(|| error("it is too long"))?;
            rest = &rest[letters..];
        }
        Ok(Duration(std::time::Duration::from_millis(total)))
    }
}

impl fmt::Display for Duration {
    /// The shortest form that reads back to the same duration: `90s` is `1m30s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut millis = u64::try_from(self.0.as_millis()).unwrap_or(u64::MAX);
        if millis == 0 {
            return f.write_str("0s");
        }
        for (unit, length) in UNITS {
            if millis >= length {
                write!(f, "{}{unit}", millis / length)?;
                millis %= length;
            }
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<std::time::Duration, DurationError> {
        text.parse::<Duration>().map(Duration::get)
    }

    #[test]
    fn durations_read_as_written() {
        use std::time::Duration as D;
        assert_eq!(parse("250ms"), Ok(D::from_millis(250)));
        assert_eq!(parse("2s"), Ok(D::from_secs(2)));
        assert_eq!(parse("5m"), Ok(D::from_secs(300)));
        assert_eq!(parse("1h30m"), Ok(D::from_secs(5400)));
        assert_eq!(parse("30d"), Ok(D::from_secs(30 * 86_400)));
        assert_eq!(parse("2w"), Ok(D::from_secs(14 * 86_400)));
        assert_eq!(parse(" 0s "), Ok(D::ZERO));
    }

    #[test]
    fn malformed_durations_say_what_is_wrong() {
        let cases = [
            ("", "it is empty"),
            ("30", "a unit is missing"),
            ("-5s", "it is negative"),
            ("5 s", "a unit is missing"),
            ("5sec", "the unit is unknown"),
            ("s", "a number is missing"),
            ("30m1h", "units must go from largest to smallest, each once"),
            ("1s1s", "units must go from largest to smallest, each once"),
            ("99999999999999999999s", "the number is too large"),
            ("999999999999999w", "it is too long"),
        ];
        for (text, reason) in cases {
            let error = parse(text).expect_err(text);
            assert_eq!(error.reason, reason, "{text:?}");
            assert!(error.to_string().contains("such as '2s'"), "{error}");
        }
    }

    #[test]
    fn durations_print_in_their_shortest_form() {
        for (text, shown) in [
            ("90s", "1m30s"),
            ("0ms", "0s"),
            ("1500ms", "1s500ms"),
            ("7d", "1w"),
            ("30d", "4w2d"),
        ] {
            let duration: Duration = text.parse().expect(text);
            assert_eq!(duration.to_string(), shown);
            assert_eq!(
                shown.parse::<Duration>(),
                Ok(duration),
                "{shown} reads back"
            );
        }
    }
}
