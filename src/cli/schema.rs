//! `droplake schema check [DIR]`: checks every table schema in a directory.
//!
//! Each `*.json` file is loaded as the schema of the table named after it,
//! with every problem collected, and foreign keys to other tables are checked
//! against the other schemas of the same directory. All problems are printed,
//! one a line as `FILE: JSON-POINTER: message`; the exit code is 0 when every
//! schema is fine and 78 (configuration error) otherwise.
//!
//! `droplake schema diff` and `apply` compare tables with their schema files
//! and bring them up to date. `droplake schema from-copybook FILE` writes the
//! Table Schema of a table for a COBOL copybook's records (see
//! `mainframe::copybook::table_schema`), to standard output, a file, or the
//! schema directory, never replacing a file unless asked.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use serde_json::json;

use super::Failure;
use super::copybook::SourceArgs;
use crate::config::Settings;
use crate::exit::{ExitCode, HasExitCode};
use crate::lake::DatasetName;
use crate::mainframe::copybook::{OccursColumns, SchemaOptions, table_schema};
use crate::schema::{self, Problem, Schema, SchemaError};

/// Arguments of `droplake schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    #[command(subcommand)]
    pub command: SchemaCommand,
}

/// The subcommands of `droplake schema`.
#[derive(Debug, Subcommand)]
pub enum SchemaCommand {
    /// Check every *.json table schema in a directory and list all problems.
    Check(CheckArgs),
    /// Show how each table's schema file differs from the schema its
    /// warehouse table was made from, and whether the change is breaking.
    Diff(DiffArgs),
    /// Bring tables up to their schema files, rebuilding them through a
    /// verified copy; breaking changes need --allow-breaking.
    Apply(ApplyArgs),
    /// Make the table schema for the records of a COBOL copybook.
    FromCopybook(FromCopybookArgs),
}

/// Arguments of `droplake schema from-copybook`.
#[derive(Debug, Args)]
pub struct FromCopybookArgs {
    /// The copybook.
    #[arg(value_name = "FILE")]
    pub copybook: PathBuf,

    #[command(flatten)]
    pub source: SourceArgs,

    /// Only the record (level 01) of this name; by default every record of
    /// the copybook, as alternatives.
    #[arg(long, value_name = "NAME")]
    pub record: Option<String>,

    /// How an item under OCCURS becomes columns: one per occurrence
    /// (NAME_1 to NAME_n) or one JSON array.
    #[arg(long, value_enum, value_name = "HOW", default_value_t = OccursArg::Columns)]
    pub occurs: OccursArg,

    /// Leave out the enum constraints made from condition names (level 88).
    #[arg(long)]
    pub no_enums: bool,

    /// Write the schema of table TABLE into the configured schema directory
    /// (TABLE.json).
    #[arg(long, value_name = "TABLE", conflicts_with = "out")]
    pub name: Option<String>,

    /// Write the schema to FILE (whose name is the table's) instead of
    /// standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Replace the schema file if it exists.
    #[arg(long)]
    pub force: bool,
}

/// How OCCURS items become columns, as the command line names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OccursArg {
    Columns,
    Array,
}

/// Arguments of `droplake schema diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Only this table; by default every table in the warehouse.
    pub table: Option<String>,
}

/// Arguments of `droplake schema apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Only this table; by default every table in the warehouse.
    pub table: Option<String>,

    /// Apply changes that can lose or invalidate data too (removed fields,
    /// type changes, rules existing rows break).
    #[arg(long)]
    pub allow_breaking: bool,
}

/// Arguments of `droplake schema check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The directory of schemas (or one schema file); defaults to the
    /// configured `schemas` directory.
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Print one JSON object: {"valid", "schemas": [{"file", "table",
    /// "problems": [{"pointer", "message"}]}]}.
    #[arg(long)]
    pub json: bool,
}

/// Runs a `schema` subcommand; `settings` loads the configuration, which
/// `from-copybook` needs only to find the schema directory.
pub fn run<E>(
    settings: impl FnOnce() -> Result<Settings, E>,
    args: SchemaArgs,
) -> Result<ExitCode, Failure>
where
    Failure: From<E>,
{
    match args.command {
        SchemaCommand::Check(args) => check(&settings()?, args),
        SchemaCommand::Diff(args) => evolve(&settings()?, args.table, None),
        SchemaCommand::Apply(args) => evolve(&settings()?, args.table, Some(args.allow_breaking)),
        SchemaCommand::FromCopybook(args) => from_copybook(settings, args),
    }
}

fn from_copybook<E>(
    settings: impl FnOnce() -> Result<Settings, E>,
    args: FromCopybookArgs,
) -> Result<ExitCode, Failure>
where
    Failure: From<E>,
{
    let copybook = args.source.load(&args.copybook)?;
    let options = SchemaOptions {
        record: args.record,
        occurs: match args.occurs {
            OccursArg::Columns => OccursColumns::Expand,
            OccursArg::Array => OccursColumns::Array,
        },
        enums: !args.no_enums,
    };
    let schema = table_schema(&copybook, &options)?;
    let fields = schema["fields"].as_array().map_or(0, Vec::len);
    let text = format!(
        "{}\n",
        serde_json::to_string_pretty(&schema).map_err(|error| Failure::new(
            ExitCode::IoErr,
            anyhow::anyhow!("cannot write the schema as JSON: {error}")
        ))?
    );
    let path = match (args.name, args.out) {
        (Some(table), _) => {
            let table = DatasetName::new(&table).map_err(|error| {
                Failure::new(
                    ExitCode::Usage,
                    anyhow::anyhow!("--name {table}: not a valid table name: {error}"),
                )
            })?;
            settings()?.schemas.join(format!("{table}.json"))
        }
        (None, Some(out)) => out,
        (None, None) => {
            io::stdout()
                .write_all(text.as_bytes())
                .map_err(Failure::stdout)?;
            return Ok(ExitCode::Ok);
        }
    };
    write_new(&path, &text, args.force)?;
    let table = path
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_default();
    let note = format!(
        "wrote {}: {fields} fields of table {table}\n",
        path.display()
    );
    io::stdout()
        .write_all(note.as_bytes())
        .map_err(Failure::stdout)?;
    Ok(ExitCode::Ok)
}

/// Writes `text` to `path` through a temporary file in the same directory
/// and a rename, so that no reader sees half a schema; an existing file is
/// replaced only with `force`.
fn write_new(path: &Path, text: &str, force: bool) -> Result<(), Failure> {
    let cannot = |error: &dyn std::fmt::Display| {
        Failure::new(
            ExitCode::CantCreate,
            anyhow::anyhow!("cannot write {}: {error}", path.display()),
        )
    };
    let dir = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut temporary = tempfile::Builder::new()
        .prefix(".droplake-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|error| cannot(&error))?;
    temporary
        .write_all(text.as_bytes())
        .and_then(|()| temporary.as_file().sync_all())
        .map_err(|error| cannot(&error))?;
    let persisted = if force {
        temporary.persist(path)
    } else {
        temporary.persist_noclobber(path)
    };
    persisted.map(drop).map_err(|error| {
        if error.error.kind() == io::ErrorKind::AlreadyExists {
            Failure::new(
                ExitCode::CantCreate,
                anyhow::anyhow!(
                    "{} already exists; give --force to replace it",
                    path.display()
                ),
            )
        } else {
            cannot(&error.error)
        }
    })
}

/// `diff` (with `apply` None) or `apply` (with whether breaking changes
/// are allowed) for one table or every table of the warehouse.
fn evolve(
    settings: &Settings,
    table: Option<String>,
    apply: Option<bool>,
) -> Result<ExitCode, Failure> {
    let mut warehouse = crate::warehouse::Warehouse::open(&settings.warehouse)?;
    let tables = match table {
        Some(table) => vec![table],
        None => warehouse.tables()?,
    };
    let mut out = String::new();
    let mut outcome = ExitCode::Ok;
    for name in tables {
        let table = crate::loader::Table::load(&settings.schemas, &name)?;
        let Some(plan) = warehouse.plan(&table.schema, &table.descriptor)? else {
            out.push_str(&format!(
                "{name}: no table yet; the first load creates it\n"
            ));
            continue;
        };
        if plan.is_current() {
            out.push_str(&format!(
                "{name}: up to date (version {})\n",
                plan.current_version
            ));
            continue;
        }
        let kind = if plan.is_breaking() {
            "breaking"
        } else {
            "additive"
        };
        out.push_str(&format!(
            "{name}: version {} -> {}: {kind}\n",
            plan.recorded_version, plan.current_version
        ));
        for difference in &plan.differences {
            let mark = if difference.breaking { "!" } else { "+" };
            out.push_str(&format!("  {mark} {}\n", difference.what));
        }
        if plan.misfits > 0 {
            out.push_str(&format!(
                "  ! {} existing rows break the new schema, such as:\n",
                plan.misfits
            ));
            for error in &plan.first_misfits {
                out.push_str(&format!("      {error}\n"));
            }
        }
        if let Some(allow_breaking) = apply {
            match warehouse.apply(&table.schema, &table.descriptor, allow_breaking) {
                Ok(_) => out.push_str(&format!("{name}: applied\n")),
                Err(error) => {
                    out.push_str(&format!("{name}: not applied: {error}\n"));
                    outcome = outcome.worst(error.exit_code());
                }
            }
        }
    }
    io::stdout()
        .write_all(out.as_bytes())
        .map_err(Failure::stdout)?;
    Ok(outcome)
}

/// The outcome of checking one schema file.
#[derive(Debug)]
struct Checked {
    file: PathBuf,
    /// The table, when the file could be parsed.
    table: Option<String>,
    problems: Vec<Problem>,
}

/// Loads and checks every schema in `dir` (or the one file `dir` names).
fn check_dir(dir: &Path) -> Result<Vec<Checked>, SchemaError> {
    let loaded = if dir.is_file() {
        vec![Schema::load(dir)]
    } else {
        schema::load_dir(dir)?
    };
    let tables: Vec<&Schema> = loaded.iter().filter_map(|r| r.as_ref().ok()).collect();
    let checked = loaded
        .iter()
        .map(|result| match result {
            Ok(schema) => Checked {
                file: if dir.is_file() {
                    dir.to_path_buf()
                } else {
                    dir.join(format!("{}.json", schema.name))
                },
                table: Some(schema.name.clone()),
                problems: schema::check_references(schema, &tables),
            },
            Err(SchemaError::Invalid { path, problems }) => Checked {
                file: path.clone(),
                table: None,
                problems: problems.clone(),
            },
            Err(SchemaError::Read { path, error }) => Checked {
                file: path.clone(),
                table: None,
                problems: vec![Problem {
                    pointer: String::new(),
                    message: format!("cannot read: {error}"),
                }],
            },
        })
        .collect();
    Ok(checked)
}

fn check(settings: &Settings, args: CheckArgs) -> Result<ExitCode, Failure> {
    let dir = args.dir.unwrap_or_else(|| settings.schemas.clone());
    let checked = check_dir(&dir).map_err(|error| {
        let code = match error.exit_code() {
            ExitCode::NoInput => ExitCode::NoInput,
            _ => ExitCode::IoErr,
        };
        Failure::new(code, error)
    })?;
    let valid = checked.iter().all(|checked| checked.problems.is_empty());
    let text = if args.json {
        as_json(&checked, valid)
    } else {
        as_text(&dir, &checked)
    };
    io::stdout()
        .write_all(text.as_bytes())
        .map_err(Failure::stdout)?;
    Ok(if valid {
        ExitCode::Ok
    } else {
        ExitCode::Config
    })
}

fn as_text(dir: &Path, checked: &[Checked]) -> String {
    let mut text = String::new();
    for file in checked {
        for problem in &file.problems {
            text.push_str(&format!("{}: {problem}\n", file.file.display()));
        }
    }
    let bad = checked.iter().filter(|c| !c.problems.is_empty()).count();
    let problems: usize = checked.iter().map(|c| c.problems.len()).sum();
    text.push_str(&match (checked.len(), bad) {
        (0, _) => format!("no schemas (*.json) in {}\n", dir.display()),
        (count, 0) => format!("{count} schema(s) in {}: all fine\n", dir.display()),
        (count, bad) => format!(
            "{count} schema(s) in {}: {problems} problem(s) in {bad} file(s)\n",
            dir.display()
        ),
    });
    text
}

fn as_json(checked: &[Checked], valid: bool) -> String {
    let schemas: Vec<serde_json::Value> = checked
        .iter()
        .map(|file| {
            let problems: Vec<serde_json::Value> = file
                .problems
                .iter()
                .map(|p| json!({"pointer": p.pointer, "message": p.message}))
                .collect();
            json!({
                "file": file.file.to_string_lossy(),
                "table": file.table,
                "problems": problems,
            })
        })
        .collect();
    format!("{}\n", json!({"valid": valid, "schemas": schemas}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).expect("write a schema");
    }

    #[test]
    fn all_problems_of_all_files_are_listed_with_file_and_pointer() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(
            dir.path(),
            "customers.json",
            r#"{"fields": [{"name": "id", "type": "integer"}], "primaryKey": "id"}"#,
        );
        write(
            dir.path(),
            "orders.json",
            r#"{"fields": [{"name": "id", "type": "integer"}, {"name": "customer", "type": "integer"}],
                "primaryKey": "id",
                "foreignKeys": [
                    {"fields": "customer", "reference": {"resource": "customers", "fields": "number"}},
                    {"fields": "customer", "reference": {"resource": "clients", "fields": "id"}}
                ]}"#,
        );
        write(
            dir.path(),
            "broken.json",
            r#"{"fields": [{"name": "a", "type": "text"}]"#,
        );
        write(dir.path(), "notes.txt", "not a schema");
        let checked = check_dir(dir.path()).expect("a readable directory");
        let tables: Vec<Option<&str>> = checked.iter().map(|c| c.table.as_deref()).collect();
        assert_eq!(tables, [None, Some("customers"), Some("orders")]);
        let text = as_text(dir.path(), &checked);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert!(
            lines[0].contains("broken.json: not valid JSON"),
            "{}",
            lines[0]
        );
        assert!(
            lines[1].ends_with(
                "orders.json: /foreignKeys/0/reference/fields/0: table \"customers\" has no field named \"number\""
            ),
            "{}",
            lines[1]
        );
        assert!(
            lines[2].ends_with(
                "orders.json: /foreignKeys/1/reference/resource: no schema for table \"clients\""
            ),
            "{}",
            lines[2]
        );
        assert!(
            lines[3].ends_with("3 problem(s) in 2 file(s)"),
            "{}",
            lines[3]
        );
        let json: serde_json::Value =
            serde_json::from_str(&as_json(&checked, false)).expect("valid JSON");
        assert_eq!(json["valid"], false);
        assert_eq!(json["schemas"][1]["problems"], json!([]));
    }

    #[test]
    fn one_file_can_be_checked_on_its_own() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(
            dir.path(),
            "a.json",
            r#"{"fields": [{"name": "x", "type": "nope"}]}"#,
        );
        let checked = check_dir(&dir.path().join("a.json")).expect("a readable file");
        assert_eq!(checked.len(), 1);
        assert_eq!(checked[0].problems.len(), 1);
        assert!(checked[0].file.ends_with("a.json"));
    }

    #[test]
    fn a_missing_directory_is_no_input() {
        let dir = tempfile::tempdir().expect("tempdir");
        let error = check_dir(&dir.path().join("nope")).expect_err("no such directory");
        assert_eq!(error.exit_code(), ExitCode::NoInput);
    }
}
