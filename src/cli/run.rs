//! `droplake run [--once]`: the daemon, in the foreground, or one batch.

use clap::Args;

use super::Failure;
use crate::config::{Settings, Sources};
use crate::daemon::{self, Options};
use crate::exit::ExitCode;

/// Arguments of `droplake run`.
#[derive(Debug, Args)]
#[command(
    after_help = "Without --once, runs until SIGTERM or SIGINT (letting loads commit or roll back) \
    and reloads its configuration and schemas on SIGHUP. With --once, exits 0 when everything \
    ready was processed, 1 when some objects had rejected rows or dead jobs, 75 when work remains \
    to retry later."
)]
pub struct RunArgs {
    /// Reconcile, process everything ready, wait for it, and exit.
    #[arg(long)]
    pub once: bool,
}

pub fn run(settings: Settings, sources: Sources, args: RunArgs) -> Result<ExitCode, Failure> {
    let options = Options {
        once: args.once,
        sources,
        embedded: Vec::new(),
    };
    let ended = daemon::run(settings, options)?;
    Ok(ended.exit_code())
}
