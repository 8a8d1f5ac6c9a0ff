//! Ending cleanly on SIGINT, SIGTERM and SIGHUP while files are being written.
//!
//! A put may be blocked reading its source when the signal arrives, so the
//! flag-and-check pattern would not notice in time. Instead a dedicated thread
//! waits for the signal, removes the temporary files registered in the
//! [`InFlight`] registry, and ends the process with 128 + the signal number.

use std::io;

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGXFSZ};
use signal_hook::iterator::Signals;

use crate::exit::ExitCode;
use crate::lake::InFlight;

/// Turns SIGXFSZ (a file grown past `ulimit -f`) into an ordinary write
/// error (EFBIG), reported like a full disk, instead of a silent death.
pub fn file_size_limit_as_error() -> io::Result<()> {
    signal_hook::flag::register(SIGXFSZ, std::sync::Arc::default()).map(drop)
}

/// Starts the thread that cleans up `in_flight` and exits on a signal.
pub fn clean_up_on_signal(in_flight: InFlight) -> io::Result<()> {
    let mut signals = Signals::new([SIGINT, SIGTERM, SIGHUP])?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                let removed = in_flight.abandon();
                eprintln!(
                    "droplake: interrupted by signal {signal}; removed {} unfinished file(s)",
                    removed.len()
                );
                std::process::exit(ExitCode::Signal(signal).code().into());
            }
        })?;
    Ok(())
}
