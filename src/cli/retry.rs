//! `droplake retry OBJECT | --dead [--handler NAME]`: dead jobs (and, for
//! one object, jobs waiting for their next attempt) run again, with a fresh
//! budget of retries (see `crate::retry`). Exit codes: 0 when every
//! job asked for was reset (or none needed it), 1 when some could not be
//! (they are listed with the reason), 66 when OBJECT names no object.

use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use anyhow::anyhow;
use clap::{ArgGroup, Args};
use serde_json::json;

use super::Failure;
use super::lake_path::{self, Named};
use super::output::{sentence, wrap};
use crate::config::Settings;
use crate::daemon::{Holder, running};
use crate::detect::scan;
use crate::exit::ExitCode;
use crate::retry::{self, Retried, Target};
use crate::warehouse::ledger::{self, JobState};
use crate::warehouse::{Warehouse, WarehouseError};

/// Arguments of `droplake retry`.
#[derive(Debug, Args)]
#[command(
    group(ArgGroup::new("which").required(true).args(["object", "dead"])),
    after_help = "The jobs that died because a handler they run after died come back with it. \
                  A running daemon takes the jobs up within a second (`run --once` does not: the \
                  next run does). Exit status: 0 when every job asked for was reset (or there was \
                  nothing to retry), 1 when some could not be, 64 when --handler names no \
                  configured handler, 66 when OBJECT names no object."
)]
pub struct RetryArgs {
    /// The object: its id, or its file (relative to the working directory,
    /// absolute, or relative to the lake), which names the newest object at
    /// that path. Write a file named like a number as ./7.
    #[arg(value_name = "OBJECT")]
    pub object: Option<PathBuf>,

    /// Every dead job, of every object.
    #[arg(long)]
    pub dead: bool,

    /// Only this handler's jobs (and those that run after it).
    #[arg(long, value_name = "NAME")]
    pub handler: Option<String>,

    /// Print one JSON object: reset, skipped, daemon.
    #[arg(long)]
    pub json: bool,
}

pub fn run(settings: &Settings, args: RetryArgs) -> Result<ExitCode, Failure> {
    if let Some(handler) = &args.handler
        && !retry::is_configured(settings, handler)
    {
        return Err(Failure::new(
            ExitCode::Usage,
            anyhow!(
                "--handler {handler}: no such handler is configured; the handlers are: {}",
                retry::configured(settings).join(", ")
            ),
        ));
    }
    if !settings.warehouse.exists() {
        return Err(WarehouseError::Missing {
            path: settings.warehouse.clone(),
        }
        .into());
    }
    let mut warehouse = Warehouse::open(&settings.warehouse)?;
    let target = match &args.object {
        Some(object) => Target::Object(object_id(settings, &mut warehouse, object)?),
        None => Target::Dead,
    };
    let retried = retry::retry(settings, &mut warehouse, &target, args.handler.as_deref())?;
    let daemon = running(&settings.warehouse);
    let mut stdout = io::stdout().lock();
    let printed = if args.json {
        let document = json!({
            "reset": retried.reset.iter().map(|reset| json!({
                "object": reset.object,
                "path": reset.path,
                "handler": reset.handler,
                "previous_state": reset.previous_state.name(),
                "attempts": reset.attempts,
                "previous_error": reset.previous_error,
                "after": reset.after,
            })).collect::<Vec<_>>(),
            "skipped": retried.skipped.iter().map(|skipped| json!({
                "object": skipped.object,
                "path": skipped.path,
                "handler": skipped.handler,
                "reason": skipped.reason,
            })).collect::<Vec<_>>(),
            "daemon": {
                "running": daemon.is_some(),
                "pid": daemon.as_ref().and_then(|holder| holder.pid),
                "mode": daemon.as_ref().map(Holder::mode),
            },
        });
        write!(stdout, "{}", super::json_document(&document))
    } else {
        write!(
            stdout,
            "{}",
            human(&retried, &target, args.handler.as_deref(), daemon.as_ref())
        )
    };
    printed.map_err(Failure::stdout)?;
    Ok(if retried.skipped.is_empty() {
        ExitCode::Ok
    } else {
        ExitCode::Problems
    })
}

/// The object OBJECT names: an id, or the newest object at a path.
fn object_id(
    settings: &Settings,
    warehouse: &mut Warehouse,
    object: &Path,
) -> Result<i64, Failure> {
    let sql = |error| Failure::from(WarehouseError::from_sqlite(&settings.warehouse, error));
    let located = match lake_path::object(&settings.lake, object)? {
        Named::Id(id) => {
            return match ledger::object(warehouse.connection(), id).map_err(sql)? {
                Some(_) => Ok(id),
                None => Err(Failure::new(
                    ExitCode::NoInput,
                    anyhow!("there is no object {id}; `droplake files` lists them"),
                )),
            };
        }
        Named::File(located) => located,
    };
    let not_registered = || {
        Failure::new(
            ExitCode::NoInput,
            anyhow!(
                "no object is registered at {}; `droplake why {}` says why",
                located.shown(),
                object.display()
            ),
        )
    };
    let relative = located.relative.as_deref().ok_or_else(not_registered)?;
    let dataset = scan::dataset_of(relative).ok_or_else(not_registered)?;
    ledger::newest_at(
        warehouse.connection(),
        dataset.as_str(),
        relative.as_os_str().as_bytes(),
    )
    .map_err(sql)?
    .map(|row| row.id)
    .ok_or_else(not_registered)
}

/// For people: a sentence per job reset or skipped, then what follows.
fn human(
    retried: &Retried,
    target: &Target,
    handler: Option<&str>,
    daemon: Option<&Holder>,
) -> String {
    let mut text = String::new();
    if retried.reset.is_empty() && retried.skipped.is_empty() {
        let of = handler
            .map(|handler| format!(" of handler {handler}"))
            .unwrap_or_default();
        let nothing = match target {
            Target::Object(id) => format!(
                "nothing to retry: object {id} has no dead job{of} and none waiting for a retry"
            ),
            Target::Dead => format!("nothing to retry: no job{of} is dead"),
        };
        text.push_str(&wrap(&sentence(&nothing), 0));
        return text;
    }
    for reset in &retried.reset {
        let before = match (reset.previous_state, &reset.after) {
            (_, Some(after)) => format!("it died because {after} did"),
            (JobState::Retry, None) => format!(
                "it was waiting for attempt {}{}",
                reset.attempts + 1,
                error_note(reset.previous_error.as_deref())
            ),
            _ => format!(
                "it was dead after {} attempt{}{}",
                reset.attempts,
                if reset.attempts == 1 { "" } else { "s" },
                error_note(reset.previous_error.as_deref())
            ),
        };
        let line = format!(
            "object {} ({}): handler {} is pending again; {before}",
            reset.object, reset.path, reset.handler
        );
        text.push_str(&wrap(&sentence(&line), 0));
    }
    for skipped in &retried.skipped {
        let line = format!(
            "not reset: object {} ({}), handler {}: {}",
            skipped.object, skipped.path, skipped.handler, skipped.reason
        );
        text.push_str(&wrap(&sentence(&line), 0));
    }
    if !retried.reset.is_empty() {
        let count = retried.reset.len();
        let jobs = if count == 1 { "job" } else { "jobs" };
        let next = match daemon {
            Some(holder) if holder.once => format!(
                "reset {count} {jobs}; {} is running, which does not take up retried jobs: the next run (or a daemon) runs them",
                holder.describe()
            ),
            Some(holder) => format!(
                "reset {count} {jobs}; {} takes them up within a second",
                holder.describe()
            ),
            None => format!(
                "reset {count} {jobs}; no daemon is running: start one (`droplake run`), or run `droplake run --once`"
            ),
        };
        text.push_str(&wrap(&sentence(&next), 0));
    }
    text
}

fn error_note(error: Option<&str>) -> String {
    error.map(|error| format!(": {error}")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::retry::{Reset, Skipped};

    #[test]
    fn each_job_reset_or_skipped_is_one_sentence_and_nothing_to_do_says_so() {
        let text = human(&Retried::default(), &Target::Dead, Some("probe"), None);
        assert_eq!(text, "Nothing to retry: no job of handler probe is dead.\n");
        let retried = Retried {
            reset: vec![Reset {
                object: 7,
                path: "items/a.csv".into(),
                handler: "probe".into(),
                previous_state: JobState::Dead,
                attempts: 1,
                previous_error: Some("exited with code 1".into()),
                after: None,
            }],
            skipped: vec![Skipped {
                object: 8,
                path: "items/b.csv".into(),
                handler: "notify".into(),
                reason: "it runs after handler probe, which is dead on this object".into(),
            }],
        };
        let daemon = Holder {
            pid: Some(42),
            once: false,
        };
        let text = human(&retried, &Target::Dead, None, Some(&daemon));
        assert_eq!(
            text,
            "Object 7 (items/a.csv): handler probe is pending again; it was dead after 1\n\
             attempt: exited with code 1.\n\
             Not reset: object 8 (items/b.csv), handler notify: it runs after handler probe,\n\
             which is dead on this object.\n\
             Reset 1 job; the daemon (pid 42) takes them up within a second.\n"
        );
        let once = Holder {
            pid: Some(43),
            once: true,
        };
        let text = human(&retried, &Target::Dead, None, Some(&once));
        assert!(
            text.ends_with(
                "Reset 1 job; `droplake run --once` (pid 43) is running, which does not take up\n\
                 retried jobs: the next run (or a daemon) runs them.\n"
            ),
            "{text}"
        );
    }
}
