//! The watcher: the kernel's filesystem notifications, as hints.
//!
//! [`Watcher::start`] puts a recursive inotify watch (through `notify`) on
//! the lake root and hands back [`Hints`], the receiving end of a bounded
//! channel. notify calls our callback on its own thread; the callback turns
//! each event into [`Hint`]s and queues them with `try_send`, so it never
//! blocks. When the queue is full the hint is dropped and an overflow flag is
//! set instead, and the receiver's next hint is [`Hint::Rescan`]: a lost hint
//! is safe because the full scan that follows finds the file (DESIGN.md,
//! invariant 3). A hint says where to look, never what is there; the daemon
//! starts the watcher first and scans second, so nothing falls between.
//!
//! What notify 8.2's inotify backend (`src/inotify.rs`) emits, which the
//! mapping in [`translate`] relies on:
//!
//! - Every directory gets its own watch for `IN_CREATE`, `IN_OPEN`,
//!   `IN_MODIFY`, `IN_ATTRIB`, `IN_CLOSE_WRITE`, `IN_DELETE`, `IN_MOVED_FROM`
//!   and `IN_MOVED_TO`; the root also for `IN_DELETE_SELF` and
//!   `IN_MOVE_SELF`. `IN_CLOSE_NOWRITE` is not asked for.
//! - `IN_CREATE` is `Create(File)`, or `Create(Folder)` with `IN_ISDIR`;
//!   never `Create(Any)`. `IN_MODIFY` is `Modify(Data(Any))`, once per
//!   `write(2)`; `IN_ATTRIB` is `Modify(Metadata(Any))`, for directories too;
//!   `IN_OPEN` is `Access(Open(Any))`, which we ignore.
//! - `IN_CLOSE_WRITE` is `Access(Close(Write))`: a file closed after writing
//!   is [`Hint::Arrived`].
//! - `IN_MOVED_FROM` is `Modify(Name(From))` and `IN_MOVED_TO` is
//!   `Modify(Name(To))`. When a `MOVED_TO` has the cookie of the
//!   `MOVED_FROM` just before it, notify also emits `Modify(Name(Both))`
//!   with `[from, to]`, after the `To`. A rename inside the lake therefore
//!   arrives as `From`, `To`, `Both`; we ignore `Both`, which would repeat
//!   both hints. A move in from outside the lake is a `To` alone, a move out
//!   a `From` alone. The `IN_ISDIR` bit of a move is not passed on, so a `To`
//!   is a directory only if `symlink_metadata` says so.
//! - `IN_MOVE_SELF` and `IN_DELETE_SELF` of the root come as
//!   `Modify(Name(From))` and `Remove(_)` of the root itself, which become
//!   [`Hint::Removed`] of the root.
//! - `IN_Q_OVERFLOW` (the kernel's queue, `fs.inotify.max_queued_events`, was
//!   full) is an `Other` event with the `Rescan` flag and no path; a failed
//!   read of the inotify descriptor is an `Err` to the callback. Both are
//!   [`Hint::Rescan`].
//! - A new directory (created, or moved in) is watched by notify after the
//!   batch of events it came in, walking it so that directories inside it are
//!   watched too; files made in it before that are never reported. Hence
//!   [`Hint::Directory`]: the daemon scans it.
//! - Of the errors adding a new directory's watch, notify passes on only the
//!   watch limit (`ENOSPC`, `ErrorKind::MaxFilesWatch`), and adds no more
//!   watches in that batch; we log it and send [`Hint::Rescan`]. Any other
//!   failure (the directory already gone, no permission) notify drops
//!   without a word: the directory was hinted anyway, but later files in it
//!   are found only by the periodic reconciliation scan.
//! - At start, an inotify instance that cannot be created fails with `EMFILE`
//!   (`fs.inotify.max_user_instances`, or the open-file limit), and the watch
//!   limit while walking the tree with `MaxFilesWatch`: both are
//!   [`WatchError::Limit`].
//! - Dropping the watcher sends notify's thread a shutdown message; the
//!   thread removes its watches, closes the descriptor and ends, dropping our
//!   callback and with it the sending end of the queue. [`Hints::next`] then
//!   returns the hints still queued, and `None`. This happens on notify's
//!   thread, a moment after the drop, not during it.
//! - notify follows symbolic links to directories by default; we turn that
//!   off so that the watch covers the same tree as the lake's scan.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use notify::event::{AccessKind, AccessMode, CreateKind, ModifyKind, RenameMode};
use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher as _};
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{Notify, mpsc};

use crate::exit::{ExitCode, HasExitCode};

/// Something may have happened at a path. The daemon decides what is there
/// by looking; a hint only says where and how soon to look. Every path is
/// under [`Watcher::root`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hint {
    /// The file arrived complete: renamed/moved into place (IN_MOVED_TO) or
    /// closed after writing (IN_CLOSE_WRITE). Ready now.
    Arrived(PathBuf),
    /// The file was created or modified; readiness must be decided by
    /// settling. The path may also be a directory whose attributes changed,
    /// or something that is gone again.
    Changed(PathBuf),
    /// The file (or directory) was removed or moved away.
    Removed(PathBuf),
    /// A directory appeared (created or moved in): scan it, since files may
    /// have been created in it before its watch existed.
    Directory(PathBuf),
    /// Events were lost (kernel queue overflow, notify's rescan flag, our
    /// channel was full, a watch error): do a full scan.
    Rescan,
}

/// The watch on the lake. Dropping it stops watching, and the [`Hints`]
/// stream ends soon after.
#[derive(Debug)]
pub struct Watcher {
    /// The lake root as an absolute path, as notify joins it into every path.
    root: PathBuf,
    /// notify's watcher; it owns the thread that runs our callback.
    _inner: RecommendedWatcher,
}

/// The receiving end of the hints, in the order the kernel reported them.
#[derive(Debug)]
pub struct Hints {
    rx: mpsc::Receiver<Hint>,
    /// Shared with the callback, which raises it when a hint did not fit.
    overflow: Arc<Overflow>,
}

/// Why the lake cannot be watched. Either way the lake can still be polled.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// An inotify limit was reached: the watch limit (`ENOSPC`) or the
    /// instance limit (`EMFILE`). `message` says which sysctl to raise.
    #[error("{message}")]
    Limit { root: PathBuf, message: String },
    /// Any other failure, such as a missing root. The message includes the
    /// cause, as callers log it with `%error`; it is the source as well.
    #[error("cannot watch the lake at {}: {source}", root.display())]
    Other {
        root: PathBuf,
        source: notify::Error,
    },
}

impl HasExitCode for WatchError {
    fn exit_code(&self) -> ExitCode {
        match self {
            WatchError::Limit { .. } => ExitCode::TempFail,
            WatchError::Other { source, .. }
                if matches!(source.kind, notify::ErrorKind::PathNotFound) =>
            {
                ExitCode::NoInput
            }
            WatchError::Other { .. } => ExitCode::IoErr,
        }
    }
}

impl Watcher {
    /// Watches the tree under `root`, queueing up to `capacity` hints (at
    /// least one) for the receiver.
    ///
    /// This walks the tree to add one inotify watch per directory and waits
    /// for notify's thread to finish: on a large lake it takes a while, so
    /// call it from `spawn_blocking`.
    pub fn start(root: &Path, capacity: usize) -> Result<(Watcher, Hints), WatchError> {
        let root = std::path::absolute(root).map_err(|error| WatchError::Other {
            root: root.to_path_buf(),
            source: notify::Error::io(error),
        })?;
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let overflow = Arc::new(Overflow::default());
        let feed = Feed {
            tx,
            overflow: Arc::clone(&overflow),
        };
        // Runs on notify's thread: it must never block, so every hint goes
        // through `Feed::send`, which only ever tries.
        let callback = move |result: notify::Result<Event>| match result {
            Ok(event) => {
                if event.need_rescan() {
                    tracing::warn!(
                        "The kernel dropped filesystem events because its inotify queue was full, so a full scan follows."
                    );
                }
                translate(&event, |hint| feed.send(hint));
            }
            Err(error) => {
                log_watch_error(&error);
                feed.send(Hint::Rescan);
            }
        };
        let config = notify::Config::default().with_follow_symlinks(false);
        let mut inner =
            RecommendedWatcher::new(callback, config).map_err(|error| classify(&root, error))?;
        inner
            .watch(&root, RecursiveMode::Recursive)
            .map_err(|error| classify(&root, error))?;
        tracing::debug!(root = %root.display(), capacity, "Watching the lake.");
        let watcher = Watcher {
            root,
            _inner: inner,
        };
        Ok((watcher, Hints { rx, overflow }))
    }

    /// The watched root as an absolute path: the prefix of every hint's path.
    pub fn root(&self) -> &Path {
        &self.root
    }
}

impl Hints {
    /// The next hint; after an overflow, Rescan first (once per overflow),
    /// dropping queued hints is fine since a full scan follows. `None` once
    /// the [`Watcher`] is gone and every hint has been taken; while the
    /// watcher lives, `None` means notify's thread died, and only polling is
    /// left. Cancel-safe: a hint is never lost by dropping the future.
    pub async fn next(&mut self) -> Option<Hint> {
        loop {
            if let Some(rescan) = self.take_overflow() {
                return Some(rescan);
            }
            // The wake matters when the receiver took every queued hint and
            // went to sleep between the callback's failed send and its
            // raising of the flag: no hint would come to wake it.
            tokio::select! {
                biased;
                () = self.overflow.wake.notified() => {}
                hint = self.rx.recv() => match hint {
                    Some(hint) => return Some(hint),
                    None => return self.take_overflow(),
                },
            }
        }
    }

    /// Every hint ready now without waiting (for draining bursts in one
    /// batch): `None` when nothing is queued. Rescan first after an
    /// overflow, as with [`Hints::next`].
    pub fn try_next(&mut self) -> Option<Hint> {
        self.take_overflow().or_else(|| self.rx.try_recv().ok())
    }

    /// [`Hint::Rescan`] if hints were lost since the last call, emptying the
    /// queue: what is queued happened before the scan the rescan asks for,
    /// so the scan sees it. Several overflows before a call are one rescan.
    fn take_overflow(&mut self) -> Option<Hint> {
        if !self.overflow.lost.swap(false, Ordering::AcqRel) {
            return None;
        }
        // Only what is queued now, so that a busy sender cannot hold us here.
        for _ in 0..self.rx.len() {
            let _ = self.rx.try_recv();
        }
        Some(Hint::Rescan)
    }
}

/// Hints lost because the queue was full, shared by the callback and
/// [`Hints`].
#[derive(Debug, Default)]
struct Overflow {
    /// True from a failed send until the receiver has taken its
    /// [`Hint::Rescan`].
    lost: AtomicBool,
    /// Wakes a waiting receiver after `lost` was raised.
    wake: Notify,
}

/// The sending end, owned by the callback on notify's thread.
#[derive(Debug)]
struct Feed {
    tx: mpsc::Sender<Hint>,
    overflow: Arc<Overflow>,
}

impl Feed {
    /// Queues `hint`, or records that it was lost; never blocks.
    fn send(&self, hint: Hint) {
        match self.tx.try_send(hint) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => self.lose(),
            // The receiver is gone, and nobody needs hints any more.
            Err(TrySendError::Closed(_)) => {}
        }
    }

    fn lose(&self) {
        if !self.overflow.lost.swap(true, Ordering::AcqRel) {
            tracing::warn!(
                capacity = self.tx.max_capacity(),
                "The hint queue is full, so hints are dropped until the full scan that follows."
            );
        }
        self.overflow.wake.notify_one();
    }
}

/// Hands `emit` the hints one notify event stands for, in order.
fn translate(event: &Event, mut emit: impl FnMut(Hint)) {
    if event.need_rescan() {
        emit(Hint::Rescan);
        return;
    }
    for path in &event.paths {
        let hint = match event.kind {
            EventKind::Create(CreateKind::Folder) => Hint::Directory(path.clone()),
            EventKind::Create(_) => Hint::Changed(path.clone()),
            EventKind::Modify(ModifyKind::Name(RenameMode::To)) => appeared(path, Hint::Arrived),
            EventKind::Modify(ModifyKind::Name(RenameMode::From)) => Hint::Removed(path.clone()),
            // notify sent this rename's `From` and `To` already.
            EventKind::Modify(ModifyKind::Name(RenameMode::Both)) => continue,
            // Renames notify could not pair up; inotify never sends these.
            EventKind::Modify(ModifyKind::Name(_)) => appeared(path, Hint::Changed),
            EventKind::Modify(_) => Hint::Changed(path.clone()),
            EventKind::Access(AccessKind::Close(AccessMode::Write)) => Hint::Arrived(path.clone()),
            EventKind::Remove(_) => Hint::Removed(path.clone()),
            EventKind::Access(_) | EventKind::Any | EventKind::Other => continue,
        };
        emit(hint);
    }
}

/// A path that appeared: a directory to scan, or else a file (`file`).
fn appeared(path: &Path, file: fn(PathBuf) -> Hint) -> Hint {
    match path.symlink_metadata() {
        Ok(metadata) if metadata.is_dir() => Hint::Directory(path.into()),
        // Gone again already: the hint of its going follows this one.
        _ => file(path.into()),
    }
}

/// Logs an error notify reported while watching; a rescan follows it.
fn log_watch_error(error: &notify::Error) {
    if matches!(error.kind, notify::ErrorKind::MaxFilesWatch) {
        tracing::warn!(
            paths = ?error.paths,
            "A new directory cannot be watched because the inotify watch limit (fs.inotify.max_user_watches) is reached, so files in it are found only by scans."
        );
    } else {
        tracing::warn!(%error, paths = ?error.paths, "The watcher failed, so a full scan follows.");
    }
}

/// Which inotify limit an error stands for, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Limit {
    /// `fs.inotify.max_user_watches`: one watch per directory (`ENOSPC`).
    Watches,
    /// `fs.inotify.max_user_instances` or the open-file limit (`EMFILE`).
    Instances,
}

impl Limit {
    fn of(error: &notify::Error) -> Option<Limit> {
        let errno = match &error.kind {
            notify::ErrorKind::MaxFilesWatch => return Some(Limit::Watches),
            notify::ErrorKind::Io(error) => error.raw_os_error()?,
            _ => return None,
        };
        if errno == rustix::io::Errno::NOSPC.raw_os_error() {
            Some(Limit::Watches)
        } else if errno == rustix::io::Errno::MFILE.raw_os_error() {
            Some(Limit::Instances)
        } else {
            None
        }
    }

    /// What the operator reads: which limit, its value now, how to raise it.
    fn message(self, root: &Path) -> String {
        let (sysctl, suggested, what) = match self {
            Limit::Watches => (
                "max_user_watches",
                524_288,
                "the inotify watch limit is reached (one watch for each directory of the lake, shared by every program of this user that watches files)",
            ),
            Limit::Instances => (
                "max_user_instances",
                1024,
                "no inotify instance can be created (the user has too many, or this process has too many open files)",
            ),
        };
        let current = std::fs::read_to_string(format!("/proc/sys/fs/inotify/{sysctl}"))
            .map(|value| format!(" is {}", value.trim()))
            .unwrap_or_default();
        format!(
            "cannot watch the lake at {}: {what}; fs.inotify.{sysctl}{current}: raise it with `sysctl -w fs.inotify.{sysctl}={suggested}` and a line in /etc/sysctl.d/ to keep it; droplake will poll the lake instead",
            root.display()
        )
    }
}

fn classify(root: &Path, error: notify::Error) -> WatchError {
    match Limit::of(&error) {
        Some(limit) => WatchError::Limit {
            root: root.to_path_buf(),
            message: limit.message(root),
        },
        None => WatchError::Other {
            root: root.to_path_buf(),
            source: error,
        },
    }
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::time::Duration;

    use notify::event::{DataChange, Flag, MetadataKind, RemoveKind};
    use tokio::time::timeout;

    use super::*;
    use std::io;

    /// Long enough for a loaded machine, short enough that a bug fails fast.
    const PATIENCE: Duration = Duration::from_secs(5);

    /// A watched temporary lake.
    fn lake(capacity: usize) -> (tempfile::TempDir, Watcher, Hints) {
        let dir = tempfile::tempdir().expect("tempdir");
        let (watcher, hints) = Watcher::start(dir.path(), capacity).expect("start");
        (dir, watcher, hints)
    }

    /// The hints up to and including the first one `wanted` accepts.
    async fn until(hints: &mut Hints, wanted: impl Fn(&Hint) -> bool) -> Vec<Hint> {
        let mut seen = Vec::new();
        let found = timeout(PATIENCE, async {
            while let Some(hint) = hints.next().await {
                let done = wanted(&hint);
                seen.push(hint);
                if done {
                    return true;
                }
            }
            false
        })
        .await;
        assert_eq!(found, Ok(true), "the hint never came; got {seen:?}");
        seen
    }

    /// The hints that come within a short quiet spell.
    async fn rest(hints: &mut Hints) -> Vec<Hint> {
        tokio::time::sleep(Duration::from_millis(200)).await;
        std::iter::from_fn(|| hints.try_next()).collect()
    }

    #[tokio::test]
    async fn a_written_file_is_changed_then_arrived_when_closed() {
        let (dir, _watcher, mut hints) = lake(1024);
        let path = dir.path().join("orders.csv");
        fs::write(&path, "id,total\n1,9.50\n").expect("write");

        let seen = until(&mut hints, |hint| *hint == Hint::Arrived(path.clone())).await;
        let (arrived, before) = seen.split_last().expect("at least the arrival");
        assert_eq!(*arrived, Hint::Arrived(path.clone()));
        assert!(!before.is_empty(), "no Changed before the close: {seen:?}");
        assert!(
            before
                .iter()
                .all(|hint| *hint == Hint::Changed(path.clone())),
            "{seen:?}"
        );
    }

    #[tokio::test]
    async fn a_file_renamed_into_place_arrives_once_under_its_final_name() {
        let (dir, _watcher, mut hints) = lake(1024);
        let temporary = dir.path().join(".orders.csv.tmp");
        let path = dir.path().join("orders.csv");
        fs::write(&temporary, "id\n1\n").expect("write");
        fs::rename(&temporary, &path).expect("rename");

        let mut seen = until(&mut hints, |hint| *hint == Hint::Arrived(path.clone())).await;
        seen.extend(rest(&mut hints).await);
        let arrivals = seen
            .iter()
            .filter(|hint| **hint == Hint::Arrived(path.clone()))
            .count();
        assert_eq!(arrivals, 1, "{seen:?}");
        assert!(seen.contains(&Hint::Removed(temporary)), "{seen:?}");
    }

    #[tokio::test]
    async fn a_directory_made_a_moment_before_its_files_is_hinted_for_a_scan() {
        let (dir, _watcher, mut hints) = lake(1024);
        // `orders/dt=…` and the file are made before notify can watch
        // `orders`, so nothing but the directory itself may be reported.
        let dataset = dir.path().join("orders");
        let partition = dataset.join("dt=2026-01-05");
        fs::create_dir_all(&partition).expect("mkdir");
        fs::write(partition.join("orders.csv"), "id\n1\n").expect("write");

        until(&mut hints, |hint| *hint == Hint::Directory(dataset.clone())).await;
    }

    #[tokio::test]
    async fn a_removed_file_is_removed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("orders.csv");
        fs::write(&path, "id\n1\n").expect("write");
        let (_watcher, mut hints) = Watcher::start(dir.path(), 1024).expect("start");

        fs::remove_file(&path).expect("remove");
        let seen = until(&mut hints, |hint| *hint == Hint::Removed(path.clone())).await;
        assert_eq!(seen, [Hint::Removed(path)]);
    }

    #[tokio::test]
    async fn a_directory_moved_into_the_lake_is_a_directory() {
        let outer = tempfile::tempdir().expect("tempdir");
        let root = outer.path().join("lake");
        let staged = outer.path().join("staging/batch");
        fs::create_dir(&root).expect("mkdir lake");
        fs::create_dir_all(&staged).expect("mkdir staging");
        fs::write(staged.join("orders.csv"), "id\n1\n").expect("write");
        let (_watcher, mut hints) = Watcher::start(&root, 1024).expect("start");

        let moved = root.join("batch");
        fs::rename(&staged, &moved).expect("rename");
        let seen = until(&mut hints, |hint| *hint == Hint::Directory(moved.clone())).await;
        assert_eq!(seen, [Hint::Directory(moved)]);
    }

    #[tokio::test]
    async fn a_full_queue_is_signalled_as_a_rescan_not_lost() {
        let (dir, _watcher, mut hints) = lake(4);
        for n in 0..1000 {
            fs::write(dir.path().join(format!("{n}.csv")), "id\n1\n").expect("write");
        }

        let first = timeout(PATIENCE, hints.next()).await.expect("a hint");
        assert_eq!(first, Some(Hint::Rescan));
    }

    #[tokio::test]
    async fn the_hints_end_when_the_watcher_is_dropped() {
        let (dir, watcher, mut hints) = lake(1024);
        fs::write(dir.path().join("orders.csv"), "id\n1\n").expect("write");
        drop(watcher);

        let ended = timeout(PATIENCE, async { while hints.next().await.is_some() {} }).await;
        assert!(
            ended.is_ok(),
            "the hints did not end after the watcher was dropped"
        );
        assert_eq!(hints.try_next(), None);
    }

    #[tokio::test]
    async fn a_missing_root_cannot_be_watched() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("lake");
        let Err(error) = Watcher::start(&root, 16) else {
            panic!("a missing root was watched");
        };
        assert!(matches!(&error, WatchError::Other { root: r, .. } if *r == root));
        assert!(error.to_string().contains("No path was found"), "{error}");
        assert_eq!(error.exit_code(), ExitCode::NoInput);
    }

    /// A queue of `capacity` with its two ends, without notify.
    fn queue(capacity: usize) -> (Feed, Hints) {
        let (tx, rx) = mpsc::channel(capacity);
        let overflow = Arc::new(Overflow::default());
        let feed = Feed {
            tx,
            overflow: Arc::clone(&overflow),
        };
        (feed, Hints { rx, overflow })
    }

    fn changed(name: &str) -> Hint {
        Hint::Changed(PathBuf::from(name))
    }

    #[tokio::test]
    async fn one_rescan_stands_for_every_hint_lost_before_it() {
        let (feed, mut hints) = queue(2);
        for name in ["a", "b", "c", "d"] {
            feed.send(changed(name));
        }
        assert_eq!(hints.try_next(), Some(Hint::Rescan));
        assert_eq!(hints.try_next(), None, "the queue is emptied by the rescan");

        feed.send(changed("e"));
        assert_eq!(hints.try_next(), Some(changed("e")));
        assert_eq!(hints.try_next(), None);
    }

    #[tokio::test]
    async fn a_receiver_asleep_on_an_empty_queue_is_woken_for_a_rescan() {
        // The race the wake is for: the receiver took every hint between the
        // callback's failed send and its raising of the flag.
        let (feed, mut hints) = queue(1);
        let receiver = tokio::spawn(async move { hints.next().await });
        tokio::task::yield_now().await;
        feed.lose();

        let hint = timeout(PATIENCE, receiver)
            .await
            .expect("woken")
            .expect("joined");
        assert_eq!(hint, Some(Hint::Rescan));
    }

    #[tokio::test]
    async fn a_rescan_pending_when_the_watcher_ends_is_still_given() {
        let (feed, mut hints) = queue(1);
        feed.lose();
        drop(feed);
        assert_eq!(hints.next().await, Some(Hint::Rescan));
        assert_eq!(hints.next().await, None);
    }

    fn hints_of(event: Event) -> Vec<Hint> {
        let mut hints = Vec::new();
        translate(&event, |hint| hints.push(hint));
        hints
    }

    fn event(kind: EventKind, path: &Path) -> Event {
        Event::new(kind).add_path(path.to_path_buf())
    }

    #[test]
    fn inotify_events_map_to_hints() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("orders.csv");
        let folder = dir.path().join("orders");
        let gone = dir.path().join("gone.csv");
        fs::write(&file, "id\n").expect("write");
        fs::create_dir(&folder).expect("mkdir");
        let to = EventKind::Modify(ModifyKind::Name(RenameMode::To));

        let table = [
            (
                event(EventKind::Create(CreateKind::File), &file),
                vec![Hint::Changed(file.clone())],
            ),
            (
                event(EventKind::Create(CreateKind::Any), &file),
                vec![Hint::Changed(file.clone())],
            ),
            (
                event(EventKind::Create(CreateKind::Folder), &folder),
                vec![Hint::Directory(folder.clone())],
            ),
            (event(to, &file), vec![Hint::Arrived(file.clone())]),
            (event(to, &folder), vec![Hint::Directory(folder.clone())]),
            (event(to, &gone), vec![Hint::Arrived(gone.clone())]),
            (
                event(EventKind::Modify(ModifyKind::Name(RenameMode::From)), &file),
                vec![Hint::Removed(file.clone())],
            ),
            (
                Event::new(EventKind::Modify(ModifyKind::Name(RenameMode::Both)))
                    .add_path(gone.clone())
                    .add_path(file.clone()),
                vec![],
            ),
            (
                event(EventKind::Modify(ModifyKind::Data(DataChange::Any)), &file),
                vec![Hint::Changed(file.clone())],
            ),
            (
                event(
                    EventKind::Modify(ModifyKind::Metadata(MetadataKind::Any)),
                    &file,
                ),
                vec![Hint::Changed(file.clone())],
            ),
            (
                event(EventKind::Modify(ModifyKind::Any), &file),
                vec![Hint::Changed(file.clone())],
            ),
            (
                event(
                    EventKind::Access(AccessKind::Close(AccessMode::Write)),
                    &file,
                ),
                vec![Hint::Arrived(file.clone())],
            ),
            (
                event(
                    EventKind::Access(AccessKind::Close(AccessMode::Read)),
                    &file,
                ),
                vec![],
            ),
            (
                event(EventKind::Access(AccessKind::Open(AccessMode::Any)), &file),
                vec![],
            ),
            (
                event(EventKind::Remove(RemoveKind::File), &file),
                vec![Hint::Removed(file.clone())],
            ),
            (
                event(EventKind::Remove(RemoveKind::Folder), &folder),
                vec![Hint::Removed(folder.clone())],
            ),
            (
                Event::new(EventKind::Other).set_flag(Flag::Rescan),
                vec![Hint::Rescan],
            ),
            (event(EventKind::Other, &file), vec![]),
        ];
        for (event, expected) in table {
            assert_eq!(hints_of(event.clone()), expected, "{event:?}");
        }
    }

    #[test]
    fn inotify_limits_tell_the_operator_what_to_raise() {
        let root = Path::new("/srv/lake");
        let errno = |errno: rustix::io::Errno| {
            notify::Error::io(io::Error::from_raw_os_error(errno.raw_os_error()))
        };

        let watches = [
            notify::Error::new(notify::ErrorKind::MaxFilesWatch),
            errno(rustix::io::Errno::NOSPC),
        ];
        for error in watches {
            let WatchError::Limit { message, .. } = classify(root, error) else {
                panic!("the watch limit is a limit");
            };
            assert!(message.contains("/srv/lake"), "{message}");
            assert!(message.contains("fs.inotify.max_user_watches"), "{message}");
            assert!(message.contains("poll"), "{message}");
        }

        let error = classify(root, errno(rustix::io::Errno::MFILE));
        let WatchError::Limit { message, .. } = &error else {
            panic!("the instance limit is a limit");
        };
        assert!(
            message.contains("fs.inotify.max_user_instances"),
            "{message}"
        );
        assert_eq!(error.exit_code(), ExitCode::TempFail);

        let error = classify(root, errno(rustix::io::Errno::ACCESS));
        assert!(matches!(error, WatchError::Other { .. }));
        assert_eq!(error.exit_code(), ExitCode::IoErr);
    }
}
