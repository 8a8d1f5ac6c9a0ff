//! `droplake show OBJECT [--json]`: one object's whole story (see
//! [`crate::inspect::story`]); OBJECT is an object id or a path in the lake.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::Failure;
use super::lake_path::{self, Named};
use super::output::{self, Cell, Column, Style, Table, Tone, fit, plural, time};
use crate::config::Settings;
use crate::exit::ExitCode;
use crate::inspect::story::{self, Attempt, HandlerJob, Story, Which};

/// Lines of a handler's output shown for people (all of it is in --json).
const OUTPUT_LINES: usize = 3;

/// Arguments of `droplake show`.
#[derive(Debug, Args)]
#[command(
    after_help = "An unknown object exits 66. The keys of --json are documented in \
    docs/inspect.md."
)]
pub struct ShowArgs {
    /// An object id, or its file (relative to the working directory,
    /// absolute, or relative to the lake), which names the newest object
    /// at that path. Write a file named like a number as ./7.
    #[arg(value_name = "OBJECT")]
    pub object: PathBuf,

    /// Print one JSON object with documented keys, with handlers' whole
    /// captured output.
    #[arg(long)]
    pub json: bool,
}

pub fn run(settings: &Settings, args: ShowArgs) -> Result<ExitCode, Failure> {
    let named = lake_path::object(&settings.lake, &args.object)?;
    let story = match &named {
        Named::Id(id) => story::tell(settings, Which::Id(*id))?,
        Named::File(located) => story::tell(
            settings,
            Which::File {
                relative: located.relative.as_deref(),
                shown: &located.shown(),
            },
        )?,
    };
    let text = if args.json {
        super::json_document(&story)
    } else {
        render(&story, Style::stdout())
    };
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(Failure::stdout)?;
    Ok(ExitCode::Ok)
}

/// The story for people: the object, then its handlers, load, rejects,
/// receipt and events, each under a heading.
pub(super) fn render(story: &Story, style: Style) -> String {
    let object = &story.object;
    let mut out = style.heading(&format!("Object {}  {}", object.id, object.path));
    let mut facts = Facts::default();
    facts.add_toned(
        "state",
        object.state.name(),
        Tone::of_state(object.state.name()),
    );
    facts.add("dataset", &object.dataset);
    facts.add("file", &object.file);
    facts.add("size", &plural(object.size, "byte"));
    facts.add("sha256", &object.sha256);
    if let Some(mtime) = &object.mtime {
        facts.add("modified", &time(mtime));
    }
    let readiness = &story.readiness;
    let rule = match (&readiness.settle, &readiness.marker) {
        (Some(settle), _) => format!("settle {settle}: registered once unchanged that long"),
        (_, Some(marker)) => format!("marker: registered once {marker} existed"),
        _ => readiness.rule.to_owned(),
    };
    facts.add("ready", &rule);
    if let Some(mismatch) = &readiness.marker_mismatch {
        facts.add_toned("marker", mismatch, Tone::Bad);
    }
    facts.add("detected", &time(&object.detected_at));
    facts.add(
        "finished",
        &object
            .finished_at
            .as_deref()
            .map_or_else(|| String::from("not yet"), time),
    );
    if let Some(of) = object.duplicate_of {
        facts.add_toned(
            "duplicate",
            &format!("of object {of}: the same content; nothing ran"),
            Tone::Faint,
        );
    }
    if !story.duplicates.is_empty() {
        facts.add("duplicates", &format!("objects {}", ids(&story.duplicates)));
    }
    if !story.same_path.is_empty() {
        facts.add(
            "same path",
            &format!("objects {} (other contents)", ids(&story.same_path)),
        );
    }
    if let Some(removed) = &story.removed {
        let how = match &removed.archive {
            Some(archive) => format!("archived to {archive}"),
            None => String::from("deleted"),
        };
        facts.add(
            "removed",
            &format!("{} by retention: {how}", time(&removed.at)),
        );
    }
    out.push_str(&facts.render(style));

    out.push('\n');
    out.push_str(&style.heading("Handlers"));
    if story.handlers.is_empty() {
        out.push_str(&style.paint(
            "(none: no table and no handler for this dataset)",
            Tone::Faint,
        ));
        out.push('\n');
    }
    let width = story
        .handlers
        .iter()
        .map(|job| output::width(&job.name))
        .max()
        .unwrap_or(0);
    for job in &story.handlers {
        out.push_str(&handler(job, width, style));
    }

    if let Some(load) = &story.load {
        out.push('\n');
        out.push_str(&style.heading(&format!("Load {} into {}", load.id, load.table)));
        let mut facts = Facts::default();
        facts.add_toned("outcome", &load.outcome, Tone::of_state(&load.outcome));
        facts.add(
            "rows",
            &format!(
                "{} read, {} loaded, {} rejected",
                load.rows_read, load.rows_loaded, load.rows_rejected
            ),
        );
        facts.add("started", &time(&load.started_at));
        if let Some(finished) = &load.finished_at {
            facts.add("finished", &time(finished));
        }
        if let Some(message) = &load.message {
            facts.add("message", message);
        }
        out.push_str(&facts.render(style));
    }

    if let Some(rejects) = &story.rejects {
        out.push('\n');
        out.push_str(&style.heading(&format!(
            "Rejected rows: {} in all; the first {}",
            rejects.total,
            rejects.first.len()
        )));
        let mut table = Table::new(vec![
            Column::number("row"),
            Column::free("field"),
            Column::text("type"),
            Column::free("value"),
            Column::free("message"),
        ])
        .indent(2);
        for reject in &rejects.first {
            table.push(vec![
                Cell::from(reject.row.map(|row| row.to_string()).unwrap_or_default()),
                Cell::from(reject.field.clone().unwrap_or_default()),
                Cell::toned(reject.kind.as_str(), Tone::Bad),
                Cell::from(reject.value.clone().unwrap_or_default()),
                Cell::from(reject.message.as_str()),
            ]);
        }
        out.push_str(&table.render(style));
        out.push_str(&fit(&format!("  all of them: {}", rejects.command)));
        out.push('\n');
    }

    if let Some(receipt) = &story.receipt {
        out.push('\n');
        out.push_str(&style.heading("Receipt"));
        let mut facts = Facts::default();
        let (kind, tone) = if receipt.accepted {
            ("ack", Tone::Good)
        } else {
            ("nak", Tone::Bad)
        };
        facts.add_toned("kind", kind, tone);
        facts.add("file", &receipt.path);
        facts.add("written", &time(&receipt.written_at));
        out.push_str(&facts.render(style));
    }

    out.push('\n');
    out.push_str(&style.heading("Events"));
    let mut table = Table::new(vec![
        Column::text("at"),
        Column::text("event"),
        Column::free("handler"),
    ])
    .indent(2);
    for event in &story.events {
        let text = |key: &str| {
            event
                .get(key)
                .and_then(|value| value.as_str())
                .unwrap_or("")
        };
        table.push(vec![
            Cell::from(time(text("at"))),
            Cell::toned(text("kind"), Tone::of_event(text("kind"))),
            Cell::from(text("handler")),
        ]);
    }
    out.push_str(&table.render(style));
    out
}

/// A handler's job: its state, then each attempt with its error and the
/// end of its output.
fn handler(job: &HandlerJob, width: usize, style: Style) -> String {
    let mut head = format!(
        "{:<width$}  {}",
        job.name,
        style.paint(&job.state, Tone::of_state(&job.state))
    );
    if job.attempt_count > 0 {
        head.push_str(&format!(
            " after {}",
            plural(u64::from(job.attempt_count), "attempt")
        ));
    }
    if let Some(next) = &job.next_attempt_at {
        head.push_str(&format!(", next at {}", time(next)));
    }
    let mut out = format!("  {head}\n");
    if job.attempts.is_empty()
        && let Some(error) = &job.last_error
    {
        out.push_str(&style.paint(&fit(&format!("    error: {error}")), Tone::Bad));
        out.push('\n');
    }
    for attempt in &job.attempts {
        out.push_str(&self::attempt(attempt, style));
    }
    out
}

fn attempt(attempt: &Attempt, style: Style) -> String {
    let mut parts = vec![style.paint(&attempt.outcome, Tone::of_state(&attempt.outcome))];
    if let Some(code) = attempt.exit_code {
        parts.push(format!("exit code {code}"));
    }
    if let Some(signal) = attempt.signal {
        parts.push(format!("signal {signal}"));
    }
    if let Some(load) = attempt.load_id {
        parts.push(format!("load {load}"));
    }
    parts.push(time(&attempt.started_at));
    parts.push(format!(
        "took {}",
        took(&attempt.started_at, &attempt.finished_at)
    ));
    let mut out = format!("    #{} {}\n", attempt.attempt, parts.join(", "));
    let indent = "       ";
    if let Some(error) = &attempt.error {
        out.push_str(&style.paint(&fit(&format!("{indent}error: {error}")), Tone::Bad));
        out.push('\n');
    }
    for (name, text, dropped) in [
        ("stdout", &attempt.stdout, attempt.stdout_dropped),
        ("stderr", &attempt.stderr, attempt.stderr_dropped),
    ] {
        let lines: Vec<&str> = text
            .lines()
            .filter(|line| !line.trim().is_empty())
            .collect();
        let only_the_error = lines.len() == 1
            && attempt
                .error
                .as_deref()
                .is_some_and(|error| error.trim() == lines[0].trim());
        if lines.is_empty() || only_the_error {
            continue;
        }
        let skipped = lines.len().saturating_sub(OUTPUT_LINES);
        let mut heading = format!("{indent}{name}:");
        if skipped > 0 || dropped > 0 {
            heading.push_str(" (its end; all of it: --json)");
        }
        out.push_str(&fit(&heading));
        out.push('\n');
        for line in &lines[skipped..] {
            out.push_str(&fit(&format!("{indent}  {line}")));
            out.push('\n');
        }
    }
    out
}

/// How long an attempt took: `12ms`, `1.5s`, `2m3s`.
fn took(started: &str, finished: &str) -> String {
    let (Ok(started), Ok(finished)) = (
        started.parse::<jiff::Timestamp>(),
        finished.parse::<jiff::Timestamp>(),
    ) else {
        return String::from("?");
    };
    let took = finished.duration_since(started);
    output::duration(std::time::Duration::try_from(took).unwrap_or_default())
}

/// `2, 1`.
fn ids(ids: &[i64]) -> String {
    ids.iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Aligned `name  value` lines, indented by two; long values are cut,
/// except paths and hashes, which are for copying.
#[derive(Debug, Default)]
struct Facts {
    lines: Vec<(String, String, Tone)>,
}

impl Facts {
    fn add(&mut self, name: &str, value: &str) {
        self.add_toned(name, value, Tone::Plain);
    }

    fn add_toned(&mut self, name: &str, value: &str, tone: Tone) {
        self.lines
            .push((name.to_owned(), output::clean(value), tone));
    }

    fn render(&self, style: Style) -> String {
        let width = self
            .lines
            .iter()
            .map(|(name, ..)| output::width(name))
            .max()
            .unwrap_or(0);
        let mut out = String::new();
        for (name, value, tone) in &self.lines {
            let lead = format!("  {name:<width$}  ");
            let value = if matches!(name.as_str(), "file" | "sha256") {
                value.clone()
            } else {
                output::cut_end(value, output::WIDTH.saturating_sub(output::width(&lead)))
            };
            out.push_str(&lead);
            out.push_str(&style.paint(&value, *tone));
            out.push('\n');
        }
        out
    }
}
