//! The poller: a cheap look at the lake, for poll mode and for when
//! watching fails.
//!
//! A directory's modification time changes whenever a name in it is
//! created, removed or renamed, so a poll lists only the directories whose
//! mtime changed since it last listed them, and reuses the subdirectories it
//! remembers for the rest. Of the files it lists, it stats only those whose
//! inode it does not know. A directory modified within a second of its last
//! listing is listed again (timestamps are coarser than the kernel's
//! clock). What a poll cannot see, a file rewritten in place under the same
//! name, the periodic full scan finds; files waiting to settle are looked
//! at again on their own.

use std::collections::{HashMap, HashSet};
use std::os::unix::fs::DirEntryExt;
use std::path::PathBuf;
use std::sync::Mutex;

use crate::detect::scan::{Seen, Stat, dataset_of};
use crate::lake::Lake;

/// How recent a directory change may be for a listing to be trusted.
const MARGIN_NS: i64 = 1_000_000_000;

#[derive(Debug, Clone)]
struct Listed {
    mtime_ns: i64,
    /// When it was listed, in nanoseconds since the epoch.
    at_ns: i64,
    subdirs: Vec<PathBuf>,
}

/// What the poller remembers of the lake's directories.
#[derive(Debug, Default)]
pub struct Poller {
    dirs: HashMap<PathBuf, Listed>,
    /// Directories listed, over the poller's life.
    listings: u64,
}

impl Poller {
    /// Calls `visit` for every object file in a directory that changed and
    /// whose inode `known` does not hold for its path.
    pub fn poll(
        &mut self,
        lake: &Lake,
        known: &Mutex<HashMap<PathBuf, Stat>>,
        mut visit: impl FnMut(Seen),
    ) {
        let mut pending = vec![lake.root().to_path_buf()];
        let mut alive = HashSet::new();
        while let Some(dir) = pending.pop() {
            let Ok(metadata) = std::fs::symlink_metadata(&dir) else {
                continue;
            };
            alive.insert(dir.clone());
            let mtime_ns = Stat::of(&metadata).mtime_ns;
            if let Some(listed) = self.dirs.get(&dir)
                && listed.mtime_ns == mtime_ns
                && mtime_ns < listed.at_ns - MARGIN_NS
            {
                pending.extend(listed.subdirs.iter().cloned());
                continue;
            }
            let at_ns = i64::try_from(jiff::Timestamp::now().as_nanosecond()).unwrap_or(i64::MAX);
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            self.listings += 1;
            let mut subdirs = Vec::new();
            for entry in entries.flatten() {
                let Ok(kind) = entry.file_type() else {
                    continue;
                };
                let name = entry.file_name();
                if kind.is_dir() {
                    let bytes = name.as_encoded_bytes();
                    if !bytes.starts_with(b".") && !bytes.starts_with(b"_") {
                        subdirs.push(entry.path());
                    }
                    continue;
                }
                if !kind.is_file() {
                    continue;
                }
                let path = entry.path();
                let Ok(relative) = path.strip_prefix(lake.root()) else {
                    continue;
                };
                let Some(dataset) = dataset_of(relative) else {
                    continue;
                };
                if !lake.filter().is_object(relative) {
                    continue;
                }
                let inode = entry.ino();
                let unchanged = known
                    .lock()
                    .is_ok_and(|known| known.get(relative).is_some_and(|stat| stat.inode == inode));
                if unchanged {
                    continue;
                }
                let Ok(metadata) = entry.metadata() else {
                    continue;
                };
                visit(Seen {
                    dataset,
                    relative: relative.to_path_buf(),
                    stat: Stat::of(&metadata),
                    path,
                });
            }
            pending.extend(subdirs.iter().cloned());
            self.dirs.insert(
                dir,
                Listed {
                    mtime_ns,
                    at_ns,
                    subdirs,
                },
            );
        }
        self.dirs.retain(|dir, _| alive.contains(dir));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lake::ObjectFilter;

    fn names(
        poller: &mut Poller,
        lake: &Lake,
        known: &Mutex<HashMap<PathBuf, Stat>>,
    ) -> Vec<String> {
        let mut seen = Vec::new();
        poller.poll(lake, known, |found| {
            seen.push(found.relative.display().to_string());
        });
        seen.sort();
        seen
    }

    fn age(path: &std::path::Path) {
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(10);
        std::fs::File::open(path)
            .expect("open")
            .set_modified(old)
            .expect("set mtime");
    }

    #[test]
    fn a_poll_lists_only_changed_directories_and_stats_only_unknown_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let lake = Lake::open(dir.path(), ObjectFilter::new(&[]).expect("filter")).expect("lake");
        std::fs::create_dir_all(dir.path().join("a/dt=1")).expect("mkdir");
        std::fs::write(dir.path().join("a/dt=1/x.csv"), "x").expect("write");
        std::fs::write(dir.path().join("a/.hidden.csv"), "x").expect("write");
        let known = Mutex::new(HashMap::new());
        let mut poller = Poller::default();
        assert_eq!(names(&mut poller, &lake, &known), ["a/dt=1/x.csv"]);
        // Known now: not reported again, even though its directory is new.
        let stat = Stat::of(&std::fs::metadata(dir.path().join("a/dt=1/x.csv")).expect("stat"));
        known
            .lock()
            .expect("lock")
            .insert(PathBuf::from("a/dt=1/x.csv"), stat);
        assert!(names(&mut poller, &lake, &known).is_empty());
        // A new file changes its directory: found.
        std::fs::write(dir.path().join("a/dt=1/y.csv"), "y").expect("write");
        assert_eq!(names(&mut poller, &lake, &known), ["a/dt=1/y.csv"]);
        // Directories changed long before their listing are trusted: the
        // next poll lists none of them.
        for path in ["", "a", "a/dt=1"] {
            age(&dir.path().join(path));
        }
        names(&mut poller, &lake, &known);
        let listings = poller.listings;
        names(&mut poller, &lake, &known);
        assert_eq!(poller.listings, listings, "nothing listed");
        // A change is seen again.
        std::fs::write(dir.path().join("a/dt=1/z.csv"), "z").expect("write");
        assert_eq!(
            names(&mut poller, &lake, &known),
            ["a/dt=1/y.csv", "a/dt=1/z.csv"]
        );
    }
}
