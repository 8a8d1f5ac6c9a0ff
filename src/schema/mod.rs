//! Table schemas: the Frictionless Table Schema model, loading, casting,
//! constraints and row validation.
//!
//! A schema file `warehouse-schema/<table>.json` is parsed by [`Schema::load`]
//! into a checked model: every problem in the file is collected with its JSON
//! pointer, so a person fixes them all in one go. Casting ([`cast()`]) turns a
//! cell into a typed [`Value`]; [`Constraints`] check typed values; the
//! [`Validator`] checks a reader's header and then each record, gives the
//! caller the row's typed values, and reports errors the way Frictionless
//! reports do. Where the standard is silent, `docs/table-schema.md` says what
//! droplake decided.

mod cast;
mod constraint;
mod field;
#[cfg(test)]
mod golden;
mod iso;
mod keys;
mod parse;
mod validate;
mod value;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

pub use cast::{CastError, cast, cast_into, cast_json, cast_text, is_email, is_uri, is_uuid};
pub use constraint::{Constraint, Constraints, FewStrings, Members, Pattern, Violation};
pub use field::{
    BooleanOptions, Field, FieldType, IntegerOptions, ItemType, ListOptions, NumberOptions,
    StringFormat, TemporalFormat,
};
pub use validate::{ErrorType, RowError, Validator};
pub use value::{Datetime, Decimal, Duration, Time, Value, recycle};

use crate::exit::{ExitCode, HasExitCode};

/// A checked table schema.
#[derive(Debug, Clone)]
pub struct Schema {
    /// The table's name: the schema file's stem.
    pub name: String,
    /// The fields, in order.
    pub fields: Vec<Field>,
    /// The schema-wide missing values (`[""]` unless the file says otherwise);
    /// each field already holds the ones that apply to it.
    pub missing_values: Vec<String>,
    /// The primary key, as indexes into `fields`; empty when there is none.
    pub primary_key: Vec<usize>,
    /// Further unique keys, each as indexes into `fields`.
    pub unique_keys: Vec<Vec<usize>>,
    /// Foreign keys, checked for form only: data is checked in the warehouse.
    pub foreign_keys: Vec<ForeignKey>,
    /// How the data's header is matched to the fields.
    pub fields_match: FieldsMatch,
}

impl Schema {
    /// Reads and checks the schema file at `path`; the table is named after
    /// the file's stem.
    pub fn load(path: &Path) -> Result<Schema, SchemaError> {
        let text = std::fs::read_to_string(path).map_err(|error| SchemaError::Read {
            path: path.to_path_buf(),
            error,
        })?;
        let name = path
            .file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
            .unwrap_or_default();
        Schema::parse(&name, path, &text)
    }

    /// Reads the schema of `table` from a schema directory:
    /// `DIR/<table>.json`.
    pub fn load_table(dir: &Path, table: &str) -> Result<Schema, SchemaError> {
        Schema::load(&dir.join(format!("{table}.json")))
    }

    /// Checks a schema given as JSON text; `path` is only named in errors.
    pub fn parse(name: &str, path: &Path, text: &str) -> Result<Schema, SchemaError> {
        parse::parse(name, text).map_err(|problems| SchemaError::Invalid {
            path: path.to_path_buf(),
            problems,
        })
    }

    /// The index of the field named `name` (names are case-sensitive).
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|field| field.name == name)
    }
}

/// Loads every `*.json` schema in `dir`, in file name order: each file's
/// schema, or all of its problems. Fails only if the directory cannot be
/// read.
pub fn load_dir(dir: &Path) -> Result<Vec<Result<Schema, SchemaError>>, SchemaError> {
    let read_error = |error| SchemaError::Read {
        path: dir.to_path_buf(),
        error,
    };
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_error)? {
        let path = entry.map_err(read_error)?.path();
        if path.extension().is_some_and(|ext| ext == "json") && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    Ok(paths.iter().map(|path| Schema::load(path)).collect())
}

/// Checks the foreign keys of `schema` that refer to other tables against
/// those tables' schemas: the table must exist and have the referenced
/// fields. References to the schema itself were checked when it loaded.
pub fn check_references(schema: &Schema, tables: &[&Schema]) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (index, key) in schema.foreign_keys.iter().enumerate() {
        let Some(resource) = &key.resource else {
            continue;
        };
        let Some(table) = tables.iter().find(|table| table.name == *resource) else {
            problems.push(Problem {
                pointer: format!("/foreignKeys/{index}/reference/resource"),
                message: format!("no schema for table {resource:?}"),
            });
            continue;
        };
        let mut referenced = Vec::new();
        for (position, name) in key.reference_fields.iter().enumerate() {
            match table.field_index(name) {
                Some(field) => referenced.push(field),
                None => problems.push(Problem {
                    pointer: format!("/foreignKeys/{index}/reference/fields/{position}"),
                    message: format!("table {resource:?} has no field named {name:?}"),
                }),
            }
        }
        // The warehouse can only enforce a reference to a key: the primary
        // key, a unique field, or one of the uniqueKeys.
        if referenced.len() == key.reference_fields.len() && !is_key(table, &referenced) {
            problems.push(Problem {
                pointer: format!("/foreignKeys/{index}/reference/fields"),
                message: format!(
                    "{:?} of table {resource:?} is not its primary key nor unique; refer to a key, or make these fields unique there",
                    key.reference_fields
                ),
            });
        }
    }
    problems
}

/// Whether `fields` (indexes into `table`'s fields) are, in any order, its
/// primary key, one unique field, or one of its uniqueKeys.
fn is_key(table: &Schema, fields: &[usize]) -> bool {
    let same =
        |key: &[usize]| key.len() == fields.len() && key.iter().all(|field| fields.contains(field));
    same(&table.primary_key)
        || table.unique_keys.iter().any(|key| same(key))
        || matches!(fields, [field] if table.fields[*field].constraints.unique)
}

/// A foreign key: fields of this table that refer to fields of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    /// The referring fields, as indexes into this schema's fields.
    pub fields: Vec<usize>,
    /// The referenced table; `None` for this table itself (`resource: ""`).
    pub resource: Option<String>,
    /// The referenced fields' names, as many as `fields`.
    pub reference_fields: Vec<String>,
}

/// How the header's labels are matched to the schema's fields (v2
/// `fieldsMatch`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FieldsMatch {
    /// The same fields in the same order; matched by position.
    #[default]
    Exact,
    /// The same fields in any order; matched by name.
    Equal,
    /// All the schema's fields, and perhaps more; matched by name.
    Subset,
    /// Only the schema's fields, perhaps not all; matched by name.
    Superset,
    /// At least one of the schema's fields; matched by name.
    Partial,
}

/// One problem in a schema file: where (a JSON pointer) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The JSON pointer to the offending value, such as
    /// `/fields/3/constraints/pattern`; empty for the whole document.
    pub pointer: String,
    /// What is wrong, and what would be right.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pointer.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.pointer, self.message)
        }
    }
}

/// A schema that cannot be used. Fatal: the daemon does not start with it.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// The file or directory could not be read.
    #[error("{}: cannot read: {error}", path.display())]
    Read { path: PathBuf, error: io::Error },
    /// The file was read, and has these problems (at least one).
    #[error("{}", render(path, problems))]
    Invalid {
        path: PathBuf,
        problems: Vec<Problem>,
    },
}

fn render(path: &Path, problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|problem| format!("{}: {problem}", path.display()))
        .collect::<Vec<_>>()
        .join("\n")
}

impl HasExitCode for SchemaError {
    fn exit_code(&self) -> ExitCode {
        match self {
            SchemaError::Read { error, .. } if error.kind() == io::ErrorKind::NotFound => {
                ExitCode::NoInput
            }
            SchemaError::Read { .. } | SchemaError::Invalid { .. } => ExitCode::Config,
        }
    }
}
