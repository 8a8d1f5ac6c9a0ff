//! Fixed-width mainframe files (`format = { type = "fixed", ... }`): each
//! record framed by its record format and decoded by its copybook into the
//! text cells the validator casts, as a CSV row's are.
//!
//! [`FixedSpec`] is the format as configured: names and choices.
//! [`FixedLayout::build`] reads the copybook and resolves every name in the
//! spec once, refusing what cannot work; readers share the layout. The
//! labels are the column names `droplake schema from-copybook` gives the
//! same records, so the table that command makes matches. `reader` frames
//! and decodes one file, `cells` turns one record's values into its cells,
//! and `control` checks header, trailer, record count and control totals.

mod cells;
mod control;
mod reader;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

pub(crate) use reader::FixedReader;

use crate::mainframe::codepage::{Charset, CodePage, Newline};
use crate::mainframe::copybook::{
    Column, ColumnShape, Copybook, CopybookError, DataType, ItemId, OccursColumns, SourceFormat,
    columns,
};
use crate::mainframe::framing::{Framing, Rdw, RecordFormat};
use crate::mainframe::number::FloatFormat;
use crate::mainframe::record::{Blank, Options, Routing};

/// How a file's records are laid out, as `recfm` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Recfm {
    /// Fixed-length records.
    #[default]
    F,
    /// Fixed-length records in blocks (read as F once off the mainframe).
    Fb,
    /// Variable-length records, each after its record descriptor word.
    V,
    /// Blocks of variable-length records, each block after its descriptor.
    Vb,
    /// Lines of text, each a record.
    Text,
}

impl Recfm {
    pub fn name(self) -> &'static str {
        match self {
            Recfm::F => "F",
            Recfm::Fb => "FB",
            Recfm::V => "V",
            Recfm::Vb => "VB",
            Recfm::Text => "text",
        }
    }
}

impl FromStr for Recfm {
    type Err = String;

    fn from_str(name: &str) -> Result<Recfm, String> {
        match name.to_ascii_uppercase().as_str() {
            "F" => Ok(Recfm::F),
            "FB" => Ok(Recfm::Fb),
            "V" => Ok(Recfm::V),
            "VB" => Ok(Recfm::Vb),
            "TEXT" => Ok(Recfm::Text),
            _ => Err(format!(
                "unknown record format {name:?}; use F, FB, V, VB or text"
            )),
        }
    }
}

/// What the trailer's record count counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CountIncludes {
    /// The records between header and trailer.
    #[default]
    Details,
    /// Every record of the file, header and trailer included.
    All,
}

/// What a trailer that does not match its file does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnMismatch {
    /// The whole file fails: nothing of it loads.
    #[default]
    Fail,
    /// A warning is logged and the file loads.
    Warn,
}

/// A fixed-width format as configured: every choice, with the copybook's
/// names still as written.
#[derive(Debug, Clone, PartialEq)]
pub struct FixedSpec {
    /// The copybook file (absolute).
    pub copybook: PathBuf,
    pub source_format: SourceFormat,
    /// The record (level 01) whose columns the table has; all when `None`.
    pub record: Option<String>,
    pub recfm: Recfm,
    /// The record length of F and FB (and the padded length of text lines);
    /// by default the length of the record(s) loaded.
    pub lrecl: Option<usize>,
    pub encoding: CodePage,
    pub newline: Newline,
    pub rdw_little_endian: bool,
    pub rdw_excludes_header: bool,
    /// Bytes at the start of the file that are not records.
    pub header_bytes: u64,
    /// Bytes at the end of the file that are not records.
    pub footer_bytes: u64,
    pub strict: bool,
    pub blank: Blank,
    pub floats: FloatFormat,
    pub variable_occurs: bool,
    /// Code pages of particular fields, by name.
    pub field_encodings: Vec<(String, CodePage)>,
    pub occurs: OccursColumns,
    /// The record-type field, by name.
    pub record_type: Option<String>,
    /// Record-type values and the record or REDEFINES alternative each
    /// selects, by name.
    pub routes: Vec<(String, String)>,
    /// The record-type value of header records.
    pub header: Option<String>,
    /// The record-type value of trailer records.
    pub trailer: Option<String>,
    /// The trailer's record-count field, by name.
    pub count: Option<String>,
    pub count_includes: CountIncludes,
    /// Control totals: a trailer field and the detail field it sums.
    pub totals: Vec<(String, String)>,
    pub on_mismatch: OnMismatch,
}

impl FixedSpec {
    /// A spec with every choice at its default.
    pub fn new(copybook: PathBuf) -> FixedSpec {
        FixedSpec {
            copybook,
            source_format: SourceFormat::Auto,
            record: None,
            recfm: Recfm::F,
            lrecl: None,
            encoding: CodePage::Cp037,
            newline: Newline::Nel,
            rdw_little_endian: false,
            rdw_excludes_header: false,
            header_bytes: 0,
            footer_bytes: 0,
            strict: false,
            blank: Blank::Null,
            floats: FloatFormat::IbmHex,
            variable_occurs: false,
            field_encodings: Vec::new(),
            occurs: OccursColumns::Expand,
            record_type: None,
            routes: Vec::new(),
            header: None,
            trailer: None,
            count: None,
            count_includes: CountIncludes::Details,
            totals: Vec::new(),
            on_mismatch: OnMismatch::Fail,
        }
    }
}

/// Why a spec cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The copybook cannot be read, or is not valid.
    #[error(transparent)]
    Copybook(#[from] CopybookError),
    /// A key's value does not fit the copybook or the other keys.
    #[error("{message}")]
    Key {
        /// The key, such as `routes`.
        key: &'static str,
        /// For a table of entries (`routes`, `totals`, `field_encodings`),
        /// the entry's key.
        entry: Option<String>,
        message: String,
    },
}

fn refuse(key: &'static str, entry: Option<&str>, message: impl Into<String>) -> SpecError {
    SpecError::Key {
        key,
        entry: entry.map(str::to_owned),
        message: message.into(),
    }
}

/// Where one item's values go among a row's cells.
#[derive(Debug, Clone)]
enum Slot {
    /// Not a column.
    None,
    /// One column per occurrence: `columns[flat]`, where `flat` is the
    /// row-major position of the indices under `maxes` (one per dimension).
    Values {
        columns: Vec<usize>,
        maxes: Vec<u32>,
    },
    /// One column holding all occurrences as a JSON array.
    Array { column: usize, dimensions: usize },
}

/// The control checks of a multi-record file, resolved.
#[derive(Debug, Clone)]
struct Control {
    header: Option<String>,
    trailer: Option<String>,
    /// The layout a trailer record is decoded by.
    trailer_record: ItemId,
    count: Option<ItemId>,
    count_includes: CountIncludes,
    /// (trailer field, detail field).
    totals: Vec<(ItemId, ItemId)>,
    on_mismatch: OnMismatch,
}

/// A fixed-width format ready to read files: the copybook, the framing,
/// the decoder's options and routing, the columns, and where each item's
/// values go.
#[derive(Debug, Clone)]
pub struct FixedLayout {
    /// The format as configured.
    pub spec: FixedSpec,
    copybook: Copybook,
    framing: Framing,
    options: Options,
    routing: Option<Routing>,
    /// The layout of a detail record whose type routes to no record.
    default_record: ItemId,
    /// Record-type values that select one of the copybook's records.
    record_routes: Vec<(String, ItemId)>,
    columns: Vec<Column>,
    labels: Vec<String>,
    /// Per item (by index): where its values go.
    slots: Vec<Slot>,
    /// Per item (by index): a value that cannot be read is null, not a
    /// reject (the item lies in a REDEFINES alternative no routing picks,
    /// so every view of the bytes is decoded and most cannot fit).
    lenient: Vec<bool>,
    /// Per item (by index): its place among the values kept for the
    /// control checks.
    captures: Vec<Option<usize>>,
    capture_count: usize,
    control: Control,
}

impl FixedLayout {
    /// Reads the copybook and resolves `spec` against it.
    pub fn build(spec: FixedSpec) -> Result<FixedLayout, SpecError> {
        let copybook = Copybook::load(&spec.copybook, spec.source_format)?;
        let records: Vec<ItemId> = match &spec.record {
            Some(name) => vec![
                copybook
                    .record_named(name)
                    .map_err(|error| refuse("record", None, error.to_string()))?
                    .id,
            ],
            None => copybook.records().map(|record| record.id).collect(),
        };
        let default_record = records[0];

        let charset = Charset::new(spec.encoding, spec.newline);
        let mut options = Options::new(charset);
        options.strict = spec.strict;
        options.blank = spec.blank;
        options.floats = spec.floats;
        options.variable_occurs = spec.variable_occurs;
        for (name, page) in &spec.field_encodings {
            let id = find(&copybook, name, None)
                .map_err(|message| refuse("field_encodings", Some(name), message))?;
            let item = copybook.item(id);
            if !matches!(item.elementary().map(|e| &e.data), Some(DataType::Text)) {
                return Err(refuse(
                    "field_encodings",
                    Some(name),
                    format!(
                        "{} is not a text field (PIC X or A); a code page applies to text only",
                        copybook.qualified_name(id)
                    ),
                ));
            }
            options
                .field_charsets
                .insert(id, Charset::new(*page, spec.newline));
        }

        let routing = routing(&copybook, &spec)?;
        let record_routes: Vec<(String, ItemId)> = routing
            .iter()
            .flat_map(|routing| routing.routes.iter())
            .filter(|(_, target)| copybook.item(*target).parent.is_none())
            .cloned()
            .collect();
        for (value, target) in &record_routes {
            let is_header_or_trailer =
                spec.header.as_ref() == Some(value) || spec.trailer.as_ref() == Some(value);
            if !is_header_or_trailer && !records.contains(target) {
                return Err(refuse(
                    "routes",
                    Some(value),
                    format!(
                        "detail records of type {value:?} would be decoded as record {}, but the table holds the columns of record {} only; route them to it, or leave `record` out",
                        copybook.item(*target).display_name(),
                        copybook.item(default_record).display_name()
                    ),
                ));
            }
        }

        let framing = framing(&copybook, &records, &spec)?;
        let columns = columns(&copybook, &records, spec.occurs);
        let labels = columns.iter().map(|column| column.name.clone()).collect();
        let slots = slots(&copybook, &columns);
        let lenient = lenient(&copybook, routing.as_ref());
        let control = control(
            &copybook,
            &spec,
            routing.as_ref(),
            &record_routes,
            default_record,
        )?;
        let mut captures = vec![None; copybook.items().len()];
        let mut capture_count = 0;
        let wanted = control.count.iter().chain(
            control
                .totals
                .iter()
                .flat_map(|(trailer, detail)| [trailer, detail]),
        );
        for id in wanted {
            if captures[id.index()].is_none() {
                captures[id.index()] = Some(capture_count);
                capture_count += 1;
            }
        }
        Ok(FixedLayout {
            spec,
            copybook,
            framing,
            options,
            routing,
            default_record,
            record_routes,
            columns,
            labels,
            slots,
            lenient,
            captures,
            capture_count,
            control,
        })
    }

    /// The header labels: the table's column names.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// The record length of F and FB files (and text lines padded to it).
    pub fn lrecl(&self) -> Option<usize> {
        match self.framing.format {
            RecordFormat::Fixed { lrecl } => Some(lrecl),
            RecordFormat::Text { lrecl, .. } => lrecl,
            _ => None,
        }
    }

    /// The copybook, as read when the configuration was.
    pub fn copybook(&self) -> &Copybook {
        &self.copybook
    }
}

/// Finds the item `name` (`NAME`, or `NAME OF GROUP ...`), ignoring case,
/// among the items under `within` (or anywhere): exactly one must match.
fn find(copybook: &Copybook, name: &str, within: Option<ItemId>) -> Result<ItemId, String> {
    let words: Vec<&str> = name.split_whitespace().collect();
    let mut parts = vec![*words.first().ok_or("the name is empty")?];
    let mut rest = words[1..].iter();
    while let Some(word) = rest.next() {
        if !(word.eq_ignore_ascii_case("OF") || word.eq_ignore_ascii_case("IN")) {
            return Err(format!(
                "{name:?} is not a field name; write NAME, or NAME OF GROUP when the name repeats"
            ));
        }
        parts.push(
            rest.next()
                .ok_or_else(|| format!("{name:?} ends after {word}"))?,
        );
    }
    let under = |id: ItemId, ancestor: ItemId| {
        let mut at = Some(id);
        while let Some(here) = at {
            if here == ancestor {
                return true;
            }
            at = copybook.item(here).parent;
        }
        false
    };
    let matches: Vec<ItemId> = copybook
        .items()
        .iter()
        .filter(|item| item.is_named(parts[0]))
        .filter(|item| {
            let mut qualifiers = parts[1..].iter().peekable();
            let mut at = item.parent;
            while let (Some(qualifier), Some(parent)) = (qualifiers.peek(), at) {
                let group = copybook.item(parent);
                if group.is_named(qualifier) {
                    qualifiers.next();
                }
                at = group.parent;
            }
            qualifiers.peek().is_none()
        })
        .filter(|item| within.is_none_or(|within| under(item.id, within)))
        .map(|item| item.id)
        .collect();
    let place = within.map_or_else(String::new, |within| {
        format!(" in {}", copybook.item(within).display_name())
    });
    match matches.as_slice() {
        [one] => Ok(*one),
        [] => Err(format!(
            "the copybook {} has no item named {name}{place}",
            copybook.origin()
        )),
        several => {
            let names: Vec<String> = several
                .iter()
                .map(|id| copybook.qualified_name(*id))
                .collect();
            Err(format!(
                "{name} names {} items{place}: {}; qualify it, as in \"{}\"",
                several.len(),
                names.join(", "),
                names[0]
            ))
        }
    }
}

/// An elementary item outside any OCCURS, or why `name` is not one.
fn single_field(
    copybook: &Copybook,
    key: &'static str,
    entry: Option<&str>,
    name: &str,
    within: Option<ItemId>,
    numeric: bool,
) -> Result<ItemId, SpecError> {
    let id = find(copybook, name, within).map_err(|message| refuse(key, entry, message))?;
    let item = copybook.item(id);
    let qualified = copybook.qualified_name(id);
    let Some(elementary) = item.elementary() else {
        return Err(refuse(
            key,
            entry,
            format!("{qualified} is a group; name an elementary field"),
        ));
    };
    if !copybook.dimensions(id).is_empty() {
        return Err(refuse(
            key,
            entry,
            format!("{qualified} lies under an OCCURS; name a field that occurs once"),
        ));
    }
    if numeric && elementary.data.decimal().is_none() {
        return Err(refuse(
            key,
            entry,
            format!("{qualified} is not numeric ({elementary}); name a numeric field"),
        ));
    }
    Ok(id)
}

/// The routing by record type, when `record_type` is set.
fn routing(copybook: &Copybook, spec: &FixedSpec) -> Result<Option<Routing>, SpecError> {
    let Some(name) = &spec.record_type else {
        for (key, given) in [
            ("routes", !spec.routes.is_empty()),
            ("header", spec.header.is_some()),
            ("trailer", spec.trailer.is_some()),
        ] {
            if given {
                return Err(refuse(
                    key,
                    None,
                    "needs record_type: the field whose value tells the kinds of record apart",
                ));
            }
        }
        return Ok(None);
    };
    let field = record_type_field(copybook, name)?;
    let mut routes = Vec::new();
    for (value, target) in &spec.routes {
        let id = find(copybook, target, None)
            .map_err(|message| refuse("routes", Some(value), message))?;
        let item = copybook.item(id);
        if item.parent.is_some() && item.redefines.is_none() && item.redefined_by.is_empty() {
            return Err(refuse(
                "routes",
                Some(value),
                format!(
                    "{} is neither a record (level 01) nor an alternative of a REDEFINES; route to one of those",
                    copybook.qualified_name(id)
                ),
            ));
        }
        routes.push((value.clone(), id));
    }
    Ok(Some(Routing { field, routes }))
}

/// The record-type field: an elementary field outside any OCCURS. A name
/// that repeats at the same place in every record (`REC-TYPE` in each of
/// several 01 records) is one field: the first is taken.
fn record_type_field(copybook: &Copybook, name: &str) -> Result<ItemId, SpecError> {
    let named: Vec<&crate::mainframe::copybook::Item> = copybook
        .items()
        .iter()
        .filter(|item| item.is_named(name))
        .collect();
    let alike = named.len() > 1
        && named.windows(2).all(|pair| {
            (pair[0].offset, pair[0].length, &pair[0].kind)
                == (pair[1].offset, pair[1].length, &pair[1].kind)
        });
    match named.first() {
        Some(first) if alike => single_field(
            copybook,
            "record_type",
            None,
            name,
            Some(copybook.record_of(first.id).id),
            false,
        ),
        _ => single_field(copybook, "record_type", None, name, None, false),
    }
}

/// The framing of `spec`, with the record length checked against the
/// records loaded.
fn framing(
    copybook: &Copybook,
    records: &[ItemId],
    spec: &FixedSpec,
) -> Result<Framing, SpecError> {
    let longest = records
        .iter()
        .map(|id| copybook.item(*id).length)
        .max()
        .unwrap_or(0);
    let rdw = Rdw {
        little_endian: spec.rdw_little_endian,
        includes_header: !spec.rdw_excludes_header,
    };
    let format = match spec.recfm {
        Recfm::F | Recfm::Fb => {
            let lrecl = spec.lrecl.unwrap_or(longest);
            if lrecl == 0 {
                return Err(refuse("lrecl", None, "must be at least 1"));
            }
            let variable =
                records.iter().any(|id| copybook.has_variable_occurs(*id)) && spec.variable_occurs;
            if lrecl < longest && !variable {
                return Err(refuse(
                    "lrecl",
                    None,
                    format!(
                        "{lrecl} is shorter than the {longest} bytes of the record's layout, so no record would decode; give the record length the file was written with"
                    ),
                ));
            }
            RecordFormat::Fixed { lrecl }
        }
        Recfm::V => RecordFormat::Variable(rdw),
        Recfm::Vb => RecordFormat::VariableBlocked(rdw),
        Recfm::Text => RecordFormat::Text {
            lrecl: spec.lrecl,
            pad: spec.encoding.space(),
        },
    };
    Ok(Framing {
        format,
        header: spec.header_bytes,
        footer: spec.footer_bytes,
    })
}

/// Where each item's values go.
fn slots(copybook: &Copybook, columns: &[Column]) -> Vec<Slot> {
    let mut slots = vec![Slot::None; copybook.items().len()];
    for (index, column) in columns.iter().enumerate() {
        let item = column.item.index();
        match &column.shape {
            ColumnShape::Array { dimensions } => {
                slots[item] = Slot::Array {
                    column: index,
                    dimensions: *dimensions,
                };
            }
            ColumnShape::Value { indices } => {
                if matches!(slots[item], Slot::None) {
                    let maxes: Vec<u32> = copybook
                        .dimensions(column.item)
                        .iter()
                        .map(|table| copybook.item(*table).occurs.map_or(1, |o| o.max))
                        .collect();
                    let size = maxes.iter().map(|max| *max as usize).product();
                    slots[item] = Slot::Values {
                        columns: vec![usize::MAX; size],
                        maxes,
                    };
                }
                if let Slot::Values { columns, maxes } = &mut slots[item]
                    && let Some(flat) = flat_index(maxes, indices)
                {
                    columns[flat] = index;
                }
            }
        }
    }
    slots
}

/// The row-major position of `indices` among tables of `maxes`.
fn flat_index(maxes: &[u32], indices: &[u32]) -> Option<usize> {
    if maxes.len() != indices.len() {
        return None;
    }
    let mut flat = 0usize;
    for (max, index) in maxes.iter().zip(indices) {
        if index >= max {
            return None;
        }
        flat = flat * *max as usize + *index as usize;
    }
    Some(flat)
}

/// Per item: whether it lies in a REDEFINES alternative of a set that no
/// route selects among.
fn lenient(copybook: &Copybook, routing: Option<&Routing>) -> Vec<bool> {
    let routed = |head: ItemId| {
        let set: Vec<ItemId> = std::iter::once(head)
            .chain(copybook.item(head).redefined_by.iter().copied())
            .collect();
        routing.is_some_and(|routing| routing.routes.iter().any(|(_, t)| set.contains(t)))
    };
    copybook
        .items()
        .iter()
        .map(|item| {
            let mut at = Some(item.id);
            while let Some(here) = at {
                let member = copybook.item(here);
                if member.parent.is_some()
                    && (member.redefines.is_some() || !member.redefined_by.is_empty())
                    && !routed(member.redefines.unwrap_or(here))
                {
                    return true;
                }
                at = member.parent;
            }
            false
        })
        .collect()
}

/// The header, trailer, count and totals of `spec`, resolved.
fn control(
    copybook: &Copybook,
    spec: &FixedSpec,
    routing: Option<&Routing>,
    record_routes: &[(String, ItemId)],
    default_record: ItemId,
) -> Result<Control, SpecError> {
    if spec.header.is_some() && spec.header == spec.trailer {
        return Err(refuse(
            "trailer",
            None,
            "is the same record type as header; they must differ",
        ));
    }
    let checks = spec.count.is_some() || !spec.totals.is_empty();
    let trailer_record = spec
        .trailer
        .as_ref()
        .and_then(|value| record_routes.iter().find(|(v, _)| v == value))
        .map_or(default_record, |(_, id)| *id);
    let Some(trailer) = &spec.trailer else {
        if checks {
            let key = if spec.count.is_some() {
                "count"
            } else {
                "totals"
            };
            return Err(refuse(
                key,
                None,
                "needs trailer: the record type of the trailer record that holds the count and totals",
            ));
        }
        return Ok(Control {
            header: spec.header.clone(),
            trailer: None,
            trailer_record,
            count: None,
            count_includes: spec.count_includes,
            totals: Vec::new(),
            on_mismatch: spec.on_mismatch,
        });
    };
    // A trailer field must be decoded when a trailer record is: in the
    // trailer's record, and in the alternative the trailer routes to.
    let reachable = |key: &'static str, entry: Option<&str>, id: ItemId| {
        let record = copybook.record_of(id).id;
        let route = |target: ItemId| {
            format!(
                "routes = {{ {trailer:?} = \"{}\" }}",
                copybook.item(target).display_name()
            )
        };
        if record != trailer_record {
            return Err(refuse(
                key,
                entry,
                format!(
                    "{} is in record {}, but a trailer record ({trailer:?}) is decoded as record {}; route it: {}",
                    copybook.qualified_name(id),
                    copybook.item(record).display_name(),
                    copybook.item(trailer_record).display_name(),
                    route(record)
                ),
            ));
        }
        let mut at = Some(id);
        while let Some(here) = at {
            let member = copybook.item(here);
            if member.parent.is_some()
                && (member.redefines.is_some() || !member.redefined_by.is_empty())
            {
                let head = member.redefines.unwrap_or(here);
                let set: Vec<ItemId> = std::iter::once(head)
                    .chain(copybook.item(head).redefined_by.iter().copied())
                    .collect();
                let routes = routing.map_or(&[][..], |routing| &routing.routes[..]);
                let set_routed = routes.iter().any(|(_, target)| set.contains(target));
                let mine = routes
                    .iter()
                    .any(|(value, target)| value == trailer && *target == here);
                if set_routed && !mine {
                    return Err(refuse(
                        key,
                        entry,
                        format!(
                            "{} is in the alternative {}, which a trailer record ({trailer:?}) is not routed to; add {}",
                            copybook.qualified_name(id),
                            member.display_name(),
                            route(here)
                        ),
                    ));
                }
            }
            at = member.parent;
        }
        Ok(id)
    };
    let count = spec
        .count
        .as_ref()
        .map(|name| {
            let id = single_field(copybook, "count", None, name, Some(trailer_record), true)?;
            reachable("count", None, id)
        })
        .transpose()?;
    let mut totals = Vec::new();
    for (trailer_name, detail_name) in &spec.totals {
        let entry = Some(trailer_name.as_str());
        let sum = single_field(
            copybook,
            "totals",
            entry,
            trailer_name,
            Some(trailer_record),
            true,
        )?;
        let sum = reachable("totals", entry, sum)?;
        let detail = single_field(copybook, "totals", entry, detail_name, None, true)?;
        totals.push((sum, detail));
    }
    Ok(Control {
        header: spec.header.clone(),
        trailer: spec.trailer.clone(),
        trailer_record,
        count,
        count_includes: spec.count_includes,
        totals,
        on_mismatch: spec.on_mismatch,
    })
}

impl fmt::Display for CountIncludes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CountIncludes::Details => "details",
            CountIncludes::All => "all",
        })
    }
}

impl fmt::Display for OnMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OnMismatch::Fail => "fail",
            OnMismatch::Warn => "warn",
        })
    }
}

#[cfg(test)]
mod tests;
