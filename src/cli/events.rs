//! `droplake events [--follow] [--json]`: the event log, one line an event
//! for people (fitted to 80 columns) or one JSON object a line.

use std::io::{self, Write};
use std::time::Duration;

use clap::Args;

use super::Failure;
use super::output::{self, Style, Tone};
use crate::config::Settings;
use crate::events::{self, Event};
use crate::exit::ExitCode;
use crate::warehouse::{WarehouseError, open_read_only};

/// Arguments of `droplake events`.
#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Keep printing new events as they are appended.
    #[arg(long, short)]
    pub follow: bool,

    /// Print each event as one JSON object per line.
    #[arg(long)]
    pub json: bool,

    /// Start after this sequence number (default: the last 20 events, or
    /// all of them with --json).
    #[arg(long, value_name = "SEQ")]
    pub after: Option<i64>,
}

pub fn run(settings: &Settings, args: EventsArgs) -> Result<ExitCode, Failure> {
    let mut stdout = io::stdout().lock();
    let style = Style::stdout();
    let connection = loop {
        match open_read_only(&settings.warehouse) {
            Ok(connection) => break connection,
            Err(WarehouseError::Missing { .. }) if args.follow => {
                std::thread::sleep(Duration::from_millis(500));
            }
            Err(error) => return Err(error.into()),
        }
    };
    let sql = |error| WarehouseError::from_sqlite(&settings.warehouse, error);
    let mut after = match args.after {
        Some(after) => after,
        None if args.json => 0,
        None => (events::last_seq(&connection).map_err(sql)? - 20).max(0),
    };
    loop {
        let batch = events::since(&connection, after, 1000).map_err(sql)?;
        for event in &batch {
            print(&mut stdout, event, args.json, style).map_err(Failure::stdout)?;
            after = event.seq;
        }
        if batch.len() == 1000 {
            continue;
        }
        if !args.follow {
            return Ok(ExitCode::Ok);
        }
        stdout.flush().map_err(Failure::stdout)?;
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn print(out: &mut impl Write, event: &Event, json: bool, style: Style) -> io::Result<()> {
    if json {
        return writeln!(out, "{}", event.to_json());
    }
    let object = event
        .body
        .get("object")
        .and_then(|object| object.get("path"))
        .and_then(|path| path.as_str())
        .unwrap_or("");
    let mut detail = String::new();
    for key in ["state", "error"] {
        if let Some(value) = event.body.get(key).and_then(|value| value.as_str()) {
            detail.push_str(&format!("  {key}: {value}"));
        }
    }
    if let Some(load) = event.body.get("load").filter(|load| load.is_object()) {
        detail.push_str(&format!(
            "  loaded {} rejected {}",
            load.get("rows_loaded").unwrap_or(&serde_json::Value::Null),
            load.get("rows_rejected")
                .unwrap_or(&serde_json::Value::Null)
        ));
    }
    let handler = event
        .handler
        .as_deref()
        .map(|h| format!(" [{h}]"))
        .unwrap_or_default();
    // One line of at most 80 columns: what does not fit is cut from the
    // end (`droplake show` tells an object's story in full).
    let lead = format!("{:>6}  {}  ", event.seq, output::time(&event.at));
    let padding = " ".repeat(23usize.saturating_sub(output::width(&event.kind)));
    let room = output::WIDTH
        .saturating_sub(output::width(&lead) + output::width(&event.kind) + padding.len());
    let rest = output::cut_end(&output::clean(&format!("{object}{handler}{detail}")), room);
    let kind = style.paint(&event.kind, Tone::of_event(&event.kind));
    let line = format!("{lead}{kind}{padding}{rest}");
    writeln!(out, "{}", line.trim_end())
}
