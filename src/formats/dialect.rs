//! The CSV dialect: the Frictionless Table Dialect options droplake reads.
//!
//! A dialect file (`--dialect FILE.json`, or a dataset's configuration) is
//! parsed in two stages: serde reads [`RawDialect`], which names every key
//! the standard defines (camelCase, unknown keys refused, the v1
//! `csvddfVersion` and `caseSensitiveHeader` tolerated), and
//! [`Dialect::try_from`] checks each value and turns characters into the
//! bytes the CSV reader works with. Keys that describe other formats
//! (`property`, `sheetName`, `table`, …) are refused with a message saying
//! droplake does not read such sources.
//!
//! Options left unset fall back by format: CSV is comma-separated with `"`
//! quoting; TSV is tab-separated with no quoting at all.

use std::collections::BTreeSet;
use std::path::Path;

use serde::Deserialize;

use super::Format;
use crate::exit::{ExitCode, HasExitCode};

/// How records end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Terminator {
    /// `\r\n`, `\n` or a lone `\r`, mixed freely: the Table Dialect says
    /// readers should accept any of them whatever `lineTerminator` says.
    AnyNewline,
    /// One other ASCII byte.
    Byte(u8),
}

/// A validated Table Dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialect {
    /// Whether the file starts with a header row (`header`, default true).
    pub header: bool,
    /// The rows (1-based) that make up the header (`headerRows`, default
    /// `[1]`); several are joined cell by cell with `header_join`.
    pub header_rows: Vec<u64>,
    /// What joins the cells of several header rows (`headerJoin`, default a
    /// space).
    pub header_join: String,
    /// Whether labels compare case-sensitively with the schema (`headerCase`,
    /// v1 `caseSensitiveHeader`; default true). The validator's business.
    pub header_case: bool,
    /// Rows (1-based) to skip as comments (`commentRows`).
    pub comment_rows: BTreeSet<u64>,
    /// A record starting with this byte is a comment (`commentChar`).
    pub comment_char: Option<u8>,
    /// The field separator (`delimiter`); `None` means the format's default.
    pub delimiter: Option<u8>,
    /// How records end (`lineTerminator`).
    pub terminator: Terminator,
    /// The quote character (`quoteChar`); `None` means the format's default,
    /// `Some(None)` no quoting at all (`"quoteChar": ""`).
    pub quote_char: Option<Option<u8>>,
    /// Whether a doubled quote inside quotes is one quote (`doubleQuote`,
    /// default true).
    pub double_quote: bool,
    /// The escape character (`escapeChar`): the next byte is taken as is.
    pub escape_char: Option<u8>,
    /// An unquoted cell equal to this is a missing value (`nullSequence`).
    pub null_sequence: Option<String>,
    /// Whether spaces right after a delimiter are dropped
    /// (`skipInitialSpace`, default false).
    pub skip_initial_space: bool,
}

impl Default for Dialect {
    fn default() -> Self {
        Dialect {
            header: true,
            header_rows: vec![1],
            header_join: " ".into(),
            header_case: true,
            comment_rows: BTreeSet::new(),
            comment_char: None,
            delimiter: None,
            terminator: Terminator::AnyNewline,
            quote_char: None,
            double_quote: true,
            escape_char: None,
            null_sequence: None,
            skip_initial_space: false,
        }
    }
}

impl Dialect {
    /// Reads and validates a Table Dialect JSON file.
    pub fn from_file(path: &Path) -> Result<Dialect, DialectError> {
        let text = std::fs::read_to_string(path).map_err(|error| DialectError {
            source_name: path.display().to_string(),
            message: format!("cannot be read: {error}"),
        })?;
        Dialect::from_json(&text, &path.display().to_string())
    }

    /// Parses and validates Table Dialect JSON; `source_name` names it in
    /// errors.
    pub fn from_json(text: &str, source_name: &str) -> Result<Dialect, DialectError> {
        let raw: RawDialect = serde_json::from_str(text).map_err(|error| DialectError {
            source_name: source_name.to_owned(),
            message: error.to_string(),
        })?;
        Dialect::try_from(raw).map_err(|message| DialectError {
            source_name: source_name.to_owned(),
            message,
        })
    }

    /// The delimiter in effect for `format`.
    pub fn delimiter_for(&self, format: Format) -> u8 {
        self.delimiter.unwrap_or(match format {
            Format::Tsv => b'\t',
            _ => b',',
        })
    }

    /// The quote character in effect for `format`, if any.
    pub fn quote_for(&self, format: Format) -> Option<u8> {
        self.quote_char.unwrap_or(match format {
            Format::Tsv => None,
            _ => Some(b'"'),
        })
    }
}

/// A dialect file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("dialect {source_name}: {message}")]
pub struct DialectError {
    /// The file (or other source) the dialect came from.
    pub source_name: String,
    /// What is wrong, naming the key.
    pub message: String,
}

impl HasExitCode for DialectError {
    /// A bad dialect is configuration, like a bad schema.
    fn exit_code(&self) -> ExitCode {
        ExitCode::Config
    }
}

/// A Table Dialect as written, before validation.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawDialect {
    /// The profile URL; accepted and ignored.
    #[serde(rename = "$schema")]
    pub schema: Option<String>,
    /// A name, title or description; accepted and ignored.
    pub name: Option<String>,
    /// See [`RawDialect::name`].
    pub title: Option<String>,
    /// See [`RawDialect::name`].
    pub description: Option<String>,
    /// v1 CSV Dialect version; tolerated and ignored.
    pub csvddf_version: Option<serde_json::Value>,
    /// `header`.
    pub header: Option<bool>,
    /// `headerRows`.
    pub header_rows: Option<Vec<u64>>,
    /// `headerJoin`.
    pub header_join: Option<String>,
    /// `headerCase`.
    pub header_case: Option<bool>,
    /// v1 `caseSensitiveHeader`, the same as `headerCase`.
    pub case_sensitive_header: Option<bool>,
    /// `commentRows`.
    pub comment_rows: Option<Vec<u64>>,
    /// `commentChar`.
    pub comment_char: Option<String>,
    /// `delimiter`.
    pub delimiter: Option<String>,
    /// `lineTerminator`.
    pub line_terminator: Option<String>,
    /// `quoteChar`.
    pub quote_char: Option<String>,
    /// `doubleQuote`.
    pub double_quote: Option<bool>,
    /// `escapeChar`.
    pub escape_char: Option<String>,
    /// `nullSequence`.
    pub null_sequence: Option<String>,
    /// `skipInitialSpace`.
    pub skip_initial_space: Option<bool>,
    /// JSON, spreadsheet and database options: refused.
    pub property: Option<serde_json::Value>,
    /// See [`RawDialect::property`].
    pub item_type: Option<serde_json::Value>,
    /// See [`RawDialect::property`].
    pub item_keys: Option<serde_json::Value>,
    /// See [`RawDialect::property`].
    pub sheet_number: Option<serde_json::Value>,
    /// See [`RawDialect::property`].
    pub sheet_name: Option<serde_json::Value>,
    /// See [`RawDialect::property`].
    pub table: Option<serde_json::Value>,
}

/// One ASCII character, as a byte, for `key`.
fn one_ascii(key: &str, value: &str) -> Result<u8, String> {
    match value.as_bytes() {
        [byte] if byte.is_ascii() => Ok(*byte),
        _ => Err(format!(
            "`{key}` must be exactly one ASCII character, not {value:?}"
        )),
    }
}

impl TryFrom<RawDialect> for Dialect {
    type Error = String;

    fn try_from(raw: RawDialect) -> Result<Dialect, String> {
        let unsupported = [
            ("property", raw.property.is_some()),
            ("itemType", raw.item_type.is_some()),
            ("itemKeys", raw.item_keys.is_some()),
            ("sheetNumber", raw.sheet_number.is_some()),
            ("sheetName", raw.sheet_name.is_some()),
            ("table", raw.table.is_some()),
        ];
        if let Some((key, _)) = unsupported.iter().find(|(_, present)| *present) {
            return Err(format!(
                "`{key}` is not supported: droplake reads CSV, TSV, JSON Lines and JSON arrays of rows"
            ));
        }
        let defaults = Dialect::default();
        let header_rows = raw.header_rows.unwrap_or(defaults.header_rows);
        if header_rows.is_empty() || header_rows.contains(&0) {
            return Err("`headerRows` must list row numbers from 1".into());
        }
        if header_rows.windows(2).any(|pair| pair[0] >= pair[1]) {
            return Err("`headerRows` must be in ascending order".into());
        }
        if raw
            .comment_rows
            .as_ref()
            .is_some_and(|rows| rows.contains(&0))
        {
            return Err("`commentRows` must list row numbers from 1".into());
        }
        let optional = |key: &str, value: Option<String>| -> Result<Option<u8>, String> {
            match value.as_deref() {
                None | Some("") => Ok(None),
                Some(text) => one_ascii(key, text).map(Some),
            }
        };
        let delimiter = raw
            .delimiter
            .as_deref()
            .map(|text| one_ascii("delimiter", text))
            .transpose()?;
        let quote_char = match raw.quote_char {
            None => None,
            Some(text) => Some(optional("quoteChar", Some(text))?),
        };
        let escape_char = optional("escapeChar", raw.escape_char)?;
        let comment_char = optional("commentChar", raw.comment_char)?;
        let terminator = match raw.line_terminator.as_deref() {
            None | Some("\r\n") | Some("\n") | Some("\r") => Terminator::AnyNewline,
            Some(text) => Terminator::Byte(one_ascii("lineTerminator", text)?),
        };
        let dialect = Dialect {
            header: raw.header.unwrap_or(defaults.header),
            header_rows,
            header_join: raw.header_join.unwrap_or(defaults.header_join),
            header_case: raw
                .header_case
                .or(raw.case_sensitive_header)
                .unwrap_or(defaults.header_case),
            comment_rows: raw.comment_rows.unwrap_or_default().into_iter().collect(),
            comment_char,
            delimiter,
            terminator,
            quote_char,
            double_quote: raw.double_quote.unwrap_or(defaults.double_quote),
            escape_char,
            null_sequence: raw.null_sequence,
            skip_initial_space: raw
                .skip_initial_space
                .unwrap_or(defaults.skip_initial_space),
        };
        // The characters with a role must be distinct, or parsing is ambiguous.
        let mut roles: Vec<(&str, u8)> = Vec::new();
        if let Some(byte) = dialect.delimiter {
            roles.push(("delimiter", byte));
        }
        if let Some(Some(byte)) = dialect.quote_char {
            roles.push(("quoteChar", byte));
        }
        if let Some(byte) = dialect.escape_char {
            roles.push(("escapeChar", byte));
        }
        if let Terminator::Byte(byte) = dialect.terminator {
            roles.push(("lineTerminator", byte));
        }
        for (index, (key, byte)) in roles.iter().enumerate() {
            if matches!(byte, b'\r' | b'\n') && *key != "lineTerminator" {
                return Err(format!("`{key}` cannot be a line break"));
            }
            if let Some((other, _)) = roles[index + 1..].iter().find(|(_, b)| b == byte) {
                return Err(format!(
                    "`{key}` and `{other}` cannot be the same character"
                ));
            }
        }
        Ok(dialect)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Dialect, DialectError> {
        Dialect::from_json(json, "test.json")
    }

    #[test]
    fn an_empty_dialect_means_the_defaults() {
        let dialect = parse("{}").expect("valid");
        assert_eq!(dialect, Dialect::default());
        assert_eq!(dialect.delimiter_for(Format::Csv), b',');
        assert_eq!(dialect.quote_for(Format::Csv), Some(b'"'));
    }

    #[test]
    fn tsv_defaults_to_tabs_without_quoting() {
        let dialect = Dialect::default();
        assert_eq!(dialect.delimiter_for(Format::Tsv), b'\t');
        assert_eq!(dialect.quote_for(Format::Tsv), None);
        let quoted = parse(r#"{"quoteChar": "'"}"#).expect("valid");
        assert_eq!(quoted.quote_for(Format::Tsv), Some(b'\''));
    }

    #[test]
    fn every_csv_option_is_read_in_camel_case() {
        let dialect = parse(
            r##"{"$schema": "https://datapackage.org/profiles/2.0/tabledialect.json",
                "header": false, "headerRows": [1, 2], "headerJoin": "_",
                "commentRows": [5], "commentChar": "#", "delimiter": ";",
                "lineTerminator": "\n", "quoteChar": "'", "doubleQuote": false,
                "escapeChar": "\\", "nullSequence": "\\N", "skipInitialSpace": true,
                "headerCase": false}"##,
        )
        .expect("valid");
        assert!(!dialect.header);
        assert_eq!(dialect.header_rows, [1, 2]);
        assert_eq!(dialect.header_join, "_");
        assert!(dialect.comment_rows.contains(&5));
        assert_eq!(dialect.comment_char, Some(b'#'));
        assert_eq!(dialect.delimiter, Some(b';'));
        assert_eq!(dialect.terminator, Terminator::AnyNewline);
        assert_eq!(dialect.quote_char, Some(Some(b'\'')));
        assert!(!dialect.double_quote);
        assert_eq!(dialect.escape_char, Some(b'\\'));
        assert_eq!(dialect.null_sequence.as_deref(), Some("\\N"));
        assert!(dialect.skip_initial_space);
        assert!(!dialect.header_case);
    }

    #[test]
    fn the_v1_version_key_is_tolerated() {
        let dialect =
            parse(r#"{"csvddfVersion": 1.2, "caseSensitiveHeader": false}"#).expect("valid");
        assert!(!dialect.header_case);
    }

    #[test]
    fn unknown_keys_are_refused_by_name() {
        let error = parse(r#"{"delimeter": ";"}"#).expect_err("a typo");
        assert!(error.to_string().contains("delimeter"), "{error}");
        assert!(error.to_string().contains("test.json"), "{error}");
    }

    #[test]
    fn options_of_other_formats_are_refused_clearly() {
        let error = parse(r#"{"sheetName": "Sheet1"}"#).expect_err("not CSV");
        assert!(
            error.to_string().contains("`sheetName` is not supported"),
            "{error}"
        );
    }

    #[test]
    fn characters_must_be_single_ascii_and_distinct() {
        for json in [
            r#"{"delimiter": ";;"}"#,
            r#"{"delimiter": "§"}"#,
            r#"{"delimiter": ""}"#,
            r#"{"delimiter": "'", "quoteChar": "'"}"#,
            r#"{"delimiter": "\n"}"#,
            r#"{"headerRows": []}"#,
            r#"{"headerRows": [2, 1]}"#,
            r#"{"commentRows": [0]}"#,
        ] {
            assert!(parse(json).is_err(), "{json} should be refused");
        }
    }

    #[test]
    fn an_empty_quote_char_turns_quoting_off() {
        let dialect = parse(r#"{"quoteChar": ""}"#).expect("valid");
        assert_eq!(dialect.quote_for(Format::Csv), None);
    }

    #[test]
    fn an_unusual_line_terminator_is_one_byte() {
        let dialect = parse(r#"{"lineTerminator": "|"}"#).expect("valid");
        assert_eq!(dialect.terminator, Terminator::Byte(b'|'));
    }
}
