//! The scan: the truth about what is in the lake.
//!
//! A scan walks the lake (or one directory of it) and reports every file
//! that is an object of a dataset with its size, modification time and
//! inode. Hidden directories (`.x`, `_x`) are not entered. A scan that only
//! wants what changed passes `wants`, asked with each file's lake-relative
//! path and inode as listed (no `stat` yet): a file it declines is not
//! stat'ed, which keeps a poll over a large, already-processed lake cheap.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use walkdir::{DirEntry, DirEntryExt, WalkDir};

use crate::lake::{DatasetName, Lake};

/// A file found by a scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub dataset: DatasetName,
    /// Its path relative to the lake root.
    pub relative: PathBuf,
    /// Its full path.
    pub path: PathBuf,
    pub stat: Stat,
}

/// What a scan compares to tell that a file changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Stat {
    pub size: u64,
    /// Modification time in nanoseconds since the epoch.
    pub mtime_ns: i64,
    pub inode: u64,
}

impl Stat {
    pub fn of(metadata: &std::fs::Metadata) -> Stat {
        Stat {
            size: metadata.len(),
            mtime_ns: metadata
                .mtime()
                .saturating_mul(1_000_000_000)
                .saturating_add(metadata.mtime_nsec()),
            inode: metadata.ino(),
        }
    }
}

/// The dataset a lake-relative path belongs to, if its first component is a
/// valid dataset name and it is below it.
pub fn dataset_of(relative: &Path) -> Option<DatasetName> {
    let mut components = relative.components();
    let first = components.next()?.as_os_str().to_str()?;
    components.next()?;
    DatasetName::new(first).ok()
}

/// Walks `under` (the lake root or a directory in it) and calls `visit` for
/// every object file that `wants` accepts. Files that vanish during the
/// walk are skipped: the next scan sees what is there then.
pub fn scan(
    lake: &Lake,
    under: &Path,
    mut wants: impl FnMut(&Path, u64) -> bool,
    mut visit: impl FnMut(Seen),
) {
    let root = lake.root();
    let walk = WalkDir::new(under)
        .follow_links(false)
        .into_iter()
        .filter_entry(|entry| entry.depth() == 0 || !is_hidden_dir(entry));
    for entry in walk.flatten() {
        if !entry.file_type().is_file() {
            continue;
        }
        let Ok(relative) = entry.path().strip_prefix(root) else {
            continue;
        };
        let Some(dataset) = dataset_of(relative) else {
            continue;
        };
        if !lake.filter().is_object(relative) || !wants(relative, entry.ino()) {
            continue;
        }
        let Ok(metadata) = entry.metadata() else {
            continue;
        };
        visit(Seen {
            dataset,
            relative: relative.to_path_buf(),
            path: entry.path().to_path_buf(),
            stat: Stat::of(&metadata),
        });
    }
}

fn is_hidden_dir(entry: &DirEntry) -> bool {
    let name = entry.file_name().as_encoded_bytes();
    entry.file_type().is_dir() && (name.starts_with(b".") || name.starts_with(b"_"))
}

/// Looks at one file the way a scan would: `None` if it is gone, not a
/// regular file, or not an object.
pub fn look(lake: &Lake, path: &Path) -> Option<Seen> {
    let relative = path.strip_prefix(lake.root()).ok()?;
    let dataset = dataset_of(relative)?;
    if !lake.filter().is_object(relative) {
        return None;
    }
    let metadata = std::fs::symlink_metadata(path).ok()?;
    if !metadata.is_file() {
        return None;
    }
    Some(Seen {
        dataset,
        relative: relative.to_path_buf(),
        path: path.to_path_buf(),
        stat: Stat::of(&metadata),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lake::ObjectFilter;

    fn lake(dir: &Path) -> Lake {
        Lake::open(dir, ObjectFilter::new(&[]).expect("filter")).expect("lake")
    }

    fn write(dir: &Path, relative: &str) {
        let path = dir.join(relative);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, b"x\n").expect("write");
    }

    #[test]
    fn a_scan_finds_the_objects_of_every_dataset_at_any_depth() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), "orders/dt=2026-11-01/a.csv");
        write(dir.path(), "orders/b.csv");
        write(dir.path(), "events/x/y/z.jsonl");
        write(dir.path(), "orders/.hidden/c.csv");
        write(dir.path(), "orders/_staging/d.csv");
        write(dir.path(), "orders/e.csv.tmp");
        write(dir.path(), "loose.csv");
        let lake = lake(dir.path());
        let mut found = Vec::new();
        scan(
            &lake,
            lake.root(),
            |_, _| true,
            |seen| found.push(seen.relative),
        );
        found.sort();
        let expected: Vec<PathBuf> = [
            "events/x/y/z.jsonl",
            "orders/b.csv",
            "orders/dt=2026-11-01/a.csv",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        assert_eq!(found, expected);
    }

    #[test]
    fn a_file_the_scan_does_not_want_is_not_reported() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), "orders/a.csv");
        write(dir.path(), "orders/b.csv");
        let lake = lake(dir.path());
        let mut found = Vec::new();
        scan(
            &lake,
            lake.root(),
            |relative, _| relative.ends_with("b.csv"),
            |seen| found.push(seen.relative),
        );
        assert_eq!(found, [PathBuf::from("orders/b.csv")]);
    }

    #[test]
    fn looking_at_one_file_applies_the_same_rules() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), "orders/a.csv");
        write(dir.path(), "orders/a.csv.part");
        let lake = lake(dir.path());
        let seen = look(&lake, &dir.path().join("orders/a.csv")).expect("an object");
        assert_eq!(seen.dataset.as_str(), "orders");
        assert_eq!(seen.stat.size, 2);
        assert!(look(&lake, &dir.path().join("orders/a.csv.part")).is_none());
        assert!(look(&lake, &dir.path().join("orders/gone.csv")).is_none());
    }
}
