//! Where log lines go and how they look: `--log-format auto|human|journald|json`.
//!
//! Every format writes one event per line to standard error, filtered by
//! `DROPLAKE_LOG` (a tracing filter such as `info` or `droplake=debug`).
//! `auto` picks `journald` when systemd says standard error is the journal
//! (`JOURNAL_STREAM` names stderr's device and inode), else `human`.
//!
//! - `human`: tracing's usual lines, coloured only on a terminal and never
//!   when `NO_COLOR` is set.
//! - `journald`: [`JournaldFormat`], the sd-daemon(3) priority prefix (`<6>`)
//!   then the message and every field as `key=value`, with no timestamp or
//!   colour: the journal records the time and the priority itself.
//! - `json`: one JSON object per line (timestamp, level, target, message and
//!   fields at the top level), for log shippers.

use std::fmt::{self, Write as _};
use std::io::IsTerminal;
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

use super::progress;

/// How log lines are written (`--log-format`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// `journald` when standard error is the systemd journal, else `human`.
    #[default]
    Auto,
    /// Timestamped lines for people; coloured on a terminal unless NO_COLOR is set.
    Human,
    /// `<priority>message key=value ...`, for systemd's journal.
    Journald,
    /// One JSON object per line, for log shippers.
    Json,
}

impl LogFormat {
    /// The concrete format: `auto` resolved against this process's stderr.
    pub fn resolve(self) -> LogFormat {
        match self {
            LogFormat::Auto if stderr_is_journal() => LogFormat::Journald,
            LogFormat::Auto => LogFormat::Human,
            other => other,
        }
    }
}

/// Installs the global subscriber writing to standard error in `format`,
/// filtered by `DROPLAKE_LOG` or else `default_filter`. Progress bars are
/// drawn only for a person: with human lines on a terminal.
pub fn init(format: LogFormat, default_filter: &str) {
    let filter =
        EnvFilter::try_from_env("DROPLAKE_LOG").unwrap_or_else(|_| EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(progress::LogWriter);
    let format = format.resolve();
    if format == LogFormat::Human && std::io::stderr().is_terminal() {
        progress::enable();
    }
    match format {
        LogFormat::Journald => builder.with_ansi(false).event_format(JournaldFormat).init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
        LogFormat::Human | LogFormat::Auto => builder
            .with_ansi(super::output::colour_wanted(&std::io::stderr()))
            .with_target(false)
            .init(),
    }
}

/// Whether standard error is connected to the journal: systemd sets
/// `JOURNAL_STREAM` to `DEVICE:INODE` of the stream it gave the service, and a
/// child whose stderr was redirected since inherits a variable that no longer
/// matches.
fn stderr_is_journal() -> bool {
    let Some(value) = std::env::var_os("JOURNAL_STREAM") else {
        return false;
    };
    let Some((device, inode)) = value.to_str().and_then(parse_journal_stream) else {
        return false;
    };
    // A duplicate of fd 2, closed again when the File drops.
    let Ok(fd) = std::io::stderr().as_fd().try_clone_to_owned() else {
        return false;
    };
    match std::fs::File::from(fd).metadata() {
        Ok(metadata) => metadata.dev() == device && metadata.ino() == inode,
        Err(_) => false,
    }
}

/// `DEVICE:INODE`, both decimal, as systemd writes `JOURNAL_STREAM`.
fn parse_journal_stream(value: &str) -> Option<(u64, u64)> {
    let (device, inode) = value.split_once(':')?;
    Some((device.parse().ok()?, inode.parse().ok()?))
}

/// The sd-daemon(3) priority prefix for a level: the syslog priorities err,
/// warning, info and debug.
fn priority(level: Level) -> u8 {
    match level {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        Level::DEBUG | Level::TRACE => 7,
    }
}

/// One line per event for the journal: `<6>Loaded an object. table=orders rows=314`.
///
/// No timestamp (the journal stamps each line) and no colour. The fields of
/// the event's spans, outermost first, follow the event's own. A newline in a
/// message or value is written as `\n` so an event stays one journal entry.
#[derive(Debug, Clone, Copy, Default)]
pub struct JournaldFormat;

impl<S, N> FormatEvent<S, N> for JournaldFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut fields = JournaldFields::default();
        event.record(&mut fields);
        write!(
            writer,
            "<{}>{}",
            priority(*event.metadata().level()),
            fields.message
        )?;
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                let extensions = span.extensions();
                if let Some(formatted) = extensions.get::<FormattedFields<N>>()
                    && !formatted.is_empty()
                {
                    write!(writer, " {}", escape_newlines(formatted))?;
                }
            }
        }
        writeln!(writer, "{}", fields.rest)
    }
}

/// An event's message, and its other fields as ` key=value` pairs.
#[derive(Debug, Default)]
struct JournaldFields {
    message: String,
    rest: String,
}

impl Visit for JournaldFields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(&escape_newlines(value));
        } else if !field.name().starts_with("log.") {
            let _ = write!(self.rest, " {}={}", field.name(), quoted(value));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let value = format!("{value:?}");
        self.record_str(field, &value);
    }
}

/// `value` as is when it is one plain word, else quoted with Rust escapes,
/// so `key=value` pairs split unambiguously.
fn quoted(value: &str) -> String {
    let plain = !value.is_empty()
        && !value
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '=');
    if plain {
        value.to_owned()
    } else {
        format!("{value:?}")
    }
}

/// A message with its line breaks escaped, so it stays on one line.
fn escape_newlines(text: &str) -> String {
    text.replace('\r', "\\r").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A writer shared with the test, collecting everything logged.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("lock").extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// What `log` writes in the journald format, at every level.
    fn journald_output(log: impl FnOnce()) -> String {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .event_format(JournaldFormat)
            .finish();
        tracing::subscriber::with_default(subscriber, log);
        let bytes = buffer.0.lock().expect("lock").clone();
        String::from_utf8(bytes).expect("UTF-8")
    }

    #[test]
    fn each_level_is_prefixed_with_its_syslog_priority() {
        let output = journald_output(|| {
            tracing::error!("e");
            tracing::warn!("w");
            tracing::info!("i");
            tracing::debug!("d");
            tracing::trace!("t");
        });
        assert_eq!(output, "<3>e\n<4>w\n<6>i\n<7>d\n<7>t\n");
    }

    #[test]
    fn fields_follow_the_message_as_key_value_pairs() {
        let path = std::path::Path::new("/lake/orders/a.csv");
        let output = journald_output(|| {
            tracing::info!(
                table = "orders",
                rows = 314,
                ok = true,
                path = %path.display(),
                "Loaded an object."
            );
        });
        assert_eq!(
            output,
            "<6>Loaded an object. table=orders rows=314 ok=true path=/lake/orders/a.csv\n"
        );
    }

    #[test]
    fn values_that_would_split_are_quoted() {
        let output = journald_output(|| {
            tracing::warn!(reason = "two words", empty = "", eq = "a=b", "Held.");
        });
        assert_eq!(
            output,
            "<4>Held. reason=\"two words\" empty=\"\" eq=\"a=b\"\n"
        );
    }

    #[test]
    fn an_event_stays_on_one_line() {
        let output = journald_output(|| {
            tracing::error!(detail = "first\nsecond", "line one\nline two");
        });
        assert_eq!(output, "<3>line one\\nline two detail=\"first\\nsecond\"\n");
    }

    #[test]
    fn span_fields_are_kept() {
        let output = journald_output(|| {
            let span = tracing::info_span!("load", table = "orders");
            let _entered = span.enter();
            tracing::info!(rows = 3, "Loaded.");
        });
        assert_eq!(output, "<6>Loaded. table=\"orders\" rows=3\n");
    }

    #[test]
    fn there_is_no_timestamp_and_no_colour() {
        let output = journald_output(|| tracing::warn!(n = 1, "plain"));
        assert!(!output.contains('\u{1b}'), "{output:?}");
        assert_eq!(output, "<4>plain n=1\n");
    }

    #[test]
    fn journal_stream_is_device_colon_inode() {
        assert_eq!(parse_journal_stream("8:12345"), Some((8, 12345)));
        assert_eq!(parse_journal_stream("8:"), None);
        assert_eq!(parse_journal_stream("12345"), None);
        assert_eq!(parse_journal_stream("a:b"), None);
    }

    #[test]
    fn explicit_formats_resolve_to_themselves() {
        for format in [LogFormat::Human, LogFormat::Journald, LogFormat::Json] {
            assert_eq!(format.resolve(), format);
        }
    }
}
