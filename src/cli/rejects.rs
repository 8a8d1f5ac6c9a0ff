//! `droplake rejects TABLE`: every rejected row of a table's loads, with the
//! reason, newest load first; `--load ID` narrows to one load.

use clap::Args;

use super::Failure;
use super::query::{Form, print_query};
use crate::config::Settings;
use crate::exit::ExitCode;
use crate::lake::DatasetName;

/// Arguments of `droplake rejects`.
#[derive(Debug, Args)]
pub struct RejectsArgs {
    /// The warehouse table.
    pub table: DatasetName,

    /// Only the rejects of this load.
    #[arg(long, value_name = "ID")]
    pub load: Option<i64>,

    /// Print one JSON array of objects, with the raw record of each row.
    #[arg(long)]
    pub json: bool,
}

pub fn run(settings: &Settings, args: RejectsArgs) -> Result<ExitCode, Failure> {
    // The table name is a validated dataset name (letters, digits, - _ .),
    // and the connection is read-only, so quoting it as a literal is safe.
    let table = args.table.as_str().replace('\'', "''");
    let load = args
        .load
        .map(|id| format!(" AND l.id = {id}"))
        .unwrap_or_default();
    let columns = if args.json {
        "l.id AS load_id, l.object_path AS object, r.row_number AS row, r.field, r.field_number AS fieldNumber, \
         r.value, r.error_type AS type, r.constraint_name AS \"constraint\", r.message, r.record"
    } else {
        "l.id AS load, r.row_number AS row, r.field, r.error_type AS type, r.value, r.message"
    };
    let sql = format!(
        "SELECT {columns} FROM _droplake_rejects r JOIN _droplake_loads l ON l.id = r.load_id \
         WHERE l.table_name = '{table}'{load} ORDER BY l.id DESC, r.row_number, r.field_number"
    );
    print_query(
        &settings.warehouse,
        &sql,
        if args.json { Form::Json } else { Form::Table },
    )?;
    Ok(ExitCode::Ok)
}
