//! `format = { type = "fixed", ... }` of a dataset: a fixed-width
//! mainframe format, checked key by key into a [`FixedSpec`] and then
//! against its copybook into the [`FixedLayout`] readers share.
//!
//! Every refusal names the file, line and column of the value at fault and
//! its dotted key (`datasets.cust.format.routes`); a copybook that does not
//! parse is placed at its own line and column, with the key that names it.
//! [`report`] gives the values back for `droplake config`.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::Arc;

use toml::Spanned;

use super::raw::RawFixed;
use super::{ConfigError, FileLayer, Origin};
use crate::formats::{CountIncludes, FixedLayout, FixedSpec, OnMismatch, Recfm, SpecError};
use crate::mainframe::codepage::{CodePage, Newline};
use crate::mainframe::copybook::{CopybookError, OccursColumns, SourceFormat};
use crate::mainframe::number::FloatFormat;
use crate::mainframe::record::Blank;

/// Validates `raw`, the format of dataset `name` at byte `offset`, and
/// records where each value came from under `datasets.NAME.format.KEY`.
pub(super) fn layout(
    file: &FileLayer,
    name: &str,
    raw: &RawFixed,
    offset: usize,
    origins: &mut BTreeMap<String, Origin>,
) -> Result<Arc<FixedLayout>, ConfigError> {
    let key = |key: &str| format!("datasets.{name}.format.{key}");
    let error = |field: &str, at: usize, message: String| file.error_at(&key(field), at, message);
    let mut note = |field: &str, at: usize| {
        origins.insert(key(field), file.origin(at));
    };
    match &raw.kind {
        Some(kind) if kind.get_ref() == "fixed" => note("type", kind.span().start),
        Some(kind) => {
            return Err(error(
                "type",
                kind.span().start,
                format!(
                    "unknown format type {:?}: a format table is for fixed-width files (type = \"fixed\"); name other formats as format = \"csv\"",
                    kind.get_ref()
                ),
            ));
        }
        None => {
            return Err(file.error_at(
                &format!("datasets.{name}.format"),
                offset,
                "a format table needs type = \"fixed\" and its copybook, as in { type = \"fixed\", copybook = \"copybooks/cust.cpy\", recfm = \"F\", lrecl = 200, encoding = \"cp037\" }",
            ));
        }
    }
    let Some(copybook) = &raw.copybook else {
        return Err(file.error_at(
            &format!("datasets.{name}.format"),
            offset,
            "a fixed-width format needs copybook: the COBOL copybook its records are written in, such as copybook = \"copybooks/cust.cpy\"",
        ));
    };
    note("copybook", copybook.span().start);
    let mut spec = FixedSpec::new(file.path_of(&key("copybook"), copybook)?);

    /// Parses a text value with `parse`, placing its error at the value.
    fn choice<T>(
        value: &Option<Spanned<String>>,
        parse: impl Fn(&str) -> Result<T, String>,
        error: impl Fn(usize, String) -> ConfigError,
    ) -> Result<Option<T>, ConfigError> {
        value
            .as_ref()
            .map(|value| {
                parse(value.get_ref()).map_err(|message| error(value.span().start, message))
            })
            .transpose()
    }
    let keyed = |field: &'static str| move |at: usize, message: String| error(field, at, message);
    let words = |words: &'static [(&'static str, u8)]| {
        move |text: &str| {
            words
                .iter()
                .find(|(word, _)| word.eq_ignore_ascii_case(text))
                .map(|(_, value)| *value)
                .ok_or_else(|| {
                    let known: Vec<&str> = words.iter().map(|(word, _)| *word).collect();
                    format!("unknown value {text:?}; use {}", known.join(", "))
                })
        }
    };
    let whole = |field: &'static str, value: &Spanned<i64>| {
        u64::try_from(*value.get_ref()).map_err(|_| {
            error(
                field,
                value.span().start,
                "must not be negative".to_string(),
            )
        })
    };

    if let Some(format) = choice(
        &raw.source_format,
        words(&[("auto", 0), ("fixed", 1), ("free", 2)]),
        keyed("source_format"),
    )? {
        spec.source_format =
            [SourceFormat::Auto, SourceFormat::Fixed, SourceFormat::Free][usize::from(format)];
    }
    spec.record = raw.record.as_ref().map(|record| record.get_ref().clone());
    if let Some(recfm) = choice(&raw.recfm, Recfm::from_str, keyed("recfm"))? {
        spec.recfm = recfm;
    }
    if let Some(lrecl) = &raw.lrecl {
        let value = whole("lrecl", lrecl)?;
        if value == 0 || value > 32_760 {
            return Err(error(
                "lrecl",
                lrecl.span().start,
                format!("{value} is not a record length; z/OS record lengths are 1 to 32,760"),
            ));
        }
        if matches!(spec.recfm, Recfm::V | Recfm::Vb) {
            return Err(error(
                "lrecl",
                lrecl.span().start,
                "applies to recfm F, FB and text; V and VB records carry their own lengths".into(),
            ));
        }
        spec.lrecl = Some(value as usize);
    }
    if let Some(page) = choice(&raw.encoding, CodePage::from_str, keyed("encoding"))? {
        spec.encoding = page;
    }
    if let Some(newline) = choice(
        &raw.newline,
        words(&[("nel", 0), ("lf", 1)]),
        keyed("newline"),
    )? {
        spec.newline = if newline == 0 {
            Newline::Nel
        } else {
            Newline::Lf
        };
    }
    let flag = |value: &Option<Spanned<bool>>| value.as_ref().is_some_and(|v| *v.get_ref());
    for (field, value) in [
        ("rdw_little_endian", &raw.rdw_little_endian),
        ("rdw_excludes_header", &raw.rdw_excludes_header),
    ] {
        if let Some(value) = value
            && !matches!(spec.recfm, Recfm::V | Recfm::Vb)
        {
            return Err(error(
                field,
                value.span().start,
                format!(
                    "applies to recfm V and VB only, and this format is {}",
                    spec.recfm.name()
                ),
            ));
        }
    }
    spec.rdw_little_endian = flag(&raw.rdw_little_endian);
    spec.rdw_excludes_header = flag(&raw.rdw_excludes_header);
    if let Some(bytes) = &raw.header_bytes {
        spec.header_bytes = whole("header_bytes", bytes)?;
    }
    if let Some(bytes) = &raw.footer_bytes {
        spec.footer_bytes = whole("footer_bytes", bytes)?;
    }
    spec.strict = flag(&raw.strict);
    if let Some(blank) = choice(
        &raw.blank,
        words(&[("null", 0), ("error", 1)]),
        keyed("blank"),
    )? {
        spec.blank = if blank == 0 {
            Blank::Null
        } else {
            Blank::Error
        };
    }
    if let Some(floats) = choice(
        &raw.floats,
        words(&[("ibm", 0), ("ieee", 1), ("ieee-little", 2)]),
        keyed("floats"),
    )? {
        spec.floats = [
            FloatFormat::IbmHex,
            FloatFormat::IeeeBig,
            FloatFormat::IeeeLittle,
        ][usize::from(floats)];
    }
    spec.variable_occurs = flag(&raw.variable_occurs);
    if let Some(encodings) = &raw.field_encodings {
        for (field, page) in encodings.get_ref() {
            let parsed = CodePage::from_str(page.get_ref())
                .map_err(|message| error("field_encodings", page.span().start, message))?;
            spec.field_encodings.push((field.clone(), parsed));
        }
    }
    if let Some(occurs) = choice(
        &raw.occurs,
        words(&[("columns", 0), ("array", 1)]),
        keyed("occurs"),
    )? {
        spec.occurs = if occurs == 0 {
            OccursColumns::Expand
        } else {
            OccursColumns::Array
        };
    }
    let text = |value: &Option<Spanned<String>>| value.as_ref().map(|v| v.get_ref().clone());
    spec.record_type = text(&raw.record_type);
    spec.header = text(&raw.header);
    spec.trailer = text(&raw.trailer);
    spec.count = text(&raw.count);
    let pairs = |table: &Option<Spanned<BTreeMap<String, Spanned<String>>>>| {
        table.as_ref().map_or_else(Vec::new, |table| {
            table
                .get_ref()
                .iter()
                .map(|(key, value)| (key.clone(), value.get_ref().clone()))
                .collect()
        })
    };
    spec.routes = pairs(&raw.routes);
    spec.totals = pairs(&raw.totals);
    if let Some(includes) = choice(
        &raw.count_includes,
        words(&[("details", 0), ("all", 1)]),
        keyed("count_includes"),
    )? {
        spec.count_includes = if includes == 0 {
            CountIncludes::Details
        } else {
            CountIncludes::All
        };
    }
    if let Some(on) = choice(
        &raw.on_mismatch,
        words(&[("fail", 0), ("warn", 1)]),
        keyed("on_mismatch"),
    )? {
        spec.on_mismatch = if on == 0 {
            OnMismatch::Fail
        } else {
            OnMismatch::Warn
        };
    }

    for (field, at) in given(raw) {
        note(field, at);
    }
    FixedLayout::build(spec)
        .map(Arc::new)
        .map_err(|problem| match problem {
            SpecError::Copybook(copybook_error) => {
                copybook_refusal(file, name, copybook, copybook_error)
            }
            SpecError::Key {
                key: field,
                entry,
                message,
            } => {
                let at = span_of(raw, field, entry.as_deref()).unwrap_or(offset);
                let message = match entry {
                    Some(entry) => format!("{entry:?}: {message}"),
                    None => message,
                };
                error(field, at, message)
            }
        })
}

/// A copybook that cannot be used: placed at its own file, line and
/// column when it does not parse, else at the key that names it.
fn copybook_refusal(
    file: &FileLayer,
    name: &str,
    copybook: &Spanned<String>,
    error: CopybookError,
) -> ConfigError {
    let key = format!("datasets.{name}.format.copybook");
    let (line, _) = super::line_column(&file.text, copybook.span().start);
    let named_by = format!(
        "it is the copybook of `{key}` ({}:{line})",
        file.path.display()
    );
    match error {
        CopybookError::Invalid {
            origin,
            position,
            message,
        } => ConfigError {
            place: format!("{origin}:{}:{}", position.line, position.column),
            message: format!("{message}; {named_by}"),
        },
        other => file.error_at(&key, copybook.span().start, other),
    }
}

/// The keys given in `raw`, with the offsets of their values.
fn given(raw: &RawFixed) -> Vec<(&'static str, usize)> {
    let start = |value: Option<std::ops::Range<usize>>| value.map(|span| span.start);
    let fields: [(&'static str, Option<std::ops::Range<usize>>); 23] = [
        (
            "source_format",
            raw.source_format.as_ref().map(Spanned::span),
        ),
        ("record", raw.record.as_ref().map(Spanned::span)),
        ("recfm", raw.recfm.as_ref().map(Spanned::span)),
        ("lrecl", raw.lrecl.as_ref().map(Spanned::span)),
        ("encoding", raw.encoding.as_ref().map(Spanned::span)),
        ("newline", raw.newline.as_ref().map(Spanned::span)),
        (
            "rdw_little_endian",
            raw.rdw_little_endian.as_ref().map(Spanned::span),
        ),
        (
            "rdw_excludes_header",
            raw.rdw_excludes_header.as_ref().map(Spanned::span),
        ),
        ("header_bytes", raw.header_bytes.as_ref().map(Spanned::span)),
        ("footer_bytes", raw.footer_bytes.as_ref().map(Spanned::span)),
        ("strict", raw.strict.as_ref().map(Spanned::span)),
        ("blank", raw.blank.as_ref().map(Spanned::span)),
        ("floats", raw.floats.as_ref().map(Spanned::span)),
        (
            "variable_occurs",
            raw.variable_occurs.as_ref().map(Spanned::span),
        ),
        (
            "field_encodings",
            raw.field_encodings.as_ref().map(Spanned::span),
        ),
        ("occurs", raw.occurs.as_ref().map(Spanned::span)),
        ("record_type", raw.record_type.as_ref().map(Spanned::span)),
        ("routes", raw.routes.as_ref().map(Spanned::span)),
        ("header", raw.header.as_ref().map(Spanned::span)),
        ("trailer", raw.trailer.as_ref().map(Spanned::span)),
        ("count", raw.count.as_ref().map(Spanned::span)),
        (
            "count_includes",
            raw.count_includes.as_ref().map(Spanned::span),
        ),
        ("totals", raw.totals.as_ref().map(Spanned::span)),
    ];
    let mut given: Vec<(&'static str, usize)> = fields
        .into_iter()
        .filter_map(|(field, span)| Some((field, start(span)?)))
        .collect();
    if let Some(on) = &raw.on_mismatch {
        given.push(("on_mismatch", on.span().start));
    }
    given
}

/// Where the value of `field` (or of its entry `entry`) is.
fn span_of(raw: &RawFixed, field: &str, entry: Option<&str>) -> Option<usize> {
    let table = match field {
        "routes" => raw.routes.as_ref(),
        "totals" => raw.totals.as_ref(),
        "field_encodings" => raw.field_encodings.as_ref(),
        _ => None,
    };
    if let (Some(table), Some(entry)) = (table, entry)
        && let Some(value) = table.get_ref().get(entry)
    {
        return Some(value.span().start);
    }
    if let Some(table) = table {
        return Some(table.span().start);
    }
    given(raw)
        .into_iter()
        .find(|(name, _)| *name == field)
        .map(|(_, at)| at)
}

/// The format's values for `droplake config`, by key under
/// `datasets.NAME.format.`; what is not set is left out.
pub(super) fn report(layout: &FixedLayout) -> Vec<(&'static str, toml::Value)> {
    let spec = &layout.spec;
    let text = |value: &str| toml::Value::String(value.to_owned());
    let table = |pairs: &[(String, String)]| {
        toml::Value::Table(
            pairs
                .iter()
                .map(|(key, value)| (key.clone(), text(value)))
                .collect(),
        )
    };
    let mut values = vec![
        ("type", text("fixed")),
        ("copybook", text(&spec.copybook.display().to_string())),
    ];
    if spec.source_format != SourceFormat::Auto {
        let format = match spec.source_format {
            SourceFormat::Fixed => "fixed",
            SourceFormat::Free => "free",
            SourceFormat::Auto => "auto",
        };
        values.push(("source_format", text(format)));
    }
    if let Some(record) = &spec.record {
        values.push(("record", text(record)));
    }
    values.push(("recfm", text(spec.recfm.name())));
    if let Some(lrecl) = layout.lrecl() {
        values.push(("lrecl", toml::Value::Integer(lrecl as i64)));
    }
    values.push(("encoding", text(spec.encoding.name())));
    if spec.newline == Newline::Lf {
        values.push(("newline", text("lf")));
    }
    for (key, on) in [
        ("rdw_little_endian", spec.rdw_little_endian),
        ("rdw_excludes_header", spec.rdw_excludes_header),
        ("strict", spec.strict),
        ("variable_occurs", spec.variable_occurs),
    ] {
        if on {
            values.push((key, toml::Value::Boolean(true)));
        }
    }
    for (key, bytes) in [
        ("header_bytes", spec.header_bytes),
        ("footer_bytes", spec.footer_bytes),
    ] {
        if bytes > 0 {
            values.push((key, toml::Value::Integer(bytes as i64)));
        }
    }
    values.push((
        "blank",
        text(if spec.blank == Blank::Null {
            "null"
        } else {
            "error"
        }),
    ));
    let floats = match spec.floats {
        FloatFormat::IbmHex => "ibm",
        FloatFormat::IeeeBig => "ieee",
        FloatFormat::IeeeLittle => "ieee-little",
    };
    values.push(("floats", text(floats)));
    if !spec.field_encodings.is_empty() {
        let pairs: Vec<(String, String)> = spec
            .field_encodings
            .iter()
            .map(|(field, page)| (field.clone(), page.name().to_owned()))
            .collect();
        values.push(("field_encodings", table(&pairs)));
    }
    let occurs = match spec.occurs {
        OccursColumns::Expand => "columns",
        OccursColumns::Array => "array",
    };
    values.push(("occurs", text(occurs)));
    if let Some(field) = &spec.record_type {
        values.push(("record_type", text(field)));
    }
    if !spec.routes.is_empty() {
        values.push(("routes", table(&spec.routes)));
    }
    for (key, value) in [
        ("header", &spec.header),
        ("trailer", &spec.trailer),
        ("count", &spec.count),
    ] {
        if let Some(value) = value {
            values.push((key, text(value)));
        }
    }
    if spec.count.is_some() {
        values.push(("count_includes", text(&spec.count_includes.to_string())));
    }
    if !spec.totals.is_empty() {
        values.push(("totals", table(&spec.totals)));
    }
    if spec.trailer.is_some() {
        values.push(("on_mismatch", text(&spec.on_mismatch.to_string())));
    }
    values
}
