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
pub use writer::{InFlight, PutError, PutOptions, Stored, sha256_of};

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
