//! `droplake status [--json]`: the daemon, and per dataset, handler and
//! table where things stand (see [`crate::inspect::status`]).

use std::io::Write;

use clap::Args;

use super::Failure;
use super::output::{Cell, Column, Style, Table, Tone, WIDTH, ago, clean, cut_start, fit, time};
use crate::config::Settings;
use crate::exit::ExitCode;
use crate::inspect::status::{self, Daemon, Status};

/// Arguments of `droplake status`.
#[derive(Debug, Args)]
#[command(
    after_help = "Object states: waiting (jobs to run, none running), in_progress (a job \
    running), done, failed (rows rejected, no job dead), dead (a job dead), duplicate, \
    unhandled (no table and no handler: nothing ran). The keys of --json are documented in \
    docs/inspect.md."
)]
pub struct StatusArgs {
    /// Print one JSON object with documented keys.
    #[arg(long)]
    pub json: bool,
}

pub fn run(settings: &Settings, args: StatusArgs) -> Result<ExitCode, Failure> {
    let status = status::gather(settings)?;
    let text = if args.json {
        super::json_document(&status)
    } else {
        render(&status, Style::stdout())
    };
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(Failure::stdout)?;
    Ok(ExitCode::Ok)
}

/// The status for people.
pub(super) fn render(status: &Status, style: Style) -> String {
    let now = status.at.parse().unwrap_or_else(|_| jiff::Timestamp::now());
    let mut out = daemon(&status.daemon, now, style);
    let note = if status.warehouse.exists {
        ""
    } else {
        " (does not exist yet)"
    };
    // A long path keeps its end, where the file's name is.
    let room = WIDTH - "warehouse  ".len() - note.len();
    let path = cut_start(&clean(&status.warehouse.path), room);
    out.push_str(&format!("warehouse  {path}{note}\n"));

    out.push('\n');
    out.push_str(&style.heading("Datasets"));
    let mut table = Table::new(vec![
        Column::text("dataset"),
        Column::number("waiting"),
        Column::number("in progress"),
        Column::number("done"),
        Column::number("failed"),
        Column::number("dead"),
        Column::number("duplicate"),
        Column::number("unhandled"),
    ]);
    for dataset in &status.datasets {
        table.push(vec![
            Cell::from(dataset.name.as_str()),
            Cell::from(dataset.waiting),
            Cell::from(dataset.in_progress),
            Cell::toned(
                dataset.done.to_string(),
                if dataset.done > 0 {
                    Tone::Good
                } else {
                    Tone::Plain
                },
            ),
            Cell::alarm(dataset.failed),
            Cell::alarm(dataset.dead),
            Cell::from(dataset.duplicate),
            Cell::toned(
                dataset.unhandled.to_string(),
                if dataset.unhandled > 0 {
                    Tone::Busy
                } else {
                    Tone::Plain
                },
            ),
        ]);
    }
    out.push_str(&or_none(&table, style, "no objects yet"));

    out.push('\n');
    out.push_str(&style.heading("Handlers"));
    let mut table = Table::new(vec![
        Column::text("handler"),
        Column::number("pending"),
        Column::number("retry"),
        Column::number("running"),
        Column::number("dead"),
        Column::number("oldest pending"),
        Column::number("failures 24h"),
    ]);
    let mut failures = String::new();
    for handler in &status.handlers {
        let oldest = handler
            .oldest_pending
            .as_ref()
            .map_or_else(|| String::from("-"), |oldest| ago(&oldest.detected_at, now));
        table.push(vec![
            Cell::from(handler.name.as_str()),
            Cell::from(handler.pending),
            Cell::from(handler.retry),
            Cell::from(handler.running),
            Cell::alarm(handler.dead),
            Cell::from(oldest),
            Cell::alarm(handler.failures_24h),
        ]);
        if let Some(last) = &handler.last_failure
            && (handler.failures_24h > 0 || handler.dead > 0)
        {
            let error = last.error.as_deref().unwrap_or("no error recorded");
            let line = fit(&format!(
                "{}: last failed {} on object {}: {error}",
                handler.name,
                ago(&last.at, now),
                last.object_id
            ));
            failures.push_str(&style.paint(&line, Tone::Bad));
            failures.push('\n');
        }
    }
    out.push_str(&or_none(&table, style, "no jobs yet"));
    out.push_str(&failures);

    out.push('\n');
    out.push_str(&style.heading("Tables"));
    let mut table = Table::new(vec![
        Column::free("table"),
        Column::number("rows"),
        Column::number("loads"),
        Column::number("last load"),
        Column::text("outcome"),
        Column::text("finished"),
    ]);
    for entry in &status.tables {
        let rows = entry
            .rows
            .map_or_else(|| String::from("?"), |rows| rows.to_string());
        let (id, outcome, finished) = match &entry.last_load {
            Some(load) => (
                load.id.to_string(),
                Cell::state(&load.outcome),
                load.finished_at
                    .as_deref()
                    .map_or_else(|| String::from("-"), |at| ago(at, now)),
            ),
            None => (String::from("-"), Cell::from("-"), String::from("-")),
        };
        table.push(vec![
            Cell::from(entry.name.as_str()),
            Cell::from(rows),
            Cell::from(entry.loads),
            Cell::from(id),
            outcome,
            Cell::from(finished),
        ]);
    }
    out.push_str(&or_none(&table, style, "no tables yet"));
    out
}

/// The daemon's lines: whether it runs, since when, its last scan.
fn daemon(daemon: &Daemon, now: jiff::Timestamp, style: Style) -> String {
    let when = |at: &str| format!("{}, {}", time(at), ago(at, now));
    let pid = daemon
        .pid
        .map_or_else(|| String::from("pid unknown"), |pid| format!("pid {pid}"));
    let mut out = String::new();
    if daemon.running {
        let state = style.paint("running", Tone::Good);
        let mode = match daemon.mode {
            Some("once") => ", droplake run --once",
            _ => "",
        };
        out.push_str(&format!("daemon     {state} ({pid}{mode})\n"));
        if let Some(started) = &daemon.started_at {
            out.push_str(&format!("started    {}\n", when(started)));
        }
        let scan = daemon
            .last_scan_at
            .as_deref()
            .map_or_else(|| String::from("none yet"), when);
        out.push_str(&format!("last scan  {scan}\n"));
        return out;
    }
    let state = style.paint("not running", Tone::Busy);
    match (&daemon.started_at, &daemon.stopped_at) {
        (None, _) => out.push_str(&format!(
            "daemon     {state} (none has run on this warehouse)\n"
        )),
        (Some(_), Some(stopped)) => {
            out.push_str(&format!("daemon     {state}\n"));
            out.push_str(&format!("stopped    {} ({pid})\n", when(stopped)));
        }
        (Some(started), None) => {
            out.push_str(&format!(
                "daemon     {state} (the last one ended without stopping cleanly)\n"
            ));
            out.push_str(&format!("started    {} ({pid})\n", when(started)));
        }
    }
    if let Some(scan) = &daemon.last_scan_at {
        out.push_str(&format!("last scan  {}\n", when(scan)));
    }
    out
}

/// The table, or a line saying it has no rows.
fn or_none(table: &Table, style: Style, none: &str) -> String {
    if table.is_empty() {
        format!("{}\n", style.paint(&format!("({none})"), Tone::Faint))
    } else {
        table.render(style)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::status::WarehouseFile;

    fn status(daemon: Daemon, warehouse: &str) -> Status {
        Status {
            at: "2026-11-26T12:00:00Z".into(),
            warehouse: WarehouseFile {
                path: warehouse.into(),
                exists: false,
            },
            daemon,
            datasets: Vec::new(),
            handlers: Vec::new(),
            tables: Vec::new(),
        }
    }

    #[test]
    fn the_daemon_line_says_its_mode_and_never_shows_empty_parentheses() {
        let running = |pid, mode| Daemon {
            running: true,
            mode: Some(mode),
            pid,
            ..Daemon::default()
        };
        let text = render(&status(running(None, "daemon"), "/w.db"), Style::plain());
        assert!(
            text.starts_with("daemon     running (pid unknown)\n"),
            "{text}"
        );
        let text = render(&status(running(Some(7), "once"), "/w.db"), Style::plain());
        assert!(
            text.starts_with("daemon     running (pid 7, droplake run --once)\n"),
            "{text}"
        );
    }

    #[test]
    fn a_long_warehouse_path_is_cut_at_its_start_to_80_columns() {
        let path = format!("/srv/{}warehouse.db", "deep/".repeat(30));
        let text = render(&status(Daemon::default(), &path), Style::plain());
        let line = text
            .lines()
            .find(|line| line.starts_with("warehouse"))
            .expect("the warehouse line");
        assert_eq!(line.chars().count(), WIDTH, "{line}");
        assert!(
            line.ends_with("deep/warehouse.db (does not exist yet)"),
            "{line}"
        );
    }
}
