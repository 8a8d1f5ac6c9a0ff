//! The memory of a uniqueness check: which keys were seen, in little space.
//!
//! Keys of one integer field are kept exactly. Runs of consecutive values
//! come first: a run grows at either end, and a new run is appended after
//! the last one (up to 65,536 runs), so ids that count up take a few bytes
//! and stay in cache, and no insertion moves other runs. An integer that fits
//! no run goes to a hash set of the integers themselves. Other keys are kept
//! as 64-bit hashes of their typed values. The hash set is split into shards
//! so that growing it never holds two copies of the whole table at once:
//! peak memory stays near 9 to 14 bytes a key.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

/// The most runs kept (1 MiB); integers that would need more go to the
/// hash set.
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
///
/// Every key is in exactly one of `runs` and `shards`, except that a run may
/// grow over an integer already in `shards` (it was a duplicate then, and is
/// reported as one).
#[derive(Debug, Default)]
pub(super) struct KeySet {
    /// Sorted, disjoint inclusive runs of integers seen. Runs only grow at
    /// their ends or are appended after the last one, so no insertion ever
    /// moves the others.
    runs: Vec<(i64, i64)>,
    /// Integers (as `u64`) that fit no run, or key hashes; empty until
    /// first needed.
    shards: Vec<Shard>,
}

impl KeySet {
    /// Records an integer key; false if it was already there.
    #[inline]
    pub(super) fn insert_integer(&mut self, n: i64) -> bool {
        // Counting ids land after the last run: no search.
        let index = match self.runs.last() {
            Some(last) if last.1 < n => self.runs.len(),
            _ => self.runs.partition_point(|run| run.1 < n),
        };
        if self.runs.get(index).is_some_and(|run| run.0 <= n) {
            return false;
        }
        if self.extend_runs(index, n) {
            return self.shards.is_empty() || !self.shard_contains(n as u64);
        }
        self.insert_hash(n as u64)
    }

    /// Adds `n`, which no run holds, to a run if it touches one or comes
    /// after them all; `index` is the first run above it.
    fn extend_runs(&mut self, index: usize, n: i64) -> bool {
        if let Some(previous) = index.checked_sub(1).and_then(|i| self.runs.get_mut(i))
            && previous.1.checked_add(1) == Some(n)
        {
            previous.1 = n;
            return true;
        }
        if let Some(next) = self.runs.get_mut(index)
            && next.0.checked_sub(1) == Some(n)
        {
            next.0 = n;
            return true;
        }
        if index == self.runs.len() && self.runs.len() < MAX_RUNS {
            self.runs.push((n, n));
            return true;
        }
        false
    }

    fn shard_contains(&self, key: u64) -> bool {
        self.shards[shard_of(key)].contains(&key)
    }

    /// Records a key hash (or an integer that fits no run); false if it was
    /// already there.
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
    }

    #[test]
    fn counting_ids_take_one_run() {
        let mut keys = KeySet::default();
        for n in 1..=100_000 {
            assert!(keys.insert_integer(n));
        }
        assert_eq!(keys.runs, [(1, 100_000)]);
        assert!(keys.shards.is_empty());
        assert!(!keys.insert_integer(50_000));
        assert!(keys.insert_integer(100_001));
    }

    #[test]
    fn a_run_growing_over_a_key_in_the_hash_set_still_finds_the_duplicate() {
        let mut keys = KeySet::default();
        assert!(keys.insert_integer(5));
        assert!(keys.insert_integer(3), "before the last run: hashed");
        assert!(keys.insert_integer(4), "grows the run down to 4");
        assert!(!keys.insert_integer(3), "the run reaches 3, which was seen");
        assert_eq!(keys.runs, [(3, 5)]);
    }

    #[test]
    fn when_the_runs_are_full_integers_go_to_the_hash_set_and_are_still_unique() {
        let mut keys = KeySet::default();
        let count = MAX_RUNS as i64 + 10;
        for n in 0..count {
            assert!(keys.insert_integer(n * 2));
        }
        assert_eq!(keys.runs.len(), MAX_RUNS);
        assert!(!keys.shards.is_empty());
        for n in 0..count {
            assert!(!keys.insert_integer(n * 2), "{}", n * 2);
        }
        // The odd numbers fill the gaps: each grows a run, and is new once.
        for n in 0..count {
            assert!(keys.insert_integer(n * 2 + 1), "{}", n * 2 + 1);
            assert!(!keys.insert_integer(n * 2 + 1), "{}", n * 2 + 1);
        }
    }

    #[test]
    fn hashes_are_new_once() {
        let mut keys = KeySet::default();
        assert!(keys.insert_hash(42));
        assert!(keys.insert_hash(u64::MAX));
        assert!(!keys.insert_hash(42));
    }
}
