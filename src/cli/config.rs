//! `droplake config`: the effective configuration and where each value came from.
//!
//! The human form is itself valid TOML, so it can be saved as a starting
//! `droplake.toml`: dotted keys, then one `[[handlers]]` table per handler
//! at the end. `--json` gives `{"file", "settings": {KEY: {"value",
//! "origin"}}}` where origin is `{"kind": "default" | "file" | "env", ...}`.

use std::io::{self, Write};

use clap::Args;
use serde_json::json;

use super::Failure;
use crate::config::{Origin, Settings};
use crate::exit::ExitCode;

/// Arguments of `droplake config`.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Print JSON instead of annotated TOML.
    #[arg(long)]
    pub json: bool,
}

pub fn run(settings: &Settings, args: ConfigArgs) -> Result<ExitCode, Failure> {
    let text = if args.json {
        as_json(settings)
    } else {
        as_toml(settings)
    };
    io::stdout()
        .write_all(text.as_bytes())
        .map_err(Failure::stdout)?;
    Ok(ExitCode::Ok)
}

fn as_toml(settings: &Settings) -> String {
    let mut text = match &settings.file {
        Some(path) => format!("# droplake configuration from {}\n", path.display()),
        None => {
            "# no configuration file found; droplake runs on its embedded defaults\n".to_string()
        }
    };
    // Each line with its origin; a `[[handlers]]` header has none. The
    // report lists handlers last, so their tables do not swallow other keys.
    let mut lines: Vec<(String, Option<Origin>)> = Vec::new();
    let mut handler = None;
    for (key, value, origin) in settings.report() {
        let (entry, key) = toml_key(&key);
        if entry.is_some() && entry != handler {
            lines.push((String::new(), None));
            lines.push(("[[handlers]]".to_string(), None));
            handler = entry;
        }
        lines.push((format!("{key} = {value}"), Some(origin)));
    }
    let width = lines
        .iter()
        .filter(|(_, origin)| origin.is_some())
        .map(|(line, _)| line.chars().count())
        .max()
        .unwrap_or(0);
    for (line, origin) in lines {
        match origin {
            Some(origin) => text.push_str(&format!("{line:<width$}  # {origin}\n")),
            None => text.push_str(&format!("{line}\n")),
        }
    }
    text
}

/// A report key as TOML: `handlers.NAME.KEY` becomes `KEY` inside the
/// `[[handlers]]` entry NAME (returned first); in `datasets.NAME.KEY` and
/// `tables.NAME.KEY` a NAME that is not a bare TOML key (such as
/// `eu.sales`) is quoted; `datasets.NAME.format.KEY` is a key of the
/// dataset's fixed-width format.
fn toml_key(key: &str) -> (Option<String>, String) {
    let split = |prefix: &str| {
        key.strip_prefix(prefix)
            .and_then(|rest| rest.rsplit_once('.'))
    };
    if let Some((name, key)) = split("handlers.") {
        return (Some(name.to_string()), key.to_string());
    }
    for section in ["datasets", "tables"] {
        if let Some((name, key)) = split(&format!("{section}.")) {
            // A fixed-width format's keys: `datasets.NAME.format.KEY`.
            let (name, key) = match name.strip_suffix(".format") {
                Some(dataset) if section == "datasets" && !dataset.is_empty() => {
                    (dataset, format!("format.{key}"))
                }
                _ => (name, key.to_string()),
            };
            let bare = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
            let name = if bare {
                name.to_string()
            } else {
                toml::Value::String(name.to_string()).to_string()
            };
            return (None, format!("{section}.{name}.{key}"));
        }
    }
    (None, key.to_string())
}

fn as_json(settings: &Settings) -> String {
    let entries: serde_json::Map<String, serde_json::Value> = settings
        .report()
        .into_iter()
        .map(|(key, value, origin)| {
            let origin = match origin {
                Origin::Default => json!({"kind": "default"}),
                Origin::File { path, line } => {
                    json!({"kind": "file", "path": path.to_string_lossy(), "line": line})
                }
                Origin::Env { var } => json!({"kind": "env", "var": var}),
            };
            (key.to_owned(), json!({"value": value, "origin": origin}))
        })
        .collect();
    let file = settings.file.as_ref().map(|path| path.to_string_lossy());
    format!("{}\n", json!({"file": file, "settings": entries}))
}
