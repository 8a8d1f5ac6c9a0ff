//! Constraints on typed values: lengths, bounds, patterns, enums and
//! categories, checked after casting and only on values that are present.
//!
//! `required` and `unique` live here as flags, but the validator checks them:
//! one needs to know the value was missing, the other needs every earlier row.
//! Bounds and enum members are cast to the field's type when the schema is
//! loaded, so a row's check compares typed values and allocates nothing
//! unless it fails.

use std::collections::HashSet;
use std::fmt;

use regex::Regex;
use serde::Serialize;

use super::value::Value;

/// A constraint's name, as the standard spells it and reports carry it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Constraint {
    Required,
    Unique,
    MinLength,
    MaxLength,
    Minimum,
    Maximum,
    ExclusiveMinimum,
    ExclusiveMaximum,
    Pattern,
    Enum,
    /// The v2 `categories` property of string and integer fields.
    Categories,
}

impl Constraint {
    /// Every constraint, in the standard's order.
    pub const ALL: [Constraint; 11] = [
        Constraint::Required,
        Constraint::Unique,
        Constraint::MinLength,
        Constraint::MaxLength,
        Constraint::Minimum,
        Constraint::Maximum,
        Constraint::ExclusiveMinimum,
        Constraint::ExclusiveMaximum,
        Constraint::Pattern,
        Constraint::Enum,
        Constraint::Categories,
    ];

    /// The name in the standard.
    pub fn name(self) -> &'static str {
        match self {
            Constraint::Required => "required",
            Constraint::Unique => "unique",
            Constraint::MinLength => "minLength",
            Constraint::MaxLength => "maxLength",
            Constraint::Minimum => "minimum",
            Constraint::Maximum => "maximum",
            Constraint::ExclusiveMinimum => "exclusiveMinimum",
            Constraint::ExclusiveMaximum => "exclusiveMaximum",
            Constraint::Pattern => "pattern",
            Constraint::Enum => "enum",
            Constraint::Categories => "categories",
        }
    }
}

impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A field's constraints, ready to check.
#[derive(Debug, Clone, Default)]
pub struct Constraints {
    /// A value must be present (implied for primary key fields).
    pub required: bool,
    /// No two rows may have the same value (nulls excepted).
    pub unique: bool,
    /// The fewest characters (strings) or items (lists, arrays, objects).
    pub min_length: Option<usize>,
    /// The most characters (strings) or items (lists, arrays, objects).
    pub max_length: Option<usize>,
    /// The smallest value allowed.
    pub minimum: Option<Value<'static>>,
    /// The largest value allowed.
    pub maximum: Option<Value<'static>>,
    /// Values must be above this.
    pub exclusive_minimum: Option<Value<'static>>,
    /// Values must be below this.
    pub exclusive_maximum: Option<Value<'static>>,
    /// A regular expression the whole text must match (anchored).
    pub pattern: Option<Pattern>,
    /// The values allowed.
    pub enumeration: Option<Members>,
    /// The v2 `categories`: the values allowed, checked like an enum.
    pub categories: Option<Members>,
}

/// A `pattern`: the schema's text, and the anchored regular expression.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// The pattern as written in the schema.
    pub source: String,
    /// `^(?:source)$`, compiled.
    pub regex: Regex,
}

/// The members of an `enum` or `categories`, in the form a lookup wants:
/// a few strings in a list (comparing a handful of short strings beats
/// hashing), many in a hash set (looked up by `&str`, no allocation), other
/// values in a list compared by value.
#[derive(Debug, Clone)]
pub enum Members {
    /// For up to [`Members::FEW`] strings.
    FewStrings(FewStrings),
    /// For more strings.
    Strings(HashSet<Box<str>, foldhash::fast::FixedState>),
    /// For every other type.
    Values(Vec<Value<'static>>),
}

impl Members {
    /// Up to this many strings are kept in a list.
    pub const FEW: usize = 16;

    /// The members for a set of strings.
    pub fn strings(strings: Vec<Box<str>>) -> Members {
        if strings.len() <= Members::FEW {
            Members::FewStrings(FewStrings::new(strings))
        } else {
            Members::Strings(strings.into_iter().collect())
        }
    }

    /// Whether `value` is one of the members.
    #[inline]
    pub fn contains(&self, value: &Value<'_>) -> bool {
        match (self, value) {
            (Members::FewStrings(few), Value::String(text)) => few.contains(text),
            (Members::FewStrings(_), _) => false,
            (Members::Strings(set), Value::String(text)) => set.contains(text.as_ref()),
            (Members::Strings(_), _) => false,
            (Members::Values(values), value) => values.iter().any(|member| member == value),
        }
    }

    fn describe(&self) -> String {
        let mut members: Vec<String> = match self {
            Members::FewStrings(few) => few
                .list
                .iter()
                .map(|member| format!("{member:?}"))
                .collect(),
            Members::Strings(set) => set.iter().map(|member| format!("{member:?}")).collect(),
            Members::Values(values) => values.iter().map(ToString::to_string).collect(),
        };
        if matches!(self, Members::Strings(_) | Members::FewStrings(_)) {
            members.sort();
        }
        members.join(", ")
    }
}

/// A few strings, and a table from a one-byte digest of a text to the only
/// member that can equal it. Walking the list compares the text with a
/// varying number of members, a branch the processor mispredicts when the
/// values vary from row to row (as an order's status does); the table finds
/// the one candidate, so the only branch left is whether it matches.
#[derive(Debug, Clone)]
pub struct FewStrings {
    list: Vec<Box<str>>,
    /// Per digest, 1 + the index of the member with that digest, or 0 for
    /// none; `None` when two members share a digest, and the list is walked.
    slots: Option<Box<[u8; 256]>>,
}

impl FewStrings {
    fn new(list: Vec<Box<str>>) -> FewStrings {
        let mut slots = Box::new([0u8; 256]);
        let mut distinct = list.len() < 256;
        for (index, member) in list.iter().enumerate() {
            let slot = &mut slots[usize::from(digest(member.as_bytes()))];
            distinct &= *slot == 0;
            *slot = u8::try_from(index + 1).unwrap_or(0);
        }
        FewStrings {
            list,
            slots: distinct.then_some(slots),
        }
    }

    #[inline]
    fn contains(&self, text: &str) -> bool {
        match &self.slots {
            Some(slots) => match slots[usize::from(digest(text.as_bytes()))] {
                0 => false,
                slot => self.list[usize::from(slot) - 1].as_bytes() == text.as_bytes(),
            },
            None => self.list.iter().any(|member| **member == *text),
        }
    }
}

/// One byte from a text's length and first and last bytes: enough to tell
/// apart the handful of words of an enum, almost always.
#[inline]
fn digest(text: &[u8]) -> u8 {
    let first = text.first().copied().unwrap_or(0);
    let last = text.last().copied().unwrap_or(0);
    (text.len() as u8).wrapping_mul(31) ^ first.wrapping_mul(7) ^ last
}

/// One failed constraint: which, and a message saying what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The constraint that failed.
    pub constraint: Constraint,
    /// What was expected, for a person.
    pub message: String,
}

impl Constraints {
    /// Whether [`Constraints::check`] has anything to check.
    pub fn checks_values(&self) -> bool {
        self.min_length.is_some()
            || self.max_length.is_some()
            || self.minimum.is_some()
            || self.maximum.is_some()
            || self.exclusive_minimum.is_some()
            || self.exclusive_maximum.is_some()
            || self.pattern.is_some()
            || self.enumeration.is_some()
            || self.categories.is_some()
    }

    /// Checks a present value against every value-level constraint (all but
    /// `required` and `unique`), reporting each failure to `report`.
    /// `text` is the cell's text, which lengths and patterns of strings are
    /// measured on (for `binary` fields, the base64 text).
    #[inline]
    pub fn check(&self, value: &Value<'_>, text: &str, mut report: impl FnMut(Violation)) {
        if self.min_length.is_some() || self.max_length.is_some() {
            let length = match value {
                // A text of n bytes has between n/4 and n characters: when
                // that settles both limits, nothing can fail and counting
                // the characters is skipped (the usual maxLength case).
                Value::String(_) | Value::Binary(_)
                    if self.max_length.is_none_or(|max| text.len() <= max)
                        && self
                            .min_length
                            .is_none_or(|min| text.len().div_ceil(4) >= min) =>
                {
                    None
                }
                Value::String(_) | Value::Binary(_) => Some(text.chars().count()),
                Value::List(items) => Some(items.len()),
                Value::Json(json) => match json.as_ref().as_ref() {
                    serde_json::Value::Array(items) => Some(items.len()),
                    serde_json::Value::Object(map) => Some(map.len()),
                    _ => None,
                },
                _ => None,
            };
            if let Some(length) = length {
                let unit = if matches!(value, Value::String(_) | Value::Binary(_)) {
                    "characters"
                } else {
                    "items"
                };
                if let Some(min) = self.min_length.filter(|min| length < *min) {
                    report(Violation {
                        constraint: Constraint::MinLength,
                        message: format!("expected at least {min} {unit}, found {length}"),
                    });
                }
                if let Some(max) = self.max_length.filter(|max| length > *max) {
                    report(Violation {
                        constraint: Constraint::MaxLength,
                        message: format!("expected at most {max} {unit}, found {length}"),
                    });
                }
            }
        }
        // The bounds one by one, not as a loop over all four: most fields
        // have none or one, and integers compare without `Value::compare`.
        use std::cmp::Ordering::{Equal, Greater, Less};
        let mut bound = |bound: &Option<Value<'static>>, constraint: Constraint| {
            let Some(bound) = bound else { return };
            let order = match (value, bound) {
                (Value::Integer(a), Value::Integer(b)) => Some(a.cmp(b)),
                _ => value.compare(bound),
            };
            let (ok, expected) = match constraint {
                Constraint::Minimum => (matches!(order, Some(Greater | Equal)), "at least"),
                Constraint::Maximum => (matches!(order, Some(Less | Equal)), "at most"),
                Constraint::ExclusiveMinimum => (order == Some(Greater), "above"),
                _ => (order == Some(Less), "below"),
            };
            if !ok {
                report(Violation {
                    constraint,
                    message: format!("expected a value {expected} {bound}"),
                });
            }
        };
        bound(&self.minimum, Constraint::Minimum);
        bound(&self.maximum, Constraint::Maximum);
        bound(&self.exclusive_minimum, Constraint::ExclusiveMinimum);
        bound(&self.exclusive_maximum, Constraint::ExclusiveMaximum);
        if let Some(pattern) = &self.pattern
            && !pattern.regex.is_match(text)
        {
            report(Violation {
                constraint: Constraint::Pattern,
                message: format!("expected text matching the pattern {:?}", pattern.source),
            });
        }
        for (members, constraint) in [
            (&self.enumeration, Constraint::Enum),
            (&self.categories, Constraint::Categories),
        ] {
            if let Some(members) = members
                && !members.contains(value)
            {
                report(Violation {
                    constraint,
                    message: format!("expected one of {}", members.describe()),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;

    fn strings(members: &[&str]) -> Members {
        Members::strings(members.iter().map(|&member| member.into()).collect())
    }

    #[test]
    fn a_few_strings_are_found_through_the_digest_table_or_the_list() {
        let statuses = ["pending", "paid", "shipped", "delivered", "cancelled", ""];
        // Same length, first and last bytes: one digest, so the list is walked.
        let clashing = ["ab", "cd", "axb", "ayb"];
        for members in [&statuses[..], &clashing[..]] {
            let set = strings(members);
            let Members::FewStrings(few) = &set else {
                panic!("a few strings");
            };
            assert_eq!(few.slots.is_some(), members.len() == statuses.len());
            let mut probes: Vec<String> = statuses
                .iter()
                .chain(&clashing)
                .map(|s| s.to_string())
                .collect();
            probes.extend(
                ["Paid", "paiD", "pai", "paidd", "cancelleD", "a", "azb"].map(String::from),
            );
            for probe in &probes {
                let value = Value::String(Cow::Borrowed(probe.as_str()));
                assert_eq!(
                    set.contains(&value),
                    members.contains(&probe.as_str()),
                    "{probe:?}"
                );
            }
            assert!(!set.contains(&Value::Integer(1)));
        }
    }
}
