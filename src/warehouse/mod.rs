//! The warehouse: an embedded SQLite database holding the tables that schemas
//! describe and droplake's own bookkeeping, side by side.
//!
//! Bookkeeping lives in tables named `_droplake_*` in the same file as the
//! data, so that a load's rows, its rejects and its record commit in one
//! transaction. The connection runs in WAL mode (one writer, concurrent
//! readers), with a busy timeout and foreign keys on. [`query`] opens the file
//! read-only for people and scripts.

mod bookkeeping;
mod evolve;
pub mod ledger;
mod load;
pub mod query;
pub mod table;
mod tables;

pub use evolve::{Difference, Plan, refusal};
pub use load::{LoadHook, LoadOptions, LoadReport, ObjectRef, OnError, Outcome, WriteMode};
pub use tables::version_of;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::exit::{ExitCode, HasExitCode};

/// How long a writer waits for another process's lock before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The page size of a new warehouse, in bytes.
const PAGE_SIZE: i64 = 16384;

/// An open warehouse, ready for loads.
#[derive(Debug)]
pub struct Warehouse {
    /// The single writing connection; bookkeeping is migrated.
    connection: Connection,
    path: PathBuf,
}

/// A warehouse operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum WarehouseError {
    #[error("cannot open the warehouse {}: {error}; check the `warehouse` setting and the directory's permissions", path.display())]
    Open {
        path: PathBuf,
        error: rusqlite::Error,
    },
    #[error("the warehouse {} does not exist yet; it is created by the first load", path.display())]
    Missing { path: PathBuf },
    #[error("the warehouse {} is locked by another process (waited {}s); try again when it has finished", path.display(), BUSY_TIMEOUT.as_secs())]
    Busy { path: PathBuf },
    #[error("cannot write the warehouse {} ({error}): the disk is full or failing; nothing of this change was committed, so free space and run it again", path.display())]
    Full {
        path: PathBuf,
        error: rusqlite::Error,
    },
    #[error("warehouse {}: {error}", path.display())]
    Sql {
        path: PathBuf,
        error: rusqlite::Error,
    },
    #[error("{message}")]
    SchemaChanged { table: String, message: String },
    #[error("the load into {table} was stopped before it committed; nothing of it was written")]
    Interrupted { table: String },
    #[error("{message}")]
    Refused { message: String },
    #[error(
        "the warehouse {} belongs to {user}, and this command runs as root: SQLite would leave \
         its -wal and -shm files owned by root, which {user} (and the daemon running as it) \
         could then not open. Run the command as that user: sudo -u {name} droplake ...",
        path.display()
    )]
    NotOwner {
        path: PathBuf,
        /// The owner for people: `droplake (uid 998)`.
        user: String,
        /// The owner's name for `sudo -u` (its uid when it has none).
        name: String,
    },
    #[error(
        "cannot read the warehouse {}: its write-ahead log index {}-shm does not exist (the last \
         writer removes it when it closes, as a daemon does when it stops) and this user may not \
         create it in {}. Run the command as the warehouse's owner (sudo -u droplake droplake \
         ...), or while the daemon runs",
        path.display(), path.display(), dir.display()
    )]
    NoIndex { path: PathBuf, dir: PathBuf },
}

impl WarehouseError {
    /// Classifies a SQLite error on the warehouse at `path`.
    pub(crate) fn from_sqlite(path: &Path, error: rusqlite::Error) -> WarehouseError {
        use rusqlite::ErrorCode as C;
        let path = path.to_path_buf();
        match error.sqlite_error_code() {
            Some(C::DatabaseBusy | C::DatabaseLocked) => WarehouseError::Busy { path },
            Some(C::DiskFull | C::SystemIoFailure) => WarehouseError::Full { path, error },
            _ => WarehouseError::Sql { path, error },
        }
    }
}

impl HasExitCode for WarehouseError {
    fn exit_code(&self) -> ExitCode {
        match self {
            WarehouseError::Open { .. } => ExitCode::CantCreate,
            WarehouseError::Missing { .. } => ExitCode::NoInput,
            WarehouseError::Busy { .. } => ExitCode::TempFail,
            WarehouseError::Full { .. } | WarehouseError::Sql { .. } => ExitCode::IoErr,
            WarehouseError::SchemaChanged { .. } => ExitCode::Config,
            WarehouseError::Interrupted { .. } | WarehouseError::Refused { .. } => {
                ExitCode::TempFail
            }
            WarehouseError::NotOwner { .. } | WarehouseError::NoIndex { .. } => ExitCode::NoPerm,
        }
    }
}

impl Warehouse {
    /// Opens (creating if needed) the warehouse at `path` for writing, and
    /// brings droplake's bookkeeping tables up to date.
    pub fn open(path: &Path) -> Result<Warehouse, WarehouseError> {
        refuse_root(path)?;
        let open_error = |error| WarehouseError::Open {
            path: path.to_path_buf(),
            error,
        };
        let connection = Connection::open(path).map_err(open_error)?;
        configure(&connection).map_err(|error| WarehouseError::from_sqlite(path, error))?;
        // Larger pages make the B-trees of big tables shallower (for a new
        // database; an existing one keeps its size): insert 1.14x -> 1.11x
        // of sqlite3 .import in benches/insert.py, memory unchanged.
        connection
            .pragma_update(None, "page_size", PAGE_SIZE)
            .map_err(|error| WarehouseError::from_sqlite(path, error))?;
        connection
            .pragma_update(None, "journal_mode", "wal")
            .map_err(|error| WarehouseError::from_sqlite(path, error))?;
        // FULL: a committed load survives power loss, not only a crash.
        connection
            .pragma_update(None, "synchronous", "full")
            .map_err(|error| WarehouseError::from_sqlite(path, error))?;
        let mut warehouse = Warehouse {
            connection,
            path: path.to_path_buf(),
        };
        bookkeeping::migrate(&mut warehouse.connection)
            .map_err(|error| WarehouseError::from_sqlite(path, error))?;
        Ok(warehouse)
    }

    /// The connection, for the daemon's ledger and events.
    pub fn connection(&mut self) -> &mut Connection {
        &mut self.connection
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Settings every connection gets, reading or writing.
fn configure(connection: &Connection) -> rusqlite::Result<()> {
    connection.busy_timeout(BUSY_TIMEOUT)?;
    connection.pragma_update(None, "foreign_keys", "on")
}

/// Opens the warehouse at `path` read-only: it must exist, and no statement
/// run on the connection can change it. A warehouse an older droplake wrote
/// first gets the bookkeeping migrations it lacks (they add droplake's own
/// tables and columns, never touch data), so that reading commands see the
/// ledger as this version knows it.
pub(crate) fn open_read_only(path: &Path) -> Result<Connection, WarehouseError> {
    if !path.exists() {
        return Err(WarehouseError::Missing {
            path: path.to_path_buf(),
        });
    }
    refuse_root(path)?;
    let open = || {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let connection =
            Connection::open_with_flags(path, flags).map_err(|error| WarehouseError::Open {
                path: path.to_path_buf(),
                error,
            })?;
        configure(&connection).map_err(|error| WarehouseError::from_sqlite(path, error))?;
        Ok::<_, WarehouseError>(connection)
    };
    let probe = |connection: &Connection| {
        connection.query_row("SELECT count(*) FROM sqlite_master", [], |row| {
            row.get::<_, i64>(0)
        })
    };
    let connection = open()?;
    match probe(&connection) {
        // After a writer was killed, the WAL index must be rebuilt before
        // anyone can read, and a read-only connection may not rebuild it
        // (SQLITE_READONLY_RECOVERY). A read-write connection that only reads
        // does the recovery, which changes no data; then read-only again.
        Err(error) if error.sqlite_error_code() == Some(rusqlite::ErrorCode::ReadOnly) => {
            drop(connection);
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE)
                .and_then(|writer| {
                    writer.busy_timeout(BUSY_TIMEOUT)?;
                    probe(&writer)
                })
                .map_err(|error| no_index(path).unwrap_or_else(|| WarehouseError::from_sqlite(path, error)))?;
            tracing::info!(path = %path.display(), "Recovered the warehouse's write-ahead log after an interrupted writer.");
            open()
        }
        _ => Ok(connection),
    }
    .and_then(|connection| {
        if !bookkeeping::is_behind(&connection)
            .map_err(|error| WarehouseError::from_sqlite(path, error))?
        {
            return Ok(connection);
        }
        drop(connection);
        Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE)
            .and_then(|mut writer| {
                writer.busy_timeout(BUSY_TIMEOUT)?;
                bookkeeping::migrate(&mut writer)
            })
            .map_err(|error| WarehouseError::from_sqlite(path, error))?;
        open()
    })
}

/// Refuses to open, as root, a warehouse that another user owns (or, for
/// one not created yet, whose directory another user owns): SQLite creates
/// the `-wal` and `-shm` files as the user who opens, and files owned by
/// root stop the owner's daemon from opening the warehouse.
fn refuse_root(path: &Path) -> Result<(), WarehouseError> {
    use std::os::unix::fs::MetadataExt;
    if !rustix::process::geteuid().is_root() {
        return Ok(());
    }
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let Ok(owner) = std::fs::metadata(path)
        .or_else(|_| std::fs::metadata(dir))
        .map(|metadata| metadata.uid())
    else {
        return Ok(());
    };
    if owner == 0 {
        return Ok(());
    }
    let name = user_name(owner);
    Err(WarehouseError::NotOwner {
        path: path.to_path_buf(),
        user: match &name {
            Some(name) => format!("{name} (uid {owner})"),
            None => format!("uid {owner}"),
        },
        name: name.unwrap_or_else(|| format!("#{owner}")),
    })
}

/// The name of the user with `uid`, from `/etc/passwd`.
fn user_name(uid: u32) -> Option<String> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        (fields.nth(1)?.parse::<u32>().ok()? == uid).then(|| name.to_owned())
    })
}

/// Why a read-only open of the WAL database at `path` failed, when the
/// cause is its missing `-shm` file, which this user may not create.
fn no_index(path: &Path) -> Option<WarehouseError> {
    let mut shm = path.as_os_str().to_owned();
    shm.push("-shm");
    if Path::new(&shm).exists() {
        return None;
    }
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let writable = rustix::fs::access(&dir, rustix::fs::Access::WRITE_OK).is_ok();
    (!writable).then(|| WarehouseError::NoIndex {
        path: path.to_path_buf(),
        dir,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reading_a_warehouse_an_older_droplake_wrote_brings_its_bookkeeping_up_to_date() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("warehouse.db");
        drop(Warehouse::open(&path).expect("open"));
        // As version 2 left it: no retry_base yet.
        let old = Connection::open(&path).expect("open");
        old.execute_batch(
            "ALTER TABLE _droplake_jobs DROP COLUMN retry_base; PRAGMA user_version = 2;",
        )
        .expect("downgrade");
        drop(old);
        let reader = open_read_only(&path).expect("open read-only");
        reader
            .prepare("SELECT retry_base FROM _droplake_jobs")
            .expect("the column is there");
        let denied = reader.execute_batch("CREATE TABLE t (x)");
        assert!(denied.is_err(), "the connection itself stays read-only");
    }

    #[test]
    fn opening_creates_a_wal_database_with_bookkeeping() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("warehouse.db");
        let warehouse = Warehouse::open(&path).expect("open");
        let connection = &warehouse.connection;
        let mode: String = connection
            .query_row("PRAGMA journal_mode", [], |row| row.get(0))
            .expect("journal_mode");
        assert_eq!(mode, "wal");
        let foreign_keys: i64 = connection
            .query_row("PRAGMA foreign_keys", [], |row| row.get(0))
            .expect("fk");
        assert_eq!(foreign_keys, 1);
        let tables: Vec<String> = connection
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '\\_droplake\\_%' ESCAPE '\\' ORDER BY name")
            .expect("prepare")
            .query_map([], |row| row.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        assert_eq!(
            tables,
            [
                "_droplake_attempts",
                "_droplake_daemon",
                "_droplake_dedupe",
                "_droplake_events",
                "_droplake_jobs",
                "_droplake_loads",
                "_droplake_objects",
                "_droplake_rejects",
                "_droplake_tables"
            ]
        );
        drop(warehouse);
        Warehouse::open(&path).expect("reopening migrates nothing twice");
    }

    #[test]
    fn a_missing_warehouse_is_not_created_by_a_reader() {
        let dir = tempfile::tempdir().expect("tempdir");
        let error = open_read_only(&dir.path().join("none.db")).expect_err("missing");
        assert_eq!(error.exit_code(), ExitCode::NoInput);
        assert!(!dir.path().join("none.db").exists());
    }
}
