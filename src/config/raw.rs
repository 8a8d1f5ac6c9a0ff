//! `droplake.toml` as written: the serde structs, before any validation.
//!
//! Values keep their position in the file (`Spanned`) so that the validation
//! in [`super`] can name the line of a bad value. Nothing outside the config
//! module sees these types.

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
    let mut table = document.get_ref();
    'descend: loop {
        for (key, value) in table.iter() {
            if key.span().contains(&offset) {
                path.push(key.get_ref().to_string());
                break 'descend;
            }
            if value.span().contains(&offset) {
                path.push(key.get_ref().to_string());
                match value.get_ref() {
                    toml::de::DeValue::Table(inner) => {
                        table = inner;
                        continue 'descend;
                    }
                    _ => break 'descend,
                }
            }
        }
        break;
    }
    (!path.is_empty()).then(|| path.join("."))
}
