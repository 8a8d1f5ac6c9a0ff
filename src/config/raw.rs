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
    /// `csv`, `tsv`, `jsonl` or `json`; by default from each file's name.
    pub format: Option<Spanned<String>>,
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
    /// `arrival` or `name`.
    pub order: Option<Spanned<RawOrder>>,
    /// `skip` or `process`.
    pub duplicates: Option<Spanned<RawDuplicates>>,
    /// The directory receipts are written to.
    pub receipts: Option<Spanned<String>>,
    /// How long objects stay in the lake once every handler is done.
    pub retain: Option<Spanned<Duration>>,
    /// Where objects go when `retain` is up, instead of being deleted.
    pub archive: Option<Spanned<String>>,
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
