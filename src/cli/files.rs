//! `droplake files [DATASET] [--state STATE] [--since TIME] [--limit N]
//! [--json]`: the objects with where each stands, newest first.

use std::io::Write;

use clap::Args;

use super::Failure;
use super::output::{Cell, Column, Style, Table, Tone, plural, time};
use crate::config::Settings;
use crate::exit::ExitCode;
use crate::inspect::files::{self, Files, Filter};
use crate::inspect::{ObjectState, parse_since};
use crate::lake::DatasetName;

/// How many objects people see unless they ask for more.
const DEFAULT_LIMIT: u64 = 50;

/// Arguments of `droplake files`.
#[derive(Debug, Args)]
#[command(
    after_help = "The rows column is rows loaded/rejected. The keys of --json are \
    documented in docs/inspect.md."
)]
pub struct FilesArgs {
    /// Only this dataset's objects.
    pub dataset: Option<DatasetName>,

    /// Only objects in this state.
    #[arg(long, value_enum, value_name = "STATE")]
    pub state: Option<ObjectState>,

    /// Only objects detected since TIME: RFC 3339 (2026-11-26T12:00:00Z) or
    /// a duration before now (30m, 2h, 7d).
    #[arg(long, value_name = "TIME", value_parser = parse_since)]
    pub since: Option<jiff::Timestamp>,

    /// List at most N objects, the newest (default: 50 for people, all with
    /// --json; 0: all).
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,

    /// Print one JSON object with documented keys.
    #[arg(long)]
    pub json: bool,
}

pub fn run(settings: &Settings, args: FilesArgs) -> Result<ExitCode, Failure> {
    let limit = match (args.limit, args.json) {
        (Some(0), _) | (None, true) => None,
        (Some(limit), _) => Some(limit),
        (None, false) => Some(DEFAULT_LIMIT),
    };
    let filter = Filter {
        dataset: args.dataset.map(|dataset| dataset.to_string()),
        state: args.state,
        since: args.since,
        limit,
    };
    let files = files::list(settings, &filter)?;
    let text = if args.json {
        super::json_document(&files)
    } else if !settings.warehouse.exists() {
        format!(
            "No objects: the warehouse {} does not exist yet.\n",
            settings.warehouse.display()
        )
    } else {
        render(&files, Style::stdout())
    };
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(Failure::stdout)?;
    Ok(ExitCode::Ok)
}

/// The objects for people: a table, and how many there are.
pub(super) fn render(files: &Files, style: Style) -> String {
    if files.objects.is_empty() {
        return String::from("No objects match.\n");
    }
    let mut table = Table::new(vec![
        Column::number("id"),
        Column::free("dataset"),
        Column::text("state"),
        Column::text("detected"),
        Column::number("rows"),
        Column::path("path"),
    ]);
    for object in &files.objects {
        let rows = match (object.rows_loaded, object.rows_rejected) {
            (Some(loaded), Some(rejected)) => format!("{loaded}/{rejected}"),
            _ => String::from("-"),
        };
        table.push(vec![
            Cell::from(object.id),
            Cell::from(object.dataset.as_str()),
            Cell::state(object.state.name()),
            Cell::from(time(&object.detected_at)),
            Cell::from(rows),
            Cell::from(object.path.as_str()),
        ]);
    }
    let mut out = table.render(style);
    let footer = if files.truncated {
        format!(
            "({} of {} shown, newest first; --limit N for more)",
            files.objects.len(),
            files.total
        )
    } else {
        format!("({})", plural(files.total, "object"))
    };
    out.push_str(&style.paint(&footer, Tone::Faint));
    out.push('\n');
    out
}
