//! COBOL copybooks: the record layouts that mainframe files are written in.
//!
//! [`Copybook::load`] reads a copybook in four steps, each its own module:
//! `source` splits the text into lines of code by the fixed or free source
//! format, keeping every character's line and column; `lexer` cuts the code
//! into words, literals and periods; `parse` reads data description entries
//! (level, name, clauses); `layout` nests them by level number, resolves
//! REDEFINES and DEPENDING ON, works out each elementary item's data type
//! and size (`picture` reads PICTURE strings), and places every item at
//! its offset. The first problem found ends the reading with a
//! [`CopybookError::Invalid`] that names the file, line and column and says
//! what was expected.
//!
//! The result is a [`Copybook`]: its [`Item`]s in source order, with the
//! records (level 01 and 77 items) as the roots, alternatives to one another
//! as if each REDEFINES the first. Decoders and writers work from the items'
//! offsets, lengths and [`DataType`]s; [`columns`] flattens a record into
//! uniquely named table columns, and [`table_schema`] writes the Table
//! Schema of a warehouse table for it. `docs/mainframe.md` says what is
//! supported and what is refused.

mod columns;
mod item;
mod layout;
mod lexer;
mod parse;
mod picture;
#[cfg(test)]
mod properties;
mod source;
mod table_schema;

use std::borrow::Cow;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

pub use columns::{Column, ColumnShape, OccursColumns, column_count, column_name, columns};
pub use item::{
    Binary, Condition, ConditionValue, DataType, Elementary, Figurative, FloatWidth, Item, ItemId,
    ItemKind, Literal, NumericLiteral, Occurs, Precision, SignPosition, Usage, Zoned, ZonedSign,
};
pub use picture::{Category, MAX_DIGITS, Picture, PictureRun, Symbol};
pub use source::{SourceFormat, SourcePosition};
pub use table_schema::{SchemaOptions, table_schema};

use crate::exit::{ExitCode, HasExitCode};

/// The largest copybook droplake reads; anything bigger is surely a data
/// file given by mistake.
const MAX_SOURCE: u64 = 16 * 1024 * 1024;

/// A problem in the source, before it is tied to a file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Problem {
    position: SourcePosition,
    message: String,
}

impl Problem {
    fn new(position: SourcePosition, message: impl Into<String>) -> Problem {
        Problem {
            position,
            message: message.into(),
        }
    }
}

/// Why a copybook could not be read or used.
#[derive(Debug, thiserror::Error)]
pub enum CopybookError {
    /// The file could not be read.
    #[error("cannot read the copybook {}: {error}", path.display())]
    Read { path: PathBuf, error: io::Error },
    /// The file is far larger than any copybook.
    #[error(
        "{} is larger than {MAX_SOURCE} bytes, too large for a copybook; is it a data file?",
        path.display()
    )]
    TooLarge { path: PathBuf },
    /// The copybook is not valid, or uses something droplake does not read.
    #[error("{origin}:{}:{}: {message}", position.line, position.column)]
    Invalid {
        /// The file (or the name given to the text).
        origin: String,
        position: SourcePosition,
        message: String,
    },
    /// A record was asked for by a name the copybook does not have.
    #[error("{origin}: no record named {name}; its records are {}", records.join(", "))]
    NoSuchRecord {
        origin: String,
        name: String,
        records: Vec<String>,
    },
    /// A record flattens to more columns than a warehouse table can have.
    #[error(
        "{origin}: the record flattens to {count} columns, more than a warehouse table can hold \
         ({limit}); keep each OCCURS item in one array column instead (--occurs array)"
    )]
    TooManyColumns {
        origin: String,
        count: u64,
        limit: usize,
    },
}

impl HasExitCode for CopybookError {
    fn exit_code(&self) -> ExitCode {
        match self {
            CopybookError::Read { error, .. } if error.kind() == io::ErrorKind::NotFound => {
                ExitCode::NoInput
            }
            CopybookError::Read { .. } => ExitCode::IoErr,
            CopybookError::NoSuchRecord { .. } => ExitCode::Usage,
            CopybookError::TooLarge { .. }
            | CopybookError::Invalid { .. }
            | CopybookError::TooManyColumns { .. } => ExitCode::DataErr,
        }
    }
}

/// A parsed copybook: its items with their layout, and its records.
///
/// Invariants: `items[i].id` is `i`; items are in source order, so a
/// parent comes before its children and an item's descendants are the
/// items right after it; `records` are the items without a parent.
#[derive(Debug, Clone)]
pub struct Copybook {
    /// Where it was read from, for messages.
    origin: String,
    /// The source format it was read in (`Fixed` or `Free`).
    format: SourceFormat,
    items: Vec<Item>,
    records: Vec<ItemId>,
}

impl Copybook {
    /// Reads the copybook at `path`. UTF-8 text, or else Latin-1 (every
    /// byte a character), as copybooks transferred from mainframes in text
    /// mode often are.
    pub fn load(path: &Path, format: SourceFormat) -> Result<Copybook, CopybookError> {
        let read_error = |error| CopybookError::Read {
            path: path.to_path_buf(),
            error,
        };
        let file = std::fs::File::open(path).map_err(read_error)?;
        let mut bytes = Vec::new();
        file.take(MAX_SOURCE + 1)
            .read_to_end(&mut bytes)
            .map_err(read_error)?;
        if bytes.len() as u64 > MAX_SOURCE {
            return Err(CopybookError::TooLarge {
                path: path.to_path_buf(),
            });
        }
        let text = match std::str::from_utf8(&bytes) {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => Cow::Owned(bytes.iter().map(|&byte| char::from(byte)).collect()),
        };
        Copybook::parse(&text, &path.display().to_string(), format)
    }

    /// Parses copybook source `text`; `origin` names it in messages.
    pub fn parse(
        text: &str,
        origin: &str,
        format: SourceFormat,
    ) -> Result<Copybook, CopybookError> {
        let source = source::read(text, format);
        let layout = lexer::tokens(&source.lines)
            .and_then(|tokens| parse::entries(&tokens))
            .and_then(layout::build)
            .map_err(|problem| {
                let mut message = problem.message;
                if let Some(line) = source.free_because {
                    message.push_str(&format!(
                        " (read as free format because line {line} has code in columns 1-6 or \
                         past column 72; if the copybook is in fixed format, read it as fixed)"
                    ));
                }
                CopybookError::Invalid {
                    origin: origin.to_string(),
                    position: problem.position,
                    message,
                }
            })?;
        if layout.records.is_empty() {
            return Err(CopybookError::Invalid {
                origin: origin.to_string(),
                position: SourcePosition { line: 1, column: 1 },
                message: "the copybook describes no data items; expected entries such as \
                          01 RECORD. 05 FIELD PIC X(10)."
                    .to_string(),
            });
        }
        Ok(Copybook {
            origin: origin.to_string(),
            format: source.format,
            items: layout.items,
            records: layout.records,
        })
    }

    /// Where the copybook was read from.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The source format it was read in: `Fixed` or `Free`.
    pub fn source_format(&self) -> SourceFormat {
        self.format
    }

    /// Every item, in source order (`items()[id.index()]` is the item `id`).
    pub fn items(&self) -> &[Item] {
        &self.items
    }

    /// The item `id`.
    pub fn item(&self, id: ItemId) -> &Item {
        &self.items[id.index()]
    }

    /// The records: level 01 and 77 items (or the implicit record of a
    /// copybook that starts below 01), in order. They are alternative
    /// layouts of the same bytes, each starting at offset 0.
    pub fn records(&self) -> impl Iterator<Item = &Item> {
        self.records.iter().map(|id| self.item(*id))
    }

    /// The record named `name` (ignoring case).
    pub fn record(&self, name: &str) -> Option<&Item> {
        self.records().find(|record| record.is_named(name))
    }

    /// The record `name`, or an error that lists the records there are.
    pub fn record_named(&self, name: &str) -> Result<&Item, CopybookError> {
        self.record(name)
            .ok_or_else(|| CopybookError::NoSuchRecord {
                origin: self.origin.clone(),
                name: name.to_string(),
                records: self
                    .records()
                    .map(|record| record.display_name().to_string())
                    .collect(),
            })
    }

    /// The bytes of the longest record (OCCURS at their maximum).
    pub fn record_length(&self) -> usize {
        self.records()
            .map(|record| record.length)
            .max()
            .unwrap_or(0)
    }

    /// The record that holds `id`.
    pub fn record_of(&self, id: ItemId) -> &Item {
        let mut item = self.item(id);
        while let Some(parent) = item.parent {
            item = self.item(parent);
        }
        item
    }

    /// The items directly under `id`.
    pub fn children(&self, id: ItemId) -> impl Iterator<Item = &Item> {
        self.item(id).children.iter().map(|child| self.item(*child))
    }

    /// Every item under `id`, at any depth, in source order.
    pub fn descendants(&self, id: ItemId) -> &[Item] {
        let depth = self.item(id).depth;
        let start = id.index() + 1;
        let end = self.items[start..]
            .iter()
            .position(|item| item.depth <= depth)
            .map_or(self.items.len(), |after| start + after);
        &self.items[start..end]
    }

    /// The OCCURS items around `id`, itself included, outermost first: a
    /// value of `id` is addressed by one index per dimension.
    pub fn dimensions(&self, id: ItemId) -> Vec<ItemId> {
        let mut dimensions = Vec::new();
        let mut at = Some(id);
        while let Some(here) = at {
            let item = self.item(here);
            if item.occurs.is_some() {
                dimensions.push(here);
            }
            at = item.parent;
        }
        dimensions.reverse();
        dimensions
    }

    /// The offset in the fixed layout of the occurrence of `id` at
    /// `indices` (0-based, one per [`Copybook::dimensions`], outermost
    /// first); `None` when the indices do not fit the dimensions.
    pub fn offset_at(&self, id: ItemId, indices: &[u32]) -> Option<usize> {
        let dimensions = self.dimensions(id);
        if dimensions.len() != indices.len() {
            return None;
        }
        let mut offset = self.item(id).offset;
        for (dimension, index) in dimensions.iter().zip(indices) {
            let table = self.item(*dimension);
            let max = table.occurs.map_or(1, |occurs| occurs.max);
            if *index >= max {
                return None;
            }
            offset += table.length * *index as usize;
        }
        Some(offset)
    }

    /// Bytes between the start of the item's parent and its own start (0
    /// for a record): where it begins after the siblings before it, at
    /// their maximum sizes.
    pub fn offset_in_parent(&self, id: ItemId) -> usize {
        let item = self.item(id);
        item.parent
            .map_or(0, |parent| item.offset - self.item(parent).offset)
    }

    /// The item's name qualified by its groups, COBOL style:
    /// `ADDRESS OF PERSON OF ENTITY` (FILLER groups left out).
    pub fn qualified_name(&self, id: ItemId) -> String {
        let mut names = vec![self.item(id).display_name().to_string()];
        let mut at = self.item(id).parent;
        while let Some(parent) = at {
            let item = self.item(parent);
            if let Some(name) = &item.name {
                names.push(name.clone());
            }
            at = item.parent;
        }
        names.join(" OF ")
    }

    /// Whether the record holding `id` has an OCCURS DEPENDING ON table,
    /// so that its records may be shorter than its fixed layout.
    pub fn has_variable_occurs(&self, record: ItemId) -> bool {
        self.descendants(record).iter().any(|item| {
            item.occurs
                .is_some_and(|occurs| occurs.depending_on.is_some())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copybook(text: &str) -> Copybook {
        Copybook::parse(text, "test.cpy", SourceFormat::Auto).expect("a valid copybook")
    }

    #[test]
    fn errors_name_the_file_line_and_column() {
        let error = Copybook::parse(
            "       01 R.\n           05 A PIC X(3.\n",
            "cust.cpy",
            SourceFormat::Auto,
        )
        .expect_err("invalid");
        assert_eq!(
            error.to_string(),
            "cust.cpy:2:21: PIC X(3: a repetition count ( has no closing )"
        );
        assert_eq!(error.exit_code(), ExitCode::DataErr);
    }

    #[test]
    fn an_error_in_a_copybook_read_as_free_format_by_detection_says_why() {
        let error = Copybook::parse(
            "AB CD  01 R.\n000200     05 A PIC X.\n",
            "tagged.cpy",
            SourceFormat::Auto,
        )
        .expect_err("read as free format");
        let text = error.to_string();
        assert!(
            text.starts_with("tagged.cpy:1:1: expected a level number"),
            "{text}"
        );
        assert!(text.ends_with("(read as free format because line 1 has code in columns 1-6 or past column 72; if the copybook is in fixed format, read it as fixed)"), "{text}");
        let fixed = Copybook::parse(
            "AB CD  01 R.\n000200     05 A PIC X.\n",
            "tagged.cpy",
            SourceFormat::Fixed,
        )
        .expect("valid in fixed format");
        assert_eq!(fixed.record_length(), 1);
    }

    #[test]
    fn a_copybook_of_comments_only_is_an_error() {
        let error = Copybook::parse("      * nothing here\n", "empty.cpy", SourceFormat::Auto)
            .expect_err("empty");
        assert!(
            error.to_string().contains("describes no data items"),
            "{error}"
        );
    }

    #[test]
    fn files_that_are_not_utf8_are_read_as_latin1() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("latin1.cpy");
        std::fs::write(
            &path,
            b"      * Kundenstamm f\xfcr M\xfcnchen\n       01 R PIC X(4).\n",
        )
        .expect("write");
        let copybook = Copybook::load(&path, SourceFormat::Auto).expect("readable");
        assert_eq!(copybook.record_length(), 4);
        let missing =
            Copybook::load(&dir.path().join("nope.cpy"), SourceFormat::Auto).expect_err("missing");
        assert_eq!(missing.exit_code(), ExitCode::NoInput);
        assert!(
            missing.to_string().contains("cannot read the copybook"),
            "{missing}"
        );
    }

    #[test]
    fn dimensions_and_offsets_of_nested_occurrences() {
        let copybook = copybook(
            "01 R.
               05 HEAD PIC X(2).
               05 OUTER OCCURS 3.
                  10 KEY PIC X.
                  10 INNER OCCURS 2.
                     15 VAL PIC 9(2).",
        );
        let val = copybook
            .items()
            .iter()
            .find(|item| item.is_named("VAL"))
            .expect("VAL");
        let dimensions: Vec<&str> = copybook
            .dimensions(val.id)
            .into_iter()
            .map(|id| copybook.item(id).display_name())
            .collect();
        assert_eq!(dimensions, ["OUTER", "INNER"]);
        // OUTER is 1 + 2 * 2 = 5 bytes; VAL of OUTER(2) INNER(1) (0-based).
        assert_eq!(copybook.offset_at(val.id, &[2, 1]), Some(2 + 2 * 5 + 1 + 2));
        assert_eq!(copybook.offset_at(val.id, &[3, 0]), None);
        assert_eq!(copybook.offset_at(val.id, &[0]), None);
        assert_eq!(
            copybook.qualified_name(val.id),
            "VAL OF INNER OF OUTER OF R"
        );
        assert_eq!(copybook.descendants(copybook.items()[2].id).len(), 3);
        assert_eq!(copybook.offset_in_parent(val.id), 0);
        let inner = copybook.items()[4].id;
        assert_eq!(
            copybook.offset_in_parent(inner),
            1,
            "INNER follows KEY in OUTER"
        );
        assert!(!copybook.has_variable_occurs(copybook.items()[0].id));
    }

    #[test]
    fn records_are_found_by_name_or_listed_in_the_error() {
        let copybook = copybook("01 HEADER PIC X(10). 01 DETAIL PIC X(20).");
        assert_eq!(copybook.record_length(), 20);
        assert_eq!(copybook.record("detail").map(|r| r.length), Some(20));
        let error = copybook.record_named("TRAILER").expect_err("no trailer");
        assert_eq!(
            error.to_string(),
            "test.cpy: no record named TRAILER; its records are HEADER, DETAIL"
        );
    }
}
