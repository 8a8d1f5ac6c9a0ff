//! The `droplake` binary: parse the command line, set up logging, run it,
//! exit with its code.

use clap::Parser;
use droplake::cli::{self, Cli};
use droplake::exit::ExitCode;

fn main() -> std::process::ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                ExitCode::Usage
            } else {
                ExitCode::Ok
            }
            .into();
        }
    };
    // The daemon tells what it does; other commands speak only of trouble.
    let level = if matches!(cli.command, cli::Command::Run(_)) {
        "info"
    } else {
        "warn"
    };
    cli::logging::init(cli.log_format, level);
    match cli::run(cli) {
        Ok(code) => code.into(),
        Err(failure) => {
            eprintln!("droplake: {:#}", failure.error);
            failure.code.into()
        }
    }
}
