//! `droplake.toml` as written: the serde structs, before any validation.
//!
//! Values keep their position in the file (`Spanned`) so that the validation
//! in [`super`] can name the line of a bad value. Nothing outside the config
//! module sees these types.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::Duration;

/// One layer of configuration: a file, or the environment's overrides.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    /// The lake directory, holding one folder per dataset.
    pub lake: Option<Spanned<String>>,
    /// The directory of Table Schema JSON files, one per warehouse table.
    pub schemas: Option<Spanned<String>>,
    /// The warehouse database file.
    pub warehouse: Option<Spanned<String>>,
    /// Extra glob patterns for files in the lake that are never objects.
    pub ignore: Option<Spanned<Vec<Spanned<String>>>>,
    /// Per dataset: `[datasets.NAME]`.
    pub datasets: Option<BTreeMap<String, Spanned<RawDataset>>>,
    /// Per warehouse table: `[tables.NAME]`.
    pub tables: Option<BTreeMap<String, Spanned<RawTable>>>,
    /// How long a stopping daemon waits for loads and handlers.
    pub shutdown_timeout: Option<Spanned<Duration>>,
    /// How the daemon notices new files: `[detect]`.
    pub detect: Option<Spanned<RawDetect>>,
    /// The handlers, in file order: `[[handlers]]`.
    pub handlers: Option<Vec<Spanned<RawHandler>>>,
    /// Where the daemon serves Prometheus metrics: an address such as
    /// `"127.0.0.1:9464"`, or a port (a number or a string of digits) on
    /// loopback.
    pub metrics: Option<Spanned<toml::Value>>,
}

/// `[datasets.NAME]`: how one dataset's objects are read and loaded.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDataset {
    /// The warehouse table its objects load into; by default the table
    /// named like the dataset.
    pub table: Option<Spanned<String>>,
    /// `csv`, `tsv`, `jsonl` or `json` (by default from each file's name),
    /// or a table `{ type = "fixed", copybook = ... }`.
    pub format: Option<Spanned<RawFormat>>,
    /// A Table Dialect: a path to its JSON file, or an inline table such as
    /// `{ delimiter = ";" }`.
    pub dialect: Option<Spanned<toml::Value>>,
    /// The text encoding of files without a byte order mark.
    pub encoding: Option<Spanned<String>>,
    /// What a bad row does to its load.
    pub on_error: Option<Spanned<RawOnError>>,
    /// When a file is ready: `settle` or `marker`.
    pub ready: Option<Spanned<RawReady>>,
    /// With `ready = "settle"`: how long a file must stay unchanged.
    pub settle: Option<Spanned<Duration>>,
    /// With `ready = "marker"`: the marker file's name, from `{name}` and
    /// `{stem}`.
    pub marker: Option<Spanned<String>>,
    /// `arrival`, `name` or `generation`.
    pub order: Option<Spanned<RawOrder>>,
    /// With `order = "generation"`: hold later generations back while one
    /// is missing.
    pub gap_check: Option<Spanned<bool>>,
    /// `skip` or `process`.
    pub duplicates: Option<Spanned<RawDuplicates>>,
    /// The directory receipts are written to.
    pub receipts: Option<Spanned<String>>,
    /// How long objects stay in the lake once every handler is done.
    pub retain: Option<Spanned<Duration>>,
    /// Where objects go when `retain` is up, instead of being deleted.
    pub archive: Option<Spanned<String>>,
}

/// `format` as written: a name, or the table of a fixed-width format.
#[derive(Debug, Clone)]
pub(super) enum RawFormat {
    Name(String),
    Fixed(Box<RawFixed>),
}

impl<'de> Deserialize<'de> for RawFormat {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = RawFormat;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a format name such as \"csv\", or a table such as { type = \"fixed\", copybook = \"cust.cpy\" }")
            }

            fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<RawFormat, E> {
                Ok(RawFormat::Name(name.to_owned()))
            }

            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                map: M,
            ) -> Result<RawFormat, M::Error> {
                // The table's own deserializer keeps each value's span.
                RawFixed::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(|fixed| RawFormat::Fixed(Box::new(fixed)))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// `format = { type = "fixed", ... }` (or `[datasets.NAME.format]`): a
/// fixed-width mainframe format.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFixed {
    /// Must be `fixed`.
    #[serde(rename = "type")]
    pub kind: Option<Spanned<String>>,
    /// The copybook, relative to the configuration file.
    pub copybook: Option<Spanned<String>>,
    /// The copybook's source format: `auto`, `fixed` or `free`.
    pub source_format: Option<Spanned<String>>,
    /// The record (level 01) whose columns the table has.
    pub record: Option<Spanned<String>>,
    /// `F`, `FB`, `V`, `VB` or `text`.
    pub recfm: Option<Spanned<String>>,
    /// The record length of F and FB files.
    pub lrecl: Option<Spanned<i64>>,
    /// The code page, such as `cp037`.
    pub encoding: Option<Spanned<String>>,
    /// Which EBCDIC byte is the line feed: `nel` (0x15 is NEL) or `lf`.
    pub newline: Option<Spanned<String>>,
    /// The RDW's four bytes are reversed.
    pub rdw_little_endian: Option<Spanned<bool>>,
    /// The RDW's length does not count its own four bytes.
    pub rdw_excludes_header: Option<Spanned<bool>>,
    /// Bytes at the start of the file to skip.
    pub header_bytes: Option<Spanned<i64>>,
    /// Bytes at the end of the file to skip.
    pub footer_bytes: Option<Spanned<i64>>,
    /// Only C, D and F sign nibbles; text must be printable.
    pub strict: Option<Spanned<bool>>,
    /// A numeric field of spaces or low-values: `null` or `error`.
    pub blank: Option<Spanned<String>>,
    /// COMP-1/COMP-2: `ibm`, `ieee` or `ieee-little`.
    pub floats: Option<Spanned<String>>,
    /// OCCURS DEPENDING ON tables take only their count's space.
    pub variable_occurs: Option<Spanned<bool>>,
    /// Code pages of particular text fields, by name.
    pub field_encodings: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
    /// OCCURS items as `columns` (one per occurrence) or one `array`.
    pub occurs: Option<Spanned<String>>,
    /// The field whose value tells the kinds of record apart.
    pub record_type: Option<Spanned<String>>,
    /// Record-type values and the record or REDEFINES alternative each
    /// selects.
    pub routes: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
    /// The record-type value of header records.
    pub header: Option<Spanned<String>>,
    /// The record-type value of trailer records.
    pub trailer: Option<Spanned<String>>,
    /// The trailer's record-count field.
    pub count: Option<Spanned<String>>,
    /// What the count counts: `details` or `all`.
    pub count_includes: Option<Spanned<String>>,
    /// Control totals: trailer field = the detail field it sums.
    pub totals: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
    /// A trailer that does not match: `fail` or `warn`.
    pub on_mismatch: Option<Spanned<String>>,
}

/// `on_error` as written.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawOnError {
    Continue,
    SkipFile,
    Abort,
}

/// `ready` as written.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawReady {
    Settle,
    Marker,
}

/// `order` as written.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawOrder {
    Arrival,
    Name,
    Generation,
}

/// `duplicates` as written.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawDuplicates {
    Skip,
    Process,
}

/// `[tables.NAME]`: how loads meet the rows already in a table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTable {
    /// `append` or `upsert`.
    pub write_mode: Option<Spanned<RawWriteMode>>,
}

/// `write_mode` as written.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawWriteMode {
    Append,
    Upsert,
}

/// `[detect]`: how the daemon notices new files.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDetect {
    /// `auto`, `watch` or `poll`.
    pub mode: Option<Spanned<RawDetectMode>>,
    /// The period of the reconciliation scan.
    pub scan_interval: Option<Spanned<Duration>>,
    /// The period of polling.
    pub poll_interval: Option<Spanned<Duration>>,
}

/// `[detect] mode` as written.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawDetectMode {
    Auto,
    Watch,
    Poll,
}

/// One `[[handlers]]` entry as written. Integers are read as `i64` so that
/// a negative or huge value gets droplake's message, not serde's.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHandler {
    /// The handler's unique name; `loader` tunes the built-in loader.
    pub name: Option<Spanned<String>>,
    /// The datasets it handles; absent: every dataset.
    pub datasets: Option<Spanned<Vec<Spanned<String>>>>,
    /// The program and its arguments, with placeholders.
    pub command: Option<Spanned<Vec<Spanned<String>>>>,
    /// How long one attempt may run.
    pub timeout: Option<Spanned<Duration>>,
    /// From SIGTERM to SIGKILL after a timeout.
    pub grace: Option<Spanned<Duration>>,
    /// Attempts after the first.
    pub retries: Option<Spanned<i64>>,
    /// Attempts running at once.
    pub concurrency: Option<Spanned<i64>>,
    /// Handlers that must be done with an object first.
    pub after: Option<Spanned<Vec<Spanned<String>>>>,
    /// One object of a dataset at a time, in order.
    pub ordered: Option<Spanned<bool>>,
    /// The first retry's delay.
    pub backoff: Option<Spanned<Duration>>,
    /// The longest delay between attempts.
    pub max_backoff: Option<Spanned<Duration>>,
}

/// Settings that a `DROPLAKE_*` environment variable overrides: the variable
/// and the key it sets.
pub(super) const ENV_SETTINGS: [(&str, &str); 5] = [
    ("DROPLAKE_LAKE", "lake"),
    ("DROPLAKE_SCHEMAS", "schemas"),
    ("DROPLAKE_WAREHOUSE", "warehouse"),
    ("DROPLAKE_IGNORE", "ignore"),
    ("DROPLAKE_METRICS", "metrics"),
];

/// Environment variables droplake reads that are not settings.
pub(super) const ENV_OTHER: [&str; 2] = ["DROPLAKE_CONFIG", "DROPLAKE_LOG"];

/// The dotted key whose key or value covers byte `offset` of a TOML document.
pub(super) fn key_at(text: &str, offset: usize) -> Option<String> {
    let document = toml::de::DeTable::parse(text).ok()?;
    let mut path = Vec::new();
    find_key(document.get_ref(), offset, &mut path).then(|| path.join("."))
}

/// Searches `table` for the key at `offset`, depth first; a `[section]`'s
/// span does not cover its keys, so every table is searched. Inside an
/// array of tables (`[[handlers]]`) an entry is named by its `name`, like
/// `handlers.billing-sync.timeout`.
fn find_key(table: &toml::de::DeTable<'_>, offset: usize, path: &mut Vec<String>) -> bool {
    use toml::de::DeValue;
    for (key, value) in table.iter() {
        path.push(key.get_ref().to_string());
        match value.get_ref() {
            DeValue::Table(inner) if find_key(inner, offset, path) => return true,
            DeValue::Array(items) => {
                for item in items {
                    let DeValue::Table(inner) = item.get_ref() else {
                        continue;
                    };
                    let name = inner.iter().find_map(|(key, value)| match value.get_ref() {
                        DeValue::String(name) if key.get_ref() == "name" => Some(name.to_string()),
                        _ => None,
                    });
                    let depth = path.len();
                    path.extend(name);
                    if find_key(inner, offset, path) {
                        return true;
                    }
                    path.truncate(depth);
                }
            }
            _ => {}
        }
        if key.span().contains(&offset) || value.span().contains(&offset) {
            return true;
        }
        path.pop();
    }
    false
}
