//! `droplake config`: the effective configuration and where each value came from.
//!
//! The human form is itself valid TOML, so it can be saved as a starting
//! `droplake.toml`; `--json` gives `{"file", "settings": {KEY: {"value",
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
    let lines: Vec<(String, Origin)> = settings
        .report()
        .into_iter()
        .map(|(key, value, origin)| (format!("{key} = {value}"), origin))
        .collect();
    let width = lines
        .iter()
        .map(|(line, _)| line.chars().count())
        .max()
        .unwrap_or(0);
    for (line, origin) in lines {
        text.push_str(&format!("{line:<width$}  # {origin}\n"));
    }
    text
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
