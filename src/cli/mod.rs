//! The command line: the clap definitions, and one module per subcommand.
//!
//! [`run`] loads the configuration and dispatches; `completions` and `man`
//! come from the definition alone and never read it. A subcommand returns the
//! exit code of its outcome, or a [`Failure`] that carries its own code, so
//! the binary never guesses a code from a message.

mod completions;
mod config;
mod copybook;
mod decode;
mod events;
mod export;
mod files;
mod insert;
mod interrupt;
mod lake_path;
mod load;
pub mod logging;
pub mod output;
mod progress;
mod put;
mod query;
mod rejects;
mod retry;
mod run;
mod schema;
mod show;
mod status;
mod validate;
mod why;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::{Settings, Sources};
use crate::exit::{ExitCode, HasExitCode};

/// droplake: loads files dropped into a lake into a validated warehouse.
#[derive(Debug, Parser)]
#[command(name = "droplake", version, about, max_term_width = 100)]
pub struct Cli {
    /// Read the configuration from FILE instead of ./droplake.toml or
    /// /etc/droplake/droplake.toml [env: DROPLAKE_CONFIG]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// How log lines on standard error look: auto is journald when standard
    /// error is the systemd journal, else human
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "FORMAT",
        default_value_t = logging::LogFormat::Auto
    )]
    pub log_format: logging::LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon: watch the lake, load and hand every new object to its handlers.
    Run(run::RunArgs),
    /// Print the event log (what happened to every object), or follow it.
    Events(events::EventsArgs),
    /// Show the daemon, and per dataset, handler and table where things stand.
    Status(status::StatusArgs),
    /// List the objects with their states, newest first.
    Files(files::FilesArgs),
    /// Tell one object's whole story: detection, handlers' attempts, load, rejects, receipt.
    Show(show::ShowArgs),
    /// Store files in the lake atomically, in today's partition of a dataset.
    Put(put::PutArgs),
    /// Print the effective configuration and where each value came from.
    Config(config::ConfigArgs),
    /// Put files into the lake and load them into their table, now.
    Insert(insert::InsertArgs),
    /// Load every lake object not loaded yet into its table, oldest first.
    Load(load::LoadArgs),
    /// Run one read-only SQL statement against the warehouse.
    Query(query::QueryArgs),
    /// List the rejected rows of a table's loads, with their reasons.
    Rejects(rejects::RejectsArgs),
    /// Say which gate holds a file in the lake (ignored, settling, no marker, dead, ...) and what to do.
    Why(why::WhyArgs),
    /// Run dead jobs again (and jobs waiting for a retry), with a fresh budget of retries.
    Retry(retry::RetryArgs),
    /// Check data files against a table schema; writes nothing.
    Validate(validate::ValidateArgs),
    /// Check table schemas, or make one from a COBOL copybook.
    Schema(schema::SchemaArgs),
    /// Read COBOL copybooks: print the byte layout of their records.
    Copybook(copybook::CopybookArgs),
    /// Print the records of a mainframe file as JSON Lines, decoded by a COBOL copybook.
    Decode(decode::DecodeArgs),
    /// Write rows of the warehouse as a mainframe file of copybook records, then a trigger file.
    Export(export::ExportArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(completions::CompletionsArgs),
    /// Print the man page, or write one page per subcommand into a directory.
    Man(completions::ManArgs),
}

/// A command that could not do its work, with the exit code that says why.
#[derive(Debug)]
pub struct Failure {
    /// How the process should end.
    pub code: ExitCode,
    /// What went wrong, for the user.
    pub error: anyhow::Error,
}

impl<E> From<E> for Failure
where
    E: HasExitCode + std::error::Error + Send + Sync + 'static,
{
    fn from(error: E) -> Self {
        Failure {
            code: error.exit_code(),
            error: error.into(),
        }
    }
}

impl Failure {
    /// A failure with an explicit code, for problems found by the CLI itself.
    pub fn new(code: ExitCode, error: impl Into<anyhow::Error>) -> Failure {
        Failure {
            code,
            error: error.into(),
        }
    }

    /// Standard output could not be written (a closed pipe, a full disk).
    pub fn stdout(error: std::io::Error) -> Failure {
        Failure::new(
            ExitCode::IoErr,
            anyhow::anyhow!("cannot write to standard output: {error}"),
        )
    }
}

/// `value` as one pretty-printed JSON document and a newline: what every
/// command that answers with one document prints with `--json` (`status`,
/// `files`, `show`, `why`, `retry`). Streams (`events --json`, `put
/// --json`) print one compact document per line instead.
fn json_document(value: &impl serde::Serialize) -> String {
    let mut text = serde_json::to_string_pretty(value)
        .unwrap_or_else(|error| format!("{{\"error\": \"cannot serialize: {error}\"}}"));
    text.push('\n');
    text
}

/// Runs a parsed command line to its end.
pub fn run(cli: Cli) -> Result<ExitCode, Failure> {
    interrupt::file_size_limit_as_error().map_err(|error| {
        Failure::new(
            ExitCode::IoErr,
            anyhow::anyhow!("cannot install a signal handler: {error}"),
        )
    })?;
    let sources = Sources::from_process(cli.config);
    // Completions and man pages come from the command line's definition
    // alone, and copybooks and mainframe files are read without a lake:
    // these never load the configuration, so they work even where
    // droplake.toml is missing or broken. Every other command loads it
    // first (`schema from-copybook` only when it writes into the schema
    // directory).
    let settings = || Settings::load(&sources);
    match cli.command {
        Command::Completions(args) => completions::completions(args),
        Command::Man(args) => completions::man(args),
        Command::Copybook(args) => copybook::run(args),
        Command::Decode(args) => decode::run(args),
        Command::Run(args) => run::run(settings()?, sources, args),
        Command::Events(args) => events::run(&settings()?, args),
        Command::Status(args) => status::run(&settings()?, args),
        Command::Files(args) => files::run(&settings()?, args),
        Command::Show(args) => show::run(&settings()?, args),
        Command::Put(args) => put::run(&settings()?, args),
        Command::Config(args) => config::run(&settings()?, args),
        Command::Query(args) => query::run(&settings()?, args),
        Command::Insert(args) => insert::run(&settings()?, args),
        Command::Load(args) => load::run(&settings()?, args),
        Command::Rejects(args) => rejects::run(&settings()?, args),
        Command::Why(args) => why::run(&settings()?, args),
        Command::Retry(args) => retry::run(&settings()?, args),
        Command::Validate(args) => validate::run(&settings()?, args),
        Command::Schema(args) => schema::run(settings, args),
        Command::Export(args) => export::run(&settings()?, args),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
