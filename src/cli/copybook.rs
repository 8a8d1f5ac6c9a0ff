//! `droplake copybook layout FILE`: the record layout a COBOL copybook
//! describes.
//!
//! One line per item, indented by depth: level and name, START and END
//! (1-based byte positions, END included), LENGTH in bytes, the TYPE as the
//! copybook writes it, and NOTES (REDEFINES, OCCURS). An OCCURS item's
//! positions span all its occurrences, at the maximum count; the items under
//! it show their first occurrence. Condition names (88) are listed under
//! their item with their values. `--json` prints the same as one object
//! (see `docs/mainframe.md`). Needs no configuration.

use std::io::{self, Write};
use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Value as Json, json};

use super::Failure;
use crate::exit::ExitCode;
use crate::mainframe::copybook::{
    Copybook, DataType, FloatWidth, Item, SignPosition, SourceFormat, ZonedSign,
};

/// Arguments of `droplake copybook`.
#[derive(Debug, Args)]
pub struct CopybookArgs {
    #[command(subcommand)]
    pub command: CopybookCommand,
}

/// The subcommands of `droplake copybook`.
#[derive(Debug, Subcommand)]
pub enum CopybookCommand {
    /// Print each item's level, name, byte positions, length and type.
    Layout(LayoutArgs),
}

/// Arguments of `droplake copybook layout`.
#[derive(Debug, Args)]
pub struct LayoutArgs {
    /// The copybook.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    #[command(flatten)]
    pub source: SourceArgs,

    /// Print one JSON object: {"copybook", "source_format", "record_length",
    /// "records", "items"}; each item has its offset (0-based), length (one
    /// occurrence), start and end (1-based, all occurrences) and type.
    #[arg(long)]
    pub json: bool,
}

/// How the copybook's source is read; shared with `schema from-copybook`.
#[derive(Debug, Args)]
pub struct SourceArgs {
    /// The copybook's source format: fixed (columns 8-72), free, or auto
    /// (fixed unless a line has code in columns 1-6 or past 72).
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = SourceFormatArg::Auto)]
    pub source_format: SourceFormatArg,
}

/// The source formats, as the command line names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SourceFormatArg {
    Auto,
    Fixed,
    Free,
}

impl SourceArgs {
    /// Reads the copybook at `path` in the chosen format.
    pub fn load(&self, path: &std::path::Path) -> Result<Copybook, Failure> {
        let format = match self.source_format {
            SourceFormatArg::Auto => SourceFormat::Auto,
            SourceFormatArg::Fixed => SourceFormat::Fixed,
            SourceFormatArg::Free => SourceFormat::Free,
        };
        Ok(Copybook::load(path, format)?)
    }
}

pub fn run(args: CopybookArgs) -> Result<ExitCode, Failure> {
    match args.command {
        CopybookCommand::Layout(args) => layout(args),
    }
}

fn layout(args: LayoutArgs) -> Result<ExitCode, Failure> {
    let copybook = args.source.load(&args.file)?;
    let text = if args.json {
        format!("{}\n", as_json(&copybook))
    } else {
        as_table(&copybook)
    };
    io::stdout()
        .write_all(text.as_bytes())
        .map_err(Failure::stdout)?;
    Ok(ExitCode::Ok)
}

/// The name an item is shown by.
fn shown_name(item: &Item) -> &str {
    match (&item.name, item.parent) {
        (None, None) => "(record)",
        _ => item.display_name(),
    }
}

/// What the NOTES column says about an item.
fn notes(copybook: &Copybook, item: &Item) -> String {
    let mut notes = Vec::new();
    if let Some(redefined) = item.redefines {
        notes.push(format!(
            "REDEFINES {}",
            shown_name(copybook.item(redefined))
        ));
    }
    if !item.redefined_by.is_empty() {
        let by: Vec<&str> = item
            .redefined_by
            .iter()
            .map(|id| shown_name(copybook.item(*id)))
            .collect();
        notes.push(format!("REDEFINED BY {}", by.join(", ")));
    }
    if let Some(occurs) = item.occurs {
        let count = match occurs.depending_on {
            Some(counter) => format!(
                "OCCURS {} TO {} DEPENDING ON {}",
                occurs.min,
                occurs.max,
                shown_name(copybook.item(counter))
            ),
            None => format!("OCCURS {}", occurs.max),
        };
        let unit = if item.length == 1 { "byte" } else { "bytes" };
        notes.push(format!("{count}, {} {unit} each", item.length));
    }
    notes.join("; ")
}

fn type_text(item: &Item) -> String {
    item.elementary()
        .map_or_else(|| "group".to_string(), ToString::to_string)
}

/// The layout as a table.
fn as_table(copybook: &Copybook) -> String {
    struct Row {
        label: String,
        start: String,
        end: String,
        length: String,
        kind: String,
        notes: String,
    }
    let mut rows = Vec::new();
    for item in copybook.items() {
        let indent = "  ".repeat(item.depth as usize);
        rows.push(Row {
            label: format!("{indent}{:02} {}", item.level, shown_name(item)),
            start: (item.offset + 1).to_string(),
            end: (item.offset + item.extent()).to_string(),
            length: item.extent().to_string(),
            kind: type_text(item),
            notes: notes(copybook, item),
        });
        for condition in &item.conditions {
            let values: Vec<String> = condition.values.iter().map(ToString::to_string).collect();
            rows.push(Row {
                label: format!("{indent}  88 {}", condition.name),
                start: String::new(),
                end: String::new(),
                length: String::new(),
                kind: format!("VALUE {}", values.join(" ")),
                notes: String::new(),
            });
        }
    }
    let header = Row {
        label: "LEVEL NAME".into(),
        start: "START".into(),
        end: "END".into(),
        length: "LENGTH".into(),
        kind: "TYPE".into(),
        notes: "NOTES".into(),
    };
    let width = |field: fn(&Row) -> &str| {
        rows.iter()
            .chain(std::iter::once(&header))
            .map(|row| field(row).chars().count())
            .max()
            .unwrap_or(0)
    };
    let label = width(|row| &row.label);
    let start = width(|row| &row.start);
    let end = width(|row| &row.end);
    let length = width(|row| &row.length);
    let kind = width(|row| &row.kind);
    let mut text = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let line = format!(
            "{:<label$}  {:>start$}  {:>end$}  {:>length$}  {:<kind$}  {}",
            row.label, row.start, row.end, row.length, row.kind, row.notes
        );
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

/// The layout as one JSON object.
fn as_json(copybook: &Copybook) -> Json {
    let records: Vec<Json> = copybook
        .records()
        .map(|record| {
            json!({
                "name": record.name,
                "index": record.id.index(),
                "length": record.length,
                "variable_occurs": copybook.has_variable_occurs(record.id),
            })
        })
        .collect();
    let items: Vec<Json> = copybook.items().iter().map(item_json).collect();
    let format = match copybook.source_format() {
        SourceFormat::Free => "free",
        _ => "fixed",
    };
    json!({
        "copybook": copybook.origin(),
        "source_format": format,
        "record_length": copybook.record_length(),
        "records": records,
        "items": items,
    })
}

fn item_json(item: &Item) -> Json {
    let elementary = item.elementary();
    let conditions: Vec<Json> = item
        .conditions
        .iter()
        .map(|condition| {
            let values: Vec<String> = condition.values.iter().map(ToString::to_string).collect();
            json!({"name": condition.name, "line": condition.position.line, "values": values})
        })
        .collect();
    json!({
        "index": item.id.index(),
        "level": item.level,
        "name": item.name,
        "depth": item.depth,
        "parent": item.parent.map(|parent| parent.index()),
        "line": item.position.line,
        "column": item.position.column,
        "offset": item.offset,
        "length": item.length,
        "start": item.offset + 1,
        "end": item.offset + item.extent(),
        "type": type_text(item),
        "picture": elementary.and_then(|e| e.picture.as_ref()).map(|p| p.text.clone()),
        "usage": elementary.map(|e| e.usage.keyword()),
        "data": elementary.map(|e| data_json(&e.data)),
        "occurs": item.occurs.map(|occurs| json!({
            "min": occurs.min,
            "max": occurs.max,
            "depending_on": occurs.depending_on.map(|id| id.index()),
        })),
        "redefines": item.redefines.map(|id| id.index()),
        "redefined_by": item.redefined_by.iter().map(|id| id.index()).collect::<Vec<_>>(),
        "conditions": conditions,
    })
}

/// How an elementary item's bytes are encoded, for `--json`.
fn data_json(data: &DataType) -> Json {
    let decimal = |kind: &str, decimal: crate::mainframe::copybook::Precision| {
        json!({
            "kind": kind,
            "digits": decimal.digits,
            "scale": decimal.scale,
            "signed": decimal.signed,
        })
    };
    match data {
        DataType::Text => json!({"kind": "text"}),
        DataType::Zoned(zoned) => {
            let mut value = decimal("zoned", zoned.decimal);
            let sign = match zoned.sign {
                ZonedSign::Unsigned => Json::Null,
                ZonedSign::Overpunched(SignPosition::Leading) => json!("leading"),
                ZonedSign::Overpunched(SignPosition::Trailing) => json!("trailing"),
                ZonedSign::Separate(SignPosition::Leading) => json!("leading separate"),
                ZonedSign::Separate(SignPosition::Trailing) => json!("trailing separate"),
            };
            value["sign"] = sign;
            value["explicit_point"] = json!(zoned.explicit_point);
            value
        }
        DataType::Edited(d) => decimal("edited", *d),
        DataType::Packed(d) => decimal("packed", *d),
        DataType::Binary(binary) => {
            let mut value = decimal("binary", binary.decimal);
            value["bytes"] = json!(binary.bytes);
            value["native"] = json!(binary.native);
            value
        }
        DataType::Float(FloatWidth::Single) => json!({"kind": "float", "bytes": 4}),
        DataType::Float(FloatWidth::Double) => json!({"kind": "float", "bytes": 8}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_indents_by_depth_and_notes_redefines_and_occurs() {
        let copybook = Copybook::parse(
            "01 R.
               05 N PIC 9(2).
               05 A PIC X(4). 88 EMPTY VALUE SPACES.
               05 B REDEFINES A PIC S9(7) COMP-3.
               05 T OCCURS 1 TO 3 DEPENDING ON N.
                  10 V PIC 9(3)V99 COMP-3.",
            "r.cpy",
            SourceFormat::Free,
        )
        .expect("valid");
        let table = as_table(&copybook);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(
            lines,
            [
                "LEVEL NAME    START  END  LENGTH  TYPE            NOTES",
                "01 R              1   15      15  group",
                "  05 N            1    2       2  9(2)",
                "  05 A            3    6       4  X(4)            REDEFINED BY B",
                "    88 EMPTY                      VALUE SPACES",
                "  05 B            3    6       4  S9(7) COMP-3    REDEFINES A",
                "  05 T            7   15       9  group           OCCURS 1 TO 3 DEPENDING ON N, 3 bytes each",
                "    10 V          7    9       3  9(3)V99 COMP-3",
            ]
        );
    }
}
