//! The memory of a uniqueness check: which keys were seen, in little space.
//!
//! Keys of one integer field are kept exactly: as runs of consecutive
//! values while there are few runs (ids that count up, the common case, take
//! a few bytes and stay in cache), then in a hash set of the integers
//! themselves. Other keys are kept as 64-bit hashes of their typed values.
//! The hash set is split into shards so that growing it never holds two
//! copies of the whole table at once: peak memory stays near 9 to 14 bytes
//! a key.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

/// Runs kept before new integers go to the hash set: 1 MiB of runs.
const MAX_RUNS: usize = 65_536;
/// Shards of the hash set; a power of two.
const SHARDS: usize = 64;

/// Mixes a 64-bit key into a well-spread hash (keys may be small integers
/// or already hashes; both come out spread over all bits).
#[derive(Debug, Default)]
pub(super) struct MixHasher(u64);

impl Hasher for MixHasher {
    fn finish(&self) -> u64 {
        let mut x = self.0;
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*byte);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type Shard = HashSet<u64, BuildHasherDefault<MixHasher>>;

/// The keys seen by one uniqueness check.
#[derive(Debug, Default)]
pub(super) struct KeySet {
    /// Sorted, disjoint, non-adjacent inclusive runs of integers seen.
    runs: Vec<(i64, i64)>,
    /// Set once `runs` is full: integers outside the runs go to `shards`.
    runs_full: bool,
    /// Integers (as `u64`) or key hashes; empty until first needed.
    shards: Vec<Shard>,
}

impl KeySet {
    /// Records an integer key; false if it was already there.
    #[inline]
    pub(super) fn insert_integer(&mut self, n: i64) -> bool {
        // Fast path: the next id after the last run.
        if let Some(last) = self.runs.last_mut() {
            if last.1.checked_add(1) == Some(n) && !self.runs_full {
                last.1 = n;
                return self.shards.is_empty() || !self.shard_contains(n as u64);
            }
            if last.0 <= n && n <= last.1 {
                return false;
            }
        }
        let index = self.runs.partition_point(|run| run.1 < n);
        if self.runs.get(index).is_some_and(|run| run.0 <= n) {
            return false;
        }
        if !self.runs_full {
            if self.extend_runs(index, n) {
                return self.shards.is_empty() || !self.shard_contains(n as u64);
            }
            self.runs_full = true;
        }
        self.insert_hash(n as u64)
    }

    /// Adds `n`, which no run holds, to the runs; `index` is the first run
    /// above it. False when that would need a new run and the runs are full.
    fn extend_runs(&mut self, index: usize, n: i64) -> bool {
        let joins_previous = index > 0 && self.runs[index - 1].1.checked_add(1) == Some(n);
        let joins_next = self
            .runs
            .get(index)
            .is_some_and(|run| run.0.checked_sub(1) == Some(n));
        match (joins_previous, joins_next) {
            (true, true) => {
                self.runs[index - 1].1 = self.runs[index].1;
                self.runs.remove(index);
            }
            (true, false) => self.runs[index - 1].1 = n,
            (false, true) => self.runs[index].0 = n,
            (false, false) if self.runs.len() < MAX_RUNS => self.runs.insert(index, (n, n)),
            (false, false) => return false,
        }
        true
    }

    fn shard_contains(&self, key: u64) -> bool {
        self.shards[shard_of(key)].contains(&key)
    }

    /// Records a key hash (or an integer that did not fit the runs); false
    /// if it was already there.
    #[inline]
    pub(super) fn insert_hash(&mut self, key: u64) -> bool {
        if self.shards.is_empty() {
            self.shards = (0..SHARDS).map(|_| Shard::default()).collect();
        }
        self.shards[shard_of(key)].insert(key)
    }
}

fn shard_of(key: u64) -> usize {
    let mut hasher = MixHasher::default();
    hasher.write_u64(key);
    (hasher.finish() >> 58) as usize % SHARDS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_in_any_order_are_each_new_once() {
        let mut keys = KeySet::default();
        let order = [5, 3, 4, 1, 2, 10, 9, -1, i64::MAX, i64::MIN, 0, 6, 8, 7];
        for n in order {
            assert!(keys.insert_integer(n), "{n} is new");
        }
        for n in order {
            assert!(!keys.insert_integer(n), "{n} was seen");
        }
        assert_eq!(
            keys.runs,
            [(i64::MIN, i64::MIN), (-1, 10), (i64::MAX, i64::MAX)]
        );
        assert!(keys.shards.is_empty());
    }

    #[test]
    fn counting_ids_take_one_run() {
        let mut keys = KeySet::default();
        for n in 1..=100_000 {
            assert!(keys.insert_integer(n));
        }
        assert_eq!(keys.runs, [(1, 100_000)]);
        assert!(!keys.insert_integer(50_000));
        assert!(keys.insert_integer(100_001));
    }

    #[test]
    fn when_the_runs_are_full_integers_go_to_the_hash_set_and_are_still_unique() {
        let mut keys = KeySet::default();
        for n in 0..(MAX_RUNS as i64 + 10) {
            assert!(keys.insert_integer(n * 2));
        }
        assert!(keys.runs_full);
        assert_eq!(keys.runs.len(), MAX_RUNS);
        for n in 0..(MAX_RUNS as i64 + 10) {
            assert!(!keys.insert_integer(n * 2), "{}", n * 2);
        }
        // Next to the last run, but the runs are full: into the set, once.
        let last = keys.runs[MAX_RUNS - 1].1;
        assert!(keys.insert_integer(last + 1));
        assert!(!keys.insert_integer(last + 1));
        assert!(keys.insert_integer(1));
        assert!(!keys.insert_integer(1));
    }

    #[test]
    fn hashes_are_new_once() {
        let mut keys = KeySet::default();
        assert!(keys.insert_hash(42));
        assert!(keys.insert_hash(u64::MAX));
        assert!(!keys.insert_hash(42));
    }
}
