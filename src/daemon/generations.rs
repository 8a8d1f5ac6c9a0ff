//! Generation data groups: datasets whose files are generations of one
//! mainframe dataset, named like z/OS names them (`CUST.DAILY.G0042V00`).
//!
//! With `order = "generation"` a dataset's objects are ranked by their
//! absolute generation: G0001 to G9999 make a cycle, and after G9999 comes
//! G0001 of the next. A generation number is placed in the cycle that
//! brings it nearest the latest generation registered (so G0001 after G9998
//! is the next, and G9998 after G0001 a late one of the last cycle). The
//! version (`V00`) orders the versions of one generation. A name without a
//! generation ranks after every generation, by arrival.
//!
//! With `gap_check = true` a [`Sequence`] follows the generations as they
//! are registered. The first generations wait until the daemon has
//! registered every file it found ready with them (nothing being scanned
//! or hashed): the lowest of those starts the sequence ([`Sequence::begin`],
//! recorded as a `dataset.generations_started` event). From then on a
//! generation is held back while one between the start and it has not
//! arrived (G0042 registered, G0044 arrives, G0043 not: G0044 waits). When
//! the missing one arrives, every held generation it completes is released,
//! and the queue takes them in order. A generation older than the start is
//! late, not missing: it holds nothing and is not held. The sequence is
//! rebuilt from the ledger at startup and on reload (the recorded start,
//! then the objects in the order they were registered), so the daemon,
//! `droplake why` and a restart all decide alike.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

/// Generations in a cycle: G0001 to G9999.
pub const CYCLE: i64 = 9999;

/// A generation and version from a file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generation {
    /// 1 to 9999.
    pub number: i64,
    /// 0 to 99.
    pub version: i64,
}

impl Generation {
    /// The generation of the file at `path`: the last dot-separated part of
    /// its name of the form `GnnnnVnn` (`CUST.DAILY.G0042V00`, also with a
    /// suffix after it such as `.dat`). G0000 is not a generation.
    pub fn of(path: &Path) -> Option<Generation> {
        let name = path.file_name()?.to_str()?;
        name.split('.').rev().find_map(|part| {
            let bytes = part.as_bytes();
            let digits = |range: std::ops::Range<usize>| {
                bytes
                    .get(range.clone())
                    .filter(|digits| digits.iter().all(u8::is_ascii_digit))
                    .and_then(|_| part.get(range)?.parse::<i64>().ok())
            };
            if bytes.len() != 8
                || !matches!(bytes[0], b'G' | b'g')
                || !matches!(bytes[5], b'V' | b'v')
            {
                return None;
            }
            let number = digits(1..5).filter(|number| *number > 0)?;
            let version = digits(6..8)?;
            Some(Generation { number, version })
        })
    }

    /// `G0042`.
    pub fn label(number: i64) -> String {
        format!("G{number:04}")
    }
}

/// The generation number of an absolute generation.
pub fn number_of(absolute: i64) -> i64 {
    absolute.rem_euclid(CYCLE) + 1
}

/// What one arrival changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Arrival {
    /// The arriving object waits for a missing generation.
    pub held: bool,
    /// Held objects it released, in generation order.
    pub released: Vec<i64>,
    /// The missing generation (absolute), when this arrival is the first
    /// held behind it: report it now.
    pub new_gap: Option<i64>,
}

/// One dataset's generations: where the sequence starts, how far it is
/// complete, and what waits.
///
/// Invariants: every absolute generation from `start` to `complete` has
/// arrived; `ahead` holds the ones that arrived beyond `complete + 1`, and
/// `held` their objects.
#[derive(Debug, Clone, Default)]
pub struct Sequence {
    start: Option<i64>,
    /// The highest absolute generation registered.
    latest: i64,
    /// The end of the complete run from `start`.
    complete: i64,
    ahead: BTreeSet<i64>,
    held: BTreeMap<i64, Vec<i64>>,
    /// The missing generation last reported.
    reported: Option<i64>,
}

impl Sequence {
    /// The absolute generation of `number`: in the cycle that brings it
    /// nearest the latest one registered (a tie goes forward).
    pub fn place(&self, number: i64) -> i64 {
        if !self.placed() {
            return number - 1;
        }
        let cycle = self.latest.div_euclid(CYCLE);
        (cycle - 1..=cycle + 1)
            .map(|cycle| cycle * CYCLE + number - 1)
            .min_by_key(|absolute| ((absolute - self.latest).abs(), -absolute))
            .unwrap_or(number - 1)
    }

    /// Registers `object`, of absolute generation `absolute`.
    pub fn arrive(&mut self, object: i64, absolute: i64) -> Arrival {
        let first = self.start.is_none() && self.held.is_empty() && self.ahead.is_empty();
        self.latest = if first {
            absolute
        } else {
            self.latest.max(absolute)
        };
        let Some(start) = self.start else {
            // Waits for the sequence to begin.
            self.ahead.insert(absolute);
            self.held.entry(absolute).or_default().push(object);
            return Arrival {
                held: true,
                ..Arrival::default()
            };
        };
        if absolute < start || absolute <= self.complete {
            return Arrival::default();
        }
        if absolute > self.complete + 1 {
            self.ahead.insert(absolute);
            self.held.entry(absolute).or_default().push(object);
            let missing = self.complete + 1;
            let new_gap = (self.reported != Some(missing)).then_some(missing);
            self.reported = Some(missing);
            return Arrival {
                held: true,
                released: Vec::new(),
                new_gap,
            };
        }
        self.complete = absolute;
        while self.ahead.remove(&(self.complete + 1)) {
            self.complete += 1;
        }
        let still: BTreeMap<i64, Vec<i64>> = self.held.split_off(&(self.complete + 1));
        let released = std::mem::replace(&mut self.held, still)
            .into_values()
            .flatten()
            .collect();
        Arrival {
            held: false,
            released,
            new_gap: None,
        }
    }

    /// Starts the sequence at the lowest generation waiting, if it has not
    /// started: returns the start and what that released (and the gap, if
    /// one remains).
    pub fn begin(&mut self) -> Option<(i64, Arrival)> {
        if self.start.is_some() {
            return None;
        }
        let start = *self.held.keys().next()?;
        Some((start, self.start_at(start)))
    }

    /// Starts the sequence at `start` (absolute).
    fn start_at(&mut self, start: i64) -> Arrival {
        self.start = Some(start);
        self.complete = start - 1;
        while self.ahead.remove(&(self.complete + 1)) {
            self.complete += 1;
        }
        let still: BTreeMap<i64, Vec<i64>> = self.held.split_off(&(self.complete + 1));
        let released = std::mem::replace(&mut self.held, still)
            .into_values()
            .flatten()
            .collect();
        let new_gap = self.missing();
        self.reported = new_gap;
        Arrival {
            held: false,
            released,
            new_gap,
        }
    }

    /// The first missing generation (absolute), if anything waits for it
    /// (after the sequence began).
    pub fn missing(&self) -> Option<i64> {
        (self.start.is_some() && !self.held.is_empty()).then_some(self.complete + 1)
    }

    /// The last generation of the complete run, if the sequence started.
    pub fn complete(&self) -> Option<i64> {
        self.start.map(|_| self.complete)
    }

    /// Notes a generation registered in a dataset without a gap check:
    /// only where the sequence starts and how far it got, for placing.
    pub fn note(&mut self, absolute: i64) {
        if self.start.is_none() {
            self.start = Some(absolute);
            self.latest = absolute;
            self.complete = absolute;
        }
        self.latest = self.latest.max(absolute);
    }

    /// Whether anything was placed yet.
    fn placed(&self) -> bool {
        self.start.is_some() || !self.held.is_empty()
    }

    /// Whether `object` waits for a missing generation.
    pub fn is_held(&self, object: i64) -> bool {
        self.held.values().any(|objects| objects.contains(&object))
    }

    /// The objects that wait.
    pub fn held(&self) -> impl Iterator<Item = i64> + '_ {
        self.held.values().flatten().copied()
    }

    /// Marks the current gap as reported (it was, when it was found).
    pub fn mark_reported(&mut self) {
        self.reported = self.missing();
    }
}

/// The rank of a file in a dataset ordered by generation: its absolute
/// generation and version, or after every generation (by `mtime_ns`) when
/// its name has none. Places the generation in `sequence`.
pub fn rank(sequence: &Sequence, path: &Path, mtime_ns: i64) -> (i64, Option<i64>) {
    match Generation::of(path) {
        Some(generation) => {
            let absolute = sequence.place(generation.number);
            (absolute * 100 + generation.version, Some(absolute))
        }
        None => ((i64::MAX / 2).saturating_add(mtime_ns), None),
    }
}

/// The ranks of files of a dataset ordered by generation, given in
/// arrival order (path, mtime in ns), which places their generations.
pub fn ranks<'p>(files: impl IntoIterator<Item = (&'p Path, i64)>) -> Vec<i64> {
    let mut sequence = Sequence::default();
    files
        .into_iter()
        .map(|(path, mtime_ns)| {
            let (rank, absolute) = rank(&sequence, path, mtime_ns);
            if let Some(absolute) = absolute {
                sequence.note(absolute);
            }
            rank
        })
        .collect()
}

/// The sequence of `dataset` as its registered objects make it, in the
/// order they were registered (with the gap check, or only placing).
pub fn replay(
    connection: &Connection,
    dataset: &str,
    gap_check: bool,
) -> rusqlite::Result<Sequence> {
    let mut statement = connection
        .prepare_cached("SELECT id, path FROM _droplake_objects WHERE dataset = ?1 ORDER BY id")?;
    let objects = statement.query_map(params![dataset], |row| {
        Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?))
    })?;
    let started: Option<i64> = if gap_check {
        connection
            .query_row(
                "SELECT json_extract(body, '$.absolute') FROM _droplake_events
                 WHERE kind = 'dataset.generations_started' AND json_extract(body, '$.dataset') = ?1
                 ORDER BY seq DESC LIMIT 1",
                params![dataset],
                |row| row.get(0),
            )
            .optional()?
            .flatten()
    } else {
        None
    };
    let mut sequence = Sequence::default();
    let mut begun = false;
    for object in objects {
        let (id, path) = object?;
        // The recorded start applies from the first generation on.
        if let (Some(start), false) = (started, begun)
            && Generation::of(Path::new(
                <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(&path),
            ))
            .is_some()
        {
            begun = true;
            sequence.start = Some(start);
            sequence.complete = start - 1;
        }
        let path = <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(&path);
        if let Some(generation) = Generation::of(Path::new(path)) {
            let absolute = sequence.place(generation.number);
            if gap_check {
                sequence.arrive(id, absolute);
            } else {
                sequence.note(absolute);
            }
        }
    }
    sequence.mark_reported();
    Ok(sequence)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_names_are_read_from_the_last_qualifier_that_is_one() {
        let of = |name: &str| Generation::of(Path::new(name)).map(|g| (g.number, g.version));
        assert_eq!(of("dt=2026-11-26/CUST.DAILY.G0042V00"), Some((42, 0)));
        assert_eq!(of("CUST.G9999V01.dat"), Some((9999, 1)));
        assert_eq!(of("cust.g0007v00"), Some((7, 0)));
        assert_eq!(of("CUST.G0000V00"), None);
        assert_eq!(of("CUST.G042V00"), None);
        assert_eq!(of("CUST.DAILY.csv"), None);
        assert_eq!(of("G12345V00"), None);
    }

    #[test]
    fn a_generation_goes_in_the_cycle_nearest_the_latest() {
        let mut sequence = Sequence::default();
        assert_eq!(sequence.place(9998), 9997);
        sequence.arrive(1, 9997);
        sequence.begin();
        assert_eq!(sequence.place(9999), 9998, "the next");
        assert_eq!(sequence.place(1), 9999, "G0001 after G9999 wraps around");
        sequence.arrive(2, 9998);
        sequence.arrive(3, 9999);
        assert_eq!(sequence.place(9998), 9997, "a late one of the last cycle");
        assert_eq!(number_of(9999), 1);
        assert_eq!(Generation::label(number_of(9998)), "G9999");
    }

    #[test]
    fn a_gap_holds_later_generations_until_it_is_filled_and_reports_once() {
        let mut sequence = Sequence::default();
        assert!(
            sequence.arrive(1, 43).held,
            "the first ones wait for the start"
        );
        assert!(sequence.arrive(2, 41).held);
        let (start, begun) = sequence.begin().expect("it begins");
        assert_eq!(start, 41, "at the lowest of those that came together");
        assert_eq!(begun.released, vec![2]);
        assert_eq!(begun.new_gap, Some(42), "G0044 waits for G0043");
        assert!(sequence.is_held(1));
        assert_eq!(
            sequence.arrive(3, 44),
            Arrival {
                held: true,
                released: vec![],
                new_gap: None
            }
        );
        assert_eq!(sequence.arrive(4, 42).released, vec![1, 3]);
        assert_eq!(sequence.begin(), None, "once");
        let mut sequence = Sequence::default();
        sequence.arrive(1, 41);
        sequence.begin();
        let gap = sequence.arrive(2, 43);
        assert_eq!(
            gap,
            Arrival {
                held: true,
                released: vec![],
                new_gap: Some(42)
            }
        );
        let again = sequence.arrive(3, 44);
        assert!(again.held);
        assert_eq!(again.new_gap, None, "the same gap is reported once");
        assert_eq!(sequence.missing(), Some(42));
        assert!(sequence.is_held(3));
        let filled = sequence.arrive(4, 42);
        assert_eq!(filled.released, vec![2, 3], "in generation order");
        assert_eq!(sequence.missing(), None);
        assert_eq!(sequence.complete(), Some(44));
        assert_eq!(
            sequence.arrive(5, 40),
            Arrival::default(),
            "late, not missing"
        );
    }

    #[test]
    fn the_sequence_wraps_from_g9999_to_g0001() {
        let mut sequence = Sequence::default();
        let mut arrive = |object: i64, number: i64| {
            let absolute = sequence.place(number);
            sequence.arrive(object, absolute)
        };
        arrive(1, 9998);
        sequence.begin();
        let mut arrive = |object: i64, number: i64| {
            let absolute = sequence.place(number);
            sequence.arrive(object, absolute)
        };
        assert!(arrive(2, 1).held, "G0001 waits for G9999");
        assert_eq!(arrive(3, 9999).released, vec![2]);
    }
}
