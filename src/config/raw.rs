//! `droplake.toml` as written: the serde structs, before any validation.
//!
//! Values keep their position in the file (`Spanned`) so that the validation
//! in [`super`] can name the line of a bad value. Nothing outside the config
//! module sees these types.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

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
}

/// `on_error` as written.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawOnError {
    Continue,
    SkipFile,
    Abort,
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

/// Settings that a `DROPLAKE_*` environment variable overrides: the variable
/// and the key it sets.
pub(super) const ENV_SETTINGS: [(&str, &str); 4] = [
    ("DROPLAKE_LAKE", "lake"),
    ("DROPLAKE_SCHEMAS", "schemas"),
    ("DROPLAKE_WAREHOUSE", "warehouse"),
    ("DROPLAKE_IGNORE", "ignore"),
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
/// span does not cover its keys, so every table is searched.
fn find_key(table: &toml::de::DeTable<'_>, offset: usize, path: &mut Vec<String>) -> bool {
    for (key, value) in table.iter() {
        path.push(key.get_ref().to_string());
        if let toml::de::DeValue::Table(inner) = value.get_ref()
            && find_key(inner, offset, path)
        {
            return true;
        }
        if key.span().contains(&offset) || value.span().contains(&offset) {
            return true;
        }
        path.pop();
    }
    false
}
