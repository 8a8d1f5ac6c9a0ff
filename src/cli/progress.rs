//! Progress bars on standard error for long synchronous work: the bytes of
//! a file being loaded (`insert`, `load`), the objects of a `load` or a
//! `run --once`.
//!
//! Bars are drawn only when standard error is a terminal and the logs are
//! for people ([`enable`], called once by the logging setup); otherwise
//! every bar is hidden, which costs an atomic addition per read. Drawn bars
//! live in one [`MultiProgress`], and everything else written to the
//! terminal while one shows, log lines ([`LogWriter`]) and the commands'
//! own output ([`suspend`]), is written with the bars lifted, so no line is
//! garbled. A finished bar is cleared, leaving the output as it would be
//! without it.

use std::io::{self, Read, Write};
use std::sync::OnceLock;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The bars on screen, when bars are drawn at all.
static BARS: OnceLock<MultiProgress> = OnceLock::new();

/// Draws bars from now on (the caller checked that standard error is a
/// terminal and that logs are human lines).
pub fn enable() {
    BARS.get_or_init(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
}

/// Whether bars are drawn.
pub fn enabled() -> bool {
    BARS.get().is_some()
}

/// Runs `write` with the bars lifted off the terminal, then draws them
/// again: for anything printed while a bar may show.
pub fn suspend<R>(write: impl FnOnce() -> R) -> R {
    match BARS.get() {
        Some(bars) => bars.suspend(write),
        None => write(),
    }
}

/// One bar; cleared from the terminal when dropped.
#[derive(Debug)]
pub struct Bar {
    bar: ProgressBar,
}

impl Bar {
    /// A bar of the `size` bytes of the file at `path` (named by its file
    /// name), with its rate and the time left.
    pub fn bytes(path: &std::path::Path, size: u64) -> Bar {
        let name = path
            .file_name()
            .unwrap_or(path.as_os_str())
            .to_string_lossy();
        Bar::new(
            size,
            "[{bar:24}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left) {wide_msg}",
            &name,
        )
    }

    /// A bar of `total` objects (`what` says which).
    pub fn objects(what: &str, total: u64) -> Bar {
        Bar::new(total, "[{bar:24}] {pos}/{len} {wide_msg}", what)
    }

    fn new(total: u64, template: &str, message: &str) -> Bar {
        let Some(bars) = BARS.get() else {
            return Bar {
                bar: ProgressBar::hidden(),
            };
        };
        let style = ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        let bar = bars.add(
            ProgressBar::new(total)
                .with_style(style)
                .with_message(message.to_owned()),
        );
        Bar { bar }
    }

    /// `file`, counting its bytes into the bar as they are read.
    pub fn reader(&self, file: std::fs::File) -> Box<dyn Read + Send> {
        Box::new(self.bar.wrap_read(file))
    }

    /// Sets what is done out of how many.
    pub fn set(&self, done: u64, total: u64) {
        self.bar.set_length(total);
        self.bar.set_position(done);
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
        if let Some(bars) = BARS.get() {
            bars.remove(&self.bar);
        }
    }
}

/// Where log lines go: standard error, with the bars lifted while a line
/// is written (`tracing_subscriber`'s writer).
#[derive(Debug, Clone, Copy, Default)]
pub struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        // The formatter hands over whole lines: each is written at once.
        suspend(|| io::stderr().lock().write_all(bytes))?;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = LogWriter;

    fn make_writer(&'a self) -> LogWriter {
        LogWriter
    }
}
