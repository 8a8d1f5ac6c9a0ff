//! Readiness: when a file seen in the lake may become an object.
//!
//! Under `ready = "settle"` a file is ready when it arrived complete (a
//! rename into place, or a close after writing, as the watcher reports), or
//! when its size, mtime and inode have not changed for the dataset's
//! `settle` time: either it was seen unchanged that long, or its mtime is
//! already that old when first seen (a file found by the startup scan).
//! Under `ready = "marker"` a file is ready when its marker file exists;
//! marker files are never objects themselves.
//!
//! The tracker remembers the file each registered object was (so a scan
//! skips what it already knows) and the files that are waiting to settle.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::config::Readiness;
use crate::detect::scan::{Seen, Stat};

/// What the tracker decided about a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It is the file of a registered object, unchanged.
    Known,
    /// It may be hashed and registered now.
    Ready,
    /// It must settle: look again at this instant.
    Settling(Instant),
    /// Its marker file (this path) does not exist yet.
    NoMarker(PathBuf),
    /// It is itself a marker file.
    Marker,
    /// It is being hashed already.
    Busy,
}

#[derive(Debug, Clone)]
struct Waiting {
    stat: Stat,
    since: Instant,
}

/// The files the daemon knows and the ones it waits for.
#[derive(Debug, Default)]
pub struct Tracker {
    /// By lake-relative path: the file its newest object was. Shared with
    /// the scanning thread, which skips files it knows.
    known: Arc<Mutex<HashMap<PathBuf, Stat>>>,
    waiting: HashMap<PathBuf, Waiting>,
    hashing: HashMap<PathBuf, Stat>,
}

impl Tracker {
    /// A tracker that knows the registered files `known`.
    pub fn new(known: HashMap<PathBuf, Stat>) -> Tracker {
        Tracker {
            known: Arc::new(Mutex::new(known)),
            ..Tracker::default()
        }
    }

    /// The known files, for a scan that skips them.
    pub fn known(&self) -> Arc<Mutex<HashMap<PathBuf, Stat>>> {
        Arc::clone(&self.known)
    }

    /// Files waiting to settle or for their marker.
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }

    /// Files being hashed.
    pub fn hashing(&self) -> usize {
        self.hashing.len()
    }

    /// Decides about `seen`; `arrived` when the watcher saw it arrive
    /// complete. A `Ready` file is counted as hashing until
    /// [`Tracker::hashed`] or [`Tracker::forget`].
    pub fn observe(
        &mut self,
        seen: &Seen,
        arrived: bool,
        rule: &Readiness,
        now: Instant,
    ) -> Verdict {
        let relative = &seen.relative;
        if let Readiness::Marker(pattern) = rule
            && is_marker(relative, pattern)
        {
            return Verdict::Marker;
        }
        if self.hashing.get(relative) == Some(&seen.stat) {
            return Verdict::Busy;
        }
        if self
            .known
            .lock()
            .is_ok_and(|known| known.get(relative) == Some(&seen.stat))
        {
            self.waiting.remove(relative);
            return Verdict::Known;
        }
        let ready = match rule {
            Readiness::Marker(pattern) => {
                let marker = marker_for(&seen.path, pattern);
                if !marker.exists() {
                    self.waiting.insert(
                        relative.clone(),
                        Waiting {
                            stat: seen.stat,
                            since: now,
                        },
                    );
                    return Verdict::NoMarker(marker);
                }
                true
            }
            Readiness::Settle(settle) => {
                let settle = settle.get();
                let waiting = self.waiting.get(relative).filter(|w| w.stat == seen.stat);
                let quiet_since = waiting.map_or(now, |waiting| waiting.since);
                if arrived
                    || now.duration_since(quiet_since) >= settle
                    || settled_by_age(seen.stat, settle)
                {
                    true
                } else {
                    let since = quiet_since;
                    self.waiting.insert(
                        relative.clone(),
                        Waiting {
                            stat: seen.stat,
                            since,
                        },
                    );
                    return Verdict::Settling(since + settle);
                }
            }
        };
        debug_assert!(ready);
        self.waiting.remove(relative);
        self.hashing.insert(relative.clone(), seen.stat);
        Verdict::Ready
    }

    /// The file at `relative` was registered as it was (`stat`).
    pub fn hashed(&mut self, relative: &Path, stat: Stat) {
        self.hashing.remove(relative);
        if let Ok(mut known) = self.known.lock() {
            known.insert(relative.to_path_buf(), stat);
        }
    }

    /// The file at `relative` could not be registered (gone, or changed
    /// while read): forget it, so the next look decides afresh.
    pub fn forget(&mut self, relative: &Path) {
        self.hashing.remove(relative);
        self.waiting.remove(relative);
    }

    /// The file at `relative` is gone.
    pub fn removed(&mut self, relative: &Path) {
        self.forget(relative);
        if let Ok(mut known) = self.known.lock() {
            known.remove(relative);
        }
    }
}

/// Whether a file is settled by its age alone: its mtime is at least
/// `settle` ago. So a file seen for the first time is ready at once; one
/// that is younger is ready at its mtime plus `settle` if it does not
/// change meanwhile (the daemon may also see it arrive complete sooner).
pub fn settled_by_age(stat: Stat, settle: Duration) -> bool {
    age(stat) >= settle
}

/// How long ago a file was last modified (zero for a time in the future).
pub fn age(stat: Stat) -> Duration {
    let now_ns = jiff::Timestamp::now().as_nanosecond();
    let age_ns = now_ns.saturating_sub(i128::from(stat.mtime_ns)).max(0);
    Duration::from_nanos(u64::try_from(age_ns).unwrap_or(u64::MAX))
}

/// The marker file of the data file at `path`: the pattern with `{name}`
/// (the file's name) and `{stem}` (its name without the last extension)
/// filled in, in the same directory.
pub fn marker_for(path: &Path, pattern: &str) -> PathBuf {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    let marker = pattern.replace("{name}", &name).replace("{stem}", &stem);
    path.with_file_name(marker)
}

/// Whether the file at `path` is a marker under `pattern`: its name matches
/// the pattern with each placeholder standing for any non-empty text.
pub fn is_marker(path: &Path, pattern: &str) -> bool {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let literal = pattern
        .replace("{name}", "\u{0}")
        .replace("{stem}", "\u{0}");
    let parts: Vec<&str> = literal.split('\u{0}').collect();
    let (Some(first), Some(last)) = (parts.first(), parts.last()) else {
        return false;
    };
    if parts.len() < 2 || !name.starts_with(first) || !name.ends_with(last) {
        return false;
    }
    name.len() > first.len() + last.len()
}

/// What a marker file declares about its data file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Declared {
    pub size: Option<u64>,
    pub sha256: Option<String>,
    pub records: Option<u64>,
}

impl Declared {
    /// Reads a marker: empty, a JSON object, or `key=value` / `key: value`
    /// lines, with the keys `size`, `sha256` and `records` (others are
    /// ignored). Text that declares a key with a bad value is an error.
    pub fn parse(text: &str) -> Result<Declared, String> {
        let text = text.trim();
        let mut declared = Declared::default();
        if text.is_empty() {
            return Ok(declared);
        }
        let pairs: Vec<(String, String)> = if text.starts_with('{') {
            let value: serde_json::Value = serde_json::from_str(text)
                .map_err(|error| format!("the marker is not valid JSON: {error}"))?;
            value
                .as_object()
                .map(|object| {
                    object
                        .iter()
                        .map(|(key, value)| {
                            let value = value
                                .as_str()
                                .map_or_else(|| value.to_string(), str::to_owned);
                            (key.clone(), value)
                        })
                        .collect()
                })
                .unwrap_or_default()
        } else {
            text.lines()
                .filter_map(|line| {
                    let (key, value) = line.split_once('=').or_else(|| line.split_once(':'))?;
                    Some((key.trim().to_owned(), value.trim().to_owned()))
                })
                .collect()
        };
        for (key, value) in pairs {
            let number = |value: &str| {
                value.parse::<u64>().map_err(|_| {
                    format!("the marker declares {key} = {value:?}, which is not a whole number")
                })
            };
            match key.as_str() {
                "size" => declared.size = Some(number(&value)?),
                "records" => declared.records = Some(number(&value)?),
                "sha256" => {
                    let hex = value.to_ascii_lowercase();
                    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                        return Err(format!(
                            "the marker declares sha256 = {value:?}, which is not 64 hexadecimal digits"
                        ));
                    }
                    declared.sha256 = Some(hex);
                }
                _ => {}
            }
        }
        Ok(declared)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(relative: &str, stat: Stat) -> Seen {
        Seen {
            dataset: crate::lake::DatasetName::new("a").expect("name"),
            relative: PathBuf::from(relative),
            path: PathBuf::from("/nonexistent/lake").join(relative),
            stat,
        }
    }

    fn fresh(size: u64) -> Stat {
        Stat {
            size,
            mtime_ns: i64::try_from(jiff::Timestamp::now().as_nanosecond()).unwrap_or(0),
            inode: 7,
        }
    }

    #[test]
    fn a_fresh_file_settles_before_it_is_ready_unless_it_arrived_complete() {
        let settle = Readiness::Settle(Duration::from_secs(2).into());
        let mut tracker = Tracker::default();
        let start = Instant::now();
        let file = seen("a/x.csv", fresh(10));
        assert_eq!(
            tracker.observe(&file, false, &settle, start),
            Verdict::Settling(start + Duration::from_secs(2))
        );
        assert_eq!(
            tracker.observe(&file, false, &settle, start + Duration::from_secs(2)),
            Verdict::Ready
        );
        let renamed = seen("a/y.csv", fresh(10));
        assert_eq!(
            tracker.observe(&renamed, true, &settle, start),
            Verdict::Ready
        );
    }

    #[test]
    fn a_file_that_changes_starts_settling_again() {
        let settle = Readiness::Settle(Duration::from_secs(2).into());
        let mut tracker = Tracker::default();
        let start = Instant::now();
        tracker.observe(&seen("a/x.csv", fresh(10)), false, &settle, start);
        let later = start + Duration::from_secs(1);
        assert_eq!(
            tracker.observe(&seen("a/x.csv", fresh(20)), false, &settle, later),
            Verdict::Settling(later + Duration::from_secs(2))
        );
    }

    #[test]
    fn an_old_file_is_ready_when_first_seen_and_known_once_registered() {
        let settle = Readiness::Settle(Duration::from_secs(2).into());
        let mut tracker = Tracker::default();
        let old = Stat {
            size: 1,
            mtime_ns: 1_000_000_000,
            inode: 1,
        };
        let file = seen("a/x.csv", old);
        assert_eq!(
            tracker.observe(&file, false, &settle, Instant::now()),
            Verdict::Ready
        );
        assert_eq!(
            tracker.observe(&file, false, &settle, Instant::now()),
            Verdict::Busy
        );
        tracker.hashed(&file.relative, old);
        assert_eq!(
            tracker.observe(&file, false, &settle, Instant::now()),
            Verdict::Known
        );
    }

    #[test]
    fn markers_are_named_by_their_pattern_and_are_not_objects() {
        let data = Path::new("/lake/a/x.dat");
        assert_eq!(
            marker_for(data, "{name}.done"),
            Path::new("/lake/a/x.dat.done")
        );
        assert_eq!(marker_for(data, "{stem}.trg"), Path::new("/lake/a/x.trg"));
        assert!(is_marker(Path::new("a/x.dat.done"), "{name}.done"));
        assert!(is_marker(Path::new("a/x.trg"), "{stem}.trg"));
        assert!(!is_marker(Path::new("a/x.dat"), "{name}.done"));
        assert!(!is_marker(Path::new("a/.done"), "{name}.done"));
    }

    #[test]
    fn a_marker_may_declare_size_hash_and_records() {
        assert_eq!(Declared::parse(""), Ok(Declared::default()));
        let hash = "ab".repeat(32);
        let declared = Declared::parse(&format!("size=12\nsha256 = {hash}\nrecords: 3\n"));
        assert_eq!(
            declared,
            Ok(Declared {
                size: Some(12),
                sha256: Some(hash.clone()),
                records: Some(3)
            })
        );
        let json = Declared::parse(r#"{"size": 12, "records": "3"}"#).expect("json");
        assert_eq!((json.size, json.records), (Some(12), Some(3)));
        assert!(Declared::parse("size=twelve").is_err());
        assert!(Declared::parse("sha256=abc").is_err());
    }
}
