//! `droplake query SQL`: read-only SQL over the warehouse.
//!
//! Output is an aligned table for people, or `--csv`, `--json` (one array of
//! objects) or `--jsonl` (one object per line) for programs. Blobs are shown
//! as hexadecimal; NULL is an empty cell in tables and CSV, `null` in JSON.

use std::io::{self, Write};

use clap::Args;
use rusqlite::types::Value;

use super::Failure;
use crate::config::Settings;
use crate::exit::ExitCode;
use crate::warehouse::query::{self, Sink};

/// The widest a table column grows before its cells are cut short.
const MAX_CELL_WIDTH: usize = 40;

/// Arguments of `droplake query`.
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// One SQL statement that only reads, such as `SELECT * FROM orders LIMIT 5`.
    pub sql: String,

    /// Print CSV with a header row.
    #[arg(long, conflicts_with_all = ["json", "jsonl"])]
    pub csv: bool,

    /// Print one JSON array of objects.
    #[arg(long, conflicts_with = "jsonl")]
    pub json: bool,

    /// Print one JSON object per row, a line each.
    #[arg(long)]
    pub jsonl: bool,
}

/// How a result is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Style {
    Table,
    Csv,
    Json,
    JsonLines,
}

pub fn run(settings: &Settings, args: QueryArgs) -> Result<ExitCode, Failure> {
    let style = match (args.csv, args.json, args.jsonl) {
        (true, ..) => Style::Csv,
        (_, true, _) => Style::Json,
        (.., true) => Style::JsonLines,
        _ => Style::Table,
    };
    print_query(&settings.warehouse, &args.sql, style)?;
    Ok(ExitCode::Ok)
}

/// Runs `sql` on the warehouse at `path` and prints the result in `style`.
pub(super) fn print_query(path: &std::path::Path, sql: &str, style: Style) -> Result<u64, Failure> {
    let stdout = io::stdout().lock();
    let mut sink: Box<dyn Sink> = match style {
        Style::Csv => Box::new(Csv(csv::Writer::from_writer(stdout))),
        Style::Json | Style::JsonLines => Box::new(Json {
            out: stdout,
            columns: Vec::new(),
            rows: 0,
            lines: style == Style::JsonLines,
        }),
        Style::Table => Box::new(Table {
            out: stdout,
            columns: Vec::new(),
            rows: Vec::new(),
        }),
    };
    Ok(query::query(path, sql, sink.as_mut())?)
}

fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Integer(n) => n.to_string(),
        Value::Real(x) => x.to_string(),
        Value::Text(text) => text.clone(),
        Value::Blob(bytes) => hex::encode(bytes),
    }
}

fn json(value: &Value) -> serde_json::Value {
    match value {
        Value::Null => serde_json::Value::Null,
        Value::Integer(n) => (*n).into(),
        Value::Real(x) => {
            serde_json::Number::from_f64(*x).map_or(serde_json::Value::Null, Into::into)
        }
        Value::Text(text) => text.as_str().into(),
        Value::Blob(bytes) => hex::encode(bytes).into(),
    }
}

struct Csv<W: Write>(csv::Writer<W>);

impl<W: Write> Sink for Csv<W> {
    fn columns(&mut self, names: &[String]) -> io::Result<()> {
        self.0.write_record(names).map_err(io::Error::other)
    }
    fn row(&mut self, values: &[Value]) -> io::Result<()> {
        self.0
            .write_record(values.iter().map(text))
            .map_err(io::Error::other)
    }
    fn finish(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

struct Json<W: Write> {
    out: W,
    columns: Vec<String>,
    rows: u64,
    /// One object per line instead of one array.
    lines: bool,
}

impl<W: Write> Sink for Json<W> {
    fn columns(&mut self, names: &[String]) -> io::Result<()> {
        self.columns = names.to_vec();
        Ok(())
    }
    fn row(&mut self, values: &[Value]) -> io::Result<()> {
        let object: serde_json::Map<String, serde_json::Value> = self
            .columns
            .iter()
            .cloned()
            .zip(values.iter().map(json))
            .collect();
        let separator = match (self.lines, self.rows) {
            (true, _) => "",
            (false, 0) => "[\n",
            (false, _) => ",\n",
        };
        self.rows += 1;
        write!(self.out, "{separator}{}", serde_json::Value::Object(object))?;
        if self.lines {
            writeln!(self.out)
        } else {
            Ok(())
        }
    }
    fn finish(&mut self) -> io::Result<()> {
        match (self.lines, self.rows) {
            (true, _) => Ok(()),
            (false, 0) => writeln!(self.out, "[]"),
            (false, _) => writeln!(self.out, "\n]"),
        }?;
        self.out.flush()
    }
}

/// Buffers the rows to size the columns, then prints them aligned.
struct Table<W: Write> {
    out: W,
    columns: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl<W: Write> Sink for Table<W> {
    fn columns(&mut self, names: &[String]) -> io::Result<()> {
        self.columns = names.to_vec();
        Ok(())
    }
    fn row(&mut self, values: &[Value]) -> io::Result<()> {
        self.rows
            .push(values.iter().map(|value| cut(&text(value))).collect());
        Ok(())
    }
    fn finish(&mut self) -> io::Result<()> {
        let mut widths: Vec<usize> = self
            .columns
            .iter()
            .map(|name| name.chars().count())
            .collect();
        for row in &self.rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let line = |cells: &mut dyn Iterator<Item = &str>| -> String {
            let padded: Vec<String> = cells
                .zip(&widths)
                .map(|(cell, width)| format!("{cell:<width$}"))
                .collect();
            padded.join("  ").trim_end().to_string()
        };
        writeln!(
            self.out,
            "{}",
            line(&mut self.columns.iter().map(String::as_str))
        )?;
        writeln!(
            self.out,
            "{}",
            line(
                &mut widths
                    .iter()
                    .map(|width| "-".repeat(*width))
                    .collect::<Vec<_>>()
                    .iter()
                    .map(String::as_str)
            )
        )?;
        for row in &self.rows {
            writeln!(self.out, "{}", line(&mut row.iter().map(String::as_str)))?;
        }
        let count = self.rows.len();
        writeln!(
            self.out,
            "({count} row{})",
            if count == 1 { "" } else { "s" }
        )?;
        self.out.flush()
    }
}

/// A cell fit for one line of a table: newlines shown as `⏎`, long text cut.
fn cut(text: &str) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c == '\n' { '⏎' } else { c })
        .collect();
    if flat.chars().count() <= MAX_CELL_WIDTH {
        return flat;
    }
    let mut short: String = flat.chars().take(MAX_CELL_WIDTH - 1).collect();
    short.push('…');
    short
}
