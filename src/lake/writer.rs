//! The atomic writer behind `droplake put` (and, through [`TempFile`],
//! `droplake export`).
//!
//! A put streams its source into a temporary file in the partition directory
//! itself (so the final rename never crosses a filesystem), hashing as it
//! copies, then: fsync the file, rename it to its final name without
//! replacing anything, fsync the directory. Readers see either no object or
//! the whole object. The temporary name starts with `.` and ends in `.tmp`, so
//! nothing ever mistakes it for an object, and every failure removes it, and
//! any directory the put created for it.
//!
//! A process killed outright cannot clean up, so each temporary file is
//! `flock`ed while it is written. Once per process, a put sweeps today's and
//! yesterday's partition of its dataset: a temporary file whose lock is free
//! and which has not changed for a minute was left by a put that died.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use rustix::fs::{CWD, RenameFlags, renameat_with};
use sha2::{Digest, Sha256};

use super::{DatasetName, Ignored, Lake, ObjectName};
use crate::exit::{ExitCode, HasExitCode};

/// Prefix and suffix of droplake's own temporary files.
const TEMP_PREFIX: &str = ".droplake-";
const TEMP_SUFFIX: &str = ".tmp";

/// A temporary file whose lock is free and that has not been touched for this
/// long was left by a put that was killed; a later put removes it.
const STALE_AFTER: Duration = Duration::from_secs(60);

/// Copy buffer size: large enough to keep syscalls rare, small enough that
/// memory does not depend on the file.
const BUFFER_SIZE: usize = 256 * 1024;

/// How [`Lake::put`] behaves.
#[derive(Debug, Clone, Default)]
pub struct PutOptions {
    /// Replace an existing object of the same name instead of refusing.
    pub replace: bool,
    /// When an object of the same name exists with exactly the same content,
    /// succeed without writing (`Stored::existed`); different content is
    /// still refused. For producers that may send the same file twice.
    pub accept_identical: bool,
    /// Where temporary files are registered while they are written, so that
    /// a signal handler can remove them (see [`InFlight`]).
    pub in_flight: InFlight,
}

/// What a successful put stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// The object's path: the lake root joined with its relative path.
    pub path: PathBuf,
    /// The object's path relative to the lake root.
    pub relative: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// The SHA-256 of its content.
    pub sha256: [u8; 32],
    /// True when an identical object was already in place and nothing was
    /// written (see [`PutOptions::accept_identical`]).
    pub existed: bool,
}

impl Stored {
    /// The SHA-256 as lowercase hexadecimal.
    pub fn sha256_hex(&self) -> String {
        hex::encode(self.sha256)
    }
}

/// Why a put did not store its object. Except for [`PutError::NotDurable`],
/// the lake is left as it was.
#[derive(Debug, thiserror::Error)]
pub enum PutError {
    #[error("cannot put {name:?}: {reason}; choose another name with --name")]
    IgnoredName { name: OsString, reason: Ignored },
    #[error("{} already exists; lake objects are never overwritten, so choose another name or pass --replace", path.display())]
    Exists { path: PathBuf },
    #[error("cannot create {}: {error}; {}", path.display(), hint(error))]
    Create { path: PathBuf, error: io::Error },
    #[error("reading the data for {} failed: {error}; nothing was stored, check the source and put again", object.display())]
    Read { object: PathBuf, error: io::Error },
    #[error("writing {} failed: {error}; nothing was stored, {}", path.display(), hint(error))]
    Write { path: PathBuf, error: io::Error },
    #[error("{} is in place, but flushing its directory to disk failed: {error}; it may not survive a crash, {}", path.display(), hint(error))]
    NotDurable { path: PathBuf, error: io::Error },
    #[error("the put of {} was interrupted; nothing was stored", path.display())]
    Interrupted { path: PathBuf },
}

impl HasExitCode for PutError {
    fn exit_code(&self) -> ExitCode {
        match self {
            PutError::IgnoredName { .. } => ExitCode::Usage,
            PutError::Exists { .. } => ExitCode::CantCreate,
            PutError::Create { error, .. } if !is_out_of_space(error) => ExitCode::CantCreate,
            PutError::Create { .. }
            | PutError::Read { .. }
            | PutError::Write { .. }
            | PutError::NotDurable { .. } => ExitCode::IoErr,
            PutError::Interrupted { .. } => ExitCode::TempFail,
        }
    }
}

fn is_out_of_space(error: &io::Error) -> bool {
    use io::ErrorKind as K;
    matches!(
        error.kind(),
        K::StorageFull | K::QuotaExceeded | K::FileTooLarge
    )
}

/// What to do about an I/O error on the lake side.
fn hint(error: &io::Error) -> &'static str {
    use io::ErrorKind as K;
    match error.kind() {
        _ if is_out_of_space(error) => "free space on the lake's filesystem and put again",
        K::PermissionDenied => "check that this user may write to the lake directory",
        K::ReadOnlyFilesystem => "the lake's filesystem is mounted read-only",
        K::NotADirectory => "a file stands where droplake needs a directory; move it away",
        _ => "check the lake's filesystem and put again",
    }
}

/// Temporary files this process is writing. A signal handler calls
/// [`InFlight::abandon`] just before the process exits, so that an
/// interrupted put leaves nothing behind even while it waits on its source.
#[derive(Debug, Clone, Default)]
pub struct InFlight(Arc<Mutex<Registry>>);

#[derive(Debug, Default)]
struct Registry {
    /// Temporary files created and not yet renamed or removed.
    paths: Vec<PathBuf>,
    /// Set by `abandon`: no temporary file may be created any more.
    closed: bool,
}

impl InFlight {
    /// An empty registry.
    pub fn new() -> InFlight {
        InFlight::default()
    }

    /// Removes every registered temporary file and refuses to register new
    /// ones. Call it on the way out of the process. Returns the files removed.
    pub fn abandon(&self) -> Vec<PathBuf> {
        let mut registry = self.lock();
        registry.closed = true;
        for path in &registry.paths {
            let _ = fs::remove_file(path);
        }
        std::mem::take(&mut registry.paths)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A temporary file being written, hidden (`.droplake-*.tmp`) and locked;
/// removed on drop unless it was renamed into place. `put` writes objects
/// through it, and `droplake export` its extracts and trigger files.
#[derive(Debug)]
pub struct TempFile {
    path: PathBuf,
    file: File,
    in_flight: InFlight,
    /// False once the file has been renamed into place: nothing to remove.
    armed: bool,
}

impl TempFile {
    /// Creates a new, locked temporary file in `dir`. Creation and
    /// registration happen under the registry's lock, so `abandon` sees
    /// either both or neither.
    pub fn create(dir: &Path, in_flight: &InFlight) -> io::Result<TempFile> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        loop {
            let nanos = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |elapsed| elapsed.subsec_nanos());
            let count = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = dir.join(format!(
                "{TEMP_PREFIX}{}-{count}-{nanos:x}{TEMP_SUFFIX}",
                std::process::id()
            ));
            let mut registry = in_flight.lock();
            if registry.closed {
                return Err(io::Error::new(
                    io::ErrorKind::Interrupted,
                    "the process is being stopped",
                ));
            }
            let file = match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(file) => file,
                Err(error) if error.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(error) => return Err(error),
            };
            // Filesystems without flock still get atomic puts; only the
            // sweep of killed puts' leftovers is lost there.
            if let Err(error) = file.lock() {
                tracing::debug!(%error, "Cannot lock a temporary file; stale ones here will not be swept.");
            }
            registry.paths.push(path.clone());
            return Ok(TempFile {
                path,
                file,
                in_flight: in_flight.clone(),
                armed: true,
            });
        }
    }

    /// The open file, to write to.
    pub fn file(&mut self) -> &mut File {
        &mut self.file
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Renames the file to `target`; refuses to replace an existing file
    /// unless `replace`. On success the temporary file is gone.
    pub fn rename_to(mut self, target: &Path, replace: bool) -> io::Result<()> {
        let mut registry = self.in_flight.lock();
        if replace {
            fs::rename(&self.path, target)
        } else {
            rename_noreplace(&self.path, target)
        }?;
        registry.paths.retain(|path| path != &self.path);
        drop(registry);
        self.armed = false;
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if self.armed {
            let mut registry = self.in_flight.lock();
            let _ = fs::remove_file(&self.path);
            registry.paths.retain(|path| path != &self.path);
        }
    }
}

/// Renames without ever replacing `to`: `renameat2(RENAME_NOREPLACE)`, or a
/// hard link and unlink on filesystems without it. Both fail with
/// `AlreadyExists` when `to` exists, atomically.
fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    match renameat_with(CWD, from, CWD, to, RenameFlags::NOREPLACE) {
        Ok(()) => Ok(()),
        Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS) => {
            fs::hard_link(from, to)?;
            // The object is in place. A leftover link under the hidden name
            // is harmless; its lock frees when we exit and a sweep removes it.
            if let Err(error) = fs::remove_file(from) {
                tracing::warn!(path = %from.display(), %error, "Could not remove a temporary link after a put.");
            }
            Ok(())
        }
        Err(errno) => Err(errno.into()),
    }
}

/// Directories a put created, removed again if the put fails.
struct NewDirs(Vec<PathBuf>);

impl NewDirs {
    /// Creates `relative` and its missing parents below `root`, and fsyncs
    /// the parent of each level (created now or a moment ago by another put)
    /// so the entries survive a crash. A failure names the path at fault.
    fn create(root: &Path, relative: &Path) -> Result<NewDirs, (PathBuf, io::Error)> {
        let mut created = NewDirs(Vec::new());
        let mut dir = root.to_path_buf();
        for part in relative.components() {
            let parent = dir.clone();
            dir.push(part);
            match fs::create_dir(&dir) {
                Ok(()) => created.0.push(dir.clone()),
                Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
                    if !dir.is_dir() {
                        return Err((
                            dir,
                            io::Error::new(io::ErrorKind::NotADirectory, "a file is in the way"),
                        ));
                    }
                }
                Err(error) => return Err((dir, error)),
            }
            File::open(&parent)
                .and_then(|parent| parent.sync_all())
                .map_err(|error| (parent, error))?;
        }
        Ok(created)
    }

    /// Keeps the directories: the put succeeded.
    fn keep(mut self) {
        self.0.clear();
    }
}

impl Drop for NewDirs {
    fn drop(&mut self) {
        // Deepest first; a directory another put has written into since is
        // not empty, and stays.
        for dir in self.0.iter().rev() {
            let _ = fs::remove_dir(dir);
        }
    }
}

/// Removes temporary files in `dir` left behind by puts that were killed: the
/// lock of a live writer is held, so a free lock means its writer is gone.
fn remove_stale_temps(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX)) {
            continue;
        }
        let path = entry.path();
        let Ok(file) = File::open(&path) else {
            continue;
        };
        let idle = file
            .metadata()
            .and_then(|metadata| metadata.modified())
            .map(|modified| modified.elapsed().unwrap_or_default());
        if idle.is_ok_and(|idle| idle >= STALE_AFTER) && file.try_lock().is_ok() {
            match fs::remove_file(&path) {
                Ok(()) => {
                    tracing::info!(path = %path.display(), "Removed a temporary file left by an interrupted put.")
                }
                Err(error) if error.kind() == io::ErrorKind::NotFound => {}
                Err(error) => {
                    tracing::warn!(path = %path.display(), %error, "Could not remove a stale temporary file.")
                }
            }
        }
    }
}

/// Flushes the directory `dir` to disk, so that the names created in it
/// and renamed into it survive a crash.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir).and_then(|dir| dir.sync_all())
}

/// The SHA-256 of the file at `path`, read in one pass.
pub fn sha256_of(path: &Path) -> io::Result<[u8; 32]> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; BUFFER_SIZE];
    loop {
        match file.read(&mut buffer) {
            Ok(0) => return Ok(hasher.finalize().into()),
            Ok(read) => hasher.update(&buffer[..read]),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
}

/// Datasets whose recent partitions this process has swept already.
#[derive(Debug, Clone, Default)]
pub(super) struct Swept(Arc<Mutex<HashSet<DatasetName>>>);

impl Lake {
    /// Stores the bytes of `source` as the object `name` in today's (UTC)
    /// partition of `dataset`, atomically and durably. See the module docs.
    pub fn put(
        &self,
        dataset: &DatasetName,
        name: &ObjectName,
        mut source: impl Read,
        options: &PutOptions,
    ) -> Result<Stored, PutError> {
        let today = super::today_utc();
        let partition = Lake::partition(dataset, today);
        let relative = partition.join(name.as_os_str());
        if let Some(reason) = self.filter.ignored(&relative) {
            return Err(PutError::IgnoredName {
                name: name.as_os_str().to_owned(),
                reason,
            });
        }
        let dir = self.root.join(&partition);
        let path = self.root.join(&relative);
        if !options.replace && !options.accept_identical && path.symlink_metadata().is_ok() {
            return Err(PutError::Exists { path });
        }
        let new_dirs = NewDirs::create(&self.root, &partition)
            .map_err(|(path, error)| PutError::Create { path, error })?;
        self.sweep_once(dataset, today);

        let mut temp =
            TempFile::create(&dir, &options.in_flight).map_err(|error| match error.kind() {
                io::ErrorKind::Interrupted => PutError::Interrupted { path: path.clone() },
                _ => PutError::Create {
                    path: dir.clone(),
                    error,
                },
            })?;
        let write_error = |error| PutError::Write {
            path: path.clone(),
            error,
        };
        let mut hasher = Sha256::new();
        let mut buffer = vec![0; BUFFER_SIZE];
        let mut size = 0u64;
        loop {
            let read = match source.read(&mut buffer) {
                Ok(0) => break,
                Ok(read) => read,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => {
                    return Err(PutError::Read {
                        object: path,
                        error,
                    });
                }
            };
            hasher.update(&buffer[..read]);
            temp.file.write_all(&buffer[..read]).map_err(write_error)?;
            size += read as u64;
        }
        temp.file.sync_all().map_err(write_error)?;
        let sha256: [u8; 32] = hasher.finalize().into();
        match temp.rename_to(&path, options.replace) {
            Ok(()) => {}
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
                if options.accept_identical
                    && sha256_of(&path).is_ok_and(|existing| existing == sha256)
                {
                    new_dirs.keep();
                    return Ok(Stored {
                        path,
                        relative,
                        size,
                        sha256,
                        existed: true,
                    });
                }
                return Err(PutError::Exists { path });
            }
            Err(error) => return Err(write_error(error)),
        }
        new_dirs.keep();
        sync_dir(&dir).map_err(|error| PutError::NotDurable {
            path: path.clone(),
            error,
        })?;
        tracing::debug!(path = %path.display(), size, "Stored an object.");
        Ok(Stored {
            path,
            relative,
            size,
            sha256,
            existed: false,
        })
    }

    /// Sweeps today's and yesterday's partitions of `dataset` for leftovers
    /// of killed puts, once per process.
    fn sweep_once(&self, dataset: &DatasetName, today: jiff::civil::Date) {
        if !self
            .swept
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(dataset.clone())
        {
            return;
        }
        let yesterday = today.yesterday().unwrap_or(today);
        for date in [today, yesterday] {
            remove_stale_temps(&self.root.join(Lake::partition(dataset, date)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lake::ObjectFilter;

    fn lake() -> (tempfile::TempDir, Lake) {
        let dir = tempfile::tempdir().expect("tempdir");
        let lake = Lake::open(
            dir.path(),
            ObjectFilter::new(&["*.bak".into()]).expect("filter"),
        )
        .expect("open");
        (dir, lake)
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .expect("read_dir")
            .map(|entry| {
                entry
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        names
    }

    #[test]
    fn put_stores_the_content_with_its_size_and_sha256() {
        let (_dir, lake) = lake();
        let orders = DatasetName::new("orders").expect("dataset");
        let name = ObjectName::new("a.csv").expect("name");
        let stored = lake
            .put(&orders, &name, &b"id\n1\n"[..], &PutOptions::default())
            .expect("put");
        assert_eq!(fs::read(&stored.path).expect("read"), b"id\n1\n");
        assert_eq!(stored.size, 5);
        assert_eq!(
            stored.sha256_hex(),
            "7cde7fb64fd82bd152710cf238e017b9ab46c0592483edc067ba4f6c75fac108"
        );
        assert_eq!(
            stored.relative,
            Lake::partition(&orders, crate::lake::today_utc()).join("a.csv")
        );
        assert_eq!(names(stored.path.parent().expect("partition")), ["a.csv"]);
    }

    #[test]
    fn put_refuses_to_overwrite_unless_asked_to_replace() {
        let (_dir, lake) = lake();
        let orders = DatasetName::new("orders").expect("dataset");
        let name = ObjectName::new("a.csv").expect("name");
        lake.put(&orders, &name, &b"first"[..], &PutOptions::default())
            .expect("first put");
        let error = lake
            .put(&orders, &name, &b"second"[..], &PutOptions::default())
            .expect_err("second put");
        assert!(matches!(error, PutError::Exists { .. }), "{error}");
        assert_eq!(error.exit_code(), ExitCode::CantCreate);

        let replace = PutOptions {
            replace: true,
            ..PutOptions::default()
        };
        let stored = lake
            .put(&orders, &name, &b"second"[..], &replace)
            .expect("replace");
        assert_eq!(fs::read(&stored.path).expect("read"), b"second");
        assert_eq!(names(stored.path.parent().expect("partition")), ["a.csv"]);
    }

    #[test]
    fn an_identical_object_can_be_accepted_but_different_content_cannot() {
        let (_dir, lake) = lake();
        let orders = DatasetName::new("orders").expect("dataset");
        let name = ObjectName::new("a.csv").expect("name");
        let first = lake
            .put(&orders, &name, &b"same"[..], &PutOptions::default())
            .expect("first put");
        let accept = PutOptions {
            accept_identical: true,
            ..PutOptions::default()
        };
        let again = lake
            .put(&orders, &name, &b"same"[..], &accept)
            .expect("identical");
        assert!(again.existed && !first.existed);
        assert_eq!(
            (again.path.clone(), again.sha256),
            (first.path.clone(), first.sha256)
        );
        let error = lake
            .put(&orders, &name, &b"other"[..], &accept)
            .expect_err("different content");
        assert!(matches!(error, PutError::Exists { .. }), "{error}");
        assert_eq!(fs::read(&first.path).expect("read"), b"same");
        assert_eq!(
            names(first.path.parent().expect("partition")),
            ["a.csv"],
            "no temporary file is left"
        );
    }

    #[test]
    fn the_noreplace_rename_loses_a_race_cleanly() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (from, to) = (dir.path().join("from"), dir.path().join("to"));
        fs::write(&from, "new").expect("write");
        fs::write(&to, "old").expect("write");
        let error = rename_noreplace(&from, &to).expect_err("target exists");
        assert_eq!(error.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&to).expect("read"), b"old");
    }

    #[test]
    fn names_that_would_never_be_objects_are_refused() {
        let (_dir, lake) = lake();
        let orders = DatasetName::new("orders").expect("dataset");
        for name in [".hidden", "_SUCCESS", "a.csv.part", "~lock", "x.bak"] {
            let error = lake
                .put(
                    &orders,
                    &ObjectName::new(name).expect("name"),
                    &b"x"[..],
                    &PutOptions::default(),
                )
                .expect_err(name);
            assert_eq!(error.exit_code(), ExitCode::Usage, "{name}: {error}");
        }
        assert!(
            !lake.root().join("orders").exists(),
            "a refused put must not create directories"
        );
    }

    struct FailingReader(usize);

    impl Read for FailingReader {
        fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
            if self.0 == 0 {
                return Err(io::Error::other("the source went away"));
            }
            self.0 -= 1;
            buffer.fill(b'x');
            Ok(buffer.len())
        }
    }

    #[test]
    fn a_source_failing_mid_copy_leaves_nothing_behind() {
        let (_dir, lake) = lake();
        let orders = DatasetName::new("orders").expect("dataset");
        let name = ObjectName::new("a.csv").expect("name");
        let in_flight = InFlight::new();
        let options = PutOptions {
            in_flight: in_flight.clone(),
            ..PutOptions::default()
        };
        let error = lake
            .put(&orders, &name, FailingReader(3), &options)
            .expect_err("failing source");
        assert!(matches!(error, PutError::Read { .. }), "{error}");
        assert_eq!(
            names(lake.root()),
            Vec::<String>::new(),
            "no file and no directory is left behind"
        );
        assert!(
            in_flight.abandon().is_empty(),
            "the registry still lists the removed temporary file"
        );
    }

    #[test]
    fn a_path_glob_that_would_ignore_the_object_refuses_the_put() {
        let dir = tempfile::tempdir().expect("tempdir");
        let lake = Lake::open(
            dir.path(),
            ObjectFilter::new(&["orders/**".into()]).expect("filter"),
        )
        .expect("open");
        let orders = DatasetName::new("orders").expect("dataset");
        let error = lake
            .put(
                &orders,
                &ObjectName::new("a.csv").expect("name"),
                &b"x"[..],
                &PutOptions::default(),
            )
            .expect_err("ignored by a path glob");
        assert!(
            matches!(
                error,
                PutError::IgnoredName {
                    reason: Ignored::Glob(_),
                    ..
                }
            ),
            "{error}"
        );
    }

    #[test]
    fn once_abandoned_no_new_temporary_file_can_appear() {
        let (_dir, lake) = lake();
        let options = PutOptions::default();
        assert!(options.in_flight.abandon().is_empty());
        let error = lake
            .put(
                &DatasetName::new("orders").expect("dataset"),
                &ObjectName::new("a.csv").expect("name"),
                &b"x"[..],
                &options,
            )
            .expect_err("abandoned");
        assert!(matches!(error, PutError::Interrupted { .. }), "{error}");
        assert_eq!(names(lake.root()), Vec::<String>::new());
    }

    #[test]
    fn a_file_in_the_way_of_the_partition_is_named() {
        let (_dir, lake) = lake();
        fs::write(lake.root().join("orders"), "not a directory").expect("write");
        let error = lake
            .put(
                &DatasetName::new("orders").expect("dataset"),
                &ObjectName::new("a.csv").expect("name"),
                &b"x"[..],
                &PutOptions::default(),
            )
            .expect_err("blocked");
        assert_eq!(
            error.to_string(),
            format!(
                "cannot create {}: a file is in the way; a file stands where droplake needs a directory; move it away",
                lake.root().join("orders").display()
            )
        );
        assert_eq!(error.exit_code(), ExitCode::CantCreate);
    }

    #[test]
    fn stale_temporary_files_are_removed_but_live_ones_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let live = TempFile::create(dir.path(), &InFlight::new()).expect("live temp");
        let dead = dir.path().join(".droplake-1-0-0.tmp");
        let recent = dir.path().join(".droplake-1-1-0.tmp");
        for path in [&dead, &recent] {
            fs::write(path, "partial").expect("write");
        }
        let long_ago = SystemTime::now() - Duration::from_secs(3600);
        for file in [
            &live.file,
            &File::options().write(true).open(&dead).expect("open"),
        ] {
            file.set_modified(long_ago).expect("set mtime");
        }
        remove_stale_temps(dir.path());
        assert!(
            !dead.exists(),
            "a stale, unlocked temporary file is removed"
        );
        assert!(
            recent.exists(),
            "a fresh one may belong to a writer about to lock it"
        );
        assert!(live.path.exists(), "a locked one belongs to a live writer");
    }
}
