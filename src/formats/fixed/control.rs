//! The checks a multi-record file carries: a header first, a trailer last,
//! and the trailer's record count and control totals.
//!
//! [`Tally`] follows the file record by record. A header must be the first
//! record and the only one; nothing may follow the trailer. Each detail
//! record (any record that is neither header nor trailer) is counted, and
//! the detail fields of the control totals are summed exactly, over every
//! detail record whose field could be read: rows the schema later rejects
//! included, since the trailer describes the file the producer wrote, not
//! what the warehouse accepts. At the end the trailer must have come, and
//! its count and totals must match; a mismatch states what the trailer
//! expects and what the file holds. Whether that fails the file or only
//! warns is the layout's `on_mismatch`.

use super::cells::Captured;
use super::{Control, CountIncludes, FixedLayout};
use crate::formats::Position;
use crate::mainframe::copybook::Item;
use crate::mainframe::decimal::Decimal;
use crate::mainframe::record::{FieldError, RecordError, Sink, Value};

/// What a record is to the checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Header,
    Trailer,
    Detail,
}

/// What the file held so far.
#[derive(Debug, Default)]
pub(super) struct Tally {
    records: u64,
    details: u64,
    /// The trailer's position and its captured values.
    trailer: Option<(Position, Vec<Captured>)>,
    /// Per control total: the sum so far, and the detail records whose
    /// field could not be read.
    sums: Vec<(Decimal, u64)>,
    last: Position,
}

impl Tally {
    /// Counts one record; a record out of place is a refusal of the file.
    pub(super) fn record(
        &mut self,
        layout: &FixedLayout,
        kind: Kind,
        position: Position,
    ) -> Result<(), String> {
        let control = &layout.control;
        self.records += 1;
        self.last = position;
        let kind_of = |value: &Option<String>| {
            format!(
                "{} = {:?}",
                layout.spec.record_type.as_deref().unwrap_or("record type"),
                value.as_deref().unwrap_or_default()
            )
        };
        if self.trailer.is_some() {
            return Err(format!(
                "record {} follows the trailer record ({}); the trailer must be the last record",
                position.row,
                kind_of(&control.trailer)
            ));
        }
        if control.header.is_some() {
            match (kind, self.records) {
                (Kind::Header, 1) => {}
                (Kind::Header, _) => {
                    return Err(format!(
                        "record {} is a second header record ({}); a file has one, first",
                        position.row,
                        kind_of(&control.header)
                    ));
                }
                (_, 1) => {
                    return Err(format!(
                        "the file does not start with a header record ({}); is it complete?",
                        kind_of(&control.header)
                    ));
                }
                _ => {}
            }
        }
        if kind == Kind::Detail {
            self.details += 1;
        }
        Ok(())
    }

    /// Adds a detail record's captured values to the control totals.
    pub(super) fn add(
        &mut self,
        control: &Control,
        captures: &[Option<usize>],
        captured: &[Captured],
    ) {
        if self.sums.len() != control.totals.len() {
            self.sums = vec![(Decimal::ZERO, 0); control.totals.len()];
        }
        for ((_, detail), (sum, unreadable)) in control.totals.iter().zip(&mut self.sums) {
            let Some(capture) = captures[detail.index()] else {
                continue;
            };
            match captured.get(capture) {
                Some(Captured::Number(value)) => match add(*sum, *value) {
                    Some(total) => *sum = total,
                    None => *unreadable += 1,
                },
                Some(Captured::Unreadable(_)) => *unreadable += 1,
                _ => {}
            }
        }
    }

    /// Takes the trailer record's values.
    pub(super) fn trailer(&mut self, position: Position, captured: Vec<Captured>) {
        self.trailer = Some((position, captured));
    }

    /// The checks at the end of the file: `Err` with where and why when
    /// the file does not hold what its trailer says (a mismatch: `true`),
    /// or has no trailer (`false`).
    pub(super) fn finish(&mut self, layout: &FixedLayout) -> Result<(), (Position, String, bool)> {
        let control = &layout.control;
        let Some(trailer_type) = &control.trailer else {
            return Ok(());
        };
        if self.sums.len() != control.totals.len() {
            self.sums = vec![(Decimal::ZERO, 0); control.totals.len()];
        }
        let field = layout.spec.record_type.as_deref().unwrap_or("record type");
        let Some((position, captured)) = &self.trailer else {
            return Err((
                self.last,
                format!(
                    "the file has no trailer record ({field} = {trailer_type:?}) after its {} records; is it complete? Nothing of it is loaded",
                    self.records
                ),
                false,
            ));
        };
        let name = |item: crate::mainframe::copybook::ItemId| layout.copybook.qualified_name(item);
        let value = |item: crate::mainframe::copybook::ItemId| -> Result<Decimal, String> {
            let capture = layout.captures[item.index()].unwrap_or(usize::MAX);
            match captured.get(capture) {
                Some(Captured::Number(value)) => Ok(*value),
                Some(Captured::Unreadable(problem)) => Err(format!(
                    "the trailer's {} cannot be read: {problem}",
                    name(item)
                )),
                _ => Err(format!("the trailer's {} is blank", name(item))),
            }
        };
        let mut problems = Vec::new();
        if let Some(count) = control.count {
            let (found, what) = match control.count_includes {
                CountIncludes::Details => (
                    self.details,
                    "detail records (header and trailer not counted)",
                ),
                CountIncludes::All => (self.records, "records (header and trailer counted)"),
            };
            match value(count) {
                Ok(expected) if same(expected, Decimal::new(i128::from(found), 0)) => {}
                Ok(expected) => problems.push(format!(
                    "record count {}: expected {expected} {what}, found {found}",
                    name(count)
                )),
                Err(problem) => problems.push(problem),
            }
        }
        for ((total, detail), (sum, unreadable)) in control.totals.iter().zip(&self.sums) {
            match value(*total) {
                Ok(expected) if same(expected, *sum) => {}
                Ok(expected) => {
                    let unread = if *unreadable > 0 {
                        format!(
                            "; the {} of {unreadable} detail record(s) could not be read and is not in the sum",
                            name(*detail)
                        )
                    } else {
                        String::new()
                    };
                    problems.push(format!(
                        "control total {}: expected {expected}, found {sum} (the sum of {} over {} detail records){unread}",
                        name(*total),
                        name(*detail),
                        self.details
                    ));
                }
                Err(problem) => problems.push(problem),
            }
        }
        if problems.is_empty() {
            return Ok(());
        }
        Err((
            *position,
            format!(
                "the trailer does not match the file: {}",
                problems.join("; ")
            ),
            true,
        ))
    }
}

/// `a + b`, exactly; `None` beyond 38 digits.
fn add(a: Decimal, b: Decimal) -> Option<Decimal> {
    let scale = a.scale().max(b.scale());
    let a = a.rescale(scale).ok()?;
    let b = b.rescale(scale).ok()?;
    let sum = a.coefficient().checked_add(b.coefficient())?;
    Some(Decimal::new(sum, scale))
}

/// Whether two decimals are the same number, whatever their scales.
fn same(a: Decimal, b: Decimal) -> bool {
    let scale = a.scale().max(b.scale());
    match (a.rescale(scale), b.rescale(scale)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Collects a trailer record's values for the checks; a field that cannot
/// be read is kept as such, and the decoding goes on.
pub(super) struct TrailerValues<'a> {
    pub(super) layout: &'a FixedLayout,
    pub(super) captured: Vec<Captured>,
}

impl Sink for TrailerValues<'_> {
    fn value(
        &mut self,
        item: &Item,
        _indices: &[u32],
        value: Result<Value, FieldError>,
    ) -> Result<(), RecordError> {
        if let Some(capture) = self.layout.captures[item.id.index()] {
            self.captured[capture] = match value {
                Ok(Value::Number(number)) => Captured::Number(number),
                Ok(_) => Captured::Null,
                Err(error) => Captured::Unreadable(error.to_string()),
            };
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_and_comparisons_are_exact_across_scales() {
        assert_eq!(
            add(Decimal::new(1, 1), Decimal::new(2, 2)),
            Some(Decimal::new(12, 2))
        );
        assert!(same(Decimal::new(1200, 2), Decimal::new(12, 0)));
        assert!(!same(Decimal::new(1201, 2), Decimal::new(12, 0)));
        assert_eq!(add(Decimal::new(i128::MAX, 0), Decimal::new(1, 0)), None);
    }
}
