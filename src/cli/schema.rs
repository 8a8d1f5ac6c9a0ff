//! `droplake schema check [DIR]`: checks every table schema in a directory.
//!
//! Each `*.json` file is loaded as the schema of the table named after it,
//! with every problem collected, and foreign keys to other tables are checked
//! against the other schemas of the same directory. All problems are printed,
//! one a line as `FILE: JSON-POINTER: message`; the exit code is 0 when every
//! schema is fine and 78 (configuration error) otherwise.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use serde_json::json;

use super::Failure;
use crate::config::Settings;
use crate::exit::{ExitCode, HasExitCode};
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

pub fn run(settings: &Settings, args: SchemaArgs) -> Result<ExitCode, Failure> {
    match args.command {
        SchemaCommand::Check(args) => check(settings, args),
        SchemaCommand::Diff(args) => evolve(settings, args.table, None),
        SchemaCommand::Apply(args) => evolve(settings, args.table, Some(args.allow_breaking)),
    }
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
