//! The lake: a directory tree of raw files, one top-level folder per dataset.
//!
//! Producers drop files anywhere under `lake/<dataset>/`; droplake itself
//! writes only through [`Lake::put`], into Hive-style daily partitions
//! `lake/<dataset>/dt=YYYY-MM-DD/<name>` (UTC), and never edits a file once it
//! is there. [`ObjectFilter`] decides which files count as objects.

mod filter;
mod name;
mod writer;

use std::path::{Path, PathBuf};

use jiff::civil::Date;

pub use filter::{IgnoreGlobError, Ignored, ObjectFilter};
pub use name::{DatasetName, DatasetNameError, ObjectName, ObjectNameError};
pub use writer::{InFlight, PutError, PutOptions, Stored, TempFile, sha256_of, sync_dir};

/// An open lake: its root directory and the rule for what is an object.
#[derive(Debug, Clone)]
pub struct Lake {
    /// The lake's root directory; it existed when the lake was opened.
    root: PathBuf,
    filter: ObjectFilter,
    /// Datasets whose recent partitions were swept of killed puts' leftovers.
    swept: writer::Swept,
}

/// The lake directory is missing or is not a directory.
#[derive(Debug, thiserror::Error)]
#[error(
    "the lake directory {} {problem}; create it (mkdir -p) or set `lake` in droplake.toml to the right directory",
    root.display()
)]
pub struct OpenError {
    /// The configured lake root.
    pub root: PathBuf,
    /// What is wrong with it.
    pub problem: String,
}

impl Lake {
    /// Opens the lake rooted at `root`, which must be an existing directory.
    pub fn open(root: impl Into<PathBuf>, filter: ObjectFilter) -> Result<Lake, OpenError> {
        let root = root.into();
        match std::fs::metadata(&root) {
            Ok(metadata) if metadata.is_dir() => Ok(Lake {
                root,
                filter,
                swept: writer::Swept::default(),
            }),
            Ok(_) => Err(OpenError {
                root,
                problem: "is not a directory".into(),
            }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Err(OpenError {
                root,
                problem: "does not exist".into(),
            }),
            Err(error) => Err(OpenError {
                root,
                problem: format!("cannot be read ({error})"),
            }),
        }
    }

    /// The lake's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The rule deciding which files are objects.
    pub fn filter(&self) -> &ObjectFilter {
        &self.filter
    }

    /// The partition directory, relative to the root, that [`Lake::put`]
    /// writes into for `dataset` on `date`: `<dataset>/dt=YYYY-MM-DD`.
    pub fn partition(dataset: &DatasetName, date: Date) -> PathBuf {
        Path::new(dataset.as_str()).join(format!("dt={}", date.strftime("%Y-%m-%d")))
    }
}

/// An object found by a scan of the lake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Its path relative to the lake root.
    pub relative: PathBuf,
    /// Its full path.
    pub path: PathBuf,
    /// Its size and modification time when it was listed.
    pub size: u64,
    pub modified: std::time::SystemTime,
}

impl Lake {
    /// The datasets present in the lake: its directories with valid names.
    pub fn datasets(&self) -> std::io::Result<Vec<DatasetName>> {
        let mut datasets = Vec::new();
        for entry in std::fs::read_dir(&self.root)?.flatten() {
            if entry.file_type().is_ok_and(|kind| kind.is_dir())
                && let Ok(name) = DatasetName::new(&entry.file_name().to_string_lossy())
            {
                datasets.push(name);
            }
        }
        datasets.sort();
        Ok(datasets)
    }

    /// Every object of `dataset`, oldest first (by modification time, then
    /// path). Files that vanish while the scan looks are skipped: the scan
    /// is a snapshot, and the next one sees what is there then.
    pub fn objects(&self, dataset: &DatasetName) -> Vec<Found> {
        let mut found = Vec::new();
        let mut pending = vec![self.root.join(dataset.as_str())];
        while let Some(dir) = pending.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let Ok(relative) = path.strip_prefix(&self.root).map(Path::to_path_buf) else {
                    continue;
                };
                let Ok(kind) = entry.file_type() else {
                    continue;
                };
                if kind.is_dir() {
                    // A hidden directory hides everything below it.
                    if !entry.file_name().as_encoded_bytes().starts_with(b".")
                        && !entry.file_name().as_encoded_bytes().starts_with(b"_")
                    {
                        pending.push(path);
                    }
                } else if kind.is_file() && self.filter.is_object(&relative) {
                    let Ok(metadata) = entry.metadata() else {
                        continue;
                    };
                    let modified = metadata.modified().unwrap_or(std::time::UNIX_EPOCH);
                    found.push(Found {
                        relative,
                        path,
                        size: metadata.len(),
                        modified,
                    });
                }
            }
        }
        found.sort_by(|a, b| (a.modified, &a.relative).cmp(&(b.modified, &b.relative)));
        found
    }
}

/// Today's date in UTC, which names the partition `put` writes into.
pub fn today_utc() -> Date {
    jiff::tz::TimeZone::UTC
        .to_datetime(jiff::Timestamp::now())
        .date()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_are_hive_style_daily_directories() {
        let dataset = DatasetName::new("orders").expect("valid");
        let date = Date::new(2026, 1, 5).expect("valid date");
        assert_eq!(
            Lake::partition(&dataset, date),
            Path::new("orders/dt=2026-01-05")
        );
    }

    #[test]
    fn a_scan_lists_objects_oldest_first_and_skips_what_is_not_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        for (path, age) in [
            ("orders/b.csv", 10),
            ("orders/dt=2026-01-01/a.csv", 20),
            ("orders/.hidden/x.csv", 30),
            ("orders/c.tmp", 40),
            ("loose.csv", 50),
            ("sales/x.csv", 5),
        ] {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(&path, "x").expect("write");
            let time = std::time::SystemTime::now() - std::time::Duration::from_secs(age);
            std::fs::File::options()
                .write(true)
                .open(&path)
                .expect("open")
                .set_modified(time)
                .expect("mtime");
        }
        let lake = Lake::open(root, ObjectFilter::new(&[]).expect("filter")).expect("open");
        let names: Vec<String> = lake
            .datasets()
            .expect("datasets")
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(names, ["orders", "sales"]);
        let orders = DatasetName::new("orders").expect("dataset");
        let found: Vec<PathBuf> = lake
            .objects(&orders)
            .into_iter()
            .map(|found| found.relative)
            .collect();
        assert_eq!(
            found,
            [
                PathBuf::from("orders/dt=2026-01-01/a.csv"),
                PathBuf::from("orders/b.csv")
            ]
        );
    }

    #[test]
    fn opening_a_missing_lake_says_how_to_fix_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("nope");
        let error =
            Lake::open(&missing, ObjectFilter::new(&[]).expect("filter")).expect_err("missing");
        let message = error.to_string();
        assert!(
            message.contains("does not exist") && message.contains("mkdir -p"),
            "{message}"
        );
    }
}
