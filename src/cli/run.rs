//! `droplake run [--once]`: the daemon, in the foreground, or one batch.

use clap::Args;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::Failure;
use super::progress::{self, Bar};
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
        ..Options::default()
    };
    if !(args.once && progress::enabled()) {
        return Ok(daemon::run(settings, options)?.exit_code());
    }
    // A batch on a terminal: its objects finished out of those to do.
    let tally = Arc::clone(&options.tally);
    let over = AtomicBool::new(false);
    let ended = std::thread::scope(|scope| {
        scope.spawn(|| {
            let bar = Bar::objects("objects", 0);
            while !over.load(Ordering::Relaxed) {
                bar.set(
                    tally.finished.load(Ordering::Relaxed),
                    tally.objects.load(Ordering::Relaxed),
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        let ended = daemon::run(settings, options);
        over.store(true, Ordering::Relaxed);
        ended
    })?;
    Ok(ended.exit_code())
}
