//! The built-in loader: one lake object into its warehouse table.
//!
//! This is the glue between the parts: a table's schema file gives the
//! [`Schema`] and the descriptor whose hash is the table's version; the
//! object's bytes go through a [`formats`](crate::formats) reader; the
//! [`Warehouse`] validates and commits the load in one transaction.

use std::path::Path;

use crate::exit::{ExitCode, HasExitCode};
use crate::formats::{self, OpenError, ReadOptions};
use crate::schema::{Schema, SchemaError};
use crate::warehouse::{LoadOptions, LoadReport, ObjectRef, Warehouse, WarehouseError};

/// A warehouse table's schema, with the descriptor it was read from.
#[derive(Debug, Clone)]
pub struct Table {
    pub schema: Schema,
    /// The schema file's JSON, whose normalized hash is the schema version.
    pub descriptor: serde_json::Value,
}

impl Table {
    /// Reads the schema of table `name` from the schema directory `dir`.
    pub fn load(dir: &Path, name: &str) -> Result<Table, SchemaError> {
        let path = dir.join(format!("{name}.json"));
        let text = std::fs::read_to_string(&path).map_err(|error| SchemaError::Read {
            path: path.clone(),
            error,
        })?;
        let schema = Schema::parse(name, &path, &text)?;
        // The schema parsed, so the text is JSON.
        let descriptor = serde_json::from_str(&text).unwrap_or_default();
        Ok(Table { schema, descriptor })
    }
}

/// Why an object could not be loaded at all.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error(transparent)]
    Warehouse(#[from] WarehouseError),
}

impl HasExitCode for LoadError {
    fn exit_code(&self) -> ExitCode {
        match self {
            LoadError::Open(error) => error.exit_code(),
            LoadError::Warehouse(error) => error.exit_code(),
        }
    }
}

/// Loads the file at `path` (the lake object `object`) into `table`; its
/// bytes pass through `wrap` (which may count them for a progress bar).
pub fn load_file(
    warehouse: &mut Warehouse,
    table: &Table,
    path: &Path,
    object: &ObjectRef,
    read: &ReadOptions,
    options: LoadOptions,
    wrap: impl FnOnce(std::fs::File) -> Box<dyn std::io::Read + Send>,
) -> Result<LoadReport, LoadError> {
    let mut reader = formats::open_through(path, read, wrap)?;
    Ok(warehouse.load(
        &table.schema,
        &table.descriptor,
        object,
        reader.as_mut(),
        options,
    )?)
}
