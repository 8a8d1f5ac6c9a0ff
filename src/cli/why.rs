//! `droplake why PATH`: which of the daemon's gates holds a file in the
//! lake, and what to do about it (see `crate::inspect::why`). Exit codes:
//! 0 when the daemon is finished with the file (`done`, `failed` with
//! rejected rows, `duplicate`), 1 when something holds it, 66 when there is
//! no file at PATH.

use std::io::{self, Write};
use std::path::PathBuf;

use clap::Args;
use serde_json::{Map, Value};

use super::Failure;
use super::lake_path::locate;
use super::output::{clean, sentence, wrap};
use crate::config::Settings;
use crate::exit::ExitCode;
use crate::inspect::why::{self, Explanation, State};
use crate::warehouse::{WarehouseError, open_read_only};

/// Arguments of `droplake why`.
#[derive(Debug, Args)]
#[command(
    after_help = "Exit status: 0 when the daemon is finished with the file (done, failed with rejected \
                  rows, duplicate), 1 while something holds it, 66 when there is no file at PATH. \
                  The states and JSON keys are in docs/inspect.md."
)]
pub struct WhyArgs {
    /// The file: relative to the working directory, absolute, or relative
    /// to the lake.
    #[arg(value_name = "PATH")]
    pub path: PathBuf,

    /// Print one JSON object: path, state, reason, hints and the details.
    #[arg(long)]
    pub json: bool,
}

pub fn run(settings: &Settings, args: WhyArgs) -> Result<ExitCode, Failure> {
    let located = locate(&settings.lake, &args.path);
    let ledger = match open_read_only(&settings.warehouse) {
        Ok(connection) => Some(connection),
        // No warehouse yet: nothing was ever registered.
        Err(WarehouseError::Missing { .. }) => None,
        Err(error) => return Err(error.into()),
    };
    let explanation = why::explain(
        settings,
        ledger.as_ref(),
        &located.file,
        located.relative.as_deref(),
    )?;
    let shown = located.shown();
    let mut stdout = io::stdout().lock();
    let printed = if args.json {
        write!(
            stdout,
            "{}",
            super::json_document(&document(&shown, &explanation))
        )
    } else {
        write!(stdout, "{}", human(&shown, &explanation))
    };
    printed.map_err(Failure::stdout)?;
    Ok(match explanation.state {
        state if state.is_final() => ExitCode::Ok,
        State::Missing => ExitCode::NoInput,
        _ => ExitCode::Problems,
    })
}

/// The `--json` document: `path`, `state`, `reason`, `hints`, then the
/// state's details.
fn document(path: &str, explanation: &Explanation) -> Value {
    let mut document = Map::new();
    document.insert("path".into(), path.into());
    document.insert("state".into(), explanation.state.name().into());
    document.insert("reason".into(), explanation.reason.clone().into());
    document.insert("hints".into(), explanation.hints.clone().into());
    for (key, value) in &explanation.details {
        document.entry(key.clone()).or_insert_with(|| value.clone());
    }
    Value::Object(document)
}

/// For people: `PATH: STATE`, then the reason and the hints as sentences.
fn human(path: &str, explanation: &Explanation) -> String {
    let mut text = format!("{}: {}\n", clean(path), explanation.state.name());
    text.push_str(&wrap(&sentence(&explanation.reason), 2));
    for hint in &explanation.hints {
        text.push_str(&wrap(&sentence(hint), 2));
    }
    text
}
