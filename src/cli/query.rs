//! `droplake query SQL`: read-only SQL over the warehouse.
//!
//! Output is an aligned table for people, or `--csv`, `--json` (one array of
//! objects) or `--jsonl` (one object per line) for programs. Blobs are shown
//! as hexadecimal; NULL is an empty cell in tables and CSV, `null` in JSON.

use std::io::{self, Write};

use clap::Args;
use rusqlite::types::Value;

use super::Failure;
use super::output::{self, Cell, Column, Style, Tone};
use crate::config::Settings;
use crate::exit::ExitCode;
use crate::warehouse::query::{self, Sink};

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
pub(super) enum Form {
    Table,
    Csv,
    Json,
    JsonLines,
}

pub fn run(settings: &Settings, args: QueryArgs) -> Result<ExitCode, Failure> {
    let form = match (args.csv, args.json, args.jsonl) {
        (true, ..) => Form::Csv,
        (_, true, _) => Form::Json,
        (.., true) => Form::JsonLines,
        _ => Form::Table,
    };
    print_query(&settings.warehouse, &args.sql, form)?;
    Ok(ExitCode::Ok)
}

/// Runs `sql` on the warehouse at `path` and prints the result in `form`.
pub(super) fn print_query(path: &std::path::Path, sql: &str, form: Form) -> Result<u64, Failure> {
    let stdout = io::stdout().lock();
    let mut sink: Box<dyn Sink> = match form {
        Form::Csv => Box::new(Csv(csv::Writer::from_writer(stdout))),
        Form::Json | Form::JsonLines => Box::new(Json {
            out: stdout,
            columns: Vec::new(),
            rows: 0,
            lines: form == Form::JsonLines,
        }),
        Form::Table => Box::new(Table {
            out: stdout,
            columns: Vec::new(),
            rows: Vec::new(),
            numeric: Vec::new(),
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

/// Buffers the rows to size the columns, then prints them as an
/// [`output::Table`]: a column of numbers only is right-aligned, any other
/// is cut at its end when the table is wider than 80 columns.
struct Table<W: Write> {
    out: W,
    columns: Vec<String>,
    rows: Vec<Vec<String>>,
    /// Per column: whether every value so far is a number or NULL.
    numeric: Vec<bool>,
}

impl<W: Write> Sink for Table<W> {
    fn columns(&mut self, names: &[String]) -> io::Result<()> {
        self.columns = names.to_vec();
        self.numeric = vec![true; names.len()];
        Ok(())
    }
    fn row(&mut self, values: &[Value]) -> io::Result<()> {
        for (numeric, value) in self.numeric.iter_mut().zip(values) {
            *numeric &= matches!(value, Value::Null | Value::Integer(_) | Value::Real(_));
        }
        self.rows.push(values.iter().map(text).collect());
        Ok(())
    }
    fn finish(&mut self) -> io::Result<()> {
        let columns = self
            .columns
            .iter()
            .zip(&self.numeric)
            .map(|(name, numeric)| {
                if *numeric && !self.rows.is_empty() {
                    Column::number(name)
                } else {
                    Column::free(name)
                }
            })
            .collect();
        let mut table = output::Table::new(columns);
        for row in self.rows.drain(..) {
            table.push(row.into_iter().map(Cell::from).collect());
        }
        let style = Style::stdout();
        self.out.write_all(table.render(style).as_bytes())?;
        let footer = format!("({})", output::plural(table.len() as u64, "row"));
        writeln!(self.out, "{}", style.paint(&footer, Tone::Faint))?;
        self.out.flush()
    }
}
